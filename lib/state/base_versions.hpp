// The version of an item that clients last shared, kept when the item is
// about to change while another client still holds that version: a conflict
// (the item changed on the server and on that client) is then merged three
// ways, field by field, knowing which side changed what. A base is kept only
// while a client's state names its revision; the store holds the current
// version, so nothing is kept for items every client has seen as they are.
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <optional>
#include <string>

#include "syncmlkit/datastore.hpp"

namespace smk::state {

class BaseVersions {
public:
    /// Creates its table in `db` if missing; needs SyncState's tables there.
    explicit BaseVersions(SQLite::Database& db);
    ~BaseVersions();

    /// Keeps `item` as a base if a device other than `device` holds its
    /// revision (smk_client_items); does nothing otherwise.
    void keep_if_held(const std::string& device, const StoredItem& item);
    std::optional<StoredItem> find(const std::string& guid, const std::string& revision);
    /// Drops the bases of `guid` that no device holds any more.
    void prune(const std::string& guid);

private:
    struct Statements;
    SQLite::Database& db_;
    std::unique_ptr<Statements> statements_;
};

}  // namespace smk::state
