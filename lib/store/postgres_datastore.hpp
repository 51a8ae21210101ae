// The Datastore of one user's database in PostgreSQL: the items of every
// user and category share one table (smk_store_items, keyed by owner,
// category and GUID), so that several server processes serve any user.
//
// A store leases one connection from the provider's pool for its life (one
// session uses a store at a time) and runs begin/commit/rollback on it; its
// cursors share the lease, so a cursor may outlive its store. begin() also
// takes a lock on the database (a transaction-scoped advisory lock on its
// owner and category), so that writers of one database take turns message
// by message, whichever process they run in, as the SQLite store's writers
// do (BEGIN IMMEDIATE); it waits up to 5 s for another's message.
//
// GUIDs and revisions come from sequences (smk_store_guid,
// smk_store_revision): a sequence never hands a value out twice, also across
// rolled-back transactions and processes, so a revision changes on every
// write and never repeats. Every failure, a broken connection's included,
// throws DatastoreError; a store whose connection broke fails every later
// call, and the next store opened gets a fresh connection.
//
// The store offers its clients' sync state (state::StateInStore): the
// PostgreSQL state's tables (lib/state/postgres) on the store's own
// connection, so that an item and its mapping commit in one transaction.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pg/connection.hpp"
#include "state/state_backend.hpp"
#include "syncmlkit/datastore.hpp"

namespace smk::store {

class PostgresDatastore : public Datastore, public state::StateInStore {
public:
    /// Leases a connection from `pool` and notes the database as existing
    /// (smk_store_databases). The tables must exist (postgres_store_schema()).
    /// `owner` is "" for the Global Address Book.
    PostgresDatastore(std::shared_ptr<pg::Pool> pool, std::string owner, Category category, Format native);
    ~PostgresDatastore() override;

    Format native_format() const override;
    /// In GUID order (bytewise, std::string's order, as the sync state's),
    /// read a page at a time as the cursor advances; rows written while it
    /// is open may or may not show in it.
    std::unique_ptr<ItemCursor> list() override;
    std::optional<StoredItem> read(const std::string& guid) override;
    std::optional<std::string> revision(const std::string& guid) override;
    ItemVersion add(const Format& format, std::string_view data) override;
    std::optional<std::string> replace(const std::string& guid, const Format& format, std::string_view data) override;
    bool remove(const std::string& guid) override;
    /// A nested begin(), or commit() without begin(), throws
    /// std::logic_error; rollback() with nothing open does nothing. Writes
    /// made outside begin()/commit() commit one by one.
    void begin() override;
    void commit() override;
    void rollback() override;
    /// Copies the items into a snapshot (smk_store_snapshots, one INSERT ...
    /// SELECT into smk_store_snapshot_items) named
    /// "<category>-<UTC time>-<nn>-<reason>"; keeps the newest kMaxSnapshots
    /// of the database. In a transaction of its own unless begin() opened one.
    std::optional<std::string> snapshot(std::string_view reason) override;
    static constexpr std::size_t kMaxSnapshots = 5;

    /// Adds or replaces an item under a GUID the caller chooses (the Global
    /// Address Book import keeps GUIDs stable this way); returns its revision.
    std::string put_with_guid(const std::string& guid, const Format& format, std::string_view data);

    const std::string& owner() const;
    Category category() const;
    /// The store's connection, for the sync state kept in the same database.
    pg::Connection& connection();
    /// The sync state of this database on the store's connection, committed
    /// by the store's transactions (has_own_transaction() is false). It
    /// keeps the connection alive, so it may outlive the store.
    std::unique_ptr<state::DatabaseState> open_state() override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// The store's schema steps for pg::migrate(conn, "store", ...).
const std::vector<std::string>& postgres_store_schema();

/// A connection of `pool` on which `first` (its first statement, outside a
/// transaction, or the BEGIN of one) succeeded. A connection the server
/// closed while it lay idle in the pool (PostgreSQL restarted, an
/// administrator ended it) fails there: it is closed and the next one is
/// tried, so that a restart costs no session an error.
pg::Pool::Lease live_lease(pg::Pool& pool, const std::function<void(pg::Connection&)>& first);

/// Notes that `owner` has this database (smk_store_databases), unless noted.
void note_database(pg::Connection& conn, const std::string& owner, Category category);

/// Takes the database's lock for the open transaction on `conn` (what
/// begin() does; a restore takes it too). Waits at most 5 s.
void lock_database(pg::Connection& conn, const std::string& owner, Category category);

}  // namespace smk::store
