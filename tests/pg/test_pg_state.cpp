// The sync state and the device registry in PostgreSQL, held to the SQLite
// ones: each case runs against both backends (open_sqlite_state under a
// temporary directory, open_postgres_state in a fresh schema on the test
// server, tests/support/pg_test.hpp), then PostgreSQL alone with two
// connections or two backends writing at once, as two server processes do.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "memory_store.hpp"
#include "pg/connection.hpp"
#include "pg_test.hpp"
#include "state/postgres/device_registry.hpp"
#include "state/postgres/postgres_state.hpp"
#include "state/state_backend.hpp"
#include "syncmlkit/datastore.hpp"
#include "temp_dir.hpp"

using smk::Category;
using smk::DatastoreError;
using smk::StoredItem;
using smk::state::ClientItem;
using smk::state::DatabaseState;
using smk::state::DeviceLogin;
using smk::state::OutboxEntry;
using smk::state::OutOp;
using smk::state::StateBackend;
using smk::state::SyncState;

namespace {

// `url` with `schema` first on the search path: a test's tables in a
// schema of its own (URL or key=value form).
std::string with_schema(const std::string& url, const std::string& schema) {
    for (const char* scheme : {"postgresql://", "postgres://"})
        if (url.compare(0, std::string(scheme).size(), scheme) == 0)
            return url + (url.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
    return url + " options='-csearch_path=" + schema + "'";
}

// A schema of its own for one test case, dropped afterwards (a schema, not
// a database: CREATE DATABASE takes over a second).
struct TestDatabase {
    std::string name, url;
    TestDatabase() {
        static std::atomic<int> counter{0};
        std::random_device random;
        name = "t_state_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
               std::to_string(random() % 100000);
        smk::pg::Connection server(smk::test::pg_server_url());
        server.exec("CREATE SCHEMA " + name);
        url = with_schema(smk::test::pg_server_url(), name);
    }
    ~TestDatabase() {
        try {
            smk::pg::Connection server(smk::test::pg_server_url());
            server.exec("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        } catch (...) {
        }
    }
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;
};

// The two backends, each with another() that opens a second backend on the
// same place (a second process, or the server started again).
struct SqliteBackend {
    smk::test::TempDir dir{"smk-state-backends"};
    std::unique_ptr<StateBackend> backend = smk::state::open_sqlite_state(dir.path.string());
    std::unique_ptr<StateBackend> another() { return smk::state::open_sqlite_state(dir.path.string()); }
};

struct PostgresBackend {
    TestDatabase db;
    std::unique_ptr<StateBackend> backend = smk::state::open_postgres_state(db.url, 4);
    std::unique_ptr<StateBackend> another() { return smk::state::open_postgres_state(db.url, 4); }
};

// A host's store: neither backend finds a state of its own in it.
smk::test::MemoryStore& host_store() {
    static smk::test::MemoryStore store;
    return store;
}

std::unique_ptr<DatabaseState> open(StateBackend& backend, const std::string& owner = "alice",
                                    Category category = Category::contacts) {
    return backend.open(owner, category, host_store());
}

std::vector<ClientItem> all_items(SyncState& state, const std::string& device) {
    std::vector<ClientItem> items;
    auto cursor = state.items(device);
    ClientItem item;
    while (cursor->next(item)) items.push_back(item);
    return items;
}

bool same(const ClientItem& a, const ClientItem& b) {
    return a.guid == b.guid && a.luid == b.luid && a.revision == b.revision;
}

}  // namespace

#define BOTH_BACKENDS "[postgres]", SqliteBackend, PostgresBackend

TEMPLATE_TEST_CASE("State keeps anchors per device", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    CHECK(db->has_own_transaction());
    CHECK_FALSE(state.anchors("phone"));
    state.save_anchors("phone", {"20261125T100000Z", "42"});
    auto anchors = state.anchors("phone");
    REQUIRE(anchors);
    CHECK(anchors->client_next == "20261125T100000Z");
    CHECK(anchors->server_next == "42");
    CHECK_FALSE(state.anchors("laptop"));

    state.save_anchors("phone", {"c2", "43"});
    CHECK(state.anchors("phone")->client_next == "c2");
    CHECK(state.anchors("phone")->server_next == "43");

    // Empty anchors are anchors too.
    state.save_anchors("laptop", {"", ""});
    REQUIRE(state.anchors("laptop"));
    CHECK(state.anchors("laptop")->client_next.empty());

    state.forget_anchors("phone");
    CHECK_FALSE(state.anchors("phone"));
    CHECK(state.anchors("laptop"));
}

TEMPLATE_TEST_CASE("State finds client items by GUID and by LUID", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    CHECK_FALSE(state.by_guid("phone", "1"));
    CHECK_FALSE(state.by_luid("phone", "a"));

    state.put("phone", {"1", "a", "r1"});
    state.put("phone", {"2", "", "r2"});  // a server Add awaiting its Map
    state.put("laptop", {"1", "x", "r1"});

    auto one = state.by_guid("phone", "1");
    REQUIRE(one);
    CHECK(same(*one, {"1", "a", "r1"}));
    CHECK(same(*state.by_luid("phone", "a"), {"1", "a", "r1"}));
    CHECK(same(*state.by_guid("laptop", "1"), {"1", "x", "r1"}));
    CHECK_FALSE(state.by_luid("laptop", "a"));
    CHECK_FALSE(state.by_luid("phone", "x"));
    CHECK_FALSE(state.by_luid("phone", ""));

    state.put("phone", {"1", "b", "r3"});
    CHECK(same(*state.by_guid("phone", "1"), {"1", "b", "r3"}));
    CHECK_FALSE(state.by_luid("phone", "a"));
    CHECK(state.item_count("phone") == 2);
    CHECK(state.has_unmapped("phone"));
    CHECK_FALSE(state.has_unmapped("laptop"));

    CHECK(state.set_luid("phone", "2", "c"));
    CHECK(same(*state.by_luid("phone", "c"), {"2", "c", "r2"}));
    CHECK_FALSE(state.has_unmapped("phone"));
    CHECK_FALSE(state.set_luid("phone", "3", "d"));
    CHECK_FALSE(state.by_guid("phone", "3"));
    CHECK_FALSE(state.set_luid("tablet", "2", "c"));

    state.erase("phone", "1");
    CHECK_FALSE(state.by_guid("phone", "1"));
    CHECK_FALSE(state.by_luid("phone", "b"));
    CHECK(state.item_count("phone") == 1);
    state.erase("phone", "1");
    CHECK(state.by_guid("laptop", "1"));

    // Two rows with one LUID: the lowest GUID wins, whatever came first.
    state.put("phone", {"g9", "same", "r"});
    state.put("phone", {"g10", "same", "r"});
    state.put("phone", {"g2", "same", "r"});
    CHECK(state.by_luid("phone", "same")->guid == "g10");
}

TEMPLATE_TEST_CASE("State values survive exactly, any bytes", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    const std::string device = "IMEI:35\xC3\xA9 \"quoted\" 'single' \xFF\xFE";  // not UTF-8
    const ClientItem item{"gab-0123456789abcdef", std::string("luid with\0NUL/;\xE2\x82\xAC\x80", 17), "rev 7"};
    state.put(device, item);
    CHECK(same(*state.by_guid(device, item.guid), item));
    CHECK(same(*state.by_luid(device, item.luid), item));
    state.save_anchors(device, {std::string("\0\xFF", 2), "s"});
    CHECK(state.anchors(device)->client_next == std::string("\0\xFF", 2));
    auto clients = state.clients();
    REQUIRE(clients.size() == 1);
    CHECK(clients[0].device == device);
}

TEMPLATE_TEST_CASE("State put_unmapped never overwrites a mapped LUID", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    state.put("phone", {"g", "L", "r1"});
    state.put_unmapped("phone", "g", "r2");
    CHECK(same(*state.by_guid("phone", "g"), {"g", "L", "r1"}));
    state.put_unmapped("phone", "h", "r1");
    CHECK(same(*state.by_guid("phone", "h"), {"h", "", "r1"}));
    state.put_unmapped("phone", "h", "r2");  // still unmapped: the newer revision
    CHECK(same(*state.by_guid("phone", "h"), {"h", "", "r2"}));
    CHECK(state.item_count("phone") == 2);
}

TEMPLATE_TEST_CASE("State put_all writes many rows, a repeated GUID last wins", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    std::vector<ClientItem> items;
    for (int i = 0; i < 70; ++i) items.push_back({"g" + std::to_string(i), "l" + std::to_string(i), "r"});
    items.push_back({"g3", "again", "r2"});
    items.push_back({"g3", "third", "r3"});
    for (int i = 71; i < 100; ++i) items.push_back({"g" + std::to_string(i), "l" + std::to_string(i), "r"});
    state.put_all("phone", items);
    CHECK(state.item_count("phone") == 99);
    CHECK(same(*state.by_guid("phone", "g3"), {"g3", "third", "r3"}));
    CHECK(same(*state.by_guid("phone", "g99"), {"g99", "l99", "r"}));
    CHECK_FALSE(state.by_luid("phone", "l3"));
    state.put_all("phone", {});
    CHECK(state.item_count("phone") == 99);
}

TEMPLATE_TEST_CASE("State erase_all and forget", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    state.save_anchors("phone", {"c", "s"});
    for (int i = 0; i < 10; ++i) state.put("phone", {std::to_string(i), "l" + std::to_string(i), "r"});
    state.put("laptop", {"1", "x", "r"});
    state.save_sent_adds("phone", "s1", {{"a", "r"}});
    state.erase_all("phone");
    CHECK(state.item_count("phone") == 0);
    CHECK(all_items(state, "phone").empty());
    CHECK_FALSE(state.by_luid("phone", "l3"));
    CHECK(state.anchors("phone"));
    CHECK(state.sent_adds_total() == 0);
    CHECK(state.item_count("laptop") == 1);

    state.put("phone", {"1", "l", "r"});
    state.queue_page("phone", 0, {{0, OutOp::add, "g", ""}});
    state.queue("phone", {0, OutOp::add, "g", ""});
    state.save_sent_adds("phone", "s1", {{"a", "r"}});
    state.forget("phone");
    CHECK_FALSE(state.anchors("phone"));
    CHECK(state.item_count("phone") == 0);
    CHECK(state.queued_page("phone", 0).empty());
    CHECK(state.queued_count("phone") == 0);
    CHECK(state.sent_adds_total() == 0);
    REQUIRE(state.clients().size() == 1);
    CHECK(state.clients()[0].device == "laptop");
}

TEMPLATE_TEST_CASE("State lists a device's items in GUID order (bytewise), lazily", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    CHECK(all_items(state, "phone").empty());
    db->begin();
    for (int i = 999; i >= 0; --i) state.put("phone", {std::to_string(i), "L" + std::to_string(i), "r"});
    state.put("laptop", {"5", "other", "r"});
    db->commit();

    auto items = all_items(state, "phone");
    REQUIRE(items.size() == 1000);
    CHECK(state.item_count("phone") == 1000);
    for (std::size_t i = 1; i < items.size(); ++i) CHECK(items[i - 1].guid < items[i].guid);
    for (const ClientItem& item : items) CHECK(item.luid == "L" + item.guid);

    std::unique_ptr<smk::state::ClientItemCursor> phone, laptop;
    {
        std::string phone_name = "phone", laptop_name = "laptop";
        phone = state.items(phone_name);
        laptop = state.items(laptop_name);
    }
    ClientItem item;
    REQUIRE(phone->next(item));
    CHECK(item.guid == "0");
    REQUIRE(laptop->next(item));
    CHECK(item.luid == "other");
    CHECK_FALSE(laptop->next(item));
    CHECK_FALSE(laptop->next(item));
    REQUIRE(phone->next(item));
    CHECK(item.guid == "1");

    // Bytes compare unsigned, case and all: no collation of a locale.
    std::vector<std::string> guids{"b", "B", "a", "\xC3\xA9", "\x7F", "ab", "A-", "a\xFF", "Z"};
    for (const std::string& g : guids) state.put("tablet", {g, "l", "r"});
    std::sort(guids.begin(), guids.end());
    std::vector<std::string> listed;
    for (const ClientItem& i : all_items(state, "tablet")) listed.push_back(i.guid);
    CHECK(listed == guids);
}

TEMPLATE_TEST_CASE("State outbox hands out entries in the order they were queued", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    CHECK_FALSE(state.next_queued("phone", 0));
    CHECK(state.queued_count("phone") == 0);

    state.queue("phone", {0, OutOp::add, "g1", ""});
    state.queue("laptop", {0, OutOp::add, "g9", ""});
    state.queue("phone", {0, OutOp::replace, "g2", "l2"});
    state.queue("phone", {0, OutOp::remove, "g3", "l3"});
    CHECK(state.queued_count("phone") == 3);
    CHECK(state.queued_count("laptop") == 1);

    std::vector<OutboxEntry> taken;
    std::int64_t after = 0;
    while (auto entry = state.next_queued("phone", after)) {
        CHECK(entry->seq > after);
        after = entry->seq;
        taken.push_back(*entry);
    }
    REQUIRE(taken.size() == 3);
    CHECK(taken[0].op == OutOp::add);
    CHECK(taken[0].guid == "g1");
    CHECK(taken[0].luid.empty());
    CHECK(taken[1].op == OutOp::replace);
    CHECK(taken[1].luid == "l2");
    CHECK(taken[2].op == OutOp::remove);
    CHECK(taken[2].luid == "l3");
    CHECK(state.next_queued("phone", taken[0].seq)->guid == "g2");

    state.clear_outbox("phone");
    CHECK(state.queued_count("phone") == 0);
    CHECK_FALSE(state.next_queued("phone", 0));
    CHECK(state.queued_count("laptop") == 1);
    state.queue("phone", {0, OutOp::add, "g4", ""});
    CHECK(state.next_queued("phone", 0)->seq > taken[2].seq);
}

TEMPLATE_TEST_CASE("State outbox pages per device, replaced by page number", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    CHECK(state.queued_page("phone", 0).empty());
    std::vector<OutboxEntry> page{{0, OutOp::add, "g1", ""}, {0, OutOp::replace, "g2", std::string("l\0\xFF", 3)},
                                  {0, OutOp::remove, std::string(300, 'x'), "l3"}};
    state.queue_page("phone", 0, page);
    state.queue_page("laptop", 0, {{0, OutOp::add, "other", ""}});
    auto back = state.queued_page("phone", 0);
    REQUIRE(back.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(back[i].op == page[i].op);
        CHECK(back[i].guid == page[i].guid);
        CHECK(back[i].luid == page[i].luid);
    }
    state.queue_page("phone", 0, {{0, OutOp::add, "g7", ""}});  // written again
    REQUIRE(state.queued_page("phone", 0).size() == 1);
    CHECK(state.queued_page("phone", 0)[0].guid == "g7");
    CHECK(state.queued_page("phone", 1).empty());
    CHECK(state.queued_page("laptop", 0).size() == 1);
    state.clear_outbox("phone");
    CHECK(state.queued_page("phone", 0).empty());
    CHECK(state.queued_page("laptop", 0).size() == 1);
}

TEMPLATE_TEST_CASE("State counts every device's outbox pages and noted Adds for the administrator", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    CHECK(state.queued_total() == 0);
    CHECK(state.sent_adds_total() == 0);

    state.queue_page("phone", 0, {{0, OutOp::add, "g1", ""}, {0, OutOp::replace, "g2", "l2"}});
    state.queue_page("phone", 1, {{0, OutOp::remove, "g3", "l3"}});
    state.queue_page("laptop", 0, {{0, OutOp::add, "g1", ""}});
    state.queue("tablet", {0, OutOp::add, "g7", ""});
    CHECK(state.queued_total() == 5);

    state.save_sent_adds("phone", "s1", {{"g1", "r1"}, {"g2", "r2"}});
    state.save_sent_adds("laptop", "s2", {{"g5", "r5"}});
    CHECK(state.sent_adds_total() == 3);
    state.recover_sent_adds("phone");
    CHECK(state.sent_adds_total() == 1);

    state.clear_outbox("phone");
    CHECK(state.queued_total() == 2);

    // Another database's rows are not counted.
    auto other = open(*t.backend, "bob", Category::contacts);
    CHECK(other->sync().queued_total() == 0);
    CHECK(other->sync().sent_adds_total() == 0);
}

TEMPLATE_TEST_CASE("State records noted Adds at the next session, mapped rows kept", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    state.save_sent_adds("phone", "s1", {{"g1", "r1"}, {"g2", "r2"}});
    state.save_sent_adds("phone", "s2", {{"g2", "r3"}, {"g3", "r3"}});
    state.save_sent_adds("phone", "s3", {{"g4", "r4"}});
    state.save_sent_adds("phone", "s3", {});  // the session's list is gone
    state.save_sent_adds("laptop", "s1", {{"g1", "r1"}});
    state.put("phone", {"g1", "L1", "r0"});  // mapped meanwhile by another session
    CHECK(state.sent_adds_total() == 5);
    state.recover_sent_adds("phone");
    CHECK(same(*state.by_guid("phone", "g1"), {"g1", "L1", "r0"}));
    CHECK(same(*state.by_guid("phone", "g2"), {"g2", "", "r3"}));  // the later session's
    CHECK(same(*state.by_guid("phone", "g3"), {"g3", "", "r3"}));
    CHECK_FALSE(state.by_guid("phone", "g4"));
    CHECK(state.item_count("phone") == 3);
    CHECK(state.has_unmapped("phone"));
    CHECK(state.sent_adds_total() == 1);
    state.recover_sent_adds("phone");  // nothing left: nothing happens
    CHECK(state.item_count("phone") == 3);
}

TEMPLATE_TEST_CASE("State lists its clients in device order", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    CHECK(state.clients().empty());
    state.save_anchors("phone", {"c", "s"});
    state.put("phone", {"1", "a", "r"});
    state.put("laptop", {"1", "a", "r"});
    state.put("laptop", {"2", "b", "r"});
    state.queue_page("tablet", 0, {{0, OutOp::add, "1", ""}});
    state.save_sent_adds("watch", "s", {{"1", "r"}});
    auto clients = state.clients();
    REQUIRE(clients.size() == 4);
    CHECK(clients[0].device == "laptop");
    CHECK_FALSE(clients[0].completed);
    CHECK(clients[0].items == 2);
    CHECK(clients[1].device == "phone");
    CHECK(clients[1].completed);
    REQUIRE(clients[1].when);
    CHECK(*clients[1].when > 1700000000);
    CHECK(clients[1].items == 1);
    CHECK(clients[2].device == "tablet");
    CHECK(clients[2].items == 0);
    CHECK(clients[3].device == "watch");
}

TEMPLATE_TEST_CASE("State keeps databases apart and survives reopening", BOTH_BACKENDS) {
    TestType t;
    {
        auto db = open(*t.backend);
        db->sync().save_anchors("phone", {"c", "s"});
        db->sync().put("phone", {"1", "a", "r"});
        db->sync().queue("phone", {0, OutOp::add, "1", ""});
        db->resume().save("phone", smk::state::ResumePoint{});
        db->pairing().put("1", "r", "k", {"d"});
    }
    auto again_backend = t.another();
    auto again = open(*again_backend);
    CHECK(again->sync().anchors("phone"));
    CHECK(again->sync().by_luid("phone", "a"));
    CHECK(again->sync().queued_count("phone") == 1);
    CHECK(again->resume().load("phone"));
    CHECK(again->pairing().indexed_revision("1") == std::optional<std::string>("r"));
    for (auto [owner, category] : {std::pair<std::string, Category>{"", Category::contacts},
                                   {"alice", Category::calendar}, {"bob", Category::contacts}}) {
        auto other = open(*again_backend, owner, category);
        CHECK_FALSE(other->sync().anchors("phone"));
        CHECK_FALSE(other->sync().by_luid("phone", "a"));
        CHECK(other->sync().queued_count("phone") == 0);
        CHECK(other->sync().clients().empty());
        CHECK_FALSE(other->resume().load("phone"));
        CHECK_FALSE(other->pairing().indexed_revision("1"));
    }
}

TEMPLATE_TEST_CASE("State rollback drops the transaction's writes", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    state.put("phone", {"kept", "a", "r"});
    db->begin();
    state.put("phone", {"dropped", "b", "r"});
    state.save_anchors("phone", {"c", "s"});
    db->rollback();
    CHECK(state.by_guid("phone", "kept"));
    CHECK_FALSE(state.by_guid("phone", "dropped"));
    CHECK_FALSE(state.anchors("phone"));
    db->rollback();  // no transaction: nothing happens
    db->begin();
    state.put("phone", {"committed", "c", "r"});
    db->commit();
    auto other_backend = t.another();
    CHECK(open(*other_backend)->sync().by_guid("phone", "committed"));
}

TEMPLATE_TEST_CASE("Pairing index offers unclaimed candidates of a key in GUID order", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    auto& index = db->pairing();
    CHECK_FALSE(index.indexed_revision("g1"));
    index.put("g2", "r2", "key", {"two", ""});
    index.put("g1", "r1", "key", {"one", "x\xFFy"});
    index.put("g3", "r3", "other", {});
    CHECK(index.indexed_revision("g1") == std::optional<std::string>("r1"));
    auto c = index.candidates("phone", "key");
    REQUIRE(c.size() == 2);
    CHECK(c[0].guid == "g1");
    CHECK(c[0].revision == "r1");
    CHECK(c[0].details == std::vector<std::string>{"one", "x\xFFy"});
    CHECK(c[1].guid == "g2");
    CHECK(c[1].details == std::vector<std::string>{"two", ""});

    index.claim("phone", "g1");
    index.claim("phone", "g1");  // twice: once
    CHECK(index.claimed("phone", "g1"));
    CHECK_FALSE(index.claimed("laptop", "g1"));
    REQUIRE(index.candidates("phone", "key").size() == 1);
    CHECK(index.candidates("phone", "key")[0].guid == "g2");
    CHECK(index.candidates("laptop", "key").size() == 2);
    index.clear_claims("phone");
    CHECK_FALSE(index.claimed("phone", "g1"));
    CHECK(index.candidates("phone", "key").size() == 2);

    index.put("g1", "r9", "other", {"moved"});
    CHECK(index.candidates("phone", "key").size() == 1);
    CHECK(index.candidates("phone", "other").size() == 2);
    index.erase("g1");
    CHECK_FALSE(index.indexed_revision("g1"));
    CHECK(index.candidates("phone", "other").size() == 1);

    for (int i = 0; i < 70; ++i) index.put("m" + std::to_string(i), "r", "many", {});
    CHECK(index.candidates("phone", "many").size() == 64);
}

TEMPLATE_TEST_CASE("Base versions are kept while another device holds the revision", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    SyncState& state = db->sync();
    auto& bases = db->bases();
    const std::string data("BEGIN:VCARD\r\n\0\xFF" "END:VCARD\r\n", 25);
    const StoredItem v1{"g", "r1", {"text/vcard", "3.0"}, data};

    state.put("phone", {"g", "p", "r1"});
    bases.keep_if_held("phone", v1);  // only the device that changes it holds r1
    CHECK_FALSE(bases.find("g", "r1"));
    state.put("laptop", {"g", "l", "r1"});
    bases.keep_if_held("phone", v1);
    auto kept = bases.find("g", "r1");
    REQUIRE(kept);
    CHECK(kept->data == data);
    CHECK(kept->format.type == "text/vcard");
    CHECK(kept->format.version == "3.0");
    bases.keep_if_held("phone", v1);  // again: one base
    CHECK_FALSE(bases.find("g", "r2"));

    bases.prune("g");  // the laptop still holds r1
    CHECK(bases.find("g", "r1"));
    state.put("laptop", {"g", "l", "r2"});
    state.put("phone", {"g", "p", "r2"});
    bases.prune("g");
    CHECK_FALSE(bases.find("g", "r1"));

    // While Adds await a Map anywhere, a base is kept and none is pruned.
    const StoredItem v2{"g", "r2", {"text/vcard", "3.0"}, "v2"};
    state.erase("laptop", "g");
    state.save_sent_adds("watch", "s", {{"other", "r"}});
    bases.keep_if_held("phone", v2);
    REQUIRE(bases.find("g", "r2"));
    state.put("phone", {"g", "p", "r3"});
    bases.prune("g");
    CHECK(bases.find("g", "r2"));
    state.recover_sent_adds("watch");
    bases.prune("g");
    CHECK_FALSE(bases.find("g", "r2"));
}

TEMPLATE_TEST_CASE("Resume points are kept per device, replaced and erased", BOTH_BACKENDS) {
    TestType t;
    auto db = open(*t.backend);
    auto& resume = db->resume();
    CHECK_FALSE(resume.load("phone"));
    CHECK_FALSE(resume.erase("phone"));
    smk::state::ResumePoint p;
    p.mode = 201;
    p.requested = 200;
    p.client_last = "cl";
    p.client_next = "cn";
    p.server_last = "sl";
    p.server_next = "sn";
    p.saved_at = 1764900000;
    p.cause = "suspended";
    p.client_done = true;
    p.sent_seq = 17;
    p.in_luid = "in-luid";
    p.in_data = std::string("in\0data\xFF", 8);
    p.in_size = 4096;
    p.out_op = 2;
    p.out_guid = "og";
    p.out_luid = "ol";
    p.out_type = "text/x-vcard";
    p.out_format = "b64";
    p.out_revision = "or";
    p.out_data = std::string(10000, '\x80');
    p.out_offset = 3000;
    resume.save("phone", p);
    auto back = resume.load("phone");
    REQUIRE(back);
    CHECK(back->mode == 201);
    CHECK(back->requested == 200);
    CHECK(back->client_last == "cl");
    CHECK(back->client_next == "cn");
    CHECK(back->server_last == "sl");
    CHECK(back->server_next == "sn");
    CHECK(back->saved_at == 1764900000);
    CHECK(back->cause == "suspended");
    CHECK(back->client_done);
    CHECK(back->sent_seq == 17);
    CHECK(back->in_luid == "in-luid");
    CHECK(back->in_data == p.in_data);
    CHECK(back->in_size == std::optional<std::uint64_t>(4096));
    CHECK(back->out_op == 2);
    CHECK(back->out_guid == "og");
    CHECK(back->out_luid == "ol");
    CHECK(back->out_type == "text/x-vcard");
    CHECK(back->out_format == "b64");
    CHECK(back->out_revision == "or");
    CHECK(back->out_data == p.out_data);
    CHECK(back->out_offset == 3000);
    CHECK_FALSE(resume.load("laptop"));

    smk::state::ResumePoint q;
    q.cause = "dropped";
    resume.save("phone", q);
    back = resume.load("phone");
    REQUIRE(back);
    CHECK(back->cause == "dropped");
    CHECK_FALSE(back->in_size);
    CHECK_FALSE(back->client_done);
    CHECK(back->out_data.empty());
    CHECK(resume.erase("phone"));
    CHECK_FALSE(resume.load("phone"));
}

TEMPLATE_TEST_CASE("Device registry knows a device only once it logged in, nonces as raw bytes", BOTH_BACKENDS) {
    TestType t;
    auto& registry = t.backend->devices();
    CHECK_FALSE(registry.login("alice", "phone"));
    const std::string md5_nonce("\x00\x01\xFF\x00\x80\r\n\x00", 8);
    registry.record_login("alice", "phone", DeviceLogin{md5_nonce, 7}, 10);
    REQUIRE(registry.login("alice", "phone"));
    CHECK(registry.login("alice", "phone")->nonce == md5_nonce);
    CHECK(registry.login("alice", "phone")->nonce_floor == 7);
    CHECK_FALSE(registry.login("bob", "phone"));
    CHECK_FALSE(registry.login("alice", "laptop"));
    registry.record_login("alice", "phone", DeviceLogin{"", 8}, 10);
    CHECK(registry.login("alice", "phone")->nonce.empty());
    CHECK(registry.login("alice", "phone")->nonce_floor == 8);
}

TEMPLATE_TEST_CASE("Device registry keeps DevInf apart from the nonce, only for known devices", BOTH_BACKENDS) {
    TestType t;
    auto& registry = t.backend->devices();
    const std::string devinf =
        "<DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD><Man>J\xC3\xBCrgen &amp; Co</Man>\r\n</DevInf>";
    registry.set_devinf("alice", "phone", devinf);
    CHECK_FALSE(registry.devinf("alice", "phone"));
    CHECK(registry.device_count("alice") == 0);
    registry.record_login("alice", "phone", DeviceLogin{std::string("n\0n", 3), 1}, 10);
    registry.set_devinf("alice", "phone", devinf);
    CHECK(registry.devinf("alice", "phone") == std::optional<std::string>(devinf));
    CHECK(registry.login("alice", "phone")->nonce == std::string("n\0n", 3));
    registry.record_login("alice", "phone", DeviceLogin{"other", 2}, 10);
    CHECK(registry.devinf("alice", "phone") == std::optional<std::string>(devinf));
    CHECK_FALSE(registry.devinf("bob", "phone"));
}

TEMPLATE_TEST_CASE("Device registry keeps at most max_devices per user", BOTH_BACKENDS) {
    TestType t;
    auto& registry = t.backend->devices();
    for (int i = 0; i < 12; ++i) registry.record_login("alice", "dev-" + std::to_string(i), DeviceLogin{"n", 0}, 5);
    registry.record_login("bob", "dev-0", DeviceLogin{"n", 0}, 5);
    CHECK(registry.device_count("alice") == 5);
    CHECK(registry.device_count("bob") == 1);
    CHECK(registry.login("alice", "dev-11"));
}

TEMPLATE_TEST_CASE("Device registry is shared by two backends and by many threads", BOTH_BACKENDS) {
    TestType t;
    auto other = t.another();
    t.backend->devices().record_login("alice", "phone", DeviceLogin{std::string("\0abc", 4), 3}, 10);
    t.backend->devices().set_devinf("alice", "phone", "<DevInf/>");
    CHECK(other->devices().login("alice", "phone")->nonce == std::string("\0abc", 4));
    CHECK(other->devices().devinf("alice", "phone") == std::optional<std::string>("<DevInf/>"));
    other->devices().record_login("alice", "phone", DeviceLogin{"fresh", 4}, 10);
    CHECK(t.backend->devices().login("alice", "phone")->nonce == "fresh");

    constexpr int kThreads = 4, kRounds = 50;
    std::atomic<int> mismatches{0}, failures{0};
    std::vector<std::thread> threads;
    for (int n = 0; n < kThreads; ++n) {
        threads.emplace_back([&, n] {
            auto& registry = (n % 2 ? other : t.backend)->devices();
            const std::string device = "device-" + std::to_string(n);
            try {
                for (int round = 0; round < kRounds; ++round) {
                    std::string nonce("\0", 1);
                    nonce += std::to_string(n) + ":" + std::to_string(round);
                    registry.record_login("alice", device, DeviceLogin{nonce, round}, 100);
                    registry.set_devinf("alice", device, "<DevInf>" + std::to_string(round) + "</DevInf>");
                    if (registry.login("alice", device)->nonce != nonce) ++mismatches;
                    if (registry.devinf("alice", device) != "<DevInf>" + std::to_string(round) + "</DevInf>")
                        ++mismatches;
                    registry.login("alice", "device-" + std::to_string((n + 1) % kThreads));
                }
            } catch (const std::exception&) {
                ++failures;
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    CHECK(failures == 0);
    CHECK(mismatches == 0);
    CHECK(t.backend->devices().device_count("alice") == kThreads + 1);
}

// PostgreSQL alone: several connections at once, as several processes.

TEST_CASE("PostgreSQL state: two processes write one database's rows at once", "[postgres]") {
    PostgresBackend t;
    auto second = t.another();
    constexpr int kItems = 300;
    std::atomic<int> failures{0};
    std::string failure;
    std::mutex failure_mutex;
    auto run = [&](StateBackend& backend, const std::function<void(DatabaseState&, int)>& step) {
        try {
            auto db = open(backend);
            for (int i = 0; i < kItems; ++i) {
                db->begin();
                step(*db, i);
                db->commit();
            }
        } catch (const std::exception& e) {
            ++failures;
            std::lock_guard<std::mutex> lock(failure_mutex);
            failure = e.what();
        }
    };
    auto guid = [](int i) { return "g" + std::to_string(i); };

    SECTION("two devices, the same GUIDs: each keeps its own rows, pages and anchors") {
        std::thread phone([&] {
            run(*t.backend, [&](DatabaseState& db, int i) {
                db.sync().put("phone", {guid(i), "p" + std::to_string(i), "r"});
                db.sync().queue_page("phone", i, {{0, OutOp::add, guid(i), ""}});
                db.sync().save_anchors("phone", {"c" + std::to_string(i), "s"});
            });
        });
        std::thread laptop([&] {
            run(*second, [&](DatabaseState& db, int i) {
                db.sync().put("laptop", {guid(i), "l" + std::to_string(i), "r"});
                db.sync().queue_page("laptop", i, {{0, OutOp::replace, guid(i), "x"}});
                db.sync().save_anchors("laptop", {"c" + std::to_string(i), "s"});
            });
        });
        phone.join();
        laptop.join();
        INFO(failure);
        CHECK(failures == 0);
        auto db = open(*t.backend);
        SyncState& state = db->sync();
        CHECK(state.item_count("phone") == kItems);
        CHECK(state.item_count("laptop") == kItems);
        int wrong = 0;
        for (int i = 0; i < kItems; ++i) {
            if (state.by_guid("phone", guid(i))->luid != "p" + std::to_string(i)) ++wrong;
            if (state.by_guid("laptop", guid(i))->luid != "l" + std::to_string(i)) ++wrong;
            auto page = state.queued_page("laptop", i);
            if (page.size() != 1 || page[0].guid != guid(i) || page[0].op != OutOp::replace) ++wrong;
        }
        CHECK(wrong == 0);
        CHECK(state.queued_total() == 2 * kItems);
        CHECK(state.anchors("phone")->client_next == "c" + std::to_string(kItems - 1));
        CHECK(state.anchors("laptop")->client_next == "c" + std::to_string(kItems - 1));
    }

    SECTION("one device: a Map and a late put_unmapped of the same GUIDs race, the mapping stays") {
        std::thread mapper([&] {
            run(*t.backend, [&](DatabaseState& db, int i) { db.sync().put("phone", {guid(i), "L" + std::to_string(i), "r1"}); });
        });
        std::thread unmapped([&] {
            run(*second, [&](DatabaseState& db, int i) { db.sync().put_unmapped("phone", guid(i), "r2"); });
        });
        mapper.join();
        unmapped.join();
        INFO(failure);
        CHECK(failures == 0);
        auto db = open(*t.backend);
        CHECK(db->sync().item_count("phone") == kItems);
        CHECK_FALSE(db->sync().has_unmapped("phone"));
        int wrong = 0;
        for (const ClientItem& item : all_items(db->sync(), "phone"))
            if (item.luid != "L" + item.guid.substr(1) || item.revision != "r1") ++wrong;
        CHECK(wrong == 0);
    }

    SECTION("one device: two sessions recover the same noted Adds, recorded once") {
        {
            auto db = open(*t.backend);
            std::vector<SyncState::SentAdd> adds;
            for (int i = 0; i < kItems; ++i) adds.push_back({guid(i), "r"});
            db->sync().save_sent_adds("phone", "s1", adds);
            db->sync().save_sent_adds("phone", "s2", adds);
        }
        std::atomic<int> ready{0};
        auto recover = [&](StateBackend& backend) {
            try {
                auto db = open(backend);
                ++ready;
                while (ready < 2) std::this_thread::yield();
                db->begin();
                db->sync().recover_sent_adds("phone");
                db->commit();
            } catch (const std::exception&) {
                ++failures;
            }
        };
        std::thread one(recover, std::ref(*t.backend)), two(recover, std::ref(*second));
        one.join();
        two.join();
        CHECK(failures == 0);
        auto db = open(*t.backend);
        CHECK(db->sync().item_count("phone") == kItems);
        CHECK(db->sync().sent_adds_total() == 0);
    }
}

TEST_CASE("PostgreSQL device registry: two processes keep a user's bound", "[postgres]") {
    PostgresBackend t;
    auto second = t.another();
    constexpr int kDevices = 200;
    constexpr std::size_t kBound = 5;
    std::atomic<int> failures{0};
    auto logins = [&](StateBackend& backend, const std::string& prefix) {
        try {
            for (int i = 0; i < kDevices; ++i) {
                backend.devices().record_login("alice", prefix + std::to_string(i), DeviceLogin{"n", i}, kBound);
                backend.devices().record_login("alice", "shared", DeviceLogin{prefix, i}, kBound);
            }
        } catch (const std::exception&) {
            ++failures;
        }
    };
    // What other sessions see meanwhile: never more than the bound.
    std::atomic<bool> done{false};
    std::size_t most = 0;
    std::thread watcher([&] {
        auto third = t.another();
        while (!done) most = std::max(most, third->devices().device_count("alice"));
    });
    std::vector<std::thread> writers;
    for (int n = 0; n < 6; ++n) writers.emplace_back(logins, std::ref(n % 2 ? *second : *t.backend), std::to_string(n) + "-");
    for (std::thread& writer : writers) writer.join();
    done = true;
    watcher.join();
    CHECK(failures == 0);
    CHECK(most == kBound);
    CHECK(t.backend->devices().device_count("alice") == kBound);
    CHECK(second->devices().device_count("alice") == kBound);
}

TEST_CASE("PostgreSQL state: a transaction with a failed write is not committed, not even in part", "[postgres]") {
    PostgresBackend t;
    auto db = open(*t.backend);
    db->begin();
    db->sync().put("phone", {"g1", "l1", "r"});
    {
        smk::pg::Connection other(t.db.url);
        other.exec("DROP TABLE smk_outbox_pages");  // a table someone damaged
    }
    try {
        db->sync().queue_page("phone", 0, {{0, OutOp::add, "g1", ""}});
        FAIL("no error");
    } catch (const DatastoreError& e) {
        CHECK(std::string(e.what()).find("sync state") != std::string::npos);
        CHECK(std::string(e.what()).find("smk_outbox_pages") != std::string::npos);
    }
    CHECK_THROWS_AS(db->commit(), DatastoreError);
    db->rollback();
    CHECK_FALSE(db->sync().by_guid("phone", "g1"));
    // The connection serves the next transaction.
    db->begin();
    db->sync().put("phone", {"g2", "l2", "r"});
    db->commit();
    CHECK(open(*t.backend)->sync().by_guid("phone", "g2"));
}

TEST_CASE("PostgreSQL state on the store's connection commits with the store", "[postgres]") {
    PostgresBackend t;
    smk::pg::Connection connection(t.db.url);
    auto db = smk::state::postgres_state_on(connection, "alice", Category::tasks);
    CHECK_FALSE(db->has_own_transaction());
    connection.begin();
    db->begin();  // the store's transaction: nothing to do
    db->sync().put("phone", {"g", "l", "r"});
    db->commit();
    CHECK_FALSE(open(*t.backend, "alice", Category::tasks)->sync().by_guid("phone", "g"));
    connection.commit();
    CHECK(open(*t.backend, "alice", Category::tasks)->sync().by_guid("phone", "g"));
    connection.begin();
    db->sync().put("phone", {"h", "l", "r"});
    connection.rollback();
    CHECK_FALSE(db->sync().by_guid("phone", "h"));
}

TEST_CASE("PostgreSQL state: a newer schema is refused, an older one kept", "[postgres]") {
    PostgresBackend t;
    { auto again = t.another(); }  // migrating twice changes nothing
    auto db = open(*t.backend);
    db->sync().put("phone", {"g", "l", "r"});
    {
        smk::pg::Connection other(t.db.url);
        other.exec("UPDATE smk_schema SET version = version + 1 WHERE component = 'state'");
    }
    CHECK_THROWS_AS(t.another(), DatastoreError);
    CHECK(db->sync().by_guid("phone", "g"));
}

TEST_CASE("PostgreSQL device registry lists a user's devices for the administrator", "[postgres]") {
    PostgresBackend t;
    auto* registry = dynamic_cast<smk::state::postgres::PgDeviceRegistry*>(&t.backend->devices());
    REQUIRE(registry);
    CHECK(registry->devices_of("alice").empty());
    registry->record_login("alice", "phone", DeviceLogin{"n", 0}, 10);
    registry->record_login("alice", "Laptop\xFF", DeviceLogin{"n", 0}, 10);
    registry->record_login("bob", "tablet", DeviceLogin{"n", 0}, 10);
    registry->set_devinf("alice", "phone", "<DevInf/>");
    auto devices = registry->devices_of("alice");
    REQUIRE(devices.size() == 2);
    CHECK(devices[0].device == "Laptop\xFF");
    CHECK_FALSE(devices[0].devinf);
    CHECK(devices[1].device == "phone");
    CHECK(devices[1].devinf == std::optional<std::string>("<DevInf/>"));
    CHECK(devices[1].last_seen > 1700000000);
}

TEST_CASE("PostgreSQL state holds a connection only inside a transaction", "[postgres]") {
    TestDatabase database;
    auto backend = smk::state::open_postgres_state(database.url, 1);  // one connection for everything
    auto one = open(*backend, "alice", Category::contacts);
    auto two = open(*backend, "alice", Category::calendar);
    one->sync().put("phone", {"g1", "l1", "r"});
    two->sync().put("phone", {"g2", "l2", "r"});
    backend->devices().record_login("alice", "phone", DeviceLogin{"n", 1}, 10);
    auto cursor = one->sync().items("phone");  // a cursor holds none either
    one->begin();
    one->sync().put("phone", {"g3", "l3", "r"});
    ClientItem item;
    REQUIRE(cursor->next(item));
    CHECK(item.guid == "g1");
    one->commit();
    two->begin();
    two->sync().erase("phone", "g2");
    two->rollback();
    CHECK(two->sync().by_guid("phone", "g2"));
    CHECK(one->sync().item_count("phone") == 2);
    CHECK(backend->devices().login("alice", "phone")->nonce_floor == 1);
    two->begin();
    two->commit();
    one->commit();  // no transaction: nothing to do
}

namespace {
// Ends every other connection to the test's database, as a restart of
// PostgreSQL or an administrator would.
void end_other_connections(const std::string& url) {
    smk::pg::Connection admin(url);
    admin.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
               "WHERE datname = current_database() AND pid <> pg_backend_pid()");
}
}  // namespace

TEST_CASE("PostgreSQL state: a connection lost inside a transaction commits nothing, and is replaced after it",
          "[postgres]") {
    std::string url = smk::test::pg_fresh_database();  // a database of its own: all its connections are this test's
    auto backend = smk::state::open_postgres_state(url, 3);
    auto db = open(*backend);
    db->sync().put("phone", {"g0", "l0", "r"});
    backend->devices().record_login("alice", "phone", DeviceLogin{"n", 1}, 10);
    db->begin();
    db->sync().put("phone", {"g1", "l1", "r"});
    end_other_connections(url);
    CHECK_THROWS_AS(db->sync().put("phone", {"g2", "l2", "r"}), DatastoreError);
    // Nothing after the break runs on a connection of its own.
    CHECK_THROWS_AS(db->sync().put("phone", {"g3", "l3", "r"}), DatastoreError);
    CHECK_THROWS_AS(db->commit(), DatastoreError);
    db->rollback();
    // Idle connections were ended too: each is replaced at its first use.
    CHECK(backend->devices().login("alice", "phone")->nonce_floor == 1);
    CHECK(db->sync().by_guid("phone", "g0"));
    for (const char* guid : {"g1", "g2", "g3"}) CHECK_FALSE(db->sync().by_guid("phone", guid));
    db->begin();
    db->sync().put("phone", {"g4", "l4", "r"});
    db->commit();
    CHECK(db->sync().item_count("phone") == 2);
    // Ended while idle, outside a transaction: the next statement goes through.
    end_other_connections(url);
    CHECK(db->sync().item_count("phone") == 2);
    CHECK(backend->devices().device_count("alice") == 1);
}
