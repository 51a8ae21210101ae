// The SQLite DatabaseState: the sync state's parts on one SQLite
// connection, either the SQLite store's own (the store runs the
// transaction) or a file of the state's own, for a host's store.
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>

#include "state/sqlite/base_versions.hpp"
#include "state/sqlite/pairing_index.hpp"
#include "state/sqlite/resume_state.hpp"
#include "state/sqlite/sync_state.hpp"
#include "state/state_backend.hpp"

namespace smk::state {

class SqliteDatabaseState final : public DatabaseState {
public:
    /// The state in `db`, whose transactions its owner runs (SqliteDatastore:
    /// has_own_transaction() is false). `db` must outlive this object.
    explicit SqliteDatabaseState(SQLite::Database& db);
    /// The state in the file at `path`, created if missing (busy timeout,
    /// WAL), with a transaction of its own (BEGIN IMMEDIATE).
    explicit SqliteDatabaseState(const std::string& path);
    ~SqliteDatabaseState() override;

    SyncState& sync() override { return sync_; }
    PairingIndex& pairing() override { return pairing_; }
    BaseVersions& bases() override { return bases_; }
    ResumeState& resume() override { return resume_; }

    bool has_own_transaction() const override { return own_ != nullptr; }
    void begin() override;
    /// Refuses (DatastoreError) a transaction that lost a write
    /// (sqlite/lost_transaction.hpp) instead of committing the rest.
    void commit() override;
    /// Also clears the lost-transaction mark.
    void rollback() override;

    /// The connection (for tests that fail it on purpose).
    SQLite::Database& database() { return db_; }

private:
    std::unique_ptr<SQLite::Database> own_;  // first: closed after the parts are gone
    SQLite::Database& db_;
    SqliteSyncState sync_;
    SqlitePairingIndex pairing_;
    SqliteBaseVersions bases_;
    SqliteResumeState resume_;
};

}  // namespace smk::state
