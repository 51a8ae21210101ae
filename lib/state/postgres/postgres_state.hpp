// Sync state and device registry in PostgreSQL, for servers in several
// processes (or on several hosts) that share one PostgreSQL: every table
// holds the rows of every database (schema.hpp), and every write names the
// rows it changes, so two processes serving two devices of one user's
// database at once do not lose each other's writes.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "state/state_backend.hpp"

namespace smk::pg {
class Connection;
}

namespace smk::state {

/// The state in the PostgreSQL at `url` ("postgresql://..." or key=value
/// conninfo), its tables created or updated first (pg::migrate). A pool of
/// at most `pool_size` connections: a DatabaseState that open() hands out
/// runs its own transaction (has_own_transaction() true) on one it holds
/// from begin() to commit() or rollback(), and leases one per statement
/// outside a transaction, so states kept open between a session's messages
/// hold none; devices() leases one a call, from any thread. A store that
/// keeps the state itself (StateInStore) hands out its own. Throws
/// DatastoreError when PostgreSQL cannot be reached.
std::unique_ptr<StateBackend> open_postgres_state(const std::string& url, std::size_t pool_size);

/// The state of database (`owner`, `category`) on `connection`, whose
/// transactions its owner runs (the PostgreSQL store: an item and its
/// mapping commit together): has_own_transaction() is false. `connection`
/// must outlive the result; its tables must exist
/// (state::postgres::migrate_state_schema, once a process).
std::unique_ptr<DatabaseState> postgres_state_on(pg::Connection& connection, const std::string& owner,
                                                 Category category);

}  // namespace smk::state
