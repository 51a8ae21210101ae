// Every callback of a C host made to fail in turn, through the C ABI alone:
// the C store of c_store.c behind smk_server_new_hosted(), the C client of
// sync_client.c. A store call that fails (SMK_STORE_FAILED, a status it may
// not return, OK without the value due, NULL with a length) gives the client
// a status (510 for that item, or 500 for the message), the log a line
// naming the store, the call and why, and leaves the store consistent: no
// item half-changed, none twice; the same client's next sync converges on
// exactly the items it should. The auth callbacks: an unavailable user
// database is 503, logged and not counted as a wrong password.
#include <catch2/catch.hpp>

#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "../../lib/engine/auth.hpp"
#include "c_store.h"
#include "engine_client.hpp"
#include "sync_client.h"
#include "syncmlkit.h"
#include "temp_dir.hpp"

namespace {

std::string vcard(const std::string& fn) {
    char buf[256];
    return sc_vcard(buf, sizeof buf, fn.c_str());
}

struct Op {
    const char* kind;
    std::string luid, fn;
};

std::string ops(const std::vector<Op>& list) {
    std::vector<char> buf(16384, '\0');
    for (const Op& op : list) sc_op(buf.data(), buf.size(), op.kind, op.luid.c_str(), vcard(op.fn).c_str());
    return buf.data();
}

// A C host with alice (two cards of the host's own in her contacts) and bob,
// and a server on it through the C ABI.
struct Host {
    smk::test::TempDir dir{"smk-capi-fail"};
    cs_host* host = cs_host_new();
    cs_store* contacts = nullptr;
    smk_server* server = nullptr;
    std::mutex mutex;
    std::vector<std::string> lines;

    static void on_log(void* self, int, const char* message) {
        auto* h = static_cast<Host*>(self);
        std::lock_guard<std::mutex> lock(h->mutex);
        h->lines.emplace_back(message);
    }

    // A host that sets only log_session (which replaces log) gets every
    // line there, the adapter's own included.
    static void on_log_session(void* self, int level, const char*, const char* message) {
        on_log(self, level, message);
    }

    explicit Host(bool only_session_log = false) {
        cs_host_add_user(host, "alice", "secret");
        cs_host_add_user(host, "bob", "hunter2");
        contacts = cs_host_store(host, "alice", "contacts");
        cs_store_put(contacts, vcard("Host One").c_str(), nullptr);
        cs_store_put(contacts, vcard("Host Two").c_str(), nullptr);
        std::string state = dir.file("state");
        smk_server_config config{};
        config.size = sizeof config;
        config.state_dir = state.c_str();
        if (only_session_log)
            config.log_session = on_log_session;
        else
            config.log = on_log;
        config.user_data = this;
        char* error = nullptr;
        REQUIRE(smk_server_new_hosted(&config, cs_host_provider(host), cs_host_auth(host), &server, &error) == SMK_OK);
        REQUIRE(error == nullptr);
    }
    ~Host() {
        smk_server_free(server);
        cs_host_free(host);
    }
    // Stops the server: every store it opened must be closed by then.
    void stop() {
        smk_server_free(server);
        server = nullptr;
    }

    std::string log() {
        std::lock_guard<std::mutex> lock(mutex);
        std::string all;
        for (const auto& l : lines) all += l + "\n";
        return all;
    }
    bool logged(const std::string& text) { return log().find(text) != std::string::npos; }
    std::size_t fn(const std::string& name) { return cs_store_count_with(contacts, ("FN:" + name + "\r").c_str()); }
};

// One session, its statuses and the reply to look into.
struct Session {
    sc_session s{};
    int rc = -1;
    ~Session() { sc_session_free(&s); }
};

// The C client, with every item it holds (for a slow sync the server asks for).
struct Client {
    sc_client c{};
    std::vector<Op> held;
    std::string slow;
    Client(smk_server* server, const char* device, const char* user = "alice", const char* password = "secret") {
        sc_client_init(&c, server, device, user, password);
    }
    ~Client() { sc_client_free(&c); }
    void sync(int code, const std::string& changes, Session& out) {
        std::vector<Op> adds;
        for (const Op& op : held) adds.push_back({"Add", op.luid, op.fn});
        slow = ops(adds);
        c.slow_ops = slow.c_str();
        out.rc = sc_sync(&c, code, changes.c_str(), &out.s);
    }
};

const char* name_of(cs_callback cb) {
    static const char* const names[] = {"native_format", "list_open", "list_next", "read", "revision", "add",
                                        "replace", "remove", "begin", "commit", "rollback", "snapshot", "open",
                                        "grant", "open_global_address_book", "check_password", "md5_digest"};
    return names[cb];
}

// What the log says for each misbehaviour.
std::string expected_log(cs_callback cb, cs_fault f) {
    std::string call = std::string(name_of(cb)) + " ";
    switch (f) {
        case CS_FAIL: return call + "failed: c-store: " + name_of(cb) + " failed on purpose";
        case CS_BAD_STATUS: return call + "returned 42, not a status it may return";
        case CS_NO_VALUE: return call + "returned SMK_STORE_OK without";
        case CS_NULL_VALUE: return call + "handed back";
        default: return call;
    }
}

// The scenario every store failure runs through: a slow sync puts A, B, C
// in alice's store beside the host's two cards; then a two-way sync
// (replace A by A2, delete B, add D) meets the fault at the n-th call of
// `cb`; then the client syncs again (resending what did not go through)
// and once more with nothing to say. Returns false when the session made
// fewer than n+1 calls of `cb` (no fault happened).
bool break_and_recover(cs_callback cb, cs_fault fault, int nth) {
    Host h;
    Client client(h.server, "c-phone");
    Session first;
    client.sync(201, ops({{"Add", "L1", "Client A"}, {"Add", "L2", "Client B"}, {"Add", "L3", "Client C"}}), first);
    REQUIRE(first.rc == 0);
    REQUIRE(cs_store_count(h.contacts) == 5);
    client.held = {{"Add", "L1", "Client A"}, {"Add", "L2", "Client B"}, {"Add", "L3", "Client C"}};

    std::vector<Op> changes = {{"Replace", "L1", "Client A2"}, {"Delete", "L2", ""}, {"Add", "L4", "Client D"}};
    cs_host_fail(h.host, cb, fault, nth, 1);
    Session broken;
    client.sync(200, ops(changes), broken);
    cs_host_fail(h.host, cb, CS_BEHAVE, 0, 0);
    if (cs_host_faults(h.host, cb) == 0) return false;
    INFO(name_of(cb) << " fault " << fault << " at call " << nth << "; log:\n" << h.log());

    // The client was told, and the log says which store, which call, why.
    CHECK(h.logged("host store alice/contacts: " + expected_log(cb, fault)));
    std::vector<Op> again;
    if (broken.rc == 0) {
        // Completed: the failed item (and only it) answered 510.
        int failed = 0;
        for (const Op& op : changes) {
            int status = sc_status(broken.s.changes_reply, op.luid.c_str());
            INFO(op.luid << " status " << status);
            CHECK((status == 200 || status == 201 || status == 510));
            if (status == 510) {
                ++failed;
                again.push_back(op);
            }
        }
        CHECK(failed == 1);
    } else {
        // Ended: the message was refused whole with 500.
        CHECK(client.c.reply);
        CHECK(sc_count(client.c.reply, "<Data>500</Data>") >= 1);
        again = changes;
    }

    // Consistent: every item once or not at all, none half-changed.
    CHECK(h.fn("Client A") + h.fn("Client A2") == 1);
    CHECK(h.fn("Client B") <= 1);
    CHECK(h.fn("Client C") == 1);
    CHECK(h.fn("Client D") <= 1);
    CHECK(h.fn("Host One") == 1);
    CHECK(h.fn("Host Two") == 1);
    CHECK(cs_store_count(h.contacts) ==
          h.fn("Client A") + h.fn("Client A2") + h.fn("Client B") + h.fn("Client C") + h.fn("Client D") + 2);

    // The same client's next sync converges: exactly A2, C, D and the host's two.
    client.held = {{"Add", "L1", "Client A2"}, {"Add", "L3", "Client C"}, {"Add", "L4", "Client D"}};
    for (const char* host_card : {"Host One", "Host Two"}) {  // mapped "c<GUID>" in the first sync
        char guid[32];
        REQUIRE(cs_store_find(h.contacts, ("FN:" + std::string(host_card) + "\r").c_str(), guid) == 0);
        client.held.push_back({"Add", std::string("c") + guid, host_card});
    }
    Session recovery;
    client.sync(200, ops(again), recovery);
    CHECK(recovery.rc == 0);
    if (recovery.s.alert_status == 508) {
        // A store commit that failed after the sync state's: the server asked
        // for a slow sync, which pairs both sides up. The message's edit and
        // delete may be undone there (the server's copy wins a conflict, and
        // the deleted card comes back to the client), but nothing is twice.
        CHECK(cb == CS_COMMIT);
        CHECK(h.fn("Client A") + h.fn("Client A2") == 1);
        CHECK(h.fn("Client B") <= 1);
        CHECK(cs_store_count(h.contacts) == 5 + h.fn("Client B"));
    } else {
        CHECK(recovery.s.alert_status == 200);
        CHECK(h.fn("Client A") == 0);
        CHECK(h.fn("Client A2") == 1);
        CHECK(h.fn("Client B") == 0);
        CHECK(cs_store_count(h.contacts) == 5);
    }
    CHECK(h.fn("Client C") == 1);
    CHECK(h.fn("Client D") == 1);
    CHECK(h.fn("Host One") == 1);
    CHECK(h.fn("Host Two") == 1);
    std::size_t converged = cs_store_count(h.contacts);
    Session quiet;
    client.sync(200, "", quiet);
    CHECK(quiet.rc == 0);
    CHECK(quiet.s.alert_status == 200);
    CHECK(quiet.s.server_adds + quiet.s.server_replaces + quiet.s.server_deletes == 0);
    CHECK(cs_store_count(h.contacts) == converged);

    h.stop();
    CHECK(cs_host_open_stores(h.host) == 0);
    CHECK(cs_host_overlaps(h.host) == 0);
    return true;
}

}  // namespace

TEST_CASE("each store callback fails at each of its calls of a session: a status, a log line, a consistent store") {
    std::string tried;
    for (cs_callback cb : {CS_OPEN, CS_NATIVE_FORMAT, CS_BEGIN, CS_LIST_OPEN, CS_LIST_NEXT, CS_READ, CS_REVISION,
                           CS_ADD, CS_REPLACE, CS_REMOVE, CS_COMMIT}) {
        int n = 0;
        while (n < 40 && break_and_recover(cb, CS_FAIL, n)) ++n;
        INFO(name_of(cb));
        CHECK(n >= 1);   // the session called it at least once
        CHECK(n < 40);   // and a bounded number of times
        tried += std::string(" ") + name_of(cb) + " " + std::to_string(n);
    }
    WARN("calls failed in turn:" << tried);
}

TEST_CASE("store callbacks that return garbage: a status they may not return, no value, NULL with a length") {
    struct Case {
        cs_callback cb;
        cs_fault fault;
    };
    for (Case c : std::vector<Case>{{CS_OPEN, CS_BAD_STATUS},         {CS_OPEN, CS_NO_VALUE},
                                    {CS_NATIVE_FORMAT, CS_BAD_STATUS}, {CS_NATIVE_FORMAT, CS_NO_VALUE},
                                    {CS_NATIVE_FORMAT, CS_NULL_VALUE}, {CS_BEGIN, CS_BAD_STATUS},
                                    {CS_LIST_OPEN, CS_BAD_STATUS},     {CS_LIST_NEXT, CS_BAD_STATUS},
                                    {CS_LIST_NEXT, CS_NO_VALUE},       {CS_LIST_NEXT, CS_NULL_VALUE},
                                    {CS_READ, CS_BAD_STATUS},          {CS_READ, CS_NO_VALUE},
                                    {CS_READ, CS_NULL_VALUE},          {CS_REVISION, CS_BAD_STATUS},
                                    {CS_REVISION, CS_NO_VALUE},        {CS_REVISION, CS_NULL_VALUE},
                                    {CS_ADD, CS_BAD_STATUS},           {CS_ADD, CS_NO_VALUE},
                                    {CS_ADD, CS_NULL_VALUE},           {CS_REPLACE, CS_BAD_STATUS},
                                    {CS_REPLACE, CS_NO_VALUE},         {CS_REPLACE, CS_NULL_VALUE},
                                    {CS_REMOVE, CS_BAD_STATUS},        {CS_COMMIT, CS_BAD_STATUS}}) {
        INFO(name_of(c.cb) << " fault " << c.fault);
        CHECK(break_and_recover(c.cb, c.fault, 0));
    }
}

namespace {

// The C ABI as a TestClient's transport.
smk::test::TestClient::Transport through_c_abi(smk_server* server) {
    return [server](const smk::Request& req) {
        smk_response r{};
        smk::Response out;
        int rc = smk_server_process(server, req.body.data(), req.body.size(), req.content_type.c_str(),
                                    req.url.c_str(), req.peer.c_str(), &r);
        if (rc != SMK_OK) throw std::runtime_error("smk_server_process: " + std::to_string(rc));
        out.body.assign(r.body, r.body_len);
        out.content_type = r.content_type;
        out.http_status = r.http_status;
        out.session_ended = r.session_ended != 0;
        smk_response_free(&r);
        return out;
    };
}

// The SyncHdr status of a login with an Alert for contacts.
int login(smk::test::TestClient& c) {
    c.new_session();
    smk::wire::Message reply = smk::test::steps::init(c, "201", "contacts", "", "A1");
    const smk::wire::Command* s = smk::test::find_status(reply, "SyncHdr");
    return s ? std::stoi(s->data) : -1;
}

}  // namespace

TEST_CASE("a user database that cannot answer is 503 and logged, never a wrong password") {
    Host h;
    Client client(h.server, "c-phone");
    // Eight outages in a row (more than the five failures the login
    // throttle lets pass): each 503, none counted.
    for (int i = 0; i < 8; ++i) {
        cs_host_fail(h.host, CS_CHECK_PASSWORD, i % 2 ? CS_FAIL : CS_BAD_STATUS, 0, 1);
        Session s;
        client.sync(201, "", s);
        CHECK(s.s.header_status == 503);
        CHECK(s.rc != 0);
    }
    CHECK(cs_host_faults(h.host, CS_CHECK_PASSWORD) == 8);
    CHECK(h.logged("login not checked: the host's user database did not answer for \"alice\" (check_password "
                   "returned SMK_AUTH_UNAVAILABLE) (503)"));
    CHECK(h.logged("(check_password returned 42, not a status it may return) (503)"));
    CHECK_FALSE(h.logged("refused unchecked"));
    Session ok;
    client.sync(201, "", ok);
    CHECK(ok.s.header_status == 212);
    CHECK(ok.rc == 0);
    CHECK(ok.s.server_adds == 2);

    // Wrong passwords are counted: the sixth is refused unchecked.
    Client guesser(h.server, "c-guesser", "alice", "wrong");
    for (int i = 0; i < 5; ++i) {
        Session s;
        guesser.sync(201, "", s);
        CHECK(s.s.header_status == 401);
    }
    Session blocked;
    guesser.sync(201, "", blocked);
    CHECK(blocked.s.header_status == 503);
    CHECK(h.logged("refused unchecked"));
}

TEST_CASE("a password or user name with a NUL byte is refused without asking the host") {
    Host h;
    smk::test::TestClient c(through_c_abi(h.server), "c-nul");
    c.peer = "192.0.2.9";
    c.password = std::string("secret\0x", 8);
    int calls = cs_host_calls(h.host, CS_CHECK_PASSWORD);
    CHECK(login(c) == 401);
    c.password = "secret";
    c.user = std::string("alice\0", 6);
    CHECK(login(c) == 401);
    CHECK(cs_host_calls(h.host, CS_CHECK_PASSWORD) == calls);
    c.user = "alice";
    CHECK(login(c) == 212);
}

TEST_CASE("MD5 logins through md5_digest: a digest, none for the user, and a directory that is down") {
    Host h;
    cs_host_set_digest(h.host, "alice", smk::engine::md5_user_digest("alice", "secret").c_str());
    smk::test::TestClient c(through_c_abi(h.server), "c-md5");
    c.auth = smk::test::TestClient::Auth::md5;
    // The first try has no nonce yet: a challenge (401), then 212.
    int first = login(c);
    CHECK((first == 212 || first == 401));
    if (first != 212) CHECK(login(c) == 212);

    for (cs_fault f : {CS_FAIL, CS_BAD_STATUS, CS_NO_VALUE, CS_NULL_VALUE}) {
        INFO("fault " << f);
        cs_host_fail(h.host, CS_MD5_DIGEST, f, 0, 1);
        CHECK(login(c) == 503);
    }
    CHECK(h.logged("(md5_digest returned SMK_AUTH_UNAVAILABLE: c-store: the user directory is down) (503)"));
    CHECK(h.logged("(md5_digest returned SMK_AUTH_OK without a digest) (503)"));
    CHECK(h.logged("(md5_digest returned 42, not a status it may return) (503)"));
    CHECK(login(c) == 212);

    // No digest for bob: MD5 is refused (401), and Basic still works.
    smk::test::TestClient b(through_c_abi(h.server), "c-bob");
    b.user = "bob";
    b.password = "hunter2";
    b.auth = smk::test::TestClient::Auth::md5;
    CHECK(login(b) == 401);
    b.auth = smk::test::TestClient::Auth::basic;
    CHECK(login(b) == 212);
}

TEST_CASE("a snapshot that fails stops a refresh from the client before anything is replaced") {
    Host h;
    Client client(h.server, "c-phone");
    Session first;
    client.sync(201, ops({{"Add", "L1", "Client A"}}), first);
    REQUIRE(first.rc == 0);
    REQUIRE(cs_store_count(h.contacts) == 3);
    std::string everything = ops({{"Add", "L1", "Client A"}, {"Add", "L9", "Client Z"}});
    for (cs_fault f : {CS_FAIL, CS_BAD_STATUS, CS_NO_VALUE, CS_NULL_VALUE}) {
        INFO("fault " << f);
        cs_host_fail(h.host, CS_SNAPSHOT, f, 0, 1);
        Session refused;
        client.sync(203, everything, refused);
        CHECK(refused.rc != 0);
        CHECK(sc_count(client.c.reply, "<Data>500</Data>") >= 1);
        CHECK(cs_store_count(h.contacts) == 3);  // nothing replaced
        CHECK(h.logged("host store alice/contacts: " + expected_log(CS_SNAPSHOT, f)));
    }
    CHECK(cs_store_snapshots(h.contacts) == 0);
    Session refresh;
    client.sync(203, everything, refresh);
    INFO(h.log() << "\nlast reply: " << (client.c.reply ? client.c.reply : ""));
    CHECK(refresh.rc == 0);
    CHECK(cs_store_snapshots(h.contacts) == 1);
    CHECK(h.logged("its data as it was is kept in alice/contacts before refresh-from-client #1"));
    CHECK(cs_store_count(h.contacts) == 2);  // the client's two, the host's gone
    CHECK(h.fn("Client A") == 1);
    CHECK(h.fn("Client Z") == 1);
}

TEST_CASE("the adapter's own log lines reach a host that set only log_session") {
    Host h(true);
    Client bob(h.server, "c-bob", "bob", "hunter2");
    std::snprintf(bob.c.db, sizeof bob.c.db, "alice/contacts");
    cs_host_grant(h.host, "alice", "contacts", "bob", SMK_GRANT_READ_ONLY);
    cs_host_fail(h.host, CS_GRANT, CS_FAIL, 0, 1);
    Session failed;
    bob.sync(201, "", failed);
    CHECK(failed.s.alert_status == 404);
    CHECK(h.logged("host provider: grant of bob on alice/contacts returned -1; taken as no grant"));
}

TEST_CASE("grants and the Global Address Book through the provider callbacks, failing too") {
    Host h;
    Client bob(h.server, "c-bob", "bob", "hunter2");
    std::snprintf(bob.c.db, sizeof bob.c.db, "alice/contacts");
    Session none;
    bob.sync(201, "", none);
    CHECK(none.s.alert_status == 404);

    cs_host_grant(h.host, "alice", "contacts", "bob", SMK_GRANT_READ_ONLY);
    cs_host_fail(h.host, CS_GRANT, CS_FAIL, 0, 1);
    Session failed;
    bob.sync(201, "", failed);
    CHECK(failed.s.alert_status == 404);
    CHECK(h.logged("host provider: grant of bob on alice/contacts returned -1; taken as no grant"));
    cs_host_fail(h.host, CS_GRANT, CS_BAD_STATUS, 0, 1);
    Session garbage;
    bob.sync(201, "", garbage);
    CHECK(garbage.s.alert_status == 404);
    CHECK(h.logged("returned 42; taken as no grant"));
    Session granted;
    bob.sync(201, "", granted);
    CHECK(granted.rc == 0);
    CHECK(granted.s.alert_status == 200);
    CHECK(granted.s.server_adds == 2);

    // The directory: none yet (404), then one card; a failing open is 500.
    Client reader(h.server, "c-bob-gab", "bob", "hunter2");
    std::snprintf(reader.c.db, sizeof reader.c.db, "Global Address Book/contacts");
    Session absent;
    reader.sync(201, "", absent);
    CHECK(absent.s.alert_status == 404);
    cs_store_put(cs_host_gab(h.host), vcard("Directory Entry").c_str(), nullptr);
    cs_host_fail(h.host, CS_OPEN_GAB, CS_FAIL, 0, 1);
    Session broken;
    reader.sync(201, "", broken);
    CHECK(broken.rc != 0);
    CHECK(sc_count(reader.c.reply, "<Data>500</Data>") >= 1);
    CHECK(h.logged("host store Global Address Book: open_global_address_book failed: c-store: "
                   "open_global_address_book failed on purpose"));
    Session gab;
    reader.sync(201, "", gab);
    CHECK(gab.rc == 0);
    CHECK(gab.s.server_adds == 1);
    CHECK(sc_count(gab.s.server_sync, "FN:Directory Entry") == 1);
    h.stop();
    CHECK(cs_host_open_stores(h.host) == 0);
}

TEST_CASE("a revision that does not change with the data, an unknown GUID, a rollback that fails") {
    Host h;
    Client client(h.server, "c-phone");
    Session first;
    client.sync(201, ops({{"Add", "L1", "Client A"}, {"Add", "L2", "Client B"}}), first);
    REQUIRE(first.rc == 0);

    // The replace is stored (200) and the log says other clients will miss it.
    cs_host_fail(h.host, CS_REPLACE, CS_STALE_REVISION, 0, 1);
    Session stale;
    client.sync(200, ops({{"Replace", "L1", "Client A2"}}), stale);
    CHECK(stale.rc == 0);
    CHECK(sc_status(stale.s.changes_reply, "L1") == 200);
    CHECK(h.logged("replace kept the revision"));
    CHECK(h.logged("while its data changed; other clients will not be sent the change"));
    CHECK(h.fn("Client A2") == 1);

    // A listing that names an item no read finds: the item is skipped or the
    // message fails; the store keeps its four cards either way.
    cs_host_fail(h.host, CS_LIST_NEXT, CS_UNKNOWN_GUID, 1, 1);
    Session unknown;
    client.sync(200, "", unknown);
    INFO(h.log());
    CHECK(cs_host_faults(h.host, CS_LIST_NEXT) == 1);
    CHECK(cs_store_count(h.contacts) == 4);
    CHECK(sc_count(unknown.s.server_sync, "no-such-item") == 0);
    Session after;
    client.sync(200, "", after);
    CHECK(after.rc == 0);
    CHECK(cs_store_count(h.contacts) == 4);

    // A commit that fails, and the rollback after it too: both logged. The
    // next sync is a slow one, in which the client sends all it holds.
    client.held = {{"Add", "L1", "Client A2"}, {"Add", "L2", "Client B"}, {"Add", "L3", "Client C"}};
    for (const char* host_card : {"Host One", "Host Two"}) {
        char guid[32];
        REQUIRE(cs_store_find(h.contacts, ("FN:" + std::string(host_card) + "\r").c_str(), guid) == 0);
        client.held.push_back({"Add", std::string("c") + guid, host_card});
    }
    cs_host_fail(h.host, CS_COMMIT, CS_FAIL, 0, 1);
    cs_host_fail(h.host, CS_ROLLBACK, CS_FAIL, 0, 1);
    Session both;
    client.sync(200, ops({{"Add", "L3", "Client C"}}), both);
    CHECK(both.rc != 0);
    CHECK(h.logged("rollback failed too: host store alice/contacts: rollback failed: c-store: rollback failed on "
                   "purpose"));
    Session recovered;
    client.sync(200, ops({{"Add", "L3", "Client C"}}), recovered);
    CHECK(recovered.rc == 0);
    Session quiet;
    client.sync(200, "", quiet);
    CHECK(quiet.rc == 0);
    CHECK(quiet.s.server_adds + quiet.s.server_replaces + quiet.s.server_deletes == 0);
    CHECK(h.fn("Client C") == 1);
    CHECK(h.fn("Client A2") == 1);
    CHECK(h.fn("Client B") == 1);
    CHECK(cs_store_count(h.contacts) == 5);
}
