// What the server remembers about each device a user logged in from: the MD5
// nonce it issued for the device's next login, which of the server's
// stateless nonces the device has spent, the DevInf the device last sent (a
// Funambol client sends its DevInf only once), and when it was last seen.
// Rows are written only for a successful login, and each user keeps at most
// a bounded number of devices (the least recently seen goes first), so
// nothing a client sends without valid credentials takes room here.
// One SQLite file; safe to use from many threads (one connection, a mutex
// around every call). SQLite failures are thrown as smk::DatastoreError
// naming the file.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

namespace smk::state {

struct DeviceLogin {
    std::string nonce;             ///< issued at the last login, for the next one (raw bytes)
    std::int64_t nonce_floor = 0;  ///< stateless nonces of earlier epochs are spent
};

/// A device of a user as the registry keeps it.
struct RegisteredDevice {
    std::string device;
    std::optional<std::string> devinf;  ///< SyncMLKit's XML encoding of its DevInf, when sent
    std::int64_t last_seen = 0;         ///< Unix seconds of its last login
};

/// The devices of `user` in the registry file at `path`, in device order,
/// read without writing (another process may be using the file); none when
/// the file or its table does not exist. Throws DatastoreError.
std::vector<RegisteredDevice> read_registered_devices(const std::string& path, const std::string& user);

class DeviceRegistry {
public:
    /// Opens or creates the SQLite file at `path` (WAL).
    explicit DeviceRegistry(const std::string& path);
    ~DeviceRegistry();

    /// What a login of `user` on `device` may use; nullopt when the device
    /// never logged in as that user.
    std::optional<DeviceLogin> login(const std::string& user, const std::string& device);
    /// A successful login: remembers the nonce for the next one and the
    /// floor of spent stateless nonces, marks the device seen now, and
    /// forgets the user's least recently seen devices beyond `max_devices`.
    void record_login(const std::string& user, const std::string& device, const DeviceLogin& next,
                      std::size_t max_devices);

    /// The device's DevInf as SyncMLKit's XML encoding of it, when known.
    std::optional<std::string> devinf(const std::string& user, const std::string& device);
    /// Only for a device that logged in as `user` (record_login first).
    void set_devinf(const std::string& user, const std::string& device, const std::string& devinf_xml);

    /// Devices remembered for `user`.
    std::size_t device_count(const std::string& user);

private:
    struct Statements;
    std::mutex mutex_;
    SQLite::Database db_;
    std::unique_ptr<Statements> statements_;  // after db_: finalized before it closes
};

}  // namespace smk::state
