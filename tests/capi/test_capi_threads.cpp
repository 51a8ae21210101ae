// One server handle, sessions from 8 threads at once, all through the C ABI
// against the C store of c_store.c: four users with two devices each, every
// device a thread of its own running a slow sync and then two-way syncs
// that add cards and replace one. Afterwards every card is in its user's
// store exactly once, and every device was sent every card of the other
// device exactly once. Labelled concurrency: run under ThreadSanitizer too
// (and under ASan+UBSan in the sanitizer build).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "c_store.h"
#include "sync_client.h"
#include "syncmlkit.h"
#include "temp_dir.hpp"

namespace {

constexpr int kUsers = 4, kDevicesPerUser = 2;
constexpr int kSessions = 4;       // per device, the first a slow sync
constexpr int kCardsPerSession = 3;

std::string vcard(const std::string& fn) {
    char buf[256];
    return sc_vcard(buf, sizeof buf, fn.c_str());
}

// The FN of every card the server added in its Sync.
std::vector<std::string> added_fns(const char* reply) {
    std::vector<std::string> out;
    const char* p = reply ? std::strstr(reply, "<Sync>") : nullptr;
    while (p && (p = std::strstr(p, "<Add>")) != nullptr) {
        const char* end = std::strstr(p, "</Add>");
        const char* fn = std::strstr(p, "FN:");
        if (!end) break;
        if (fn && fn < end) {
            fn += 3;
            std::size_t n = std::strcspn(fn, "\r\n<");
            out.emplace_back(fn, n);
        }
        p = end;
    }
    return out;
}

// A card's identity: its FN without the " v2" a replace gives it.
std::string identity(std::string fn) {
    if (fn.size() > 3 && fn.compare(fn.size() - 3, 3, " v2") == 0) fn.resize(fn.size() - 3);
    return fn;
}

struct Device {
    std::string user, id;
    std::vector<std::string> added;     // FNs it added
    std::vector<std::string> received;  // FNs the server added on it
    std::vector<std::string> errors;
    int completed = 0;
};

void run_device(smk_server* server, Device& d) {
    sc_client c;
    sc_client_init(&c, server, d.id.c_str(), d.user.c_str(), "pw");
    for (int session = 0; session < kSessions; ++session) {
        std::vector<char> ops(32768, '\0');
        for (int i = 0; i < kCardsPerSession; ++i) {
            std::string fn = d.id + " card " + std::to_string(session * kCardsPerSession + i);
            std::string luid = "L" + std::to_string(session * kCardsPerSession + i);
            sc_op(ops.data(), ops.size(), "Add", luid.c_str(), vcard(fn).c_str());
            d.added.push_back(fn);
        }
        if (session == 2)  // the device's first card, edited
            sc_op(ops.data(), ops.size(), "Replace", "L0", vcard(d.id + " card 0 v2").c_str());
        sc_session s{};
        int rc = sc_sync(&c, session == 0 ? 201 : 200, ops.data(), &s);
        if (rc != 0 || s.alert_status != 200)
            d.errors.push_back("session " + std::to_string(session) + ": rc " + std::to_string(rc) + ", header " +
                               std::to_string(s.header_status) + ", alert " + std::to_string(s.alert_status));
        else
            ++d.completed;
        for (std::string& fn : added_fns(s.server_sync)) d.received.push_back(std::move(fn));
        sc_session_free(&s);
    }
    sc_client_free(&c);
}

}  // namespace

TEST_CASE("one server handle, sessions from 8 threads at once on a C store: nothing lost, nothing twice") {
    smk::test::TempDir dir("smk-capi-threads");
    cs_host* host = cs_host_new();
    std::vector<Device> devices;
    for (int u = 0; u < kUsers; ++u) {
        std::string user = "user" + std::to_string(u);
        cs_host_add_user(host, user.c_str(), "pw");
        for (int k = 0; k < kDevicesPerUser; ++k) devices.push_back({user, user + "-dev" + std::to_string(k), {}, {}, {}, 0});
    }
    std::mutex log_mutex;
    std::vector<std::string> errors_logged;
    struct LogSink {
        std::mutex* mutex;
        std::vector<std::string>* errors;
    } sink{&log_mutex, &errors_logged};
    smk_server_config config{};
    config.size = sizeof config;
    std::string state = dir.file("state");
    config.state_dir = state.c_str();
    config.user_data = &sink;
    config.log = [](void* user_data, int level, const char* message) {
        auto* s = static_cast<LogSink*>(user_data);
        if (level < SMK_LOG_ERROR) return;
        std::lock_guard<std::mutex> lock(*s->mutex);
        s->errors->emplace_back(message);
    };
    smk_server* server = nullptr;
    REQUIRE(smk_server_new_hosted(&config, cs_host_provider(host), cs_host_auth(host), &server, nullptr) == SMK_OK);

    std::vector<std::thread> threads;
    for (Device& d : devices) threads.emplace_back(run_device, server, std::ref(d));
    for (std::thread& t : threads) t.join();
    REQUIRE(threads.size() == 8);

    // A last two-way sync of every device, one after the other, brings what
    // the other device added after its own last session.
    for (Device& d : devices) {
        sc_client c;
        sc_client_init(&c, server, d.id.c_str(), d.user.c_str(), "pw");
        // The client's anchors: as many completed sessions as it had.
        std::snprintf(c.anchor, sizeof c.anchor, "A%d", kSessions);
        c.next_anchor = kSessions + 1;
        c.session = 100;
        sc_session s{};
        int rc = sc_sync(&c, 200, "", &s);
        if (rc != 0 || s.alert_status != 200) d.errors.push_back("final session: rc " + std::to_string(rc));
        for (std::string& fn : added_fns(s.server_sync)) d.received.push_back(std::move(fn));
        sc_session_free(&s);
        sc_client_free(&c);
    }

    for (const std::string& e : errors_logged) FAIL_CHECK("logged: " << e);
    for (const Device& d : devices) {
        INFO(d.id);
        for (const std::string& e : d.errors) FAIL_CHECK(e);
        CHECK(d.completed == kSessions);
        CHECK(d.added.size() == static_cast<std::size_t>(kSessions * kCardsPerSession));
    }

    // Every user's store: each device's cards once, the edited one edited.
    for (int u = 0; u < kUsers; ++u) {
        std::string user = "user" + std::to_string(u);
        INFO(user);
        cs_store* store = cs_host_store(host, user.c_str(), "contacts");
        CHECK(cs_store_count(store) == static_cast<std::size_t>(kDevicesPerUser * kSessions * kCardsPerSession));
        for (const Device& d : devices) {
            if (d.user != user) continue;
            for (const std::string& fn : d.added) {
                bool edited = fn == d.id + " card 0";
                std::string stored = edited ? fn + " v2" : fn;
                INFO(stored);
                CHECK(cs_store_count_with(store, ("FN:" + stored + "\r").c_str()) == 1);
                if (edited) CHECK(cs_store_count_with(store, ("FN:" + fn + "\r").c_str()) == 0);
            }
        }
    }

    // Every device was sent each card of its user's other device once, and
    // none of its own.
    for (const Device& d : devices) {
        INFO(d.id);
        std::multiset<std::string> got;
        for (const std::string& fn : d.received) got.insert(identity(fn));
        std::multiset<std::string> expected;
        for (const Device& other : devices)
            if (other.user == d.user && other.id != d.id) expected.insert(other.added.begin(), other.added.end());
        CHECK(got == expected);
    }

    smk_server_free(server);
    CHECK(cs_host_open_stores(host) == 0);
    CHECK(cs_host_overlaps(host) == 0);
    cs_host_free(host);
}
