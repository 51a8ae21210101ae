// Sessions kept between messages as blobs (engine/session_archive.cpp,
// state/session_store.hpp): one session with every kind of state a session
// carries from one message to the next (package 2 held back, statuses
// waiting for room, a large object arriving in chunks, an outbox of several
// pages, large objects leaving in chunks, a resent message, the Map) gives
// the same replies byte for byte whether it stays in memory or each of its
// messages goes to one of two Servers that share only a SessionStore, as
// processes behind a balancer do. And a blob this version did not write is
// refused cleanly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>

#include "engine_client.hpp"
#include "../../lib/engine/session_archive.hpp"
#include "../../lib/state/memory_session_store.hpp"
#include "../../lib/wire/text.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_command;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace smk::test {
std::size_t session_stores_made();  // support/session_store_mode.cpp
}

namespace {

std::string vcard(const std::string& name) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\nEND:VCARD\r\n";
}

// A contact with a photo of `bytes` pseudo-random bytes, base64 and folded.
std::string photo_vcard(const std::string& name, std::size_t bytes, unsigned seed) {
    std::string photo(bytes, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (char& ch : photo) {
        x = x * 1664525u + 1013904223u;
        ch = static_cast<char>(x >> 24);
    }
    std::string line = "PHOTO;ENCODING=b;TYPE=JPEG:" + base64_encode(photo);
    std::string folded;
    for (std::size_t i = 0; i < line.size(); i += 74) {
        if (i) folded += "\r\n ";
        folded += line.substr(i, 74);
    }
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Photo;;;\r\nFN:Photo " + name + "\r\n" + folded +
           "\r\nEND:VCARD\r\n";
}

// The sessions of every Server made with it, in one MemorySessionStore: as
// PostgreSQL is to several processes (so not process_local: a Server going
// away leaves them).
class SharedStore : public state::SessionStore {
public:
    explicit SharedStore(state::MemorySessionStore& inner) : inner_(inner) {}
    std::unique_ptr<Lease> lock(const std::string& t) override { return inner_.lock(t); }
    std::optional<std::string> load(const std::string& t) override { return inner_.load(t); }
    std::optional<state::SessionInfo> info(const std::string& t) override { return inner_.info(t); }
    void save(const std::string& t, const std::string& u, const std::string& d, bool f, std::string_view b) override {
        ++saves;
        largest = std::max(largest, b.size());
        inner_.save(t, u, d, f, b);
    }
    void erase(const std::string& t) override { inner_.erase(t); }
    std::vector<std::string> idle(std::int64_t a, std::int64_t b, std::size_t n) override { return inner_.idle(a, b, n); }
    std::vector<std::string> of_device(const std::string& u, const std::string& d) override {
        return inner_.of_device(u, d);
    }
    std::vector<state::SessionInfo> of_user(const std::string& u) override { return inner_.of_user(u); }
    std::size_t count_open() override { return inner_.count_open(); }
    static inline std::size_t saves = 0;
    static inline std::size_t largest = 0;  ///< bytes of the largest blob saved

private:
    state::MemorySessionStore& inner_;
};

// Servers made while it lives keep their sessions in `store`.
struct StoreHook {
    explicit StoreHook(state::MemorySessionStore& store)
        : before(engine::set_session_store_for_tests([&store] { return std::make_unique<SharedStore>(store); })) {}
    ~StoreHook() { engine::set_session_store_for_tests(std::move(before)); }
    std::function<std::unique_ptr<state::SessionStore>()> before;
};

// The contents of the server's contacts before the session: 600 small ones
// (an outbox of two pages) and two with photos (sent in chunks).
void fill(TestServer& ts) {
    auto store = ts.stores->open("alice", Category::contacts);
    store->begin();
    for (int i = 0; i < 600; ++i) store->add(Format{"text/vcard", "3.0"}, vcard("S" + std::to_string(i)));
    store->add(Format{"text/vcard", "3.0"}, photo_vcard("P1", 9000, 1));
    store->add(Format{"text/vcard", "3.0"}, photo_vcard("P2", 7000, 2));
    store->commit();
}

// What a run of the session saw: each reply as sent, and what it went through.
struct Run {
    std::vector<std::string> replies;
    std::vector<std::string> tokens, anchors, nonces;  ///< to mask: they differ from run to run
    bool package2_split = false, statuses_waited = false, chunks_in = false, chunks_out = false;
    bool resend_answered = false;
    std::size_t outbox_items = 0;
    std::vector<std::string> stored;  ///< the server's contacts at the end
};

// One session of a client that takes large objects and announces a
// MaxMsgSize of 3000 bytes in XML, 1100 in WBXML.
Run run_session(TestServer& ts, const TestClient::Transport& transport, Encoding enc) {
    Run run;
    TestClient c(transport, "IMEI:blob", enc);
    c.max_msg_size = enc == Encoding::xml ? "3000" : "1100";
    auto send = [&](const Message& m) {
        Message reply = c.send(m);
        run.replies.push_back(c.last_response.body);
        std::size_t s = reply.header.resp_uri.find("?s=");
        if (s != std::string::npos) run.tokens.push_back(reply.header.resp_uri.substr(s + 3));
        for (const Command& cmd : reply.body) {
            if (cmd.kind == CommandKind::Status && cmd.chal && !cmd.chal->meta.next_nonce.empty())
                run.nonces.push_back(cmd.chal->meta.next_nonce);
            if (cmd.kind == CommandKind::Alert)
                for (const Item& it : cmd.items)
                    if (it.meta.anchor) run.anchors.push_back(it.meta.anchor->next);
        }
        return reply;
    };

    // Package 1: DevInf, a Get of ours, a two-way Alert (a slow sync: no anchors yet).
    ClientDescription d;
    d.device = "IMEI:blob";
    d.type = "text/vcard";
    d.version = "3.0";
    d.large_objects = true;
    Message m = c.message();
    m.body.push_back(devinf_put(d));
    Command get;
    get.kind = CommandKind::Get;
    get.cmd_id = "10";
    get.meta.type = "application/vnd.syncml-devinf+xml";
    Item gi;
    gi.target.uri = "./devinf12";
    get.items.push_back(gi);
    m.body.push_back(get);
    m.body.push_back(TestClient::alert("200", "contacts", "./contacts", "", "B1"));
    Message reply = send(m);
    // Package 2 goes on while the client asks for more (Alert 222).
    for (int round = 0; round < 10 && !reply.final; ++round) {
        run.package2_split = true;
        Message next = c.message();
        next.body = c.statuses_for(reply);
        next.body.push_back(TestClient::alert("222", "contacts", "./contacts", "", ""));
        reply = send(next);
    }
    REQUIRE(reply.final);

    // Package 3: 40 Adds in one message (their statuses do not fit one
    // reply), then a large object in three chunks.
    std::vector<Command> adds;
    for (int i = 0; i < 40; ++i)
        adds.push_back(TestClient::item_command(CommandKind::Add, "L" + std::to_string(i), vcard("C" + std::to_string(i))));
    m = c.message(false);
    m.body = c.statuses_for(reply);
    m.body.push_back(TestClient::sync("contacts", std::move(adds)));
    reply = send(m);
    std::size_t add_statuses = 0;
    // Each Add's final status (a chunk before the last is answered 213).
    auto count_adds = [&](const Message& r) {
        for (const Command& s : r.body) {
            if (s.kind != CommandKind::Status || s.cmd != "Add") continue;
            if (s.data == "213") run.chunks_in = true;
            else ++add_statuses;
        }
    };
    count_adds(reply);
    run.statuses_waited = add_statuses < 40;
    std::string big = photo_vcard("Big", 4000, 3);
    std::size_t third = big.size() / 3;
    std::vector<std::string> parts = {big.substr(0, third), big.substr(third, third), big.substr(2 * third)};
    for (std::size_t i = 0; i < parts.size(); ++i) {
        Command op = TestClient::item_command(CommandKind::Add, "BIG", parts[i]);
        op.items[0].more_data = i + 1 < parts.size();
        if (i == 0) op.items[0].meta.size = std::to_string(big.size());
        m = c.message(i + 1 == parts.size());
        m.body = c.statuses_for(reply);
        m.body.push_back(TestClient::sync("contacts", {op}, 100 + static_cast<int>(i)));
        reply = send(m);
        if (i + 1 < parts.size()) count_adds(reply);  // the last reply is package 4's first
    }

    // Package 4, to its end: statuses for each message (213 for a chunk);
    // one message is sent twice, as after a lost reply.
    std::vector<std::string> to_map;
    for (int round = 0; round < 400; ++round) {
        count_adds(reply);
        std::vector<Command> statuses = c.statuses_for(reply);
        for (const Command& op : server_ops(reply)) {
            const Item& it = op.items.at(0);
            if (it.more_data) {
                run.chunks_out = true;
                for (Command& s : statuses)
                    if (s.cmd_ref == op.cmd_id) s.data = "213";
                continue;
            }
            ++run.outbox_items;
            if (op.kind == CommandKind::Add) to_map.push_back(it.source.uri);
        }
        if (reply.final) break;
        m = c.message(false);
        m.body = std::move(statuses);
        m.body.push_back(TestClient::alert("222", "contacts", "./contacts", "", ""));
        reply = send(m);
        if (round == 3) {
            std::string first = c.last_response.body;
            Message again = send(m);
            run.resend_answered = c.last_response.body == first;
        }
    }
    REQUIRE(reply.final);
    CHECK(add_statuses == 41);  // every Add of the client answered once, the large object too
    CHECK(run.chunks_in);

    // Package 5: the Map.
    m = c.message();
    m.body = c.statuses_for(reply);
    Command map;
    map.kind = CommandKind::Map;
    map.cmd_id = "90";
    map.target.uri = "contacts";
    map.source.uri = "./contacts";
    for (const std::string& guid : to_map) map.map_items.push_back(MapItem{{guid, ""}, {"c" + guid, ""}});
    m.body.push_back(map);
    reply = send(m);
    CHECK(reply.final);
    CHECK(c.last_response.session_ended);
    run.stored = ts.items("alice", Category::contacts);
    std::sort(run.stored.begin(), run.stored.end());
    return run;
}

// The replies with the session's token and the server's anchor masked
// (each the same length, so WBXML stays well-formed).
std::vector<std::string> masked(const Run& run) {
    std::vector<std::string> out = run.replies;
    auto mask = [&](const std::string& what, char with) {
        if (what.empty()) return;
        for (std::string& body : out)
            for (std::size_t at = body.find(what); at != std::string::npos; at = body.find(what, at))
                body.replace(at, what.size(), std::string(what.size(), with));
    };
    for (const std::string& t : run.tokens) mask(t, 'T');
    for (const std::string& n : run.nonces) mask(n, 'N');
    for (const std::string& a : run.anchors)
        if (a.size() > 8) mask(a, 'A');  // the server's; the client's own ("B1") are the same in both runs
    return out;
}

}  // namespace

TEST_CASE("SMK_TEST_SESSION_STORE=memory or postgres puts every Server's sessions in a store") {
    const char* mode = std::getenv("SMK_TEST_SESSION_STORE");
    std::size_t before = smk::test::session_stores_made();
    TestServer ts;
    bool via_blob = mode && (std::string(mode) == "memory" || std::string(mode) == "postgres");
    CHECK(smk::test::session_stores_made() == before + (via_blob ? 1 : 0));
}

TEST_CASE("every message through a blob and another Server: the same replies byte for byte") {
    for (Encoding enc : {Encoding::xml, Encoding::wbxml}) {
        INFO((enc == Encoding::xml ? "XML" : "WBXML"));
        // In memory, one Server.
        TestServer plain;
        fill(plain);
        Run a = run_session(plain, [&](const Request& r) { return plain.server->process(r); }, enc);

        // Each message to the next of two Servers on the same data, which
        // share only the SessionStore.
        state::MemorySessionStore sessions;
        std::unique_ptr<TestServer> handoff;
        std::unique_ptr<Server> second;
        {
            StoreHook hook(sessions);
            handoff = std::make_unique<TestServer>();
            ServerConfig config;
            config.auth = handoff->auth;
            config.datastores = handoff->stores;
            config.logger = handoff->logger;
            config.state_dir = (handoff->dir / "state").string();
            config.max_msg_size = 150000;
            second = std::make_unique<Server>(config);
        }
        fill(*handoff);
        std::size_t saves_before = SharedStore::saves;
        std::size_t turn = 0;
        Run b = run_session(*handoff, [&](const Request& r) {
            Server& s = turn++ % 2 ? *second : *handoff->server;
            return s.process(r);
        }, enc);

        // The session went through every state worth carrying.
        CHECK(a.package2_split);
        CHECK(a.statuses_waited);
        CHECK(a.chunks_in);
        CHECK(a.chunks_out);
        CHECK(a.resend_answered);
        CHECK(b.resend_answered);
        CHECK(a.outbox_items == 602);
        CHECK(b.outbox_items == 602);
        // Every message was saved to the store after it was handled.
        CHECK(SharedStore::saves - saves_before == b.replies.size());
        // The blobs stay small: the outbox's page in memory (512 entries) and
        // the last reply are most of one (22 kB here).
        CHECK(SharedStore::largest < 64 * 1024);
        CHECK(b.replies.size() > 40);
        REQUIRE(a.replies.size() == b.replies.size());
        std::vector<std::string> ma = masked(a), mb = masked(b);
        for (std::size_t i = 0; i < ma.size(); ++i) {
            INFO("reply " << i + 1);
            CHECK(ma[i] == mb[i]);
        }
        // 600 + 2 of the server, 40 + 1 of the client, nothing twice.
        CHECK(a.stored.size() == 643);
        CHECK(a.stored == b.stored);
        // The session is over in the store: kept only to answer a resend.
        CHECK(sessions.count_open() == 0);
        CHECK(sessions.idle(INT64_MAX, INT64_MAX, 10).size() == 1);
        CHECK_FALSE(handoff->logger->contains("dropped unfinished"));
    }
}

TEST_CASE("a session blob of another version, cut short or too long is refused") {
    state::MemorySessionStore sessions;
    std::unique_ptr<TestServer> ts;
    {
        StoreHook hook(sessions);
        ts = std::make_unique<TestServer>();
    }
    TestClient c(*ts->server, "IMEI:version");
    Message pkg2 = init(c, "201", "contacts", "", "V1");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    REQUIRE(sessions.count_open() == 1);
    std::string token = sessions.idle(INT64_MAX, INT64_MAX, 1).at(0);
    std::string blob = *sessions.load(token);
    REQUIRE(blob.compare(0, 4, "SMKS") == 0);
    CHECK(static_cast<unsigned char>(blob[4]) == engine::kSessionArchiveVersion);

    // The reader refuses each damaged form before reading anything.
    std::string other = blob;
    other[4] = static_cast<char>(engine::kSessionArchiveVersion + 1);
    CHECK_THROWS_AS(engine::ArchiveReader(other), engine::SessionArchiveError);
    CHECK_THROWS_AS(engine::ArchiveReader("SMK"), engine::SessionArchiveError);
    CHECK_THROWS_AS(engine::ArchiveReader("XXXX" + blob.substr(4)), engine::SessionArchiveError);
    {
        std::string cut = blob.substr(0, 20);  // the reader reads it in place: it must outlive the reader
        engine::ArchiveReader r(cut);
        r.u64();
        CHECK_THROWS_AS(r.u64(), engine::SessionArchiveError);
    }
    {
        engine::ArchiveWriter w(Version::v1_2);
        w.str("abc");
        w.u64(7);
        std::string bytes = w.take() + "x";
        engine::ArchiveReader r(bytes);
        CHECK(r.str() == "abc");
        CHECK(r.u64() == 7);
        CHECK_THROWS_AS(r.end(), engine::SessionArchiveError);
    }

    // A blob of another version in the store: the client's next message
    // starts a new session (which wants its login), nothing is applied.
    sessions.save(token, "alice", "IMEI:version", false, other);
    Message m = c.message();
    m.body = c.statuses_for(pkg2);
    m.body.push_back(TestClient::sync("contacts", {TestClient::item_command(CommandKind::Add, "1", vcard("X"))}));
    Message reply = c.send(m);
    CHECK(find_status(reply, "SyncHdr")->data == "407");
    CHECK(ts->logger->contains("cannot be read (a session blob of version 2, not 1)"));
    CHECK_FALSE(sessions.load(token));
    CHECK(ts->items("alice", Category::contacts).empty());
}

TEST_CASE("sessions in a store: idle ones are dropped with their resume point, ended ones kept a minute") {
    state::MemorySessionStore sessions;
    std::unique_ptr<TestServer> ts;
    {
        StoreHook hook(sessions);
        ts = std::make_unique<TestServer>(150000, [](ServerConfig& c) { c.session_timeout = std::chrono::seconds(0); });
    }
    TestClient c(*ts->server, "IMEI:idle");
    Message pkg2 = init(c, "200", "contacts", "", "I1");
    client_changes(c, pkg2, "contacts", {TestClient::item_command(CommandKind::Add, "1", vcard("Idle1"))});
    CHECK(ts->server->session_count() == 1);
    ts->server->expire_idle_sessions();
    CHECK(ts->server->session_count() == 0);
    CHECK(sessions.idle(INT64_MAX, INT64_MAX, 10).empty());
    CHECK(ts->logger->contains("dropped unfinished"));
    // Its resume point was kept: the client resumes.
    c.new_session();
    Message again = init(c, "225", "contacts", "", "I2");
    CHECK(find_status(again, "Alert")->data == "200");
    CHECK(ts->logger->contains("resumes the session dropped"));
}
