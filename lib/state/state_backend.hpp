// Where the server keeps what it remembers of clients: per database (an
// owner's category, or the global address book) the sync state with its
// pairing index, base versions and resume points, and per server the
// device registry. SQLite files under the state dir by default
// (open_sqlite_state), PostgreSQL beside it; a store that keeps the state
// in its own database offers it (StateInStore), so that an item and its
// mapping commit in one transaction. The engine sees only these interfaces.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "state/base_versions.hpp"
#include "state/device_registry.hpp"
#include "state/pairing_index.hpp"
#include "state/resume_state.hpp"
#include "state/sync_state.hpp"
#include "syncmlkit/datastore.hpp"

namespace smk::state {

class SessionStore;

/// The sync state of one database (its owner's category, or the global address book),
/// with the transaction it commits in.
class DatabaseState {
public:
    virtual ~DatabaseState() = default;
    /// The parts, all in one database and one transaction; each lives as
    /// long as this object.
    virtual SyncState& sync() = 0;
    virtual PairingIndex& pairing() = 0;
    virtual BaseVersions& bases() = 0;
    virtual ResumeState& resume() = 0;
    /// The state's own transaction, around the store's (begin: store then state; commit:
    /// state then store). A state kept in the store's own database returns false from
    /// has_own_transaction() and commits with the store: its begin(), commit() and
    /// rollback() do nothing.
    ///
    /// With a transaction of its own: commit() throws when a write inside
    /// the transaction failed (the transaction is then not committed, not
    /// even in part), and the caller rolls back; rollback() never throws for
    /// want of an open transaction. Writes outside begin()/commit() commit
    /// on their own (the engine resets a client's anchors so after a
    /// failed store commit).
    virtual bool has_own_transaction() const = 0;
    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
};

/// A Datastore that keeps sync state in its own database (SQLite store, PostgreSQL store),
/// so that an item and its mapping commit in one transaction.
class StateInStore {
public:
    /// The state of this store's database; has_own_transaction() is false
    /// (the store's begin/commit/rollback cover it). Called outside a
    /// transaction of the store (tables may be made).
    virtual std::unique_ptr<DatabaseState> open_state() = 0;
    virtual ~StateInStore() = default;
};

/// Where a server keeps sync state: SQLite files under a directory, or PostgreSQL.
/// Shared by every session of a server: open() and devices() are safe to
/// call from many threads; each DatabaseState is used by one thread at a time.
class StateBackend {
public:
    virtual ~StateBackend() = default;
    /// The state of a database whose items `store` holds; a store that is a
    /// StateInStore hands out its own. `owner` is "" for the global address book.
    /// Throws DatastoreError (or the backend's own exception) when it cannot be opened.
    virtual std::unique_ptr<DatabaseState> open(const std::string& owner, Category category, Datastore& store) = 0;
    virtual DeviceRegistry& devices() = 0;
    /// Sessions kept between messages for every process (nullptr: in this process's memory).
    virtual SessionStore* sessions() { return nullptr; }
    /// The key of the server's stateless nonces when every process of this
    /// state must share it (a nonce one process issued is checked by
    /// another); nullopt: the server keeps its own under its state dir.
    virtual std::optional<std::string> shared_secret() { return std::nullopt; }
};

/// The backend `url` names: a "postgresql://" URL opens PostgreSQL
/// (open_postgres_state, a pool of `pool_size`), "" SQLite under `state_dir`
/// (open_sqlite_state). Throws std::invalid_argument for any other URL.
std::unique_ptr<StateBackend> open_state_backend(const std::string& url, const std::string& state_dir,
                                                 std::size_t pool_size);

/// Today's layout under `state_dir` (created if missing): the device
/// registry in devices.sqlite, and for a store that is no StateInStore a
/// file per database, sync/<owner, percent-encoded, or _global>/<category>.sqlite.
std::unique_ptr<StateBackend> open_sqlite_state(const std::string& state_dir);

/// The devices of `user` in the SQLite device registry under `state_dir`,
/// in device order, read without writing (a server may be using the file);
/// none when there is no registry yet. Throws DatastoreError.
std::vector<RegisteredDevice> read_sqlite_devices(const std::string& state_dir, const std::string& user);

}  // namespace smk::state
