// SyncMLKit's default Datastore: the items of one user's database in one
// SQLite file (WAL, prepared statements), which also holds the per-client
// sync state (state/sync_state.hpp) so that both commit together: it offers
// that state through state::StateInStore.
//
// Every statement is prepared once, when the store opens. SQLite failures
// are thrown as DatastoreError naming what was being done and the file.
// Each object has its own connection; two sessions of one user open two
// objects on one file, and a writer waits up to 5 s for the other's
// transaction (busy_timeout). An object and its cursors are used by one
// thread at a time (as a session uses them): the connection is opened
// without SQLite's own mutex.
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>

#include "state/state_backend.hpp"
#include "syncmlkit/datastore.hpp"

namespace smk::store {

class SqliteDatastore : public Datastore, public state::StateInStore {
public:
    /// Opens or creates the file; `native` is the format items are kept in
    /// (text/vcard 3.0 for contacts, text/calendar 2.0 for events and tasks,
    /// text/x-vnote 1.1 for notes).
    SqliteDatastore(const std::string& path, Format native);
    ~SqliteDatastore() override;

    Format native_format() const override;
    /// In GUID order (SQLite's BINARY collation, which is std::string's
    /// order, as SyncState::items()). The cursor keeps the connection open
    /// and may outlive the store; rows written while it is open may or may
    /// not show in it.
    std::unique_ptr<ItemCursor> list() override;
    std::optional<StoredItem> read(const std::string& guid) override;
    std::optional<std::string> revision(const std::string& guid) override;
    ItemVersion add(const Format& format, std::string_view data) override;
    std::optional<std::string> replace(const std::string& guid, const Format& format, std::string_view data) override;
    bool remove(const std::string& guid) override;
    /// BEGIN IMMEDIATE: the write lock is taken at once, so a second writer
    /// waits here rather than failing half way through a message. A nested
    /// begin(), or commit() without begin(), throws std::logic_error;
    /// rollback() with nothing open does nothing. Writes made outside
    /// begin()/commit() commit one by one. Once a statement inside the
    /// transaction fails with an I/O error or a full disk (whether SQLite
    /// rolled the whole transaction back or only that statement), later
    /// writes on the connection, the sync state's included, fail naming that
    /// failure and commit() throws: the caller's rollback() starts afresh.
    void begin() override;
    void commit() override;
    void rollback() override;
    /// VACUUM INTO <folder of the file>/snapshots/<name>-<UTC time>-<nn>-<reason>.sqlite;
    /// keeps the newest kMaxSnapshots of this file.
    std::optional<std::string> snapshot(std::string_view reason) override;
    static constexpr std::size_t kMaxSnapshots = 5;

    /// Adds or replaces an item under a GUID the caller chooses (the Global
    /// Address Book import keeps GUIDs stable this way); returns its revision.
    std::string put_with_guid(const std::string& guid, const Format& format, std::string_view data);

    /// The connection, for the sync state kept in the same file.
    SQLite::Database& database();
    /// The sync state in this file, committed by this store's transaction.
    std::unique_ptr<state::DatabaseState> open_state() override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace smk::store
