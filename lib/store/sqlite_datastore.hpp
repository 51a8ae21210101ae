// SyncMLKit's default Datastore: the items of one user's database in one
// SQLite file (WAL, prepared statements), which also holds the per-client
// sync state (state/sync_state.hpp) so that both commit together.
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <string>

#include "syncmlkit/datastore.hpp"

namespace smk::store {

class SqliteDatastore : public Datastore {
public:
    /// Opens or creates the file; `native` is the format items are kept in
    /// (text/vcard 3.0 for contacts, text/calendar 2.0 for events and tasks).
    SqliteDatastore(const std::string& path, Format native);
    ~SqliteDatastore() override;

    Format native_format() const override;
    std::unique_ptr<ItemCursor> list() override;
    std::optional<StoredItem> read(const std::string& guid) override;
    std::optional<std::string> revision(const std::string& guid) override;
    ItemVersion add(const Format& format, std::string_view data) override;
    std::optional<std::string> replace(const std::string& guid, const Format& format, std::string_view data) override;
    bool remove(const std::string& guid) override;
    void begin() override;
    void commit() override;
    void rollback() override;

    /// Adds or replaces an item under a GUID the caller chooses (the Global
    /// Address Book import keeps GUIDs stable this way); returns its revision.
    std::string put_with_guid(const std::string& guid, const Format& format, std::string_view data);

    /// The connection, for the sync state kept in the same file.
    SQLite::Database& database();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace smk::store
