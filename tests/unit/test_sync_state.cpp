// Per-client sync state: anchors, the GUID<->LUID map with revisions, the
// outbox, each kept apart per device.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "state/sqlite/sync_state.hpp"
#include "syncmlkit/datastore.hpp"

namespace fs = std::filesystem;
using smk::state::ClientItem;
using smk::state::OutboxEntry;
using smk::state::OutOp;
using smk::state::SqliteSyncState;
using smk::state::SyncState;

namespace {

// A fresh SQLite file in a fresh directory per test, removed afterwards.
struct TempDatabase {
    fs::path dir;
    std::unique_ptr<SQLite::Database> db;
    TempDatabase() {
        static std::atomic<int> counter{0};
        dir = fs::temp_directory_path() /
              ("smk-sync-state-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::remove_all(dir);
        fs::create_directories(dir);
        db = std::make_unique<SQLite::Database>((dir / "state.sqlite").string(),
                                                SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        // As the store opens its files, but without waiting for the disk:
        // these tests check what is kept, not that it survives a power cut.
        db->exec("PRAGMA synchronous=OFF");
        db->exec("PRAGMA journal_mode=WAL");
    }
    ~TempDatabase() {
        db.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

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

TEST_CASE("SyncState keeps anchors per device") {
    TempDatabase t;
    SqliteSyncState state(*t.db);
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
}

TEST_CASE("SyncState finds client items by GUID and by LUID") {
    TempDatabase t;
    SqliteSyncState state(*t.db);
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
    // An empty LUID finds nothing, not some item awaiting a Map.
    CHECK_FALSE(state.by_luid("phone", ""));

    // put() updates the row of a GUID.
    state.put("phone", {"1", "b", "r3"});
    CHECK(same(*state.by_guid("phone", "1"), {"1", "b", "r3"}));
    CHECK_FALSE(state.by_luid("phone", "a"));
    CHECK(state.item_count("phone") == 2);

    // A Map sets the LUID of a GUID the client holds.
    CHECK(state.set_luid("phone", "2", "c"));
    CHECK(same(*state.by_luid("phone", "c"), {"2", "c", "r2"}));
    CHECK_FALSE(state.set_luid("phone", "3", "d"));
    CHECK_FALSE(state.by_guid("phone", "3"));
    CHECK_FALSE(state.set_luid("tablet", "2", "c"));

    state.erase("phone", "1");
    CHECK_FALSE(state.by_guid("phone", "1"));
    CHECK_FALSE(state.by_luid("phone", "b"));
    CHECK(state.item_count("phone") == 1);
    state.erase("phone", "1");  // already gone: nothing happens
    CHECK(state.by_guid("laptop", "1"));
}

TEST_CASE("SyncState values survive exactly") {
    TempDatabase t;
    SqliteSyncState state(*t.db);
    const std::string device = "IMEI:35\xC3\xA9 \"quoted\" 'single'";
    const ClientItem item{"gab-0123456789abcdef", "luid with spaces/and;punctuation:\xE2\x82\xAC", "rev 7"};
    state.put(device, item);
    CHECK(same(*state.by_guid(device, item.guid), item));
    CHECK(same(*state.by_luid(device, item.luid), item));
}

TEST_CASE("SyncState erase_all forgets a device's items but not its anchors") {
    TempDatabase t;
    SqliteSyncState state(*t.db);
    state.save_anchors("phone", {"c", "s"});
    for (int i = 0; i < 10; ++i) state.put("phone", {std::to_string(i), "l" + std::to_string(i), "r"});
    state.put("laptop", {"1", "x", "r"});
    CHECK(state.item_count("phone") == 10);
    state.erase_all("phone");
    CHECK(state.item_count("phone") == 0);
    CHECK(all_items(state, "phone").empty());
    CHECK_FALSE(state.by_luid("phone", "l3"));
    CHECK(state.anchors("phone"));
    CHECK(state.item_count("laptop") == 1);
}

TEST_CASE("SyncState lists a device's items in GUID order, lazily") {
    TempDatabase t;
    SqliteSyncState state(*t.db);
    CHECK(all_items(state, "phone").empty());
    // Inserted out of order, in one transaction for speed.
    t.db->exec("BEGIN");
    for (int i = 999; i >= 0; --i) state.put("phone", {std::to_string(i), "L" + std::to_string(i), "r"});
    state.put("laptop", {"5", "other", "r"});
    t.db->exec("COMMIT");

    auto items = all_items(state, "phone");
    REQUIRE(items.size() == 1000);
    CHECK(state.item_count("phone") == 1000);
    for (std::size_t i = 1; i < items.size(); ++i) CHECK(items[i - 1].guid < items[i].guid);
    for (const ClientItem& item : items) CHECK(item.luid == "L" + item.guid);

    // Two cursors at once, on two devices, walk independently; the device
    // name may go away while its cursor lives.
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
}

TEST_CASE("SyncState outbox hands out entries in the order they were queued") {
    TempDatabase t;
    SqliteSyncState state(*t.db);
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
    CHECK(taken[1].guid == "g2");
    CHECK(taken[1].luid == "l2");
    CHECK(taken[2].op == OutOp::remove);
    CHECK(taken[2].luid == "l3");
    // Taking does not remove: the same entry comes again from the same place.
    CHECK(state.next_queued("phone", taken[0].seq)->guid == "g2");

    state.clear_outbox("phone");
    CHECK(state.queued_count("phone") == 0);
    CHECK_FALSE(state.next_queued("phone", 0));
    CHECK(state.queued_count("laptop") == 1);
    // A new outbox never repeats a seq of the old one.
    state.queue("phone", {0, OutOp::add, "g4", ""});
    CHECK(state.next_queued("phone", 0)->seq > taken[2].seq);
}

TEST_CASE("SyncState counts every device's outbox pages and noted Adds for the administrator") {
    TempDatabase t;
    SqliteSyncState state(*t.db);
    CHECK(state.queued_total() == 0);
    CHECK(state.sent_adds_total() == 0);

    state.queue_page("phone", 0, {{0, OutOp::add, "g1", ""}, {0, OutOp::replace, "g2", "l2"}});
    state.queue_page("phone", 1, {{0, OutOp::remove, "g3", "l3"}});
    state.queue_page("laptop", 0, {{0, OutOp::add, "g1", ""}});
    state.queue("tablet", {0, OutOp::add, "g7", ""});  // a row of the outbox without pages
    CHECK(state.queued_total() == 5);

    state.save_sent_adds("phone", "s1", {{"g1", "r1"}, {"g2", "r2"}});
    state.save_sent_adds("laptop", "s2", {{"g5", "r5"}});
    CHECK(state.sent_adds_total() == 3);
    // At the device's next session they become rows awaiting their Map.
    state.recover_sent_adds("phone");
    CHECK(state.sent_adds_total() == 1);

    state.clear_outbox("phone");
    CHECK(state.queued_total() == 2);
}

TEST_CASE("SyncState keeps its tables across reopening") {
    TempDatabase t;
    {
        SqliteSyncState state(*t.db);
        state.save_anchors("phone", {"c", "s"});
        state.put("phone", {"1", "a", "r"});
        state.queue("phone", {0, OutOp::add, "1", ""});
    }
    SqliteSyncState again(*t.db);  // the tables exist: nothing is lost
    CHECK(again.anchors("phone"));
    CHECK(again.by_luid("phone", "a"));
    CHECK(again.queued_count("phone") == 1);
}

TEST_CASE("SyncState throws DatastoreError when SQLite fails") {
    TempDatabase t;
    SqliteSyncState state(*t.db);
    t.db->exec("DROP TABLE smk_anchors");  // a file someone damaged
    try {
        state.anchors("phone");
        FAIL("no error");
    } catch (const smk::DatastoreError& e) {
        CHECK(std::string(e.what()).find("state.sqlite") != std::string::npos);
        CHECK(std::string(e.what()).find("anchors") != std::string::npos);
    }
}
