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
    t.failed("alice", "10.0.0.1", now);
    t.failed("alice", "10.0.0.1", now);
    CHECK_FALSE(t.blocked("alice", "10.0.0.1", false, now));
    t.failed("alice", "10.0.0.1", now);  // the third: 2 s
    REQUIRE(t.blocked("alice", "10.0.0.1", false, now));
    CHECK(*t.blocked("alice", "10.0.0.1", false, now) == 2s);
    CHECK_FALSE(t.blocked("alice", "10.0.0.1", false, now + 3s));
    t.failed("alice", "10.0.0.1", now + 3s);  // 4 s
    CHECK(*t.blocked("alice", "10.0.0.1", false, now + 3s) == 4s);
    for (int i = 0; i < 20; ++i) t.failed("alice", "10.0.0.1", now + 10s);
    CHECK(*t.blocked("alice", "10.0.0.1", false, now + 10s) == 60s);  // capped
    CHECK_FALSE(t.blocked("alice", "10.0.0.1", false, now + 71s));
}

TEST_CASE("the user is blocked from every address, but not on a device it logged in from before") {
    LoginThrottle t(settings());
    auto now = LoginThrottle::Clock::now();
    for (int i = 0; i < 3; ++i) t.failed("alice", "203.0.113." + std::to_string(i), now);
    // Each address failed once: no address is blocked, the user is.
    CHECK(t.blocked("alice", "198.51.100.7", false, now));
    CHECK_FALSE(t.blocked("alice", "198.51.100.7", true, now));  // her own phone gets in
    CHECK_FALSE(t.blocked("bob", "203.0.113.0", false, now));
    // An address that failed too often is blocked for every user and device.
    for (int i = 0; i < 3; ++i) t.failed("user" + std::to_string(i), "192.0.2.9", now);
    CHECK(t.blocked("bob", "192.0.2.9", true, now));
}

TEST_CASE("a success clears the counts, and a quiet hour forgives") {
    LoginThrottle t(settings());
    auto now = LoginThrottle::Clock::now();
    for (int i = 0; i < 2; ++i) t.failed("alice", "10.0.0.1", now);
    t.succeeded("alice", "10.0.0.1");
    t.failed("alice", "10.0.0.1", now);
    CHECK_FALSE(t.blocked("alice", "10.0.0.1", false, now));  // one failure since the success

    for (int i = 0; i < 2; ++i) t.failed("carol", "10.0.0.2", now);
    t.failed("carol", "10.0.0.2", now + 2h);  // the earlier two are forgiven
    CHECK_FALSE(t.blocked("carol", "10.0.0.2", false, now + 2h));
}

TEST_CASE("what the throttle tracks stays bounded, and 0 free failures turns it off") {
    LoginThrottle t(settings());
    auto now = LoginThrottle::Clock::now();
    for (int i = 0; i < 1000; ++i) t.failed("user" + std::to_string(i), "10.1." + std::to_string(i), now + i * 1ms);
    CHECK(t.tracked() <= 100);

    auto off = settings();
    off.free_failures = 0;
    LoginThrottle none(off);
    for (int i = 0; i < 50; ++i) none.failed("alice", "10.0.0.1", now);
    CHECK_FALSE(none.blocked("alice", "10.0.0.1", false, now));
    CHECK(none.tracked() == 0);
}
