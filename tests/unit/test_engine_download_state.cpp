// What the server records of its Adds while a download runs: a row per item
// written once, when the client's Map comes, the Adds of the last message
// noted meanwhile so that a server stopped before the Map loses nothing;
// and an outbox of many pages taken in order, every item exactly once.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <filesystem>
#include <map>
#include <set>

#include "engine_client.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace {

std::string vcard(const std::string& name) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\nEMAIL:" + name +
           "@example.com\r\nEND:VCARD\r\n";
}

std::filesystem::path store_file(const TestServer& ts) { return ts.dir / "data" / "alice" / "contacts.sqlite"; }

std::int64_t count(const std::filesystem::path& file, const std::string& sql) {
    SQLite::Database db(file.string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, sql);
    REQUIRE(q.executeStep());
    return q.getColumn(0).getInt64();
}

// A Map of every Add in `reply`, LUIDs "c<GUID>".
Command map_of(const Message& reply) {
    Command map;
    map.kind = CommandKind::Map;
    map.cmd_id = "90";
    map.target.uri = "contacts";
    map.source.uri = "./contacts";
    for (const Command& op : server_ops(reply))
        if (op.kind == CommandKind::Add)
            for (const Item& it : op.items) map.map_items.push_back(MapItem{{it.source.uri, ""}, {"c" + it.source.uri, ""}});
    return map;
}

// The client's next message: statuses for `reply`, and its Map.
Message answer(TestClient& c, const Message& reply, bool final) {
    Message m = c.message(final);
    m.body = c.statuses_for(reply);
    Command map = map_of(reply);
    if (!map.map_items.empty()) m.body.push_back(std::move(map));
    return c.send(m);
}

}  // namespace

TEST_CASE("a refresh from the server of more items than an outbox page sends each once and maps each once") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    constexpr int kItems = 1100;  // more than two outbox pages
    for (int i = 0; i < kItems; ++i) store->add(Format{"text/vcard", "3.0"}, vcard("R" + std::to_string(i)));
    TestClient c(*ts.server, "IMEI:refresh");
    c.max_msg_size = "20000";
    Message pkg2 = init(c, "205", "contacts", "", "R1");
    Message reply = client_changes(c, pkg2, "contacts", {});
    std::multiset<std::string> received;
    std::size_t messages = 0;
    for (;;) {
        for (const Command& op : server_ops(reply)) {
            CHECK(op.kind == CommandKind::Add);
            received.insert(op.items.front().source.uri);
        }
        REQUIRE(++messages < 400);
        bool last = reply.final;
        reply = answer(c, reply, last);
        if (last) break;
    }
    CHECK(c.last_response.session_ended);
    CHECK(messages > 10);
    CHECK(received.size() == kItems);
    CHECK(std::set<std::string>(received.begin(), received.end()).size() == kItems);  // none twice
    // One row per item, each with the LUID its Map gave; nothing awaits.
    CHECK(count(store_file(ts), "SELECT count(*) FROM smk_client_items WHERE device = 'IMEI:refresh'") == kItems);
    CHECK(count(store_file(ts), "SELECT count(*) FROM smk_client_items WHERE device = 'IMEI:refresh' AND "
                                "luid = 'c' || guid") == kItems);
    CHECK(count(store_file(ts), "SELECT count(*) FROM smk_sent_adds") == 0);

    // The next two-way sync has nothing to send either way.
    c.new_session();
    pkg2 = init(c, "200", "contacts", "R1", "R2");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    reply = client_changes(c, pkg2, "contacts", {});
    CHECK(server_ops(reply).empty());
    map_phase(c, reply, "contacts");
    CHECK(c.last_response.session_ended);
}

TEST_CASE("the server stopped while its last Adds await their Map: the client's copies pair with them") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:kill");
    c.max_msg_size = "4000";
    // A completed first sync: the device has anchors.
    Message pkg2 = init(c, "201", "contacts", "", "K1");
    Message reply = client_changes(c, pkg2, "contacts", {});
    map_phase(c, reply, "contacts");
    REQUIRE(c.last_response.session_ended);

    auto store = ts.stores->open("alice", Category::contacts);
    constexpr int kItems = 60;
    for (int i = 0; i < kItems; ++i) store->add(Format{"text/vcard", "3.0"}, vcard("K" + std::to_string(i)));
    store.reset();

    // A two-way sync: the server's first message is answered with its Map,
    // the second is received and the client vanishes before answering it.
    c.new_session();
    pkg2 = init(c, "200", "contacts", "K1", "K2");
    REQUIRE(find_status(pkg2, "Alert")->data == "200");
    Message first = client_changes(c, pkg2, "contacts", {});
    REQUIRE_FALSE(first.final);
    Message second = answer(c, first, false);
    REQUIRE_FALSE(second.final);
    std::size_t mapped = server_ops(first).size(), unmapped = server_ops(second).size();
    REQUIRE(mapped > 0);
    REQUIRE(unmapped > 0);
    REQUIRE(mapped + unmapped < kItems);

    // The server is killed now: what it committed is all there is. A copy
    // taken beside the live server is the data of a server started afresh
    // (in a directory of its own: the live file's connections stay out).
    TestServer restarted;
    std::filesystem::create_directories(store_file(restarted).parent_path());
    {
        SQLite::Database db(store_file(ts).string(), SQLite::OPEN_READWRITE);
        db.exec("VACUUM INTO '" + store_file(restarted).string() + "'");
    }
    CHECK(count(store_file(restarted), "SELECT count(*) FROM smk_client_items WHERE device = 'IMEI:kill'") ==
          static_cast<std::int64_t>(mapped));
    CHECK(count(store_file(restarted), "SELECT count(*) FROM smk_sent_adds WHERE device = 'IMEI:kill'") == 1);

    // The client tries again with the anchors it had, and sends the items of
    // the second message as its own new ones: each pairs with the item sent,
    // none is stored twice, and the server sends only what never went.
    TestClient again(*restarted.server, "IMEI:kill");
    again.max_msg_size = "4000";
    pkg2 = init(again, "200", "contacts", "K1", "K3");
    REQUIRE(find_status(pkg2, "Alert")->data == "200");
    std::vector<Command> ops;
    int id = 50;
    std::set<std::string> sent_before;
    for (const Command& op : server_ops(first)) sent_before.insert(op.items.front().source.uri);
    for (const Command& op : server_ops(second)) {
        sent_before.insert(op.items.front().source.uri);
        Command add = TestClient::item_command(CommandKind::Add, "n" + op.items.front().source.uri, op.items.front().data);
        add.cmd_id = std::to_string(id++);
        ops.push_back(std::move(add));
    }
    reply = client_changes(again, pkg2, "contacts", ops);
    std::size_t paired = 0;
    for (const Command& s : reply.body)
        if (s.kind == CommandKind::Status && s.cmd == "Add") paired += s.data == "200";
    CHECK(paired == unmapped);
    std::size_t resent = 0, rest = 0;
    for (;;) {
        for (const Command& op : server_ops(reply)) {
            CHECK(op.kind == CommandKind::Add);
            (sent_before.count(op.items.front().source.uri) ? resent : rest)++;
        }
        bool last = reply.final;
        reply = answer(again, reply, last);
        if (last) break;
    }
    CHECK(again.last_response.session_ended);
    CHECK(resent == 0);
    CHECK(rest == kItems - mapped - unmapped);
    CHECK(restarted.logger->contains("paired, not added"));
    CHECK(restarted.items("alice", Category::contacts).size() == kItems);
    CHECK(count(store_file(restarted), "SELECT count(*) FROM smk_client_items WHERE device = 'IMEI:kill'") == kItems);
    CHECK(count(store_file(restarted),
                "SELECT count(*) FROM smk_client_items WHERE device = 'IMEI:kill' AND luid = ''") == 0);
    CHECK(count(store_file(restarted), "SELECT count(*) FROM smk_sent_adds") == 0);
}
