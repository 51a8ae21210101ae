// What the server remembers about each device a user logged in from: the MD5
// nonce it issued for the device's next login, which of the server's
// stateless nonces the device has spent, the DevInf the device last sent (a
// Funambol client sends its DevInf only once), and when it was last seen.
// Rows are written only for a successful login, and each user keeps at most
// a bounded number of devices (the least recently seen goes first), so
// nothing a client sends without valid credentials takes room here.
// An interface, shared by every session of a server: implementations are
// safe to use from many threads and throw their failures as
// smk::DatastoreError. state/sqlite/device_registry.hpp keeps it in one
// SQLite file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

class DeviceRegistry {
public:
    virtual ~DeviceRegistry() = default;

    /// What a login of `user` on `device` may use; nullopt when the device
    /// never logged in as that user.
    virtual std::optional<DeviceLogin> login(const std::string& user, const std::string& device) = 0;
    /// A successful login: remembers the nonce for the next one and the
    /// floor of spent stateless nonces, marks the device seen now, and
    /// forgets the user's least recently seen devices beyond `max_devices`.
    virtual void record_login(const std::string& user, const std::string& device, const DeviceLogin& next,
                              std::size_t max_devices) = 0;

    /// The device's DevInf as SyncMLKit's XML encoding of it, when known.
    virtual std::optional<std::string> devinf(const std::string& user, const std::string& device) = 0;
    /// Only for a device that logged in as `user` (record_login first).
    virtual void set_devinf(const std::string& user, const std::string& device, const std::string& devinf_xml) = 0;

    /// Devices remembered for `user`.
    virtual std::size_t device_count(const std::string& user) = 0;
    /// The devices remembered for `user`, in device order (for the host's
    /// status pages and admin tools).
    virtual std::vector<RegisteredDevice> devices_of(const std::string& user) = 0;
};

}  // namespace smk::state
