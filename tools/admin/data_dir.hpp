// What syncmlkit-admin reads in a data directory laid out as
// syncmlkit-httpd lays it out (SqliteStoreProvider over DIR, the server's
// state under DIR/state):
//
//   DIR/<user>/<category>.sqlite        a user's database: items and every
//                                       client's sync state (smk_anchors,
//                                       smk_client_items, smk_outbox)
//   DIR/<user>/snapshots/<category>-<UTC time>-<nn>-<reason>.sqlite
//   DIR/_global/contacts.sqlite         the Global Address Book
//   DIR/state/devices.sqlite            the device registry (smk_user_devices:
//                                       logins and DevInf, by user and device)
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "syncmlkit/datastore.hpp"
#include "syncmlkit/server.hpp"
#include "syncmlkit/sqlite_store.hpp"

namespace smk::store {
class SqliteDatastore;
}

namespace smk::admin {

/// What the user asked for does not exist or cannot be done: exit status 1.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A device as the registry knows it (make and model from its DevInf,
/// last_seen: its last login).
using RegisteredDevice = KnownDevice;

/// One device's sync state in one database.
using DeviceState = ClientSyncState;

class DataDir {
public:
    explicit DataDir(std::filesystem::path dir);

    const std::filesystem::path& path() const { return dir_; }
    SqliteStoreProvider& stores() { return *stores_; }

    /// Users with a database, or a device in the registry, in name order.
    std::vector<std::string> users();
    /// The user's databases that exist, in Category order.
    std::vector<Category> databases(const std::string& user);
    /// The registry's devices of `user`, in device order (none without a registry).
    std::vector<RegisteredDevice> registered_devices(const std::string& user);

    /// Throws Failure naming the user when the data dir knows nothing of them.
    void require_user(const std::string& user);
    /// Throws Failure when `user` has no such database.
    void require_database(const std::string& user, Category category);

    /// The database's SQLite store (the sync state's tables made if missing).
    std::shared_ptr<store::SqliteDatastore> open(const std::string& user, Category category);
    /// Every device with sync state in the database, in device order.
    std::vector<DeviceState> device_states(const std::string& user, Category category);

    std::filesystem::path database_file(const std::string& user, Category category) const;
    std::filesystem::path registry_file() const { return dir_ / "state" / "devices.sqlite"; }

private:
    std::filesystem::path dir_;
    std::unique_ptr<SqliteStoreProvider> stores_;
};

/// "alice/contacts".
std::string database_name(const std::string& user, Category category);
/// "2026-12-04 20:11:02 UTC".
std::string utc_time(std::int64_t unix_seconds);

/// What `check` found in one database.
struct CheckReport {
    std::string quick_check = "ok";    ///< SQLite's PRAGMA quick_check
    std::size_t items = 0, devices = 0;
    // Problems: the next syncs would lose or miss data.
    std::size_t state_pointing_nowhere = 0;  ///< state rows for GUIDs the store never handed out
    std::size_t luids_mapped_twice = 0;      ///< a device's LUID mapped to more than one item
    std::size_t revisions_never_issued = 0;  ///< revisions (items' or state rows') beyond the counter
    // Normal between syncs, reported for the record.
    std::size_t items_without_state = 0;     ///< items no device holds yet
    std::size_t state_without_items = 0;     ///< items deleted on the server, the Delete still to go
    std::size_t awaiting_map = 0;            ///< items sent to a device whose Map has not come
    std::size_t unfinished_devices = 0;      ///< devices with state but no completed sync
    std::size_t queued = 0;                  ///< outbox rows the last sessions left (made again at the next)

    std::size_t problems() const {
        return (quick_check == "ok" ? 0 : 1) + state_pointing_nowhere + luids_mapped_twice + revisions_never_issued;
    }
};

CheckReport check(DataDir& data, const std::string& user, Category category);

}  // namespace smk::admin
