// Login throttling on its own, with explicit time points: free failures,
// the doubling delay and its cap, forgiveness after a quiet hour, a known
// device held back by its address only, and the bound on what is tracked.
#include <catch2/catch.hpp>

#include "engine/login_throttle.hpp"

using smk::engine::LoginThrottle;
using namespace std::chrono_literals;

namespace {

smk::ServerConfig::LoginThrottle settings() {
    smk::ServerConfig::LoginThrottle s;
    s.free_failures = 3;
    s.first_delay = 2s;
    s.max_delay = 60s;
    s.max_tracked = 100;
    return s;
}

}  // namespace

TEST_CASE("failures past the free ones block for a delay that doubles up to the cap") {
    LoginThrottle t(settings());
    auto now = LoginThrottle::Clock::now();
    t.failed("alice", "10.0.0.1", "dev", now);
    t.failed("alice", "10.0.0.1", "dev", now);
    CHECK_FALSE(t.blocked("alice", "10.0.0.1", "dev", false, now));
    t.failed("alice", "10.0.0.1", "dev", now);  // the third: 2 s
    REQUIRE(t.blocked("alice", "10.0.0.1", "dev", false, now));
    CHECK(*t.blocked("alice", "10.0.0.1", "dev", false, now) == 2s);
    CHECK_FALSE(t.blocked("alice", "10.0.0.1", "dev", false, now + 3s));
    t.failed("alice", "10.0.0.1", "dev", now + 3s);  // 4 s
    CHECK(*t.blocked("alice", "10.0.0.1", "dev", false, now + 3s) == 4s);
    for (int i = 0; i < 20; ++i) t.failed("alice", "10.0.0.1", "dev", now + 10s);
    CHECK(*t.blocked("alice", "10.0.0.1", "dev", false, now + 10s) == 60s);  // capped
    CHECK_FALSE(t.blocked("alice", "10.0.0.1", "dev", false, now + 71s));
}

TEST_CASE("the user is blocked from every address, but not on a device it logged in from before") {
    LoginThrottle t(settings());
    auto now = LoginThrottle::Clock::now();
    for (int i = 0; i < 3; ++i) t.failed("alice", "203.0.113." + std::to_string(i), "guesser", now);
    // Each address failed once: no address is blocked, the user is.
    CHECK(t.blocked("alice", "198.51.100.7", "laptop", false, now));
    CHECK_FALSE(t.blocked("alice", "198.51.100.7", "phone", true, now));  // her own phone gets in
    // Claiming her phone's ID gains a guesser nothing: that device has its own count.
    for (int i = 0; i < 3; ++i) t.failed("alice", "203.0.113." + std::to_string(10 + i), "phone", now);
    CHECK(t.blocked("alice", "198.51.100.8", "phone", true, now));
    CHECK_FALSE(t.blocked("alice", "198.51.100.8", "tablet", true, now));
    CHECK_FALSE(t.blocked("bob", "203.0.113.0", "dev", false, now));
    // An address that failed too often is blocked for every user and device.
    for (int i = 0; i < 3; ++i) t.failed("user" + std::to_string(i), "192.0.2.9", "dev", now);
    CHECK(t.blocked("bob", "192.0.2.9", "dev", true, now));
}

TEST_CASE("a success clears the counts, and a quiet hour forgives") {
    LoginThrottle t(settings());
    auto now = LoginThrottle::Clock::now();
    for (int i = 0; i < 2; ++i) t.failed("alice", "10.0.0.1", "dev", now);
    t.succeeded("alice", "10.0.0.1", "dev");
    t.failed("alice", "10.0.0.1", "dev", now);
    CHECK_FALSE(t.blocked("alice", "10.0.0.1", "dev", false, now));  // one failure since the success

    for (int i = 0; i < 2; ++i) t.failed("carol", "10.0.0.2", "dev", now);
    t.failed("carol", "10.0.0.2", "dev", now + 2h);  // the earlier two are forgiven
    CHECK_FALSE(t.blocked("carol", "10.0.0.2", "dev", false, now + 2h));
}

TEST_CASE("what the throttle tracks stays bounded, and 0 free failures turns it off") {
    LoginThrottle t(settings());
    auto now = LoginThrottle::Clock::now();
    for (int i = 0; i < 1000; ++i) t.failed("user" + std::to_string(i), "10.1." + std::to_string(i), "dev", now + i * 1ms);
    CHECK(t.tracked() <= 100);

    auto off = settings();
    off.free_failures = 0;
    LoginThrottle none(off);
    for (int i = 0; i < 50; ++i) none.failed("alice", "10.0.0.1", "dev", now);
    CHECK_FALSE(none.blocked("alice", "10.0.0.1", "dev", false, now));
    CHECK(none.tracked() == 0);
}

TEST_CASE("loopback is not counted, IPv6 counts by /64, and a success takes one failure off an address") {
    LoginThrottle t(settings());
    auto now = LoginThrottle::Clock::now();
    for (int i = 0; i < 10; ++i) t.failed("user" + std::to_string(i), "127.0.0.1", "dev", now);
    CHECK_FALSE(t.blocked("bob", "127.0.0.1", "dev", false, now));  // a reverse proxy's address
    for (int i = 0; i < 10; ++i) t.failed("user" + std::to_string(i), "::1", "dev", now);
    CHECK_FALSE(t.blocked("bob", "::1", "dev", false, now));

    for (int i = 1; i <= 3; ++i) t.failed("u" + std::to_string(i), "2001:db8:1:2::" + std::to_string(i), "dev", now);
    CHECK(t.blocked("bob", "2001:db8:1:2:ffff::9", "dev", false, now));  // the same /64
    CHECK_FALSE(t.blocked("bob", "2001:db8:1:3::1", "dev", false, now));

    // A guesser who logs in to an account of his own between guesses.
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 2; ++i) t.failed("alice", "192.0.2.50", "x" + std::to_string(round), now);
        t.succeeded("mallory", "192.0.2.50", "m");
    }
    CHECK(t.blocked("carol", "192.0.2.50", "c", false, now));
}
