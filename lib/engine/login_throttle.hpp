// Slows down password guessing: failed logins are counted per user and per
// client address, and after a few of them further attempts are refused at
// once for a delay that doubles with every failure. Nothing waits: a blocked
// attempt is answered straight away (SyncML 503 with a retry time), so a
// guesser costs the server one lookup, and no thread sleeps.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "syncmlkit/server.hpp"

namespace smk::engine {

class LoginThrottle {
public:
    using Clock = std::chrono::steady_clock;
    explicit LoginThrottle(ServerConfig::LoginThrottle settings);

    /// How long a login of `user` from `address` must still wait; nullopt
    /// when it may be tried now. A device that logged in as `user` before
    /// (`known_device`) is held back by its address only, so a guesser
    /// elsewhere cannot lock the real user out. An empty address is not
    /// counted (a host that does not tell).
    /// A known device is still held back by its own count (user and
    /// device), so claiming a known device's ID gains a guesser nothing.
    /// Loopback addresses are not counted (a reverse proxy on the same
    /// machine would make every client one address); IPv6 addresses count
    /// by their /64.
    std::optional<std::chrono::seconds> blocked(const std::string& user, const std::string& address,
                                                const std::string& device, bool known_device,
                                                Clock::time_point now = Clock::now());
    /// A wrong password (or an unknown user) for `user` on `device` from `address`.
    void failed(const std::string& user, const std::string& address, const std::string& device,
                Clock::time_point now = Clock::now());
    /// A good login clears the user's counts and takes one failure off the
    /// address's (only one: a guesser who logs in to an account of his own
    /// between guesses must not wipe his address's record).
    void succeeded(const std::string& user, const std::string& address, const std::string& device);

    /// Entries held (users plus addresses), for tests.
    std::size_t tracked() const;

private:
    struct Entry {
        unsigned failures = 0;
        Clock::time_point last_failure{};
        Clock::time_point blocked_until{};
    };
    std::optional<std::chrono::seconds> wait(const std::string& key, Clock::time_point now);
    void count(const std::string& key, Clock::time_point now);
    void make_room(Clock::time_point now);

    ServerConfig::LoginThrottle settings_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

}  // namespace smk::engine
