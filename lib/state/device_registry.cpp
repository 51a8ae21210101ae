// Devices in one table, smk_devices: the nonce as a BLOB (MD5 nonces are
// raw bytes and may hold NUL) and the DevInf as text.
#include "state/device_registry.hpp"

#include "sqlite/statement_in_use.hpp"

#include <SQLiteCpp/Statement.h>

#include "syncmlkit/datastore.hpp"

namespace smk::state {
namespace {

// Several server processes may share a state dir; a writer waits this long
// for another one's transaction.
constexpr int kBusyTimeoutMs = 5000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS smk_devices(
    device TEXT PRIMARY KEY NOT NULL,
    nonce  BLOB,
    devinf TEXT) WITHOUT ROWID;
)sql";

DatastoreError failure(const std::string& what, const std::string& path, const std::exception& e) {
    return DatastoreError("device registry: " + what + " (" + path + "): " + e.what());
}

// WAL so that readers never wait for a writer; synchronous=NORMAL because a
// nonce or DevInf lost to a power cut costs the client one more round trip.
SQLite::Database open_registry_file(const std::string& path) {
    try {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, kBusyTimeoutMs);
        db.exec("PRAGMA synchronous=NORMAL");  // first: the switch to WAL then syncs less
        db.exec("PRAGMA journal_mode=WAL");
        db.exec(kSchema);
        return db;
    } catch (const SQLite::Exception& e) {
        throw failure("cannot open", path, e);
    }
}

using sqlite::StatementInUse;

}  // namespace

struct DeviceRegistry::Statements {
    explicit Statements(SQLite::Database& db)
        : select_nonce(db, "SELECT nonce FROM smk_devices WHERE device = ?"),
          upsert_nonce(db,
                       "INSERT INTO smk_devices(device, nonce) VALUES (?, ?) "
                       "ON CONFLICT(device) DO UPDATE SET nonce = excluded.nonce"),
          select_devinf(db, "SELECT devinf FROM smk_devices WHERE device = ?"),
          upsert_devinf(db,
                        "INSERT INTO smk_devices(device, devinf) VALUES (?, ?) "
                        "ON CONFLICT(device) DO UPDATE SET devinf = excluded.devinf") {}

    SQLite::Statement select_nonce, upsert_nonce, select_devinf, upsert_devinf;
};

DeviceRegistry::DeviceRegistry(const std::string& path) : db_(open_registry_file(path)) {
    try {
        statements_ = std::make_unique<Statements>(db_);
    } catch (const SQLite::Exception& e) {
        throw failure("preparing statements", path, e);
    }
}

DeviceRegistry::~DeviceRegistry() = default;

std::string DeviceRegistry::nonce(const std::string& device) {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        StatementInUse use(statements_->select_nonce);
        use->bind(1, device);
        if (!use->executeStep() || use->isColumnNull(0)) return std::string();
        return use->getColumn(0).getString();  // the blob's bytes, NULs included
    } catch (const SQLite::Exception& e) {
        throw failure("reading a nonce", db_.getFilename(), e);
    }
}

void DeviceRegistry::set_nonce(const std::string& device, const std::string& nonce) {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        StatementInUse use(statements_->upsert_nonce);
        use->bind(1, device);
        use->bind(2, static_cast<const void*>(nonce.data()), static_cast<int>(nonce.size()));  // as a BLOB
        use->exec();
    } catch (const SQLite::Exception& e) {
        throw failure("saving a nonce", db_.getFilename(), e);
    }
}

std::optional<std::string> DeviceRegistry::devinf(const std::string& device) {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        StatementInUse use(statements_->select_devinf);
        use->bind(1, device);
        if (!use->executeStep() || use->isColumnNull(0)) return std::nullopt;
        return use->getColumn(0).getString();
    } catch (const SQLite::Exception& e) {
        throw failure("reading a DevInf", db_.getFilename(), e);
    }
}

void DeviceRegistry::set_devinf(const std::string& device, const std::string& devinf_xml) {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        StatementInUse use(statements_->upsert_devinf);
        use->bind(1, device);
        use->bind(2, devinf_xml);  // as TEXT
        use->exec();
    } catch (const SQLite::Exception& e) {
        throw failure("saving a DevInf", db_.getFilename(), e);
    }
}

}  // namespace smk::state
