// What the server remembers about each client device across sessions: the
// MD5 nonce it last issued to it and the DevInf the device last sent (a
// Funambol client sends its DevInf only once). One SQLite file; safe to use
// from many threads (one connection, a mutex around every call). SQLite
// failures are thrown as smk::DatastoreError naming the file.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <SQLiteCpp/Database.h>

namespace smk::state {

class DeviceRegistry {
public:
    /// Opens or creates the SQLite file at `path` (WAL).
    explicit DeviceRegistry(const std::string& path);
    ~DeviceRegistry();

    /// The nonce last issued to the device (raw bytes), "" when none.
    std::string nonce(const std::string& device);
    void set_nonce(const std::string& device, const std::string& nonce);

    /// The device's DevInf as SyncMLKit's XML encoding of it, when known.
    std::optional<std::string> devinf(const std::string& device);
    void set_devinf(const std::string& device, const std::string& devinf_xml);

private:
    struct Statements;
    std::mutex mutex_;
    SQLite::Database db_;
    std::unique_ptr<Statements> statements_;  // after db_: finalized before it closes
};

}  // namespace smk::state
