// The version of an item that clients last shared, kept when the item is
// about to change while another client still holds that version: a conflict
// (the item changed on the server and on that client) is then merged three
// ways, field by field, knowing which side changed what. A base is kept only
// while a client's state names its revision; the store holds the current
// version, so nothing is kept for items every client has seen as they are.
// An interface: state/sqlite/base_versions.hpp implements it in SQLite, in
// the same database as the SyncState whose rows it reads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "syncmlkit/datastore.hpp"

namespace smk::state {

class BaseVersions {
public:
    virtual ~BaseVersions() = default;

    /// Keeps `item` as a base if a device other than `device` holds its
    /// revision (its SyncState holds the item at that revision); does nothing otherwise.
    virtual void keep_if_held(const std::string& device, const StoredItem& item) = 0;
    virtual std::optional<StoredItem> find(const std::string& guid, const std::string& revision) = 0;
    /// Drops the bases of `guid` that no device holds any more.
    virtual void prune(const std::string& guid) = 0;
};

}  // namespace smk::state
