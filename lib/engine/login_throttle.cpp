#include "engine/login_throttle.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace smk::engine {
namespace {

// Keys of the two kinds share one map; the prefix keeps a user named like
// an address apart from it.
std::string user_key(const std::string& user) { return "u\n" + user; }
std::string device_key(const std::string& user, const std::string& device) { return "d\n" + user + "\n" + device; }

// The address as counted: "" for loopback (not counted), an IPv6 address
// by its /64 (one subscriber's prefix), an IPv4 address as it is.
std::string address_key(const std::string& address) {
    if (address.empty()) return "";
    unsigned char v6[16];
    if (inet_pton(AF_INET6, address.c_str(), v6) == 1) {
        static const unsigned char loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        if (std::memcmp(v6, loopback, 16) == 0) return "";
        static const char kHex[] = "0123456789abcdef";
        std::string key = "a\n";
        for (int i = 0; i < 8; ++i) {
            key += kHex[v6[i] >> 4];
            key += kHex[v6[i] & 0xF];
        }
        return key + "::/64";
    }
    if (address.rfind("127.", 0) == 0 || address == "localhost") return "";
    return "a\n" + address;
}

}  // namespace

LoginThrottle::LoginThrottle(ServerConfig::LoginThrottle settings) : settings_(settings) {}

std::optional<std::chrono::seconds> LoginThrottle::wait(const std::string& key, Clock::time_point now) {
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.blocked_until <= now) return std::nullopt;
    auto left = std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now);
    return std::max(left, std::chrono::seconds(1));
}

std::optional<std::chrono::seconds> LoginThrottle::blocked(const std::string& user, const std::string& address,
                                                           const std::string& device, bool known_device,
                                                           Clock::time_point now) {
    if (settings_.free_failures == 0) return std::nullopt;
    std::lock_guard<std::mutex> lock(mutex_);
    std::optional<std::chrono::seconds> longest;
    auto consider = [&](const std::string& key) {
        if (key.empty()) return;
        if (auto w = wait(key, now); w && (!longest || *w > *longest)) longest = w;
    };
    consider(address_key(address));
    consider(known_device ? device_key(user, device) : user_key(user));
    return longest;
}

void LoginThrottle::count(const std::string& key, Clock::time_point now) {
    Entry& e = entries_[key];
    // A quiet hour (or four maximal delays) forgives earlier mistakes.
    auto forgive = std::max<Clock::duration>(std::chrono::hours(1), 4 * settings_.max_delay);
    if (e.failures > 0 && now - e.last_failure > forgive) e.failures = 0;
    ++e.failures;
    e.last_failure = now;
    if (e.failures < settings_.free_failures) return;
    // first_delay, doubled for every failure past the free ones, at most max_delay.
    unsigned doublings = std::min(e.failures - settings_.free_failures, 30u);
    auto delay = settings_.first_delay * (std::int64_t{1} << doublings);
    e.blocked_until = now + std::min<std::chrono::seconds>(delay, settings_.max_delay);
}

void LoginThrottle::failed(const std::string& user, const std::string& address, const std::string& device,
                           Clock::time_point now) {
    if (settings_.free_failures == 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    make_room(now);
    count(user_key(user), now);
    count(device_key(user, device), now);
    if (std::string key = address_key(address); !key.empty()) count(key, now);
}

void LoginThrottle::succeeded(const std::string& user, const std::string& address, const std::string& device) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.erase(user_key(user));
    entries_.erase(device_key(user, device));
    std::string key = address_key(address);
    auto it = key.empty() ? entries_.end() : entries_.find(key);
    if (it != entries_.end() && it->second.failures > 0 && --it->second.failures == 0) entries_.erase(it);
}

// Bounds the map: entries whose block is over and that are older than the
// longest delay go first; if that is not enough, the oldest half.
void LoginThrottle::make_room(Clock::time_point now) {
    if (entries_.size() + 2 <= settings_.max_tracked) return;
    for (auto it = entries_.begin(); it != entries_.end();)
        it = it->second.blocked_until <= now && now - it->second.last_failure > settings_.max_delay
                 ? entries_.erase(it)
                 : std::next(it);
    if (entries_.size() + 2 <= settings_.max_tracked) return;
    std::vector<Clock::time_point> times;
    times.reserve(entries_.size());
    for (const auto& [key, e] : entries_) times.push_back(e.last_failure);
    auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    Clock::time_point cut = *middle;
    for (auto it = entries_.begin(); it != entries_.end();)
        it = it->second.last_failure <= cut ? entries_.erase(it) : std::next(it);
}

std::size_t LoginThrottle::tracked() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

}  // namespace smk::engine
