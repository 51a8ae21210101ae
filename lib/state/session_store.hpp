// Where a server keeps its sessions between two messages when several
// processes answer one client: each message may land on another process,
// which finds the session here by its token (the "s" parameter of the
// RespURI), rebuilds it from its blob (engine/session_archive.cpp), handles
// the message and saves it again, all under the session's lock, so that no
// two processes ever run one session at once.
//
// Implementations: MemorySessionStore (one process; the tests hand every
// message through it) and PgSessionStore (PostgreSQL, shared by every
// process). Failures are thrown as smk::DatastoreError.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smk::state {

/// What a store says of a session without reading its blob.
struct SessionInfo {
    std::string token;
    std::string user, device;
    bool finished = false;    ///< over, kept only to answer a resent last message
    std::int64_t updated = 0;  ///< when it was last saved, Unix milliseconds
};

class SessionStore {
public:
    virtual ~SessionStore() = default;

    /// Held while one message of the session is handled; releasing it lets
    /// the next holder in.
    class Lease {
    public:
        virtual ~Lease() = default;
    };
    /// Waits until no other holder (thread or process) has the session's
    /// lock, then takes it. The token need not be saved yet. A wait longer
    /// than a bound (seconds) throws DatastoreError.
    virtual std::unique_ptr<Lease> lock(const std::string& token) = 0;

    /// The session's blob as save() stored it; nullopt when there is none.
    virtual std::optional<std::string> load(const std::string& token) = 0;
    virtual std::optional<SessionInfo> info(const std::string& token) = 0;
    /// Stores (or replaces) the session's blob and notes the time.
    virtual void save(const std::string& token, const std::string& user, const std::string& device, bool finished,
                      std::string_view blob) = 0;
    /// Forgets the session; nothing when there is none.
    virtual void erase(const std::string& token) = 0;

    /// Sessions idle long enough to go: unfinished ones last saved at or
    /// before `unfinished_before`, finished ones at or before
    /// `finished_before` (Unix milliseconds); at most `limit`, oldest first.
    virtual std::vector<std::string> idle(std::int64_t unfinished_before, std::int64_t finished_before,
                                          std::size_t limit) = 0;
    /// The unfinished sessions of `user` on `device`.
    virtual std::vector<std::string> of_device(const std::string& user, const std::string& device) = 0;
    /// Every session of `user`, finished ones too, least recently saved first.
    virtual std::vector<SessionInfo> of_user(const std::string& user) = 0;
    /// Unfinished sessions in all.
    virtual std::size_t count_open() = 0;

    /// True when the sessions live no longer than this process (in memory):
    /// a server going away then ends them, as it ends those it holds itself.
    virtual bool process_local() const { return false; }
};

/// Unix milliseconds now.
std::int64_t unix_millis();

}  // namespace smk::state
