// The device registry: nonces (raw bytes) and DevInf per device, across
// reopening and from many threads at once.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "state/device_registry.hpp"
#include "syncmlkit/datastore.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using smk::state::DeviceRegistry;

namespace {

// A fresh directory per test, removed afterwards.
struct TempDir : smk::test::TempDir {
    TempDir() : smk::test::TempDir("smk-device-registry") {}
};

}  // namespace

TEST_CASE("DeviceRegistry keeps nonces as raw bytes") {
    TempDir dir;
    DeviceRegistry registry(dir.file("devices.sqlite"));
    CHECK(registry.nonce("phone") == "");

    const std::string md5_nonce("\x00\x01\xFF\x00\x80\r\n\x00", 8);
    registry.set_nonce("phone", md5_nonce);
    CHECK(registry.nonce("phone").size() == 8);
    CHECK(registry.nonce("phone") == md5_nonce);
    CHECK(registry.nonce("laptop") == "");

    registry.set_nonce("phone", "bmV4dA==");
    CHECK(registry.nonce("phone") == "bmV4dA==");
    registry.set_nonce("phone", "");
    CHECK(registry.nonce("phone") == "");
}

TEST_CASE("DeviceRegistry keeps DevInf apart from the nonce") {
    TempDir dir;
    DeviceRegistry registry(dir.file("devices.sqlite"));
    CHECK_FALSE(registry.devinf("phone"));

    const std::string devinf =
        "<DevInf xmlns=\"syncml:devinf\"><VerDTD>1.2</VerDTD><Man>J\xC3\xBCrgen &amp; Co</Man>\r\n</DevInf>";
    registry.set_nonce("phone", std::string("n\0n", 3));
    registry.set_devinf("phone", devinf);
    REQUIRE(registry.devinf("phone"));
    CHECK(*registry.devinf("phone") == devinf);
    CHECK(registry.nonce("phone") == std::string("n\0n", 3));  // set_devinf left it alone

    registry.set_nonce("phone", "other");
    CHECK(*registry.devinf("phone") == devinf);  // and set_nonce left the DevInf alone

    // A device known by its nonce alone has no DevInf.
    registry.set_nonce("laptop", "x");
    CHECK_FALSE(registry.devinf("laptop"));
    // An empty DevInf is still one.
    registry.set_devinf("laptop", "");
    REQUIRE(registry.devinf("laptop"));
    CHECK(registry.devinf("laptop")->empty());
}

TEST_CASE("DeviceRegistry remembers across reopening, and two registries share a file") {
    TempDir dir;
    std::string path = dir.file("devices.sqlite");
    {
        DeviceRegistry registry(path);
        registry.set_nonce("phone", std::string("\0abc", 4));
        registry.set_devinf("phone", "<DevInf/>");
    }
    DeviceRegistry one(path);
    DeviceRegistry two(path);
    CHECK(one.nonce("phone") == std::string("\0abc", 4));
    CHECK(one.devinf("phone") == std::optional<std::string>("<DevInf/>"));
    two.set_nonce("phone", "fresh");
    CHECK(one.nonce("phone") == "fresh");
}

TEST_CASE("DeviceRegistry is safe to use from many threads") {
    TempDir dir;
    DeviceRegistry registry(dir.file("devices.sqlite"));
    constexpr int kThreads = 4, kRounds = 100;
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            const std::string device = "device-" + std::to_string(t);
            for (int round = 0; round < kRounds; ++round) {
                std::string nonce("\0", 1);
                nonce += std::to_string(t) + ":" + std::to_string(round);
                registry.set_nonce(device, nonce);
                registry.set_devinf(device, "<DevInf>" + std::to_string(round) + "</DevInf>");
                if (registry.nonce(device) != nonce) ++mismatches;
                if (registry.devinf(device) != "<DevInf>" + std::to_string(round) + "</DevInf>") ++mismatches;
                registry.nonce("device-" + std::to_string((t + 1) % kThreads));  // others' rows too
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    CHECK(mismatches == 0);
    for (int t = 0; t < kThreads; ++t) {
        std::string last("\0", 1);
        last += std::to_string(t) + ":" + std::to_string(kRounds - 1);
        CHECK(registry.nonce("device-" + std::to_string(t)) == last);
    }
}

TEST_CASE("DeviceRegistry throws DatastoreError naming a file it cannot open") {
    TempDir dir;
    std::ofstream(dir.path / "plain-file") << "not a folder";
    std::string path = (dir.path / "plain-file" / "devices.sqlite").string();
    try {
        DeviceRegistry registry(path);
        FAIL("opened a file under a regular file");
    } catch (const smk::DatastoreError& e) {
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
}
