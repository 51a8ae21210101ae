// The engine on the PostgreSQL state with a host's store (kept in memory,
// shared): two Servers, as two processes behind a balancer, share only the
// PostgreSQL (ServerConfig::state), and every message of a session goes to
// the other one. The sync state then lives in PgDatabaseState with its own
// transactions, the outbox pages written by one server are read by the
// other, and two devices of one user sync at once.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine_client.hpp"
#include "memory_store.hpp"
#include "pg/connection.hpp"
#include "pg_test.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_command;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace {

std::string vcard(const std::string& name, std::size_t note = 0) {
    std::string card = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\n";
    if (note) card += "NOTE:" + std::string(note, 'n') + "\r\n";
    return card + "END:VCARD\r\n";
}

// Two servers on one PostgreSQL and one host store.
struct TwoServers {
    std::string url = test::pg_fresh_database();
    std::shared_ptr<test::MemoryProvider> provider = std::make_shared<test::MemoryProvider>();
    ServerConfig config;
    std::unique_ptr<TestServer> one;
    std::unique_ptr<Server> two;
    TwoServers() {
        one = std::make_unique<TestServer>(4000, [&](ServerConfig& c) {
            c.datastores = provider;
            c.state = url;
            c.state_pool = 4;
            config = c;
        });
        two = std::make_unique<Server>(config);
    }
    // A client whose messages alternate between the two servers, starting with `first`.
    TestClient client(const std::string& device, int first) {
        auto turn = std::make_shared<std::atomic<int>>(first);
        TestClient c(
            [this, turn](const Request& r) { return ((*turn)++ % 2 ? *two : *one->server).process(r); }, device);
        c.max_msg_size = "2000";
        return c;
    }
    std::size_t stored() { return provider->store("alice", Category::contacts)->size(); }
    // Rows of the device's sync state in PostgreSQL: all, and those awaiting a Map.
    std::pair<std::int64_t, std::int64_t> rows(const std::string& device) {
        pg::Connection db(url);
        pg::Result r = db.exec(
            "SELECT count(*), count(*) FILTER (WHERE luid = '') FROM smk_client_items "
            "WHERE owner = 'alice'::bytea AND category = 'contacts' AND device = $1",
            {pg::Param::bytes(device)});
        return {r.int8(0, 0), r.int8(0, 1)};
    }
};

struct Outcome {
    std::size_t adds = 0, replaces = 0, deletes = 0, failures = 0;
    bool ended = false;
};

// Counts statuses of 5xx (the server failed) in a reply.
std::size_t failures_in(const Message& m) {
    std::size_t n = 0;
    for (const Command& c : m.body)
        if (c.kind == CommandKind::Status && !c.data.empty() && c.data[0] == '5') ++n;
    return n;
}

// A whole session: package 1 with `code`, `ops` in package 3, package 4
// taken over as many messages as it needs, and a Map of every Add.
Outcome sync(TestClient& c, const std::string& code, const std::string& last, const std::string& next,
             std::vector<Command> ops) {
    Outcome out;
    c.new_session();
    Message pkg2 = init(c, code, "contacts", last, next);
    out.failures += failures_in(pkg2);
    Message reply = client_changes(c, pkg2, "contacts", std::move(ops));
    std::vector<std::string> to_map;
    for (int round = 0; round < 200; ++round) {
        out.failures += failures_in(reply);
        for (const Command& op : server_ops(reply))
            for (const Item& item : op.items) {
                if (op.kind == CommandKind::Add) {
                    ++out.adds;
                    to_map.push_back(item.source.uri);
                } else if (op.kind == CommandKind::Replace) {
                    ++out.replaces;
                } else if (op.kind == CommandKind::Delete) {
                    ++out.deletes;
                }
            }
        if (reply.final) break;
        Message m = c.message(false);
        m.body = c.statuses_for(reply);
        m.body.push_back(TestClient::alert("222", "contacts", "./contacts", "", ""));
        reply = c.send(m);
    }
    Message m = c.message();
    m.body = c.statuses_for(reply);
    if (!to_map.empty()) {
        Command map;
        map.kind = CommandKind::Map;
        map.cmd_id = "90";
        map.target.uri = "contacts";
        map.source.uri = "./contacts";
        for (const std::string& guid : to_map) map.map_items.push_back(MapItem{{guid, ""}, {"c" + guid, ""}});
        m.body.push_back(map);
    }
    Message done = c.send(m);
    out.failures += failures_in(done);
    out.ended = c.last_response.session_ended;
    return out;
}

std::vector<Command> adds(const std::string& prefix, int n) {
    std::vector<Command> out;
    for (int i = 0; i < n; ++i)
        out.push_back(TestClient::item_command(CommandKind::Add, prefix + std::to_string(i), vcard(prefix + std::to_string(i))));
    return out;
}

}  // namespace

TEST_CASE("Engine on the PostgreSQL state: two servers, two devices, every message to the other server", "[postgres]") {
    TwoServers t;
    auto store = t.provider->store("alice", Category::contacts);
    for (int i = 0; i < 30; ++i) store->add(Format{"text/vcard", "3.0"}, vcard("S" + std::to_string(i)));

    TestClient phone = t.client("IMEI:phone", 0), laptop = t.client("IMEI:laptop", 1);
    // A slow sync of each: the server's 30 (and the phone's 5) go out over
    // several messages, outbox pages written by one server and read by the other.
    Outcome p1 = sync(phone, "201", "", "P1", adds("P", 5));
    CHECK(p1.failures == 0);
    CHECK(p1.adds == 30);
    CHECK(p1.ended);
    CHECK(t.stored() == 35);
    CHECK(t.rows("IMEI:phone") == std::make_pair<std::int64_t, std::int64_t>(35, 0));

    Outcome l1 = sync(laptop, "201", "", "L1", {});
    CHECK(l1.failures == 0);
    CHECK(l1.adds == 35);
    CHECK(t.rows("IMEI:laptop") == std::make_pair<std::int64_t, std::int64_t>(35, 0));

    // Both at once, each with new items of its own, each session's messages alternating.
    Outcome p2, l2;
    std::thread a([&] { p2 = sync(phone, "200", "P1", "P2", adds("PA", 10)); });
    std::thread b([&] { l2 = sync(laptop, "200", "L1", "L2", adds("LA", 10)); });
    a.join();
    b.join();
    CHECK(p2.failures == 0);
    CHECK(l2.failures == 0);
    CHECK(p2.ended);
    CHECK(l2.ended);
    CHECK(t.stored() == 55);
    // Each may or may not have got the other's items already; the next sync
    // brings the rest, and then both hold all 55, each once.
    Outcome p3 = sync(phone, "200", "P2", "P3", {});
    Outcome l3 = sync(laptop, "200", "L2", "L3", {});
    CHECK(p3.failures + l3.failures == 0);
    CHECK(p2.adds + p3.adds == 10);
    CHECK(l2.adds + l3.adds == 10);
    CHECK(p3.replaces + p3.deletes + l3.replaces + l3.deletes == 0);
    CHECK(t.rows("IMEI:phone") == std::make_pair<std::int64_t, std::int64_t>(55, 0));
    CHECK(t.rows("IMEI:laptop") == std::make_pair<std::int64_t, std::int64_t>(55, 0));
    CHECK(t.stored() == 55);

    // Nothing left either way.
    Outcome p4 = sync(phone, "200", "P3", "P4", {});
    CHECK(p4.adds + p4.replaces + p4.deletes == 0);
    CHECK_FALSE(t.one->logger->contains("dropped unfinished"));
}

namespace {

Command suspend_alert() {
    Command a;
    a.kind = CommandKind::Alert;
    a.cmd_id = "7";
    a.data = "224";
    Item it;
    it.target.uri = "http://sync.example.com:7887/sync";
    it.source.uri = "device";
    a.items.push_back(it);
    return a;
}

// A Map of the server's Adds in `reply` (LUIDs "c<GUID>").
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

std::int64_t count(const std::string& url, const std::string& sql) {
    pg::Connection db(url);
    return db.exec(sql).int8(0, 0);
}

}  // namespace

TEST_CASE("Engine on the PostgreSQL state: a download suspended on one server resumes on the other", "[postgres]") {
    TwoServers t;
    TestClient phone = t.client("IMEI:suspend", 0);
    Outcome first = sync(phone, "201", "", "B1", adds("K", 1));
    REQUIRE(first.ended);
    auto store = t.provider->store("alice", Category::contacts);
    for (int i = 0; i < 10; ++i)
        store->add(Format{"text/vcard", "3.0"}, vcard("New" + std::to_string(i), 300));

    phone.new_session();
    Message pkg2 = init(phone, "200", "contacts", "B1", "B2");
    Message pkg4 = client_changes(phone, pkg2, "contacts", {});
    REQUIRE_FALSE(pkg4.final);
    std::size_t sent = server_ops(pkg4).size();
    REQUIRE(sent >= 1);
    REQUIRE(sent < 10);
    // Statuses, the Map of what came, and a suspend.
    Message m = phone.message();
    m.body = phone.statuses_for(pkg4);
    m.body.push_back(map_of(pkg4));
    m.body.push_back(suspend_alert());
    Message reply = phone.send(m);
    CHECK(find_status(reply, "Alert")->data == "200");
    CHECK(find_status(reply, "Map")->data == "200");
    CHECK(phone.last_response.session_ended);
    CHECK(count(t.url, "SELECT count(*) FROM smk_resume_points") == 1);
    CHECK(t.rows("IMEI:suspend").first == static_cast<std::int64_t>(1 + sent));

    // The resume, on whichever server: only what was not sent comes.
    phone.new_session();
    pkg2 = init(phone, "225", "contacts", "B1", "B3");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "200");
    reply = client_changes(phone, pkg2, "contacts", {});
    std::size_t rest = 0;
    for (int round = 0; round < 40; ++round) {
        rest += server_ops(reply).size();
        Message next = phone.message(reply.final);
        next.body = phone.statuses_for(reply);
        next.body.push_back(map_of(reply));
        if (reply.final) {
            reply = phone.send(next);
            break;
        }
        next.body.push_back(TestClient::alert("222", "contacts", "./contacts", "", ""));
        reply = phone.send(next);
    }
    CHECK(phone.last_response.session_ended);
    CHECK(rest == 10 - sent);
    CHECK(t.rows("IMEI:suspend") == std::make_pair<std::int64_t, std::int64_t>(11, 0));
    CHECK(count(t.url, "SELECT count(*) FROM smk_resume_points") == 0);
    CHECK(t.stored() == 11);

    // The anchors of the resumed session are in force: nothing to send.
    Outcome after = sync(phone, "200", "B3", "B4", {});
    CHECK(after.failures == 0);
    CHECK(after.adds + after.replaces + after.deletes == 0);
}
