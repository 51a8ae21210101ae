// Suspend and resume (SyncML 1.2 Alerts 224 and 225) through smk::Server::process:
// a client suspends or vanishes in the middle of a session, in the middle of
// a large object either way, and resumes it later; a resume the server
// cannot honour falls back to a normal sync. Each case ends with the data
// on both sides compared item by item, duplicates and losses counted.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <thread>

#include "engine_client.hpp"

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

// What identifies a contact in these tests, whatever the store or the
// conversion did to its text: its FN and the length of its NOTE.
std::string key(std::string data) {
    for (std::size_t p; (p = data.find("\r\n ")) != std::string::npos;) data.erase(p, 3);  // unfold
    auto field = [&](const std::string& name) -> std::string {
        std::size_t p = data.find("\n" + name + ":");
        if (p == std::string::npos) return "";
        p += name.size() + 2;
        return data.substr(p, data.find('\r', p) - p);
    };
    std::string note = field("NOTE");
    return field("FN") + (note.empty() ? "" : "+" + std::to_string(note.size()));
}

// Duplicates (keys held more than once), losses (expected keys missing) and
// strays (keys nobody expected) of `held` against `expected`.
struct Tally {
    std::size_t duplicates = 0, losses = 0, strays = 0;
};
Tally tally(const std::vector<std::string>& expected, const std::vector<std::string>& held) {
    std::map<std::string, int> count;
    for (const std::string& data : held) ++count[key(data)];
    Tally t;
    for (const auto& [k, n] : count) {
        if (n > 1) t.duplicates += n - 1;
        if (std::none_of(expected.begin(), expected.end(), [&](const std::string& e) { return key(e) == k; }))
            ++t.strays;
    }
    for (const std::string& e : expected)
        if (!count.count(key(e))) ++t.losses;
    return t;
}

// The client's side: its items by LUID, a large object arriving in chunks,
// and the Maps it owes the server.
struct ClientSide {
    std::map<std::string, std::string> items;
    std::string partial_guid, partial;
    std::vector<MapItem> maps;
    std::vector<std::size_t> data_positions;  ///< of chunks that carried one
    int next_luid = 0;  ///< an Add sent twice becomes two items, as on a real client

    // Applies the server's Sync of `reply`, as a client does.
    void apply(const Message& reply) {
        for (const Command& op : server_ops(reply)) {
            const Item& it = op.items.at(0);
            std::string data = it.data;
            for (const std::string& emi : it.meta.emi)
                if (emi.rfind("datapos=", 0) == 0) {
                    std::size_t pos = std::stoul(emi.substr(8));
                    data_positions.push_back(pos);
                    REQUIRE(pos <= partial.size());
                    partial.resize(pos);
                }
            if (it.more_data || !partial_guid.empty()) {
                partial_guid = it.source.uri;
                partial += data;
                if (it.more_data) continue;
                data = std::move(partial);
                partial.clear();
                partial_guid.clear();
            }
            if (op.kind == CommandKind::Add) {
                std::string luid = "c" + std::to_string(++next_luid);
                items[luid] = data;
                maps.push_back(MapItem{{it.source.uri, ""}, {luid, ""}});
            } else if (op.kind == CommandKind::Replace) {
                items[it.target.uri] = data;
            } else if (op.kind == CommandKind::Delete) {
                items.erase(it.target.uri);
            }
        }
    }
    std::vector<std::string> data() const {
        std::vector<std::string> out;
        for (const auto& [luid, d] : items) out.push_back(d);
        return out;
    }
    Command map_command() {
        Command map;
        map.kind = CommandKind::Map;
        map.cmd_id = "90";
        map.target.uri = "contacts";
        map.source.uri = "./contacts";
        map.map_items = std::move(maps);
        maps.clear();
        return map;
    }
};

Command add(const std::string& luid, const std::string& data) {
    return TestClient::item_command(CommandKind::Add, luid, data);
}

Command chunk(const std::string& luid, const std::string& data, bool more, const std::string& size,
              std::optional<std::size_t> datapos = std::nullopt) {
    Command op = add(luid, data);
    op.items[0].more_data = more;
    op.items[0].meta.size = size;
    if (datapos) op.items[0].meta.emi = {"datapos=" + std::to_string(*datapos)};
    return op;
}

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

// A client message: statuses for `reply`, then `commands`.
Message answer(TestClient& c, const Message& reply, std::vector<Command> commands, bool final) {
    Message m = c.message(final);
    m.body = c.statuses_for(reply);
    for (Command& cmd : commands) m.body.push_back(std::move(cmd));
    return m;
}

// The rest of a session from package 4 on: the client takes every message
// of the server's package, then sends its Map; the session must end.
void finish_session(TestClient& c, ClientSide& client, Message reply) {
    for (int round = 0; round < 40 && !reply.final; ++round) {
        client.apply(reply);
        reply = c.send(answer(c, reply, {}, false));
    }
    REQUIRE(reply.final);
    client.apply(reply);
    std::vector<Command> map;
    if (!client.maps.empty()) map.push_back(client.map_command());
    reply = c.send(answer(c, reply, std::move(map), true));
    CHECK(c.last_response.session_ended);
    CHECK(reply.final);
}

void check_both_sides(TestServer& ts, const ClientSide& client, const std::vector<std::string>& expected) {
    std::vector<std::string> server = ts.items("alice", Category::contacts);
    Tally on_server = tally(expected, server), on_client = tally(expected, client.data());
    INFO("server holds " << server.size() << ", client " << client.items.size() << ", expected " << expected.size());
    CHECK(server.size() == expected.size());
    CHECK(client.items.size() == expected.size());
    CHECK(on_server.duplicates == 0);
    CHECK(on_server.losses == 0);
    CHECK(on_server.strays == 0);
    CHECK(on_client.duplicates == 0);
    CHECK(on_client.losses == 0);
    CHECK(on_client.strays == 0);
}

// The server's sync state: a restart drops every session, as a crash or
// an expiry would, and the server starts again on the same data.
void restart(TestServer& ts) {
    ts.server.reset();
    ServerConfig config;
    config.auth = ts.auth;
    config.datastores = ts.stores;
    config.logger = ts.logger;
    config.state_dir = (ts.dir / "state").string();
    ts.server = std::make_unique<Server>(config);
}

}  // namespace

TEST_CASE("a slow sync suspended after package 3's first message resumes without duplicates or losses") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    std::vector<std::string> server_cards = {vcard("S1"), vcard("S2"), vcard("S3")};
    for (const std::string& card : server_cards) store->add(Format{"text/vcard", "3.0"}, card);
    std::vector<std::string> client_cards = {vcard("C1"), vcard("C2"), vcard("C3"), vcard("C4")};
    ClientSide client;
    for (std::size_t i = 0; i < client_cards.size(); ++i) client.items["L" + std::to_string(i + 1)] = client_cards[i];

    TestClient c(*ts.server, "IMEI:suspend-1");
    Message pkg2 = init(c, "201", "contacts", "", "A1");
    REQUIRE(find_status(pkg2, "Alert")->data == "200");
    // Package 3, first message: two of the four items.
    Command first_two = TestClient::sync("contacts", {add("L1", client_cards[0]), add("L2", client_cards[1])});
    Message reply = c.send(answer(c, pkg2, {first_two}, false));
    CHECK(find_status(reply, "Add", 0)->data == "201");
    CHECK(find_status(reply, "Add", 1)->data == "201");
    // The user suspends: the client's next message carries Alert 224.
    reply = c.send(answer(c, reply, {suspend_alert()}, true));
    REQUIRE(find_status(reply, "Alert"));
    CHECK(find_status(reply, "Alert")->data == "200");
    CHECK(reply.final);
    CHECK(c.last_response.session_ended);
    CHECK(ts.logger->contains("suspended by the client"));
    CHECK(server_ops(reply).empty());

    // The resume: same Last anchor (none, a first sync), a new Next.
    c.new_session();
    pkg2 = init(c, "225", "contacts", "", "A2");
    REQUIRE(find_status(pkg2, "Alert"));
    CHECK(find_status(pkg2, "Alert")->data == "200");
    REQUIRE(find_command(pkg2, CommandKind::Alert));
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "201");  // the suspended session's mode
    CHECK(ts.logger->contains("resumes the session suspended"));
    CHECK(ts.logger->contains("its changes go on"));
    // The client sends what it had not sent.
    Message pkg4 = client_changes(c, pkg2, "contacts", {add("L3", client_cards[2]), add("L4", client_cards[3])});
    CHECK(find_status(pkg4, "Add", 0)->data == "201");
    CHECK(find_status(pkg4, "Add", 1)->data == "201");
    // The server sends only what the client lacks: its own three items,
    // not the client's first two again.
    CHECK(server_ops(pkg4).size() == 3);
    finish_session(c, client, pkg4);
    std::vector<std::string> all = client_cards;
    all.insert(all.end(), server_cards.begin(), server_cards.end());
    check_both_sides(ts, client, all);

    // The next two-way sync: anchors match (A2), nothing to exchange; a
    // change of L1 replaces the server's copy, no new item.
    c.new_session();
    pkg2 = init(c, "200", "contacts", "A2", "A3");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    client.items["L1"] = vcard("C1-changed");
    all[0] = vcard("C1-changed");
    pkg4 = client_changes(c, pkg2, "contacts",
                          {TestClient::item_command(CommandKind::Replace, "L1", client.items["L1"])});
    CHECK(find_status(pkg4, "Replace")->data == "200");
    CHECK(server_ops(pkg4).empty());
    finish_session(c, client, pkg4);
    check_both_sides(ts, client, all);
}

TEST_CASE("a two-way sync suspended while the server's package 4 goes out resumes where it stopped") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:suspend-2");
    ClientSide client;
    // A first sync, completed: the client holds K1.
    Message pkg2 = init(c, "201", "contacts", "", "B1");
    client.items["K1"] = vcard("K1");
    finish_session(c, client, client_changes(c, pkg2, "contacts", {add("K1", client.items["K1"])}));

    // Ten new items on the server, the client's messages small: package 4 takes several messages.
    auto store = ts.stores->open("alice", Category::contacts);
    std::vector<std::string> expected = {vcard("K1")};
    for (int i = 0; i < 10; ++i) {
        expected.push_back(vcard("New" + std::to_string(i), 300));
        store->add(Format{"text/vcard", "3.0"}, expected.back());
    }
    c.new_session();
    c.max_msg_size = "2000";
    pkg2 = init(c, "200", "contacts", "B1", "B2");
    Message pkg4 = client_changes(c, pkg2, "contacts", {});
    REQUIRE_FALSE(pkg4.final);
    std::size_t first = server_ops(pkg4).size();
    REQUIRE(first >= 1);
    REQUIRE(first < 10);
    client.apply(pkg4);
    // The client suspends: its statuses for what it got, its Map, then 224.
    Message reply = c.send(answer(c, pkg4, {client.map_command(), suspend_alert()}, true));
    CHECK(find_status(reply, "Alert")->data == "200");
    CHECK(find_status(reply, "Map")->data == "200");
    CHECK(c.last_response.session_ended);
    CHECK(server_ops(reply).empty());

    c.new_session();
    pkg2 = init(c, "225", "contacts", "B1", "B3");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "200");
    CHECK(ts.logger->contains("its changes all received"));
    pkg4 = client_changes(c, pkg2, "contacts", {});
    std::size_t total = 0;
    Message last = pkg4;
    // Only the items not yet sent come: none of the first message's again.
    for (int round = 0; round < 40; ++round) {
        total += server_ops(last).size();
        if (last.final) break;
        client.apply(last);
        last = c.send(answer(c, last, {}, false));
    }
    CHECK(total == 10 - first);
    client.apply(last);
    Message done = c.send(answer(c, last, {client.map_command()}, true));
    CHECK(c.last_response.session_ended);
    check_both_sides(ts, client, expected);

    // Anchors B3 are in force now.
    c.new_session();
    pkg2 = init(c, "200", "contacts", "B3", "B4");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    pkg4 = client_changes(c, pkg2, "contacts", {});
    CHECK(server_ops(pkg4).empty());
}

TEST_CASE("an incoming large object cut off by a suspend continues after the resume") {
    TestServer ts;
    std::string big = vcard("Big", 30000);
    std::string part1 = big.substr(0, 10000), part2 = big.substr(10000, 10000), rest = big.substr(20000);
    TestClient c(*ts.server, "IMEI:suspend-3");
    ClientSide client;
    client.items["B"] = big;
    client.items["S"] = vcard("Small");
    Message pkg2 = init(c, "201", "contacts", "", "D1");
    Command small_and_start = TestClient::sync(
        "contacts", {add("S", client.items["S"]), chunk("B", part1, true, std::to_string(big.size()), 0)});
    Message reply = c.send(answer(c, pkg2, {small_and_start}, false));
    CHECK(find_status(reply, "Add", 0)->data == "201");
    CHECK(find_status(reply, "Add", 1)->data == "213");
    reply = c.send(answer(c, reply, {TestClient::sync("contacts", {chunk("B", part2, true, "", 10000)})}, false));
    CHECK(find_status(reply, "Add")->data == "213");
    reply = c.send(answer(c, reply, {suspend_alert()}, true));
    CHECK(find_status(reply, "Alert")->data == "200");
    CHECK(c.last_response.session_ended);
    CHECK(ts.items("alice", Category::contacts).size() == 1);  // the large one is not stored in part

    SECTION("continued at the data position the client gives") {
        c.new_session();
        pkg2 = init(c, "225", "contacts", "", "D2");
        CHECK(find_status(pkg2, "Alert")->data == "200");
        CHECK(ts.logger->contains("item B from the client continues after 20000 bytes"));
        Message pkg4 = client_changes(c, pkg2, "contacts", {chunk("B", rest, false, "", 20000)});
        CHECK(find_status(pkg4, "Add")->data == "201");
        finish_session(c, client, pkg4);
        check_both_sides(ts, client, {big, vcard("Small")});
    }
    SECTION("continued at an earlier position: the bytes after it are replaced") {
        // The client had not seen our 213 for the second chunk: it sends it again.
        c.new_session();
        pkg2 = init(c, "225", "contacts", "", "D2");
        CHECK(find_status(pkg2, "Alert")->data == "200");
        Message m = answer(c, pkg2, {TestClient::sync("contacts", {chunk("B", part2, true, "", 10000)})}, false);
        reply = c.send(m);
        CHECK(find_status(reply, "Add")->data == "213");
        Command last = TestClient::sync("contacts", {chunk("B", rest, false, "", 20000)});
        Message pkg4 = c.send(answer(c, reply, {last}, true));
        CHECK(find_status(pkg4, "Add")->data == "201");
        finish_session(c, client, pkg4);
        check_both_sides(ts, client, {big, vcard("Small")});
    }
    SECTION("sent again whole from its start (a Size, no position)") {
        c.new_session();
        pkg2 = init(c, "225", "contacts", "", "D2");
        Message pkg4 = client_changes(c, pkg2, "contacts", {chunk("B", big, false, std::to_string(big.size()))});
        CHECK(find_status(pkg4, "Add")->data == "201");
        finish_session(c, client, pkg4);
        check_both_sides(ts, client, {big, vcard("Small")});
    }
    SECTION("a position beyond what arrived is refused (412), nothing stored in part") {
        c.new_session();
        pkg2 = init(c, "225", "contacts", "", "D2");
        Message pkg4 = client_changes(c, pkg2, "contacts", {chunk("B", rest, false, "", 25000)});
        CHECK(find_status(pkg4, "Add")->data == "412");
        CHECK(ts.items("alice", Category::contacts).size() == 1);
    }
}

TEST_CASE("an outgoing large object cut off by a suspend continues after the resume") {
    TestServer ts;
    std::string big = vcard("Big", 12000);
    auto store = ts.stores->open("alice", Category::contacts);
    store->add(Format{"text/vcard", "3.0"}, big);
    store->add(Format{"text/vcard", "3.0"}, vcard("Small"));
    TestClient c(*ts.server, "IMEI:suspend-4");
    c.max_msg_size = "4000";
    ClientSide client;
    Message pkg2 = init_with_devinf(c, {"IMEI:suspend-4", "text/vcard", "3.0", "contacts", "", "", true}, "205", "E1");
    Message reply = client_changes(c, pkg2, "contacts", {});
    // Take package 4 until two chunks of the large object have come.
    int chunks = 0;
    for (int round = 0; round < 20 && chunks < 2; ++round) {
        for (const Command& op : server_ops(reply))
            if (op.items.at(0).more_data) ++chunks;
        client.apply(reply);
        if (chunks < 2) reply = c.send(answer(c, reply, {}, false));
    }
    REQUIRE(chunks == 2);
    REQUIRE_FALSE(client.partial.empty());
    std::size_t had = client.partial.size();
    // The client confirms those chunks (213), maps what it got whole, and suspends.
    std::vector<Command> owed;
    if (!client.maps.empty()) owed.push_back(client.map_command());
    owed.push_back(suspend_alert());
    Message m = answer(c, reply, std::move(owed), true);
    for (Command& s : m.body)
        if (s.kind == CommandKind::Status && s.cmd == "Add") s.data = "213";
    reply = c.send(m);
    CHECK(find_status(reply, "Alert")->data == "200");
    CHECK(c.last_response.session_ended);

    c.new_session();
    pkg2 = init(c, "225", "contacts", "", "E2");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "205");
    CHECK(ts.logger->contains("to the client continues at byte " + std::to_string(had)));
    Message pkg4 = client_changes(c, pkg2, "contacts", {});
    // The first operation continues the large object at the byte the client had.
    REQUIRE_FALSE(server_ops(pkg4).empty());
    const Item first = server_ops(pkg4).front().items.at(0);  // a copy: server_ops() returns a temporary
    CHECK(first.meta.emi == std::vector<std::string>{"datapos=" + std::to_string(had)});
    CHECK(first.meta.size == std::to_string(big.size()));
    finish_session(c, client, pkg4);
    CHECK(client.data_positions.back() == had);
    check_both_sides(ts, client, {big, vcard("Small")});
}

TEST_CASE("a resume with nothing to resume is answered 509 and syncs normally") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:suspend-5");
    ClientSide client;
    client.items["A"] = vcard("A");
    Message pkg2 = init(c, "201", "contacts", "", "F1");
    finish_session(c, client, client_changes(c, pkg2, "contacts", {add("A", client.items["A"])}));
    ts.stores->open("alice", Category::contacts)->add(Format{"text/vcard", "3.0"}, vcard("FromServer"));

    SECTION("no session was interrupted") {
        c.new_session();
        pkg2 = init(c, "225", "contacts", "F1", "F2");
        CHECK(find_status(pkg2, "Alert")->data == "509");
        CHECK(find_command(pkg2, CommandKind::Alert)->data == "200");
        CHECK(ts.logger->contains("no interrupted session is known"));
        client.items["B"] = vcard("B");
        Message pkg4 = client_changes(c, pkg2, "contacts", {add("B", client.items["B"])});
        CHECK(server_ops(pkg4).size() == 1);
        finish_session(c, client, pkg4);
        check_both_sides(ts, client, {vcard("A"), vcard("B"), vcard("FromServer")});
    }
    SECTION("the interrupted session's anchors are not the client's") {
        c.new_session();
        pkg2 = init(c, "200", "contacts", "F1", "F2");
        c.send(answer(c, pkg2, {suspend_alert()}, true));
        CHECK(c.last_response.session_ended);
        c.new_session();
        pkg2 = init(c, "225", "contacts", "other", "F3");
        CHECK(ts.logger->contains("resume refused: its Last anchor"));
        CHECK(find_status(pkg2, "Alert")->data == "508");  // and the anchors do not match: a slow sync
        CHECK(find_command(pkg2, CommandKind::Alert)->data == "201");
        std::vector<Command> all;
        for (const auto& [luid, data] : client.items) all.push_back(add(luid, data));
        Message pkg4 = client_changes(c, pkg2, "contacts", std::move(all));
        finish_session(c, client, pkg4);
        check_both_sides(ts, client, {vcard("A"), vcard("FromServer")});
    }
    SECTION("a session completed after the interrupted one") {
        c.new_session();
        pkg2 = init(c, "200", "contacts", "F1", "F2");
        c.send(answer(c, pkg2, {suspend_alert()}, true));
        c.new_session();
        pkg2 = init(c, "200", "contacts", "F1", "F3");
        finish_session(c, client, client_changes(c, pkg2, "contacts", {}));
        c.new_session();
        pkg2 = init(c, "225", "contacts", "F3", "F4");
        CHECK(find_status(pkg2, "Alert")->data == "509");
        finish_session(c, client, client_changes(c, pkg2, "contacts", {}));
        check_both_sides(ts, client, {vcard("A"), vcard("FromServer")});
    }
}

TEST_CASE("a client that vanished in the middle of a session resumes it (225)") {
    SECTION("dropped in package 3 of a slow sync, at a restart") {
        TestServer ts;
        auto store = ts.stores->open("alice", Category::contacts);
        store->add(Format{"text/vcard", "3.0"}, vcard("S1"));
        TestClient c(*ts.server, "IMEI:vanish-1");
        ClientSide client;
        for (int i = 1; i <= 4; ++i) client.items["L" + std::to_string(i)] = vcard("C" + std::to_string(i));
        Message pkg2 = init(c, "201", "contacts", "", "G1");
        Command first_two =
            TestClient::sync("contacts", {add("L1", client.items["L1"]), add("L2", client.items["L2"])});
        Message reply = c.send(answer(c, pkg2, {first_two}, false));
        CHECK(find_status(reply, "Add")->data == "201");
        restart(ts);  // the session is dropped unfinished
        CHECK(ts.logger->contains("dropped unfinished"));

        TestClient again(*ts.server, "IMEI:vanish-1");
        pkg2 = init(again, "225", "contacts", "", "G2");
        CHECK(find_status(pkg2, "Alert")->data == "200");
        CHECK(find_command(pkg2, CommandKind::Alert)->data == "201");
        CHECK(ts.logger->contains("resumes the session dropped"));
        Message pkg4 =
            client_changes(again, pkg2, "contacts", {add("L3", client.items["L3"]), add("L4", client.items["L4"])});
        CHECK(server_ops(pkg4).size() == 1);  // S1 only
        finish_session(again, client, pkg4);
        check_both_sides(ts, client, {vcard("C1"), vcard("C2"), vcard("C3"), vcard("C4"), vcard("S1")});
    }
    SECTION("its session still open when it resumes: that one ends and leaves its resume point") {
        TestServer ts;
        TestClient c(*ts.server, "IMEI:vanish-3");
        ClientSide client;
        for (int i = 1; i <= 3; ++i) client.items["L" + std::to_string(i)] = vcard("C" + std::to_string(i));
        Message pkg2 = init(c, "201", "contacts", "", "J1");
        Message reply = c.send(answer(c, pkg2, {TestClient::sync("contacts", {add("L1", client.items["L1"])})}, false));
        CHECK(find_status(reply, "Add")->data == "201");
        // It stops without a word (as SyncEvolution does when its user suspends it).
        CHECK(ts.server->session_count() == 1);
        c.new_session();
        pkg2 = init(c, "225", "contacts", "", "J2");
        CHECK(ts.logger->contains("ends: the device resumes in a new session"));
        CHECK(find_status(pkg2, "Alert")->data == "200");
        CHECK(find_command(pkg2, CommandKind::Alert)->data == "201");
        CHECK(ts.server->session_count() == 1);
        Message pkg4 =
            client_changes(c, pkg2, "contacts", {add("L2", client.items["L2"]), add("L3", client.items["L3"])});
        CHECK(server_ops(pkg4).empty());
        finish_session(c, client, pkg4);
        check_both_sides(ts, client, {vcard("C1"), vcard("C2"), vcard("C3")});
        // Another user's or device's open session is left alone.
        TestClient other(*ts.server, "IMEI:vanish-3b");
        init(other, "201", "contacts", "", "K1");
        TestClient mine(*ts.server, "IMEI:vanish-3");
        init(mine, "225", "contacts", "J2", "J3");
        CHECK(ts.server->session_count() == 2);
    }
    SECTION("dropped in package 4 by the idle timeout, its Adds never mapped") {
        TestServer ts(150000, [](ServerConfig& config) { config.session_timeout = std::chrono::seconds(1); });
        auto store = ts.stores->open("alice", Category::contacts);
        std::vector<std::string> expected;
        for (int i = 0; i < 8; ++i) {
            expected.push_back(vcard("T" + std::to_string(i), 300));
            store->add(Format{"text/vcard", "3.0"}, expected.back());
        }
        TestClient c(*ts.server, "IMEI:vanish-2");
        c.max_msg_size = "2000";
        ClientSide client;
        Message pkg2 = init(c, "205", "contacts", "", "H1");
        Message pkg4 = client_changes(c, pkg2, "contacts", {});
        REQUIRE_FALSE(pkg4.final);
        std::size_t first = server_ops(pkg4).size();
        client.apply(pkg4);  // it got them, then vanished
        std::this_thread::sleep_for(std::chrono::milliseconds(1100));
        ts.server->expire_idle_sessions();
        CHECK(ts.server->session_count() == 0);
        CHECK(ts.logger->contains("dropped unfinished"));

        // It resumes, with the Maps it owes for what it received.
        c.new_session();
        pkg2 = init(c, "225", "contacts", "", "H2");
        CHECK(find_status(pkg2, "Alert")->data == "200");
        CHECK(find_command(pkg2, CommandKind::Alert)->data == "205");
        Message m = answer(c, pkg2, {client.map_command(), TestClient::sync("contacts", {})}, true);
        pkg4 = c.send(m);
        CHECK(find_status(pkg4, "Map")->data == "200");
        std::size_t total = 0;
        for (int round = 0; round < 40; ++round) {
            total += server_ops(pkg4).size();
            if (pkg4.final) break;
            client.apply(pkg4);
            pkg4 = c.send(answer(c, pkg4, {}, false));
        }
        CHECK(total == expected.size() - first);  // what it had is not sent again
        client.apply(pkg4);
        c.send(answer(c, pkg4, {client.map_command()}, true));
        CHECK(c.last_response.session_ended);
        check_both_sides(ts, client, expected);
    }
}
