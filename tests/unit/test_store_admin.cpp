// What syncmlkit-admin relies on in the store: a restored snapshot reaches
// every client at its next sync with nothing duplicated or lost (counted on
// both sides, through whole sessions), snapshot names, the counts of a
// restore and of a Global Address Book import, and the sync state's
// completion time and forget().
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include <unistd.h>

#include <SQLiteCpp/Database.h>

#include "engine_client.hpp"
#include "state/sqlite/sync_state.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace {

std::string vcard(const std::string& name, const std::string& tel = "+1 555 0100") {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\nTEL:" + tel +
           "\r\nEND:VCARD\r\n";
}

// "Test Anne" from a vCard, whatever else the server's rendering holds.
std::string full_name(const std::string& data) {
    std::size_t at = data.find("FN:");
    if (at == std::string::npos) return "?";
    return data.substr(at + 3, data.find_first_of("\r\n", at) - at - 3);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

// A client that keeps its items by LUID and applies what the server sends.
struct ModelClient {
    TestClient c;
    std::map<std::string, std::string> items;  // LUID -> vCard
    std::string last;
    int sessions = 0;
    int next_luid = 1;

    ModelClient(Server& server, const std::string& device) : c(server, device) {}

    struct Result {
        std::string alert_status;  // the server's answer to the client's Alert
        int adds = 0, replaces = 0, deletes = 0;
    };

    // One whole session: `code` (200 two-way, 201 slow), the client's changes, the server's applied.
    Result sync(const std::string& code, std::vector<Command> ops = {}) {
        if (sessions > 0) c.new_session();
        std::string next = "N" + std::to_string(++sessions);
        Message pkg2 = init(c, code, "contacts", code == "201" ? "" : last, next);
        Result r;
        const Command* alert = find_status(pkg2, "Alert");
        REQUIRE(alert);
        r.alert_status = alert->data;
        Message pkg4 = client_changes(c, pkg2, "contacts", std::move(ops));
        REQUIRE(pkg4.final);
        for (const Command& op : server_ops(pkg4)) {
            REQUIRE(op.items.size() == 1);
            const Item& it = op.items[0];
            if (op.kind == CommandKind::Add) {
                items["c" + it.source.uri] = it.data;  // the LUID map_phase reports
                ++r.adds;
            } else if (op.kind == CommandKind::Replace) {
                REQUIRE(items.count(it.target.uri));
                items[it.target.uri] = it.data;
                ++r.replaces;
            } else if (op.kind == CommandKind::Delete) {
                REQUIRE(items.erase(it.target.uri) == 1);
                ++r.deletes;
            }
        }
        map_phase(c, pkg4, "contacts");
        REQUIRE(c.last_response.session_ended);
        last = next;
        return r;
    }

    Command add(const std::string& data) {
        std::string luid = "n" + std::to_string(next_luid++);
        items[luid] = data;
        return TestClient::item_command(CommandKind::Add, luid, data);
    }
    std::string luid_of(const std::string& name) const {
        for (const auto& [luid, data] : items)
            if (full_name(data) == "Test " + name) return luid;
        FAIL("the client holds no " << name);
        return "";
    }
    Command replace(const std::string& name, const std::string& data) {
        std::string luid = luid_of(name);
        items[luid] = data;
        return TestClient::item_command(CommandKind::Replace, luid, data);
    }
    Command remove(const std::string& name) {
        std::string luid = luid_of(name);
        items.erase(luid);
        return TestClient::item_command(CommandKind::Delete, luid, "");
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [luid, data] : items) out.push_back(full_name(data));
        return sorted(out);
    }
};

std::vector<std::string> server_names(TestServer& ts) {
    std::vector<std::string> out;
    for (const std::string& data : ts.items("alice", Category::contacts)) out.push_back(full_name(data));
    return sorted(out);
}

std::vector<std::string> names(std::initializer_list<const char*> list) {
    std::vector<std::string> out;
    for (const char* n : list) out.push_back(std::string("Test ") + n);
    return sorted(out);
}

}  // namespace

TEST_CASE("after a restore every client gets the snapshot's data at its next sync, without duplicates") {
    TestServer ts;
    {
        auto store = ts.stores->open("alice", Category::contacts);
        for (const char* n : {"Anne", "Bert", "Cleo", "Dana", "Emil"}) store->add(Format{"text/vcard", "3.0"}, vcard(n));
    }
    ModelClient one(*ts.server, "IMEI:1"), two(*ts.server, "IMEI:2");
    CHECK(one.sync("201").adds == 5);
    CHECK(two.sync("201").adds == 5);
    const auto snapshot_names = names({"Anne", "Bert", "Cleo", "Dana", "Emil"});
    REQUIRE(one.names() == snapshot_names);

    std::optional<std::string> taken = ts.stores->open("alice", Category::contacts)->snapshot("admin");
    REQUIRE(taken);

    // Since the snapshot: one deletes Bert and changes Cleo's number, two
    // adds Fred, the server deletes Dana; both clients catch up.
    one.sync("200", {one.remove("Bert"), one.replace("Cleo", vcard("Cleo", "+1 555 0199"))});
    two.sync("200", {two.add(vcard("Fred"))});
    {
        auto store = ts.stores->open("alice", Category::contacts);
        auto cursor = store->list();
        ItemVersion v;
        std::string dana;
        while (cursor->next(v))
            if (full_name(store->read(v.guid)->data) == "Test Dana") dana = v.guid;
        cursor.reset();
        REQUIRE(store->remove(dana));
    }
    one.sync("200");
    two.sync("200");
    const auto after = names({"Anne", "Cleo", "Emil", "Fred"});
    REQUIRE(server_names(ts) == after);
    REQUIRE(one.names() == after);
    REQUIRE(two.names() == after);
    CHECK(one.items[one.luid_of("Cleo")].find("0199") != std::string::npos);

    // The short name restores it, online.
    std::string short_name = std::filesystem::path(*taken).stem().string().substr(std::string("contacts-").size());
    ItemCounts counts;
    ts.stores->restore("alice", Category::contacts, short_name, counts);
    CHECK(counts.added == 2);      // Bert and Dana
    CHECK(counts.changed == 1);    // Cleo
    CHECK(counts.unchanged == 2);  // Anne and Emil
    CHECK(counts.removed == 1);    // Fred
    REQUIRE(server_names(ts) == snapshot_names);

    // Each client: an ordinary two-way sync (no slow sync that would push
    // Fred back), exactly the difference, nothing sent to the server.
    for (ModelClient* client : {&one, &two}) {
        ModelClient::Result r = client->sync("200");
        CHECK(r.alert_status == "200");
        CHECK(r.adds == 2);
        CHECK(r.replaces == 1);
        CHECK(r.deletes == 1);
        CHECK(client->names() == snapshot_names);
        CHECK(client->items[client->luid_of("Cleo")].find("0199") == std::string::npos);
        CHECK(server_names(ts) == snapshot_names);
    }
    // And they stay so: nothing more to exchange.
    for (ModelClient* client : {&one, &two}) {
        ModelClient::Result r = client->sync("200");
        CHECK(r.adds + r.replaces + r.deletes == 0);
        CHECK(client->names() == snapshot_names);
    }
    CHECK(server_names(ts) == snapshot_names);

    // A client whose own state is lost meanwhile slow-syncs and pairs: still 5.
    ModelClient three(*ts.server, "IMEI:3");
    CHECK(three.sync("201").adds == 5);
    CHECK(server_names(ts) == snapshot_names);

    // Restoring the same snapshot again changes nothing.
    ts.stores->restore("alice", Category::contacts, "latest", counts);
    CHECK(counts.unchanged == 5);
    CHECK(counts.added + counts.changed + counts.removed == 0);
    CHECK(one.sync("200").adds == 0);
}

TEST_CASE("a restore in the middle of a client's session reaches it at its next sync") {
    TestServer ts;
    {
        auto store = ts.stores->open("alice", Category::contacts);
        for (const char* n : {"Anne", "Bert", "Cleo"}) store->add(Format{"text/vcard", "3.0"}, vcard(n));
    }
    ModelClient one(*ts.server, "IMEI:1");
    REQUIRE(one.sync("201").adds == 3);
    std::string taken = *ts.stores->open("alice", Category::contacts)->snapshot("admin");
    {
        auto store = ts.stores->open("alice", Category::contacts);
        store->add(Format{"text/vcard", "3.0"}, vcard("Fred"));
        auto cursor = store->list();
        ItemVersion v;
        std::string anne;
        while (cursor->next(v))
            if (full_name(store->read(v.guid)->data) == "Test Anne") anne = v.guid;
        cursor.reset();
        REQUIRE(store->remove(anne));
    }
    // The session by hand: the server's changes arrive, then the restore
    // runs before the client's statuses and Map.
    one.c.new_session();
    Message pkg2 = init(one.c, "200", "contacts", one.last, "M1");
    REQUIRE(find_status(pkg2, "Alert")->data == "200");
    Message pkg4 = client_changes(one.c, pkg2, "contacts", {});
    int adds = 0, deletes = 0;
    for (const Command& op : server_ops(pkg4)) {
        const Item& it = op.items.at(0);
        if (op.kind == CommandKind::Add) one.items["c" + it.source.uri] = it.data, ++adds;
        if (op.kind == CommandKind::Delete) deletes += static_cast<int>(one.items.erase(it.target.uri));
    }
    REQUIRE((adds == 1 && deletes == 1));
    CHECK(one.names() == names({"Bert", "Cleo", "Fred"}));
    ts.stores->restore("alice", Category::contacts, taken);
    map_phase(one.c, pkg4, "contacts");
    REQUIRE(one.c.last_response.session_ended);
    one.last = "M1";

    ModelClient::Result r = one.sync("200");
    CHECK(r.alert_status == "200");
    CHECK(r.adds == 1);     // Anne
    CHECK(r.deletes == 1);  // Fred
    CHECK(one.names() == names({"Anne", "Bert", "Cleo"}));
    CHECK(server_names(ts) == names({"Anne", "Bert", "Cleo"}));
    r = one.sync("200");
    CHECK(r.adds + r.replaces + r.deletes == 0);
}

TEST_CASE("a restore takes a snapshot by path, by file name or by short name, and refuses others") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    store->add(Format{"text/vcard", "3.0"}, vcard("Anne"));
    std::string path = *store->snapshot("admin");
    store.reset();
    std::string file = std::filesystem::path(path).filename().string();
    std::string stem = std::filesystem::path(path).stem().string();
    for (const std::string& name : {path, file, stem, stem.substr(9), std::string("latest")})
        CHECK_NOTHROW(ts.stores->restore("alice", Category::contacts, name));
    for (const std::string& name : {std::string("nothing"), std::string("../contacts.sqlite"), std::string(".."),
                                    std::string("")})
        CHECK_THROWS_AS(ts.stores->restore("alice", Category::contacts, name), DatastoreError);
    // Another database's snapshot is not this one's.
    CHECK_THROWS_AS(ts.stores->restore("alice", Category::calendar, stem.substr(9)), DatastoreError);
    CHECK_THROWS_AS(ts.stores->restore("alice", Category::calendar, "latest"), DatastoreError);
    CHECK_THROWS_AS(ts.stores->restore("bob", Category::contacts, "latest"), DatastoreError);
}

TEST_CASE("a Global Address Book import counts what it changed, and a second one duplicates nothing") {
    TestServer ts;
    std::string file = vcard("Anne") + vcard("Bert") +
                       "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u-cleo\r\nFN:Test Cleo\r\nEND:VCARD\r\n" + vcard("Anne");
    ItemCounts counts;
    std::istringstream first(file);
    CHECK(ts.stores->import_global_address_book(first, counts) == 3);
    CHECK(counts.added == 3);
    CHECK(counts.repeated == 1);
    std::istringstream again(file);
    CHECK(ts.stores->import_global_address_book(again, counts) == 3);
    CHECK(counts.added == 0);
    CHECK(counts.unchanged == 3);
    CHECK(counts.removed == 0);
    // Cleo renamed (same UID), Bert gone.
    std::istringstream edited(vcard("Anne") + "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u-cleo\r\nFN:Test Cleo Two\r\nEND:VCARD\r\n");
    CHECK(ts.stores->import_global_address_book(edited, counts) == 2);
    CHECK(counts.unchanged == 1);
    CHECK(counts.changed == 1);
    CHECK(counts.removed == 1);
    CHECK(ts.stores->open_global_address_book()->list() != nullptr);
}

TEST_CASE("the sync state notes when a session completed, also in a file made before the column") {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("smk-state-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string path = (dir / "old.sqlite").string();
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE smk_anchors(device TEXT PRIMARY KEY NOT NULL, client_next TEXT NOT NULL, "
                "server_next TEXT NOT NULL) WITHOUT ROWID");
        db.exec("INSERT INTO smk_anchors VALUES ('old', 'c1', 's1')");
    }
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        state::SqliteSyncState st(db);
        state::SqliteSyncState second(db);  // the column is added once
        REQUIRE(st.anchors("old"));
        CHECK(st.anchors("old")->client_next == "c1");
        st.save_anchors("new", {"c2", "s2"});
        st.put("new", {"7", "L7", "3"});
        st.queue("new", {0, state::OutOp::add, "8", ""});
        SQLite::Statement q(db, "SELECT device, completed FROM smk_anchors ORDER BY device");
        REQUIRE(q.executeStep());
        CHECK(q.getColumn(0).getString() == "new");
        CHECK(q.getColumn(1).getInt64() >= static_cast<std::int64_t>(std::time(nullptr)) - 60);
        REQUIRE(q.executeStep());
        CHECK(q.getColumn(0).getString() == "old");
        CHECK(q.getColumn(1).isNull());
        q.reset();

        st.forget("new");
        CHECK_FALSE(st.anchors("new"));
        CHECK(st.item_count("new") == 0);
        CHECK(st.queued_count("new") == 0);
        CHECK(st.anchors("old"));
    }
    std::filesystem::remove_all(dir);
}
