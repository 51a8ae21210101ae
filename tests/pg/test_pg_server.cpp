// smk::Server with its state in PostgreSQL (ServerConfig::state): two Server
// objects stand for two processes that share one PostgreSQL and one host
// store (in memory, so the per-database state is PostgreSQL's, not a
// store's own). What one process remembers, the other knows: anchors, the
// items each client holds, the device's MD5 nonce.
#include <catch2/catch.hpp>

#include <memory>

#include "engine_client.hpp"
#include "memory_store.hpp"
#include "pg/connection.hpp"
#include "pg_test.hpp"

using namespace smk;
using namespace smk::test;
using namespace smk::test::steps;
using smk::wire::CommandKind;
using smk::wire::Message;

namespace {

std::string vcard(const std::string& name) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\nEND:VCARD\r\n";
}

struct SharedState {
    std::string url = pg_fresh_database();
    std::shared_ptr<MapAuth> auth = std::make_shared<MapAuth>();
    std::shared_ptr<MemoryProvider> stores = std::make_shared<MemoryProvider>();
    std::shared_ptr<MemoryLogger> logger = std::make_shared<MemoryLogger>();
    SharedState() { auth->users = {{"alice", "secret"}}; }
    /// A "process": its own Server (and no state dir of its own).
    std::unique_ptr<Server> process() {
        ServerConfig config;
        config.auth = auth;
        config.datastores = stores;
        config.logger = logger;
        config.state = url;
        config.state_pool = 4;
        return std::make_unique<Server>(config);
    }
    std::int64_t count(const std::string& sql) {
        pg::Connection c(url);
        return c.exec(sql).int8(0, 0);
    }
};

}  // namespace

TEST_CASE("two processes on one PostgreSQL state: a session on one, the next on the other, no slow sync, no duplicate") {
    SharedState shared;
    std::unique_ptr<Server> first = shared.process();
    std::unique_ptr<Server> second = shared.process();

    TestClient c(*first, "IMEI:pg-1");
    Message pkg2 = init(c, "201", "contacts", "", "A1");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    Message pkg4 = client_changes(c, pkg2, "contacts",
                                  {TestClient::item_command(CommandKind::Add, "1", vcard("One")),
                                   TestClient::item_command(CommandKind::Add, "2", vcard("Two")),
                                   TestClient::item_command(CommandKind::Add, "3", vcard("Three"))});
    for (std::size_t i = 0; i < 3; ++i) CHECK(find_status(pkg4, "Add", i)->data == "201");
    map_phase(c, pkg4, "contacts");
    CHECK(shared.stores->store("alice", Category::contacts)->size() == 3);
    CHECK(shared.count("SELECT count(*) FROM smk_client_items") == 3);
    CHECK(shared.count("SELECT count(*) FROM smk_anchors") == 1);

    // The next session reaches the other process: its anchors match (200,
    // not 508), the server has nothing new, one change comes up.
    TestClient d(*second, "IMEI:pg-1");
    Message again = init(d, "200", "contacts", "A1", "A2");
    CHECK(find_status(again, "Alert")->data == "200");
    CHECK(find_command(again, CommandKind::Alert)->data == "200");
    Message pkg4b = client_changes(d, again, "contacts",
                                   {TestClient::item_command(CommandKind::Replace, "2", vcard("Two changed"))});
    CHECK(find_status(pkg4b, "Replace")->data == "200");
    CHECK(server_ops(pkg4b).empty());
    map_phase(d, pkg4b, "contacts");
    CHECK(shared.stores->store("alice", Category::contacts)->size() == 3);
    CHECK(shared.count("SELECT count(*) FROM smk_client_items") == 3);

    // A second device on the first process gets the three items, once each.
    TestClient e(*first, "IMEI:pg-2");
    Message e2 = init(e, "201", "contacts", "", "B1");
    Message e4 = client_changes(e, e2, "contacts", {});
    CHECK(server_ops(e4).size() == 3);
    map_phase(e, e4, "contacts");
    CHECK(shared.count("SELECT count(*) FROM smk_client_items") == 6);
    CHECK(shared.stores->store("alice", Category::contacts)->size() == 3);

    // Either process lists both devices (the host's /devices page).
    for (Server* s : {first.get(), second.get()}) {
        std::vector<KnownDevice> devices = s->known_devices("alice");
        REQUIRE(devices.size() == 2);
        CHECK(devices[0].device == "IMEI:pg-1");
        CHECK(devices[1].device == "IMEI:pg-2");
        CHECK(devices[0].last_seen > 0);
    }
    CHECK(first->known_devices("bob").empty());
}

TEST_CASE("two processes on one PostgreSQL state share the MD5 nonces: one issues, the other checks") {
    SharedState shared;
    std::unique_ptr<Server> first = shared.process();
    std::unique_ptr<Server> second = shared.process();
    // A first login (Basic) on one process: its reply carries the nonce
    // for the device's next login.
    TestClient c(*first, "IMEI:pg-md5");
    Message pkg2 = init(c, "200", "contacts", "", "N1");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    REQUIRE_FALSE(c.nonce.empty());
    // The next session, on the other process, with that nonce.
    TestClient d(*second, "IMEI:pg-md5");
    d.auth = TestClient::Auth::md5;
    d.nonce = c.nonce;
    Message next = init(d, "200", "contacts", "", "N2");
    CHECK(find_status(next, "SyncHdr")->data == "212");
    REQUIRE_FALSE(d.nonce.empty());
    CHECK(d.nonce != c.nonce);
    // And back on the first with the nonce the second issued.
    TestClient e(*first, "IMEI:pg-md5");
    e.auth = TestClient::Auth::md5;
    e.nonce = d.nonce;
    CHECK(find_status(init(e, "200", "contacts", "", "N3"), "SyncHdr")->data == "212");
    // A wrong digest is refused on either.
    TestClient f(*second, "IMEI:pg-md5");
    f.auth = TestClient::Auth::md5;
    f.nonce = "not the nonce";
    CHECK(find_status(init(f, "200", "contacts", "", "N4"), "SyncHdr")->data != "212");
    CHECK(shared.count("SELECT count(*) FROM smk_server_secret") == 1);
}

TEST_CASE("a state URL that is no PostgreSQL URL, or a server that cannot be reached, stops the start") {
    ServerConfig config;
    config.auth = std::make_shared<MapAuth>();
    config.datastores = std::make_shared<MemoryProvider>();
    config.state = "mysql://nowhere/db";
    CHECK_THROWS_AS(Server(config), std::invalid_argument);
    config.state = pg_url_with_database(pg_server_url(), "no_such_database_here");
    CHECK_THROWS_AS(Server(config), DatastoreError);
}

TEST_CASE("two processes on one PostgreSQL: every message of a session goes to the other process, as a round-robin balancer sends them") {
    SharedState shared;
    std::unique_ptr<Server> first = shared.process();
    std::unique_ptr<Server> second = shared.process();
    auto store = shared.stores->store("alice", Category::contacts);
    for (int i = 0; i < 40; ++i) store->add(Format{"text/vcard", "3.0"}, vcard("Server" + std::to_string(i)));
    unsigned sent = 0;
    auto round_robin = [&](const Request& r) { return (sent++ % 2 == 0 ? *first : *second).process(r); };

    // A slow sync in small messages: the server's 40 items take several
    // messages, each answered by the other process.
    TestClient c(round_robin, "IMEI:rr-1");
    c.max_msg_size = "3000";
    Message pkg2 = init(c, "201", "contacts", "", "R1");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    std::vector<wire::Command> ups;
    for (int i = 0; i < 10; ++i)
        ups.push_back(TestClient::item_command(CommandKind::Add, "c" + std::to_string(i), vcard("Client" + std::to_string(i))));
    Message reply = client_changes(c, pkg2, "contacts", ups);
    std::size_t received = 0, messages = 1;
    for (;;) {
        received += server_ops(reply).size();
        if (reply.final) break;
        // As clients do: the statuses, and a Map for the Adds just received.
        Message more = c.message(false);
        more.body = c.statuses_for(reply);
        wire::Command map;
        map.kind = CommandKind::Map;
        map.cmd_id = "90";
        map.target.uri = "contacts";
        map.source.uri = "./contacts";
        for (const wire::Command& op : server_ops(reply))
            if (op.kind == CommandKind::Add)
                for (const wire::Item& it : op.items)
                    map.map_items.push_back(wire::MapItem{{it.source.uri, ""}, {"c" + it.source.uri, ""}});
        if (!map.map_items.empty()) more.body.push_back(map);
        reply = c.send(more);
        ++messages;
        REQUIRE(messages < 100);
    }
    CHECK(messages > 2);
    CHECK(received == 40);
    map_phase(c, reply, "contacts");
    CHECK(sent > 4);
    CHECK(store->size() == 50);
    CHECK(shared.count("SELECT count(*) FROM smk_client_items") == 50);
    CHECK(shared.count("SELECT count(*) FROM smk_client_items WHERE luid = ''::bytea") == 0);

    // The next two-way sync, still alternating: nothing to exchange, no duplicate.
    c.new_session();
    Message again = init(c, "200", "contacts", "R1", "R2");
    CHECK(find_status(again, "Alert")->data == "200");
    Message pkg4 = client_changes(c, again, "contacts", {});
    CHECK(server_ops(pkg4).empty());
    map_phase(c, pkg4, "contacts");
    CHECK(store->size() == 50);
}
