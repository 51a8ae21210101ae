// Sessions between messages in PostgreSQL, shared by every server process
// on the database (state/session_store.hpp): one row a session in
// smk_sessions, and the session's lock a session-level advisory lock on a
// hash of its token, held on a connection leased for as long as the lock
// (a process that dies loses its connections and so its locks).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "state/session_store.hpp"

namespace smk::state {

/// The sessions in the PostgreSQL at `url`, the table created or updated
/// first (pg::migrate "sessions"); a pool of at most `pool_size`
/// connections (a message holds one for its lock and briefly another).
/// lock() waits at most `lock_wait`. Throws DatastoreError.
std::unique_ptr<SessionStore> open_postgres_sessions(const std::string& url, std::size_t pool_size,
                                                     std::chrono::milliseconds lock_wait = std::chrono::seconds(10));

}  // namespace smk::state
