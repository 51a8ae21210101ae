#include "state/memory_session_store.hpp"

#include <algorithm>
#include <chrono>

#include "syncmlkit/datastore.hpp"

namespace smk::state {

std::int64_t unix_millis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class MemorySessionStore::MemoryLease : public SessionStore::Lease {
public:
    MemoryLease(MemorySessionStore& store, std::string token) : store_(store), token_(std::move(token)) {}
    ~MemoryLease() override { store_.unlock(token_); }
    MemoryLease(const MemoryLease&) = delete;
    MemoryLease& operator=(const MemoryLease&) = delete;

private:
    MemorySessionStore& store_;
    std::string token_;
};

std::unique_ptr<SessionStore::Lease> MemorySessionStore::lock(const std::string& token) {
    std::unique_lock<std::mutex> lock(mutex_);
    bool free = released_.wait_for(lock, std::chrono::milliseconds(lock_wait_ms_),
                                   [&] { return locked_.count(token) == 0; });
    if (!free)
        throw DatastoreError("session " + token.substr(0, 8) + ": still locked after " +
                             std::to_string(lock_wait_ms_) + " ms");
    locked_.insert(token);
    return std::make_unique<MemoryLease>(*this, token);
}

void MemorySessionStore::unlock(const std::string& token) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        locked_.erase(token);
    }
    released_.notify_all();
}

std::optional<std::string> MemorySessionStore::load(const std::string& token) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sessions_.find(token);
    if (it == sessions_.end()) return std::nullopt;
    return it->second.blob;
}

std::optional<SessionInfo> MemorySessionStore::info(const std::string& token) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sessions_.find(token);
    if (it == sessions_.end()) return std::nullopt;
    return it->second.info;
}

void MemorySessionStore::save(const std::string& token, const std::string& user, const std::string& device,
                              bool finished, std::string_view blob) {
    std::lock_guard<std::mutex> lock(mutex_);
    Saved& s = sessions_[token];
    s.info = SessionInfo{token, user, device, finished, unix_millis()};
    s.blob.assign(blob.data(), blob.size());
    s.order = ++saves_;
}

void MemorySessionStore::erase(const std::string& token) {
    std::lock_guard<std::mutex> lock(mutex_);
    sessions_.erase(token);
}

bool MemorySessionStore::earlier(const Saved& a, const Saved& b) {
    if (a.info.updated != b.info.updated) return a.info.updated < b.info.updated;
    return a.order < b.order;
}

std::vector<std::string> MemorySessionStore::idle(std::int64_t unfinished_before, std::int64_t finished_before,
                                                  std::size_t limit) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<const Saved*> found;
    for (const auto& [token, s] : sessions_)
        if (s.info.updated <= (s.info.finished ? finished_before : unfinished_before)) found.push_back(&s);
    std::sort(found.begin(), found.end(), [](const Saved* a, const Saved* b) { return earlier(*a, *b); });
    std::vector<std::string> out;
    for (std::size_t i = 0; i < found.size() && i < limit; ++i) out.push_back(found[i]->info.token);
    return out;
}

std::vector<std::string> MemorySessionStore::of_device(const std::string& user, const std::string& device) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [token, s] : sessions_)
        if (!s.info.finished && s.info.user == user && s.info.device == device) out.push_back(token);
    return out;
}

std::vector<SessionInfo> MemorySessionStore::of_user(const std::string& user) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<const Saved*> found;
    for (const auto& [token, s] : sessions_)
        if (s.info.user == user) found.push_back(&s);
    std::sort(found.begin(), found.end(), [](const Saved* a, const Saved* b) { return earlier(*a, *b); });
    std::vector<SessionInfo> out;
    for (const Saved* s : found) out.push_back(s->info);
    return out;
}

std::size_t MemorySessionStore::count_open() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    for (const auto& [token, s] : sessions_) n += !s.info.finished;
    return n;
}

}  // namespace smk::state
