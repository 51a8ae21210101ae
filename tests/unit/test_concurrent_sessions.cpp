// Many sessions at once through one Server: several users, and several
// devices of one user on the same database, each thread a client running
// complete syncs with items. Afterwards every item is in its user's store
// exactly once, and every device has been sent every item of the others
// exactly once. Run under ThreadSanitizer too (label "concurrency").
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine_client.hpp"
#include "memory_store.hpp"
#include "temp_dir.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_status;
using smk::test::TestClient;
namespace steps = smk::test::steps;

namespace {

constexpr int kSessions = 3;          // per device, the first a slow sync
constexpr int kItemsPerSession = 4;   // added by the device in each session

struct Device {
    std::string user, password, id;
    std::vector<std::string> added;     // FN of every item it added
    std::vector<std::string> received;  // FN of every item the server sent it
    int last_session = 0;               // anchors: "A<n>"
};

// The FN of a vCard.
std::string fn_of(const std::string& card) {
    std::size_t p = card.find("FN:");
    if (p == std::string::npos) return "";
    std::size_t e = card.find_first_of("\r\n", p);
    return card.substr(p + 3, e - p - 3);
}

class Errors {
public:
    void add(const std::string& e) {
        std::lock_guard<std::mutex> lock(mutex_);
        list_.push_back(e);
    }
    std::vector<std::string> list() {
        std::lock_guard<std::mutex> lock(mutex_);
        return list_;
    }

private:
    std::mutex mutex_;
    std::vector<std::string> list_;
};

// One complete sync of `d` adding `items` new contacts; problems go to `errors`.
void sync_once(Server& server, Device& d, int items, Errors& errors) {
    TestClient c(server, d.id);
    c.user = d.user;
    c.password = d.password;
    const std::string who = d.user + "/" + d.id + " session " + std::to_string(d.last_session + 1) + ": ";
    const bool slow = d.last_session == 0;
    const std::string last = slow ? "" : "A" + std::to_string(d.last_session);
    const std::string next = "A" + std::to_string(d.last_session + 1);
    try {
        Message pkg2 = steps::init(c, slow ? "201" : "200", "contacts", last, next);
        const Command* hdr = find_status(pkg2, "SyncHdr");
        const Command* alert = find_status(pkg2, "Alert");
        if (!hdr || hdr->data != "212") return errors.add(who + "login not accepted: " + (hdr ? hdr->data : "none"));
        if (!alert || alert->data != "200") return errors.add(who + "alert answered " + (alert ? alert->data : "none"));

        std::vector<Command> ops;
        std::vector<std::string> fns;
        for (int i = 0; i < items; ++i) {
            std::string fn = d.user + " " + d.id + " s" + std::to_string(d.last_session + 1) + " i" + std::to_string(i);
            fns.push_back(fn);
            ops.push_back(TestClient::item_command(
                CommandKind::Add, "L" + std::to_string(d.last_session + 1) + "-" + std::to_string(i),
                "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + fn + "\r\nN:" + fn + ";;;;\r\nEND:VCARD\r\n"));
        }
        Message pkg4 = steps::client_changes(c, pkg2, "contacts", std::move(ops));
        if (!pkg4.final) return errors.add(who + "the server's changes span several messages");
        for (int i = 0; i < items; ++i) {
            const Command* s = find_status(pkg4, "Add", static_cast<std::size_t>(i));
            if (!s || s->data != "201") return errors.add(who + "add " + std::to_string(i) + " answered " + (s ? s->data : "none"));
        }
        std::vector<std::string> got;
        for (const Command& op : steps::server_ops(pkg4)) {
            if (op.kind != CommandKind::Add) return errors.add(who + "the server sent a " + command_name(op.kind));
            for (const Item& it : op.items) got.push_back(fn_of(it.data));
        }
        steps::map_phase(c, pkg4, "contacts");
        if (!c.last_response.session_ended) return errors.add(who + "the session did not end after the map");
        d.added.insert(d.added.end(), fns.begin(), fns.end());
        d.received.insert(d.received.end(), got.begin(), got.end());
        ++d.last_session;
    } catch (const std::exception& e) {
        errors.add(who + e.what());
    }
}

std::vector<Device> devices() {
    std::vector<Device> out;
    // Five users with one device each, and alice with four.
    for (const char* user : {"bob", "carol", "dave", "erin", "frank"}) out.push_back({user, std::string(user) + "-pw", "IMEI:" + std::string(user), {}, {}, 0});
    for (int i = 0; i < 4; ++i) out.push_back({"alice", "secret", "IMEI:alice-" + std::to_string(i), {}, {}, 0});
    return out;
}

// Runs every device's sessions, one thread per device, then a last sync of
// each (no changes, one after the other) that fetches what it lacks.
void run_all(Server& server, std::vector<Device>& devs, Errors& errors) {
    std::vector<std::thread> threads;
    for (Device& d : devs)
        threads.emplace_back([&server, &d, &errors] {
            for (int s = 0; s < kSessions; ++s) sync_once(server, d, kItemsPerSession, errors);
        });
    for (auto& t : threads) t.join();
    for (Device& d : devs) sync_once(server, d, 0, errors);
}

// Every device knows every item of its user exactly once: its own, and the
// others' as sent by the server.
void check_devices(const std::vector<Device>& devs, const std::map<std::string, std::multiset<std::string>>& stored) {
    for (const Device& d : devs) {
        INFO(d.user << " " << d.id);
        CHECK(d.last_session == kSessions + 1);
        CHECK(d.added.size() == static_cast<std::size_t>(kSessions * kItemsPerSession));
        std::multiset<std::string> known(d.added.begin(), d.added.end());
        known.insert(d.received.begin(), d.received.end());
        CHECK(known == stored.at(d.user));
    }
}

// What each user's store holds: no item lost, none twice.
void check_stores(const std::vector<Device>& devs, const std::map<std::string, std::multiset<std::string>>& stored) {
    std::map<std::string, std::multiset<std::string>> added;
    for (const Device& d : devs) added[d.user].insert(d.added.begin(), d.added.end());
    CHECK(stored.size() == 6);
    for (const auto& [user, fns] : added) {
        INFO(user);
        CHECK(stored.at(user) == fns);
        for (const auto& fn : fns) CHECK(stored.at(user).count(fn) == 1);
    }
    CHECK(stored.at("alice").size() == static_cast<std::size_t>(4 * kSessions * kItemsPerSession));
}

}  // namespace

TEST_CASE("many sessions at once on the SQLite store: nothing lost, nothing twice") {
    smk::test::TestServer ts;
    std::vector<Device> devs = devices();
    for (const Device& d : devs) ts.auth->users[d.user] = d.password;
    Errors errors;
    run_all(*ts.server, devs, errors);
    for (const auto& e : errors.list()) FAIL_CHECK(e);
    REQUIRE(errors.list().empty());

    std::map<std::string, std::multiset<std::string>> stored;
    for (const Device& d : devs)
        if (!stored.count(d.user))
            for (const std::string& card : ts.items(d.user, Category::contacts)) stored[d.user].insert(fn_of(card));
    check_stores(devs, stored);
    check_devices(devs, stored);
    CHECK(ts.server->session_count() == 0);
}

TEST_CASE("many sessions at once on a host's own store: nothing lost, nothing twice") {
    smk::test::TempDir dir("smk-concurrent");
    auto auth = std::make_shared<smk::test::MapAuth>();
    auto provider = std::make_shared<smk::test::MemoryProvider>();
    std::vector<Device> devs = devices();
    for (const Device& d : devs) auth->users[d.user] = d.password;
    ServerConfig config;
    config.auth = auth;
    config.datastores = provider;
    config.state_dir = dir.file("state");
    Server server(config);
    Errors errors;
    run_all(server, devs, errors);
    for (const auto& e : errors.list()) FAIL_CHECK(e);
    REQUIRE(errors.list().empty());

    std::map<std::string, std::multiset<std::string>> stored;
    for (const Device& d : devs)
        if (!stored.count(d.user))
            for (const std::string& card : provider->store(d.user, Category::contacts)->data())
                stored[d.user].insert(fn_of(card));
    check_stores(devs, stored);
    check_devices(devs, stored);
    // Stores of users with one device never see two sessions at once.
    for (const char* user : {"bob", "carol", "dave", "erin", "frank"})
        CHECK(provider->store(user, Category::contacts)->overlaps == 0);
    WARN("overlapping calls on alice's store (four devices at once): "
         << provider->store("alice", Category::contacts)->overlaps.load());
}
