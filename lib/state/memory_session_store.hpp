// Sessions kept in this process's memory behind the SessionStore interface:
// for tests, which hand every message of a session through it to prove that
// the blob carries everything (engine/session_archive.cpp).
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "state/session_store.hpp"

namespace smk::state {

class MemorySessionStore : public SessionStore {
public:
    /// `lock_wait_ms`: how long lock() waits for another holder.
    explicit MemorySessionStore(std::int64_t lock_wait_ms = 10000) : lock_wait_ms_(lock_wait_ms) {}

    std::unique_ptr<Lease> lock(const std::string& token) override;
    std::optional<std::string> load(const std::string& token) override;
    std::optional<SessionInfo> info(const std::string& token) override;
    void save(const std::string& token, const std::string& user, const std::string& device, bool finished,
              std::string_view blob) override;
    void erase(const std::string& token) override;
    std::vector<std::string> idle(std::int64_t unfinished_before, std::int64_t finished_before,
                                  std::size_t limit) override;
    std::vector<std::string> of_device(const std::string& user, const std::string& device) override;
    std::vector<SessionInfo> of_user(const std::string& user) override;
    std::size_t count_open() override;
    bool process_local() const override { return true; }

private:
    struct Saved {
        SessionInfo info;
        std::string blob;
        std::uint64_t order = 0;  ///< of the saves: breaks ties of `updated`
    };
    class MemoryLease;
    void unlock(const std::string& token);
    static bool earlier(const Saved& a, const Saved& b);

    std::int64_t lock_wait_ms_;
    std::mutex mutex_;
    std::condition_variable released_;
    std::set<std::string> locked_;
    std::map<std::string, Saved> sessions_;
    std::uint64_t saves_ = 0;
};

}  // namespace smk::state
