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

#include <mutex>
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

    Host() {
        cs_host_add_user(host, "alice", "secret");
        cs_host_add_user(host, "bob", "hunter2");
        contacts = cs_host_store(host, "alice", "contacts");
        cs_store_put(contacts, vcard("Host One").c_str(), nullptr);
        cs_store_put(contacts, vcard("Host Two").c_str(), nullptr);
        std::string state = dir.file("state");
        smk_server_config config{};
        config.size = sizeof config;
        config.state_dir = state.c_str();
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
