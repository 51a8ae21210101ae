// Sessions between messages in PostgreSQL (state/postgres/session_store.hpp):
// the store's contract held against the in-memory one, the lock of a
// session excluding a holder on another connection (another process), and
// whole sessions whose messages alternate between two Servers, each with
// its own connection pool, as processes behind a balancer do.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/session_archive.hpp"
#include "engine_client.hpp"
#include "pg/connection.hpp"
#include "pg_test.hpp"
#include "state/memory_session_store.hpp"
#include "state/postgres/session_store.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace {

using namespace std::chrono_literals;

struct MemoryBackend {
    std::unique_ptr<state::SessionStore> store = std::make_unique<state::MemorySessionStore>(300);
    std::unique_ptr<state::SessionStore> another() { return nullptr; }
};

struct PostgresBackend {
    std::string url = test::pg_fresh_database();
    std::unique_ptr<state::SessionStore> store = state::open_postgres_sessions(url, 4, 300ms);
    std::unique_ptr<state::SessionStore> another() { return state::open_postgres_sessions(url, 4, 300ms); }
};

std::string vcard(const std::string& name) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\nEND:VCARD\r\n";
}

}  // namespace

TEMPLATE_TEST_CASE("a session store keeps, finds and forgets sessions", "[postgres]", MemoryBackend,
                   PostgresBackend) {
    TestType t;
    state::SessionStore& s = *t.store;
    CHECK_FALSE(s.load("aa"));
    CHECK_FALSE(s.info("aa"));
    CHECK(s.count_open() == 0);
    std::string blob("SMKS\x01\x00\xff binary", 14);
    std::string device("IMEI:\xff\xfe", 7);  // not UTF-8: clients send anything
    std::int64_t before = state::unix_millis();
    s.save("aa", "alice", device, false, blob);
    s.save("bb", "alice", device, false, "b1");
    std::this_thread::sleep_for(5ms);
    s.save("cc", "alice", "IMEI:2", true, "c1");
    s.save("dd", "bob", device, false, "d1");
    CHECK(*s.load("aa") == blob);
    std::optional<state::SessionInfo> info = s.info("aa");
    REQUIRE(info);
    CHECK(info->user == "alice");
    CHECK(info->device == device);
    CHECK_FALSE(info->finished);
    CHECK(info->updated >= before);
    CHECK(info->updated <= state::unix_millis());
    CHECK(s.count_open() == 3);
    CHECK(s.of_device("alice", device) == std::vector<std::string>{"aa", "bb"});
    CHECK(s.of_device("alice", "IMEI:2").empty());  // finished ones are not the device's open sessions
    std::vector<state::SessionInfo> mine = s.of_user("alice");
    REQUIRE(mine.size() == 3);
    CHECK(mine.back().token == "cc");  // least recently saved first
    CHECK(mine.back().finished);
    // A save replaces: the blob, the flag and the time.
    s.save("bb", "alice", device, true, "b2");
    CHECK(*s.load("bb") == "b2");
    CHECK(s.count_open() == 2);
    CHECK(s.of_device("alice", device) == std::vector<std::string>{"aa"});
    // Idle: unfinished and finished ones by their own bounds, oldest first.
    std::int64_t now = state::unix_millis();
    CHECK(s.idle(before - 1000, before - 1000, 10).empty());
    CHECK(s.idle(now, before - 1000, 10) == std::vector<std::string>{"aa", "dd"});
    CHECK(s.idle(before - 1000, now, 10).size() == 2);  // cc, bb
    CHECK(s.idle(now, now, 10).size() == 4);
    CHECK(s.idle(now, now, 1) == std::vector<std::string>{"aa"});
    s.erase("aa");
    s.erase("aa");
    CHECK_FALSE(s.load("aa"));
    CHECK(s.count_open() == 1);
}

TEMPLATE_TEST_CASE("a session's lock excludes every other holder until released, and waits only so long",
                   "[postgres]", MemoryBackend, PostgresBackend) {
    TestType t;
    std::unique_ptr<state::SessionStore> other = t.another();
    state::SessionStore& second = other ? *other : *t.store;  // PostgreSQL: another process's pool
    auto held = t.store->lock("0123abcd");
    // Another token is free.
    { auto free = second.lock("4567abcd"); }
    // The same token: the wait is bounded.
    auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(second.lock("0123abcd"), DatastoreError);
    CHECK(std::chrono::steady_clock::now() - started >= 250ms);
    // A waiter gets it once the holder lets go, not before.
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        // Its wait is short (300 ms): on a busy machine it tries again.
        for (int attempt = 0; attempt < 100 && !got; ++attempt) try {
                auto lease = second.lock("0123abcd");
                got = true;
            } catch (const DatastoreError&) {
            }
    });
    std::this_thread::sleep_for(150ms);
    CHECK_FALSE(got);
    held.reset();
    waiter.join();
    CHECK(got);
    // And it was released again: the first holder takes it at once.
    auto again = t.store->lock("0123abcd");
}

TEST_CASE("PostgreSQL: a message's load and save run on its lock's connection", "[postgres]") {
    // Two connections, both holding a lock: loads and saves do not wait for a third.
    auto store = state::open_postgres_sessions(test::pg_fresh_database(), 2, 300ms);
    auto a = store->lock("aa");
    auto b = store->lock("bb");
    auto started = std::chrono::steady_clock::now();
    store->save("aa", "alice", "IMEI:1", false, "blob a");
    store->save("bb", "alice", "IMEI:2", false, "blob b");
    CHECK(*store->load("aa") == "blob a");
    CHECK(store->info("bb")->device == "IMEI:2");
    store->erase("bb");
    CHECK_FALSE(store->load("bb"));
    CHECK(std::chrono::steady_clock::now() - started < 2s);  // the pool waits 10 s for a free connection
    a.reset();
    CHECK(store->count_open() == 1);  // a free connection again
}

TEST_CASE("PostgreSQL: a session's messages alternate between two servers, each with its own pool", "[postgres]") {
    std::string url = test::pg_fresh_database();
    auto before = engine::set_session_store_for_tests([&] { return state::open_postgres_sessions(url, 4); });
    auto one = std::make_unique<TestServer>(4000);
    ServerConfig config;
    config.auth = one->auth;
    config.datastores = one->stores;
    config.logger = one->logger;
    config.state_dir = (one->dir / "state").string();
    config.max_msg_size = 4000;
    auto two = std::make_unique<Server>(config);
    engine::set_session_store_for_tests(std::move(before));
    auto store = one->stores->open("alice", Category::contacts);
    for (int i = 0; i < 30; ++i) store->add(Format{"text/vcard", "3.0"}, vcard("S" + std::to_string(i)));

    std::size_t turn = 0;
    TestClient c([&](const Request& r) { return (turn++ % 2 ? *two : *one->server).process(r); }, "IMEI:pg");
    c.max_msg_size = "2000";
    Message pkg2 = init(c, "200", "contacts", "", "P1");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    CHECK(one->server->session_count() == 1);
    CHECK(two->session_count() == 1);  // the same session, seen from the other process
    std::vector<Command> adds;
    for (int i = 0; i < 5; ++i)
        adds.push_back(TestClient::item_command(CommandKind::Add, "L" + std::to_string(i), vcard("C" + std::to_string(i))));
    Message reply = client_changes(c, pkg2, "contacts", std::move(adds));
    // Package 4 over several messages, each to the other server.
    std::vector<std::string> to_map;
    std::size_t received = 0;
    for (int round = 0; round < 50; ++round) {
        for (const Command& op : server_ops(reply)) {
            ++received;
            to_map.push_back(op.items.at(0).source.uri);
        }
        if (reply.final) break;
        Message m = c.message(false);
        m.body = c.statuses_for(reply);
        m.body.push_back(TestClient::alert("222", "contacts", "./contacts", "", ""));
        reply = c.send(m);
    }
    REQUIRE(reply.final);
    CHECK(received == 30);
    Message m = c.message();
    m.body = c.statuses_for(reply);
    Command map;
    map.kind = CommandKind::Map;
    map.cmd_id = "90";
    map.target.uri = "contacts";
    map.source.uri = "./contacts";
    for (const std::string& guid : to_map) map.map_items.push_back(MapItem{{guid, ""}, {"c" + guid, ""}});
    m.body.push_back(map);
    Message done = c.send(m);
    CHECK(find_status(done, "Map")->data == "200");
    CHECK(c.last_response.session_ended);
    CHECK(turn > 6);
    CHECK(one->items("alice", Category::contacts).size() == 35);
    CHECK(one->server->session_count() == 0);
    CHECK(two->session_count() == 0);
    CHECK_FALSE(one->logger->contains("dropped unfinished"));
    // The finished session stays for resends: the row is there.
    pg::Connection db(url);
    CHECK(db.exec("SELECT count(*) FROM smk_sessions WHERE finished").int8(0, 0) == 1);

    // A second sync of the device: incremental, nothing to send either way.
    c.new_session();
    Message again = init(c, "200", "contacts", "P1", "P2");
    CHECK(find_status(again, "Alert")->data == "200");
    Message pkg4 = client_changes(c, again, "contacts", {});
    CHECK(server_ops(pkg4).empty());
}

TEST_CASE("PostgreSQL state: two servers on one database share sessions, logins and state; a resend while "
          "the message still runs waits for it and gets its reply", "[postgres]") {
    std::string url = test::pg_fresh_database();
    auto one = std::make_unique<TestServer>(150000, [&](ServerConfig& c) {
        c.state = url;
        c.state_pool = 4;
    });
    ServerConfig config;
    config.auth = one->auth;
    config.datastores = one->stores;
    config.logger = one->logger;
    config.state_dir = (one->dir / "state-two").string();  // nothing of the sessions is in it
    config.state = url;
    config.state_pool = 4;
    auto two = std::make_unique<Server>(config);

    // MD5 logins: the nonce one server hands out, the other checks.
    std::size_t turn = 0;
    TestClient c([&](const Request& r) { return (turn++ % 2 ? *two : *one->server).process(r); }, "IMEI:pgstate");
    c.auth = TestClient::Auth::md5;
    Message first = init(c, "200", "contacts", "", "Q1");  // no nonce yet: refused with a challenge
    REQUIRE(find_status(first, "SyncHdr")->data == "401");
    c.new_session();
    Message pkg2 = init(c, "200", "contacts", "", "Q1");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    CHECK(two->session_count() == 1);

    // Package 3 sent to both servers at once, as a client resends after a
    // timeout while the first is still handled: the session's lock lets one
    // in, the other answers with the same reply, nothing is stored twice.
    std::vector<Command> adds;
    for (int i = 0; i < 40; ++i)
        adds.push_back(TestClient::item_command(CommandKind::Add, "L" + std::to_string(i), vcard("R" + std::to_string(i))));
    Message m = c.message();
    m.body = c.statuses_for(pkg2);
    m.body.push_back(TestClient::sync("contacts", std::move(adds)));
    std::string body = encode(m, Encoding::xml);
    std::string target = pkg2.header.resp_uri;
    auto send = [&](Server& s) {
        Request r;
        r.body = body;
        r.content_type = content_type(Encoding::xml);
        r.url = target;
        r.peer = "127.0.0.1";
        return s.process(r);
    };
    Response a, b;
    std::thread t1([&] { a = send(*one->server); });
    std::thread t2([&] { b = send(*two); });
    t1.join();
    t2.join();
    CHECK(a.http_status == 200);
    CHECK(a.body == b.body);
    CHECK(one->logger->contains("resent; answering with the reply already sent"));
    Message pkg4 = decode(a.body, Encoding::xml);
    std::size_t added = 0;
    for (const Command& s : pkg4.body) added += s.kind == CommandKind::Status && s.cmd == "Add" && s.data == "201";
    CHECK(added == 40);
    CHECK(one->items("alice", Category::contacts).size() == 40);
    // The session ends on the other server (no Map: the server sent nothing).
    Message end = c.message();
    end.body = c.statuses_for(pkg4);
    c.send(end);
    CHECK(one->server->session_count() == 0);
    CHECK(one->items("alice", Category::contacts).size() == 40);
}
