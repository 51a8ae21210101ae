// The device registry: nonces (raw bytes) and DevInf per user and device,
// written only for logins, bounded per user, across reopening and from many
// threads at once.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "state/sqlite/device_registry.hpp"
#include "syncmlkit/datastore.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using smk::state::SqliteDeviceRegistry;

namespace {

// A fresh directory per test, removed afterwards.
struct TempDir : smk::test::TempDir {
    TempDir() : smk::test::TempDir("smk-device-registry") {}
};

}  // namespace

using smk::state::DeviceLogin;

TEST_CASE("DeviceRegistry knows a device only once it logged in, and keeps nonces as raw bytes") {
    TempDir dir;
    SqliteDeviceRegistry registry(dir.file("devices.sqlite"));
    CHECK_FALSE(registry.login("alice", "phone"));

    const std::string md5_nonce("\x00\x01\xFF\x00\x80\r\n\x00", 8);
    registry.record_login("alice", "phone", DeviceLogin{md5_nonce, 7}, 10);
    REQUIRE(registry.login("alice", "phone"));
    CHECK(registry.login("alice", "phone")->nonce == md5_nonce);
    CHECK(registry.login("alice", "phone")->nonce_floor == 7);
    // Keyed by user and device: the same device ID of another user is another row.
    CHECK_FALSE(registry.login("bob", "phone"));
    CHECK_FALSE(registry.login("alice", "laptop"));

    registry.record_login("alice", "phone", DeviceLogin{"", 8}, 10);
    CHECK(registry.login("alice", "phone")->nonce.empty());
}

TEST_CASE("DeviceRegistry keeps DevInf apart from the nonce, and only for known devices") {
    TempDir dir;
    SqliteDeviceRegistry registry(dir.file("devices.sqlite"));
    CHECK_FALSE(registry.devinf("alice", "phone"));

    const std::string devinf =
        "<DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD><Man>J\xC3\xBCrgen &amp; Co</Man>\r\n</DevInf>";
    // No row without a login: nothing is written.
    registry.set_devinf("alice", "phone", devinf);
    CHECK_FALSE(registry.devinf("alice", "phone"));
    CHECK(registry.device_count("alice") == 0);

    registry.record_login("alice", "phone", DeviceLogin{std::string("n\0n", 3), 1}, 10);
    registry.set_devinf("alice", "phone", devinf);
    REQUIRE(registry.devinf("alice", "phone"));
    CHECK(*registry.devinf("alice", "phone") == devinf);
    CHECK(registry.login("alice", "phone")->nonce == std::string("n\0n", 3));  // set_devinf left it alone

    registry.record_login("alice", "phone", DeviceLogin{"other", 2}, 10);
    CHECK(*registry.devinf("alice", "phone") == devinf);  // and a login left the DevInf alone
    CHECK_FALSE(registry.devinf("bob", "phone"));
}

TEST_CASE("DeviceRegistry keeps at most max_devices per user, the most recently seen") {
    TempDir dir;
    SqliteDeviceRegistry registry(dir.file("devices.sqlite"));
    for (int i = 0; i < 12; ++i) registry.record_login("alice", "dev-" + std::to_string(i), DeviceLogin{"n", 0}, 5);
    registry.record_login("bob", "dev-0", DeviceLogin{"n", 0}, 5);
    CHECK(registry.device_count("alice") == 5);
    CHECK(registry.device_count("bob") == 1);
    CHECK(registry.login("alice", "dev-11"));  // the newest is kept
}

TEST_CASE("DeviceRegistry remembers across reopening, and two registries share a file") {
    TempDir dir;
    std::string path = dir.file("devices.sqlite");
    {
        SqliteDeviceRegistry registry(path);
        registry.record_login("alice", "phone", DeviceLogin{std::string("\0abc", 4), 3}, 10);
        registry.set_devinf("alice", "phone", "<DevInf/>");
    }
    SqliteDeviceRegistry one(path);
    SqliteDeviceRegistry two(path);
    CHECK(one.login("alice", "phone")->nonce == std::string("\0abc", 4));
    CHECK(one.devinf("alice", "phone") == std::optional<std::string>("<DevInf/>"));
    two.record_login("alice", "phone", DeviceLogin{"fresh", 4}, 10);
    CHECK(one.login("alice", "phone")->nonce == "fresh");
}

TEST_CASE("DeviceRegistry is safe to use from many threads") {
    TempDir dir;
    SqliteDeviceRegistry registry(dir.file("devices.sqlite"));
    constexpr int kThreads = 4, kRounds = 100;
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            const std::string device = "device-" + std::to_string(t);
            for (int round = 0; round < kRounds; ++round) {
                std::string nonce("\0", 1);
                nonce += std::to_string(t) + ":" + std::to_string(round);
                registry.record_login("alice", device, DeviceLogin{nonce, round}, 100);
                registry.set_devinf("alice", device, "<DevInf>" + std::to_string(round) + "</DevInf>");
                if (registry.login("alice", device)->nonce != nonce) ++mismatches;
                if (registry.devinf("alice", device) != "<DevInf>" + std::to_string(round) + "</DevInf>") ++mismatches;
                registry.login("alice", "device-" + std::to_string((t + 1) % kThreads));  // others' rows too
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    CHECK(mismatches == 0);
    for (int t = 0; t < kThreads; ++t) {
        std::string last("\0", 1);
        last += std::to_string(t) + ":" + std::to_string(kRounds - 1);
        CHECK(registry.login("alice", "device-" + std::to_string(t))->nonce == last);
    }
}

TEST_CASE("DeviceRegistry throws DatastoreError naming a file it cannot open") {
    TempDir dir;
    std::ofstream(dir.path / "plain-file") << "not a folder";
    std::string path = (dir.path / "plain-file" / "devices.sqlite").string();
    try {
        SqliteDeviceRegistry registry(path);
        FAIL("opened a file under a regular file");
    } catch (const smk::DatastoreError& e) {
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
}
