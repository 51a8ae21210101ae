// DeviceRegistry in one SQLite file (WAL, so several server processes may
// share it); safe to use from many threads (one connection, a mutex around
// every call). SQLite failures are thrown as smk::DatastoreError naming the
// file.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

#include "state/device_registry.hpp"

namespace smk::state {

/// The devices of `user` in the registry file at `path`, in device order,
/// read without writing (another process may be using the file); none when
/// the file or its table does not exist. Throws DatastoreError.
std::vector<RegisteredDevice> read_registered_devices(const std::string& path, const std::string& user);

class SqliteDeviceRegistry final : public DeviceRegistry {
public:
    /// Opens or creates the SQLite file at `path` (WAL).
    explicit SqliteDeviceRegistry(const std::string& path);
    ~SqliteDeviceRegistry() override;

    std::optional<DeviceLogin> login(const std::string& user, const std::string& device) override;
    void record_login(const std::string& user, const std::string& device, const DeviceLogin& next,
                      std::size_t max_devices) override;
    std::optional<std::string> devinf(const std::string& user, const std::string& device) override;
    void set_devinf(const std::string& user, const std::string& device, const std::string& devinf_xml) override;
    std::size_t device_count(const std::string& user) override;
    std::vector<RegisteredDevice> devices_of(const std::string& user) override;

private:
    struct Statements;
    std::mutex mutex_;
    SQLite::Database db_;
    std::unique_ptr<Statements> statements_;  // after db_: finalized before it closes
};

}  // namespace smk::state
