// The attack suite: each attack on the server as an attacker on the open
// internet would try it, through Server::process, asserting the refusal and
// that no data changed (items counted, devices counted, nonces still valid).
// Label "attack" (and "unit": it is fast).
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>

#include <filesystem>
#include <functional>
#include <set>
#include <sstream>

#include "engine_client.hpp"
#include "fixtures.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_command;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;
namespace fs = std::filesystem;

namespace {

std::string vcard(const std::string& name) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\nEND:VCARD\r\n";
}

// Rows in the device registry: written only for logins.
long device_rows(const TestServer& ts) {
    SQLite::Database db((ts.dir / "state" / "devices.sqlite").string(), SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT count(*) FROM smk_user_devices").getInt64();
}

// Sends `m` to `url` as it is (no RespURI following), returns the reply.
Message send_raw(Server& server, const Message& m, const std::string& url, const std::string& peer = "198.51.100.66",
                 Response* response = nullptr) {
    std::string body = encode(m, Encoding::xml);
    Request req;
    req.body = body;
    req.content_type = content_type(Encoding::xml);
    req.url = url;
    req.peer = peer;
    Response r = server.process(req);
    if (response) *response = r;
    REQUIRE(r.http_status == 200);
    return decode(r.body, Encoding::xml);
}

// `text` as XML character data.
std::string xml_text(const std::string& text) {
    std::string out;
    for (char c : text) out += c == '<' ? std::string("&lt;") : std::string(1, c);
    return out;
}

// Anything of the victim's data in a reply: items or Results.
bool leaks_data(const Message& m) {
    for (const Command& c : m.body) {
        if (c.kind == CommandKind::Results) return true;
        if (c.kind == CommandKind::Sync)
            for (const Command& op : c.children)
                if (!op.items.empty()) return true;
    }
    return false;
}

// alice with three contacts on the server and a finished first sync.
struct Victim {
    TestServer ts;
    TestClient phone{*ts.server, "IMEI:victim"};
    explicit Victim(const std::function<void(ServerConfig&)>& adjust = {}) : ts(150000, adjust) {
        auto store = ts.stores->open("alice", Category::contacts);
        for (const char* n : {"Ann", "Bert", "Chloe"}) store->add(Format{"text/vcard", "3.0"}, vcard(n));
        Message pkg2 = init(phone, "201", "contacts", "", "V1");
        REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
        Message pkg4 = client_changes(phone, pkg2, "contacts", {});
        map_phase(phone, pkg4, "contacts");
        REQUIRE(ts.items("alice", Category::contacts).size() == 3);
    }
};

// An attacker's message in the victim's session: her device ID and SessionID.
Message forged(const Message& like, const std::string& msg_id) {
    Message m;
    m.header = like.header;
    m.header.msg_id = msg_id;
    m.header.cred.reset();
    m.final = true;
    return m;
}

}  // namespace

TEST_CASE("attack: joining a victim's open session by device ID and SessionID, without credentials") {
    Victim v;
    TestClient& phone = v.phone;
    phone.new_session();
    phone.auth = TestClient::Auth::md5;
    Message pkg2 = init(phone, "200", "contacts", "V1", "V2");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    Message victims = phone.message();  // her header: device ID, SessionID

    // Same device ID and SessionID, no token: a new session, which needs a login.
    Message attack = forged(victims, "2");
    attack.body = phone.statuses_for(pkg2);
    attack.body.push_back(TestClient::sync("contacts", {TestClient::item_command(CommandKind::Add, "evil", vcard("Evil"))}));
    Message reply = send_raw(*v.ts.server, attack, phone.url);
    CHECK(find_status(reply, "SyncHdr")->data == "407");
    CHECK_FALSE(leaks_data(reply));
    CHECK(reply.header.resp_uri.empty());

    // The victim's session token, from another device: refused the same way.
    Message transplanted = attack;
    transplanted.header.source.uri = "IMEI:attacker";
    reply = send_raw(*v.ts.server, transplanted, pkg2.header.resp_uri);
    CHECK(find_status(reply, "SyncHdr")->data == "407");
    CHECK_FALSE(leaks_data(reply));

    // The token with her device ID but another user's name.
    Message other_user = attack;
    other_user.header.source.name = "bob";
    reply = send_raw(*v.ts.server, other_user, pkg2.header.resp_uri);
    CHECK(find_status(reply, "SyncHdr")->data == "407");

    // A guessed token.
    reply = send_raw(*v.ts.server, attack, phone.url + "?s=00000000000000000000000000000001");
    CHECK(find_status(reply, "SyncHdr")->data == "407");
    CHECK_FALSE(leaks_data(reply));

    CHECK(v.ts.items("alice", Category::contacts).size() == 3);
    CHECK(v.ts.logger->contains("not the session's device or user"));

    // Her own session goes on untouched.
    Message pkg4 = client_changes(phone, pkg2, "contacts", {});
    CHECK(find_status(pkg4, "Sync")->data == "200");
}

TEST_CASE("attack: requests without valid credentials change no stored state") {
    // Throttling off: this is about what is written, not about how often.
    Victim v([](ServerConfig& c) { c.login_throttle.free_failures = 0; });
    long devices_before = device_rows(v.ts);
    std::string nonce = v.phone.nonce;
    REQUIRE_FALSE(nonce.empty());
    std::size_t sessions_before = v.ts.server->session_count();

    for (int i = 0; i < 200; ++i) {
        TestClient a(*v.ts.server, i % 2 ? "IMEI:victim" : "junk-" + std::to_string(i) + std::string(2000, 'x'));
        a.peer = "203.0.113." + std::to_string(i % 250);  // many addresses: no throttle in the way
        a.auth = i % 3 == 0 ? TestClient::Auth::none : i % 3 == 1 ? TestClient::Auth::basic : TestClient::Auth::md5;
        a.user = "alice";
        a.password = "guess" + std::to_string(i);
        a.nonce = "whatever";
        Message m = a.message();
        m.header.source.name = "alice";  // names the victim: her nonce must stay
        m.body.push_back(TestClient::alert("200", "contacts", "./contacts", "", "Z"));
        m.body.push_back(devinf_put({"IMEI:victim", "text/x-vcard", "2.1"}));
        Message reply = a.send(m);
        std::string code = find_status(reply, "SyncHdr")->data;
        CHECK((code == "401" || code == "407" || code == "400"));
    }
    CHECK(device_rows(v.ts) == devices_before);
    CHECK(v.ts.server->session_count() == sessions_before);
    CHECK(v.ts.items("alice", Category::contacts).size() == 3);

    // Her next MD5 login uses the nonce she was given, still valid.
    v.phone.new_session();
    v.phone.auth = TestClient::Auth::md5;
    Message pkg2 = init(v.phone, "200", "contacts", "V1", "V2");
    CHECK(find_status(pkg2, "SyncHdr")->data == "212");
}

TEST_CASE("attack: a device ID of 100 kB is refused and remembered nowhere") {
    TestServer ts;
    TestClient a(*ts.server, std::string(100000, 'd'));
    Message reply = init(a, "200", "contacts", "", "Z");
    CHECK(find_status(reply, "SyncHdr")->data == "400");
    CHECK(device_rows(ts) == 0);
    CHECK(ts.items("alice", Category::contacts).empty());
}

TEST_CASE("attack: wrong passwords in a loop are throttled, without locking the real user out") {
    struct CountingAuth : smk::test::MapAuth {
        int checks = 0;
        bool check_password(const std::string& user, const std::string& pw) override {
            ++checks;
            return MapAuth::check_password(user, pw);
        }
    };
    auto counting = std::make_shared<CountingAuth>();
    TestServer ts(150000, [&](ServerConfig& c) {
        counting->users = {{"alice", "secret"}, {"bob", "hunter2"}};
        c.auth = counting;
        c.login_throttle.free_failures = 5;
        c.login_throttle.first_delay = std::chrono::seconds(30);
    });
    // Her phone logs in once, from home.
    TestClient phone(*ts.server, "IMEI:real");
    phone.peer = "192.0.2.10";
    REQUIRE(find_status(init(phone, "200", "contacts", "", "H1"), "SyncHdr")->data == "212");

    TestClient guesser(*ts.server, "IMEI:guesser");
    guesser.peer = "203.0.113.5";
    int refused_401 = 0, throttled = 0;
    unsigned retry_after = 0;
    for (int i = 0; i < 50; ++i) {
        guesser.new_session();
        guesser.password = "guess" + std::to_string(i);
        Message reply = init(guesser, "200", "contacts", "", "G");
        std::string code = find_status(reply, "SyncHdr")->data;
        if (code == "401") ++refused_401;
        if (code == "503") {
            ++throttled;
            retry_after = guesser.last_response.retry_after;
        }
    }
    CHECK(refused_401 == 5);
    CHECK(throttled == 45);
    CHECK(retry_after >= 1);
    CHECK(counting->checks == 1 + 5);  // while blocked, the password is not even checked
    // Even the right password from the guesser's address waits.
    guesser.new_session();
    guesser.password = "secret";
    CHECK(find_status(init(guesser, "200", "contacts", "", "G"), "SyncHdr")->data == "503");
    // A new device elsewhere waits too: the user is under attack.
    TestClient laptop(*ts.server, "IMEI:new-laptop");
    laptop.peer = "198.51.100.20";
    CHECK(find_status(init(laptop, "200", "contacts", "", "L1"), "SyncHdr")->data == "503");
    // Her own phone, from anywhere, gets in.
    phone.new_session();
    phone.peer = "198.51.100.21";
    phone.auth = TestClient::Auth::md5;
    CHECK(find_status(init(phone, "200", "contacts", "", "H2"), "SyncHdr")->data == "212");
    CHECK(ts.logger->contains("refused unchecked after repeated failures"));
    CHECK(ts.items("alice", Category::contacts).empty());
}

TEST_CASE("attack: MD5 with a stale, foreign or replayed nonce") {
    Victim v;
    TestClient& phone = v.phone;
    std::string first_nonce = phone.nonce;
    phone.new_session();
    phone.auth = TestClient::Auth::md5;
    Message pkg2 = init(phone, "200", "contacts", "V1", "V2");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    Message pkg4 = client_changes(phone, pkg2, "contacts", {});
    map_phase(phone, pkg4, "contacts");

    // The first nonce is spent: a digest over it is refused.
    TestClient stale(*v.ts.server, "IMEI:victim");
    stale.auth = TestClient::Auth::md5;
    stale.nonce = first_nonce;
    stale.peer = "203.0.113.1";
    CHECK(find_status(init(stale, "200", "contacts", "V2", "V3"), "SyncHdr")->data == "401");

    // bob's nonce for his device does not open alice's.
    TestClient bob(*v.ts.server, "IMEI:bob");
    bob.user = "bob";
    bob.password = "hunter2";
    REQUIRE(find_status(init(bob, "200", "contacts", "", "B1"), "SyncHdr")->data == "212");
    TestClient foreign(*v.ts.server, "IMEI:victim");
    foreign.auth = TestClient::Auth::md5;
    foreign.nonce = bob.nonce;
    foreign.peer = "203.0.113.2";
    CHECK(find_status(init(foreign, "200", "contacts", "V2", "V3"), "SyncHdr")->data == "401");

    // Her last login's first message, replayed byte for byte in a new session.
    Message replay = phone.message();  // built like her login, with the nonce she holds now
    phone.new_session();
    Message login = phone.message();
    login.body.push_back(TestClient::alert("200", "contacts", "./contacts", "V2", "V3"));
    std::string captured = encode(login, Encoding::xml);
    Request req;
    req.body = captured;
    req.content_type = content_type(Encoding::xml);
    req.url = phone.url;
    req.peer = "192.0.2.10";
    Response r1 = v.ts.server->process(req);
    REQUIRE(find_status(decode(r1.body, Encoding::xml), "SyncHdr")->data == "212");
    req.peer = "203.0.113.3";
    Response r2 = v.ts.server->process(req);  // the attacker's replay, later, elsewhere
    CHECK(find_status(decode(r2.body, Encoding::xml), "SyncHdr")->data == "401");
    (void)replay;
    CHECK(v.ts.items("alice", Category::contacts).size() == 3);
}

TEST_CASE("attack: a replayed old session changes nothing") {
    Victim v;
    TestClient& phone = v.phone;
    // Record a complete session that adds one contact.
    phone.new_session();
    phone.auth = TestClient::Auth::md5;
    Message p1 = phone.message();
    p1.body.push_back(TestClient::alert("200", "contacts", "./contacts", "V1", "V2"));
    std::string url1 = phone.url;
    Message pkg2 = phone.send(p1);
    std::string url2 = pkg2.header.resp_uri;
    Message p3 = phone.message();
    p3.body = phone.statuses_for(pkg2);
    p3.body.push_back(TestClient::sync("contacts", {TestClient::item_command(CommandKind::Add, "new", vcard("Dora"))}));
    Message pkg4 = phone.send(p3);
    map_phase(phone, pkg4, "contacts");
    REQUIRE(v.ts.items("alice", Category::contacts).size() == 4);

    // Every message again, in order, once the session is over.
    v.ts.server->expire_idle_sessions();
    Message r = send_raw(*v.ts.server, p1, url1);
    CHECK(find_status(r, "SyncHdr")->data == "401");  // the nonce was spent
    r = send_raw(*v.ts.server, p3, url2);
    CHECK(find_status(r, "SyncHdr")->data == "407");
    CHECK_FALSE(leaks_data(r));
    CHECK(v.ts.items("alice", Category::contacts).size() == 4);
}

TEST_CASE("attack: another user's database, without a grant and read-only; the Global Address Book") {
    Victim v;
    TestClient bob(*v.ts.server, "IMEI:bob");
    bob.user = "bob";
    bob.password = "hunter2";
    Message reply = init(bob, "201", "alice/contacts", "", "B1");
    CHECK(find_status(reply, "Alert")->data == "404");
    CHECK_FALSE(find_command(reply, CommandKind::Alert));

    v.ts.stores->add_grant("alice", Category::contacts, "bob", Access::read_only);
    bob.new_session();
    reply = init(bob, "200", "alice/contacts", "", "B2");
    REQUIRE(find_command(reply, CommandKind::Alert));
    CHECK(find_command(reply, CommandKind::Alert)->data == "205");  // server to client only
    Message pkg4 = client_changes(bob, reply, "alice/contacts",
                                  {TestClient::item_command(CommandKind::Add, "x", vcard("Intruder")),
                                   TestClient::item_command(CommandKind::Replace, "y", vcard("Overwrite")),
                                   TestClient::item_command(CommandKind::Delete, "z", "")});
    CHECK(find_status(pkg4, "Add")->data == "403");
    CHECK(find_status(pkg4, "Replace")->data == "403");
    CHECK(find_status(pkg4, "Delete")->data == "403");
    // Asking for a refresh from the client on a read-only database: refused.
    bob.new_session();
    reply = init(bob, "203", "alice/contacts", "", "B3");
    CHECK(find_status(reply, "Alert")->data == "403");

    std::istringstream gab(vcard("Directory"));
    v.ts.stores->import_global_address_book(gab);
    bob.new_session();
    reply = init(bob, "203", "Global Address Book/contacts", "", "G1");
    CHECK(find_status(reply, "Alert")->data == "403");
    bob.new_session();
    reply = init(bob, "200", "Global Address Book/contacts", "", "G2");
    pkg4 = client_changes(bob, reply, "Global Address Book/contacts",
                          {TestClient::item_command(CommandKind::Add, "x", vcard("Intruder"))});
    CHECK(find_status(pkg4, "Add")->data == "403");
    CHECK(v.ts.items("alice", Category::contacts).size() == 3);
    auto directory = v.ts.stores->open_global_address_book();
    std::size_t gab_items = 0;
    ItemVersion iv;
    for (auto cursor = directory->list(); cursor->next(iv);) ++gab_items;
    CHECK(gab_items == 1);
}

TEST_CASE("attack: unknown SyncML versions") {
    Victim v;
    for (const char* version : {"1.0", "2.0", "9.9", "", "1.2<"}) {
        TestClient a(*v.ts.server, "IMEI:victim");
        Message m = a.message();
        m.body.push_back(TestClient::sync("contacts", {TestClient::item_command(CommandKind::Add, "v", vcard("V"))}));
        std::string body = encode(m, Encoding::xml);
        // The codec writes only versions it knows: put the odd one in by hand.
        for (std::string tag : {"<VerDTD>1.2</VerDTD>", "<VerProto>SyncML/1.2</VerProto>"}) {
            std::size_t at = body.find(tag);
            REQUIRE(at != std::string::npos);
            std::string odd = tag[4] == 'D' ? "<VerDTD>" + xml_text(version) + "</VerDTD>"
                                            : "<VerProto>SyncML/" + xml_text(version) + "</VerProto>";
            body.replace(at, tag.size(), odd);
        }
        Request req;
        req.body = body;
        req.content_type = content_type(Encoding::xml);
        req.url = a.url;
        Response r = v.ts.server->process(req);
        if (r.http_status == 200) CHECK(find_status(decode(r.body, Encoding::xml), "SyncHdr")->data == "513");
        else CHECK(r.http_status == 400);
    }
    CHECK(v.ts.items("alice", Category::contacts).size() == 3);
}

TEST_CASE("attack: path tricks in user and database names stay inside the data directory") {
    TestServer ts;
    ts.auth->users["../evil"] = "pw";
    ts.auth->users["/etc"] = "pw";
    ts.auth->users["a/../../b"] = "pw";
    auto files_outside = [&] {
        std::size_t n = 0;
        for (const auto& e : fs::directory_iterator(ts.dir.parent_path()))
            if (e.path().filename().string().find("evil") != std::string::npos ||
                e.path().filename() == "etc" || e.path().filename() == "b")
                ++n;
        return n;
    };
    std::size_t before = files_outside();
    for (const char* user : {"../evil", "/etc", "a/../../b"}) {
        TestClient a(*ts.server, std::string("IMEI:") + user);
        a.user = user;
        a.password = "pw";
        Message reply = init(a, "201", "contacts", "", "P1");
        REQUIRE(find_status(reply, "SyncHdr")->data == "212");
        client_changes(a, reply, "contacts", {TestClient::item_command(CommandKind::Add, "1", vcard("Path"))});
    }
    for (const char* db : {"../bob/contacts", "alice/../bob/contacts", "%2e%2e/contacts", "/etc/passwd",
                           "contacts/../../x", "bob/../../contacts", "./contacts/..", "contacts\\..\\x",
                           "Global Address Book/../contacts"}) {
        TestClient a(*ts.server, std::string("IMEI:path-") + db);
        Message reply = init(a, "200", db, "", "P1");
        CHECK(find_status(reply, "Alert")->data == "404");
    }
    CHECK(files_outside() == before);
    for (const auto& e : fs::recursive_directory_iterator(ts.dir)) {
        std::string rel = fs::relative(e.path(), ts.dir).string();
        CHECK(rel.find("..") == std::string::npos);
    }
    CHECK(ts.items("bob", Category::contacts).empty());
}

TEST_CASE("limits: an item beyond MaxObjSize, in chunks or whole, is refused and dropped") {
    TestServer ts(150000, [](ServerConfig& c) { c.max_obj_size = 20000; });
    TestClient c(*ts.server, "IMEI:big");
    Message pkg2 = init(c, "201", "contacts", "", "O1");
    auto chunk = [](const std::string& luid, const std::string& data, bool more, const std::string& size) {
        Command op = TestClient::item_command(CommandKind::Add, luid, data);
        op.items[0].more_data = more;
        op.items[0].meta.size = size;
        return op;
    };
    // A declared Size above the limit: 416 at once; its further chunks 413.
    Message m = c.message(false);
    m.body = c.statuses_for(pkg2);
    m.body.push_back(TestClient::sync("contacts", {chunk("declared", std::string(5000, 'a'), true, "40000000")}));
    Message reply = c.send(m);
    CHECK(find_status(reply, "Add")->data == "416");
    m = c.message(false);
    m.body = {};
    m.body.push_back(TestClient::sync("contacts", {chunk("declared", std::string(5000, 'a'), false, "")}));
    reply = c.send(m);
    CHECK(find_status(reply, "Add")->data == "413");
    // No Size, growing past the limit: 213 while it fits, then 413, the rest dropped.
    std::vector<std::string> codes;
    for (int i = 0; i < 8; ++i) {
        m = c.message(false);
        m.body = {};
        m.body.push_back(TestClient::sync("contacts", {chunk("undeclared", std::string(5000, 'b'), i < 7, "")}));
        reply = c.send(m);
        codes.push_back(find_status(reply, "Add")->data);
    }
    // 4 x 5000 bytes is the limit exactly: still in; the fifth goes past it.
    CHECK(codes == std::vector<std::string>{"213", "213", "213", "213", "413", "413", "413", "413"});
    // A declared Size the chunks do not reach: 424.
    m = c.message(false);
    m.body = {};
    m.body.push_back(TestClient::sync("contacts", {chunk("short", "BEGIN:VCARD\r\n", true, "100")}));
    c.send(m);
    m = c.message(false);
    m.body = {};
    m.body.push_back(TestClient::sync("contacts", {chunk("short", "END:VCARD\r\n", false, "")}));
    reply = c.send(m);
    CHECK(find_status(reply, "Add")->data == "424");
    // An item that fits still goes in.
    m = c.message(true);
    m.body = {};
    m.body.push_back(TestClient::sync("contacts", {TestClient::item_command(CommandKind::Add, "ok", vcard("Fits"))}));
    reply = c.send(m);
    CHECK(find_status(reply, "Add")->data == "201");
    CHECK(ts.items("alice", Category::contacts) == std::vector<std::string>{vcard("Fits")});
    CHECK(ts.logger->contains("larger than MaxObjSize"));
}

TEST_CASE("limits: too many commands in one message, and a message above the size limit") {
    TestServer ts(10000, [](ServerConfig& c) { c.max_commands_per_message = 50; });
    TestClient c(*ts.server, "IMEI:many");
    Message m = c.message();
    for (int i = 0; i < 60; ++i) m.body.push_back(TestClient::alert("200", "contacts", "./contacts", "", "M"));
    Message reply = c.send(m);
    CHECK(find_status(reply, "SyncHdr")->data == "413");
    CHECK(reply.body.size() == 1);  // the SyncHdr status alone
    CHECK(ts.server->session_count() == 0);

    Request big;
    std::string body = "<SyncML>" + std::string(64 * 1024, ' ') + "</SyncML>";
    big.body = body;
    big.content_type = "application/vnd.syncml+xml";
    CHECK(ts.server->process(big).http_status == 413);  // twice MaxMsgSize, at least 64 KiB
    ServerConfig small;
    small.max_msg_size = 4000;
    CHECK(effective_max_request_size(small) == 64 * 1024);
    CHECK(effective_max_request_size(ServerConfig{}) == 300000);
}

TEST_CASE("limits: sessions per user and in all") {
    TestServer ts(150000, [](ServerConfig& c) {
        c.max_sessions_per_user = 3;
        c.max_sessions = 5;
    });
    std::vector<std::unique_ptr<TestClient>> clients;
    std::vector<Message> pkg2s;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<TestClient>(*ts.server, "IMEI:s" + std::to_string(i)));
        pkg2s.push_back(init(*clients.back(), "201", "contacts", "", "S"));
        REQUIRE(find_status(pkg2s.back(), "SyncHdr")->data == "212");
    }
    CHECK(ts.server->session_count() == 3);  // the oldest was dropped
    CHECK(ts.logger->contains("the least recently active, is dropped"));
    // The dropped one's next message is a new session, which needs a login.
    Message m = clients[0]->message();
    m.body = clients[0]->statuses_for(pkg2s[0]);
    CHECK(find_status(clients[0]->send(m), "SyncHdr")->data == "407");
    // bob fills the server up; the next login waits.
    for (int i = 0; i < 2; ++i) {
        TestClient b(*ts.server, "IMEI:b" + std::to_string(i));
        b.user = "bob";
        b.password = "hunter2";
        CHECK(find_status(init(b, "201", "contacts", "", "S"), "SyncHdr")->data == "212");
    }
    TestClient late(*ts.server, "IMEI:late");
    late.user = "bob";
    late.password = "hunter2";
    Message reply = init(late, "201", "contacts", "", "S");
    CHECK(find_status(reply, "SyncHdr")->data == "503");
    CHECK(late.last_response.retry_after > 0);
}

TEST_CASE("limits: a session older than its lifetime is dropped") {
    TestServer ts(150000, [](ServerConfig& c) { c.max_session_lifetime = std::chrono::seconds(0); });
    TestClient c(*ts.server, "IMEI:old");
    Message pkg2 = init(c, "201", "contacts", "", "T1");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    Message m = c.message();
    m.body = c.statuses_for(pkg2);
    m.body.push_back(TestClient::sync("contacts", {TestClient::item_command(CommandKind::Add, "1", vcard("Late"))}));
    CHECK(find_status(c.send(m), "SyncHdr")->data == "407");
    CHECK(ts.items("alice", Category::contacts).empty());
}

TEST_CASE("limits: replies never exceed the client's MaxMsgSize, however much it sends") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:small");
    c.max_msg_size = "2000";
    Message pkg2 = init(c, "201", "contacts", "", "Q1");
    std::vector<Command> adds;
    for (int i = 0; i < 300; ++i)
        adds.push_back(TestClient::item_command(CommandKind::Add, "L" + std::to_string(i), vcard("N" + std::to_string(i))));
    Message m = c.message(true);
    m.body = c.statuses_for(pkg2);
    m.body.push_back(TestClient::sync("contacts", std::move(adds)));
    Message reply = c.send(m);
    std::set<std::string> answered;
    std::size_t largest = 0;
    for (int round = 0; round < 200; ++round) {
        largest = std::max(largest, c.last_response.body.size());
        for (const Command& s : reply.body)
            if (s.kind == CommandKind::Status && s.cmd == "Add")
                for (const std::string& ref : s.source_refs) answered.insert(ref);
        if (reply.final) break;
        Message next = c.message(true);
        next.body = c.statuses_for(reply);
        Command more;
        more.kind = CommandKind::Alert;
        more.cmd_id = "9";
        more.data = "222";
        next.body.push_back(more);
        reply = c.send(next);
    }
    CHECK(reply.final);
    CHECK(largest <= 2000);
    CHECK(answered.size() == 300);
    CHECK(ts.items("alice", Category::contacts).size() == 300);
}

TEST_CASE("attack: probing which devices a user has, and guessing under her phone's device ID") {
    Victim v([](ServerConfig& c) { c.login_throttle.first_delay = std::chrono::seconds(60); });
    std::string stored = v.phone.nonce;  // what her phone will use next
    REQUIRE_FALSE(stored.empty());
    // Her tablet logged in once before.
    TestClient tablet(*v.ts.server, "IMEI:tablet");
    tablet.peer = "192.0.2.44";
    REQUIRE(find_status(init(tablet, "200", "contacts", "", "T"), "SyncHdr")->data == "212");
    // A challenge for her user and device tells nothing of the stored nonce.
    TestClient probe(*v.ts.server, "IMEI:victim");
    probe.auth = TestClient::Auth::md5;
    probe.password = "wrong";
    probe.peer = "203.0.113.77";
    init(probe, "200", "contacts", "", "P");
    CHECK_FALSE(probe.nonce.empty());
    CHECK(probe.nonce != stored);

    // Guessing with her phone's device ID: that device's own count blocks it.
    int throttled = 0;
    for (int i = 0; i < 10; ++i) {
        TestClient g(*v.ts.server, "IMEI:victim");
        g.password = "guess" + std::to_string(i);
        g.peer = "198.51.100." + std::to_string(i);  // a new address each time
        throttled += find_status(init(g, "200", "contacts", "", "G"), "SyncHdr")->data == "503";
    }
    CHECK(throttled == 6);  // the probe's wrong password was the first failure
    // A device she never used waits; her other device is not held back.
    TestClient laptop(*v.ts.server, "IMEI:laptop");
    laptop.peer = "192.0.2.45";
    CHECK(find_status(init(laptop, "200", "contacts", "", "L"), "SyncHdr")->data == "503");
    tablet.new_session();
    tablet.auth = TestClient::Auth::md5;
    CHECK(find_status(init(tablet, "200", "contacts", "T", "T2"), "SyncHdr")->data == "212");
}

TEST_CASE("attack: a user name of 200 kB is refused unread and logged cut short") {
    TestServer ts;
    TestClient a(*ts.server, "IMEI:long\nfake log line");
    a.user = std::string(200000, 'u');
    Message reply = init(a, "200", "contacts", "", "U");
    CHECK(find_status(reply, "SyncHdr")->data == "401");
    std::size_t longest = 0;
    bool raw_newline = false;
    for (const std::string& line : ts.logger->lines) {
        longest = std::max(longest, line.size());
        raw_newline = raw_newline || line.find('\n') != std::string::npos;
    }
    CHECK(longest < 1000);
    CHECK_FALSE(raw_newline);
    CHECK(ts.logger->contains("IMEI:long\\x0afake log line"));
}

TEST_CASE("attack: one database alerted under many names is synced once, the rest refused at once") {
    Victim v;
    TestClient c(*v.ts.server, "IMEI:names");
    Message m = c.message();
    for (int i = 0; i < 40; ++i) {
        Command a = TestClient::alert("200", i == 0 ? "contacts" : i % 2 ? "contacts?" + std::to_string(i) : "card",
                                      "./c" + std::to_string(i), "", "N");
        a.cmd_id = std::to_string(i + 1);
        m.body.push_back(a);
    }
    // "At once": the reply comes back at all (a refused alias waiting for
    // the database the first alert holds would never end the message; the
    // test's timeout catches that), with every other alert refused.
    Message reply = c.send(m);
    CHECK(find_status(reply, "SyncHdr")->data == "212");
    std::size_t accepted = 0, refused = 0;
    for (const Command& s : reply.body) {
        if (s.kind != CommandKind::Status || s.cmd != "Alert") continue;
        accepted += s.data == "508";
        refused += s.data == "403";
    }
    CHECK(accepted == 1);
    CHECK(refused == 39);
}
