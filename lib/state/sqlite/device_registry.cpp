// Devices in one table, smk_user_devices, keyed by (user, device): the nonce
// as a BLOB (raw bytes), the DevInf as text, last_seen in Unix seconds.
#include "state/sqlite/device_registry.hpp"
#include "sqlite/enable_wal.hpp"

#include <ctime>
#include <filesystem>

#include "sqlite/statement_in_use.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "syncmlkit/datastore.hpp"

namespace smk::state {
namespace {

// Several server processes may share a state dir; a writer waits this long
// for another one's transaction.
constexpr int kBusyTimeoutMs = 5000;

// smk_devices (one row per device ID, written for any request) is the
// earlier layout: it is dropped, so its clients log in once more with a
// fresh challenge and send their DevInf again.
constexpr const char* kSchema = R"sql(
DROP TABLE IF EXISTS smk_devices;
CREATE TABLE IF NOT EXISTS smk_user_devices(
    user        TEXT NOT NULL,
    device      TEXT NOT NULL,
    nonce       BLOB,
    nonce_floor INTEGER NOT NULL DEFAULT 0,
    devinf      TEXT,
    last_seen   INTEGER NOT NULL,
    PRIMARY KEY(user, device)) WITHOUT ROWID;
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
        sqlite::enable_wal(db);
        db.exec(kSchema);
        return db;
    } catch (const SQLite::Exception& e) {
        throw failure("cannot open", path, e);
    }
}

using sqlite::StatementInUse;

}  // namespace

std::vector<RegisteredDevice> read_registered_devices(const std::string& path, const std::string& user) {
    std::vector<RegisteredDevice> out;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return out;
    try {
        SQLite::Database db(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
        SQLite::Statement has(db, "SELECT count(*) FROM sqlite_master WHERE name = 'smk_user_devices'");
        if (!has.executeStep() || has.getColumn(0).getInt() == 0) return out;
        SQLite::Statement q(db, "SELECT device, devinf, last_seen FROM smk_user_devices WHERE user = ? ORDER BY device");
        q.bind(1, user);
        while (q.executeStep()) {
            RegisteredDevice d;
            d.device = q.getColumn(0).getString();
            if (!q.getColumn(1).isNull()) d.devinf = q.getColumn(1).getString();
            d.last_seen = q.getColumn(2).getInt64();
            out.push_back(std::move(d));
        }
    } catch (const SQLite::Exception& e) {
        throw failure("cannot read", path, e);
    }
    return out;
}

struct SqliteDeviceRegistry::Statements {
    explicit Statements(SQLite::Database& db)
        : select_login(db, "SELECT nonce, nonce_floor FROM smk_user_devices WHERE user = ? AND device = ?"),
          upsert_login(db,
                       "INSERT INTO smk_user_devices(user, device, nonce, nonce_floor, last_seen) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT(user, device) DO UPDATE SET "
                       "nonce = excluded.nonce, nonce_floor = excluded.nonce_floor, last_seen = excluded.last_seen"),
          forget_oldest(db,
                        "DELETE FROM smk_user_devices WHERE user = ?1 AND device IN ("
                        "SELECT device FROM smk_user_devices WHERE user = ?1 "
                        "ORDER BY last_seen DESC, device LIMIT -1 OFFSET ?2)"),
          select_devinf(db, "SELECT devinf FROM smk_user_devices WHERE user = ? AND device = ?"),
          update_devinf(db, "UPDATE smk_user_devices SET devinf = ? WHERE user = ? AND device = ?"),
          count_devices(db, "SELECT count(*) FROM smk_user_devices WHERE user = ?") {}

    SQLite::Statement select_login, upsert_login, forget_oldest, select_devinf, update_devinf, count_devices;
};

SqliteDeviceRegistry::SqliteDeviceRegistry(const std::string& path) : db_(open_registry_file(path)) {
    try {
        statements_ = std::make_unique<Statements>(db_);
    } catch (const SQLite::Exception& e) {
        throw failure("preparing statements", path, e);
    }
}

SqliteDeviceRegistry::~SqliteDeviceRegistry() = default;

std::optional<DeviceLogin> SqliteDeviceRegistry::login(const std::string& user, const std::string& device) {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        StatementInUse use(statements_->select_login);
        use->bind(1, user);
        use->bind(2, device);
        if (!use->executeStep()) return std::nullopt;
        DeviceLogin out;
        if (!use->isColumnNull(0)) out.nonce = use->getColumn(0).getString();  // the blob's bytes
        out.nonce_floor = use->getColumn(1).getInt64();
        return out;
    } catch (const SQLite::Exception& e) {
        throw failure("reading a device", db_.getFilename(), e);
    }
}

void SqliteDeviceRegistry::record_login(const std::string& user, const std::string& device, const DeviceLogin& next,
                                  std::size_t max_devices) {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        SQLite::Transaction tx(db_);
        {
            StatementInUse use(statements_->upsert_login);
            use->bind(1, user);
            use->bind(2, device);
            use->bind(3, static_cast<const void*>(next.nonce.data()), static_cast<int>(next.nonce.size()));
            use->bind(4, next.nonce_floor);
            use->bind(5, static_cast<std::int64_t>(std::time(nullptr)));
            use->exec();
        }
        {
            StatementInUse use(statements_->forget_oldest);
            use->bind(1, user);
            use->bind(2, static_cast<std::int64_t>(std::max<std::size_t>(max_devices, 1)));
            use->exec();
        }
        tx.commit();
    } catch (const SQLite::Exception& e) {
        throw failure("saving a login", db_.getFilename(), e);
    }
}

std::optional<std::string> SqliteDeviceRegistry::devinf(const std::string& user, const std::string& device) {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        StatementInUse use(statements_->select_devinf);
        use->bind(1, user);
        use->bind(2, device);
        if (!use->executeStep() || use->isColumnNull(0)) return std::nullopt;
        return use->getColumn(0).getString();
    } catch (const SQLite::Exception& e) {
        throw failure("reading a DevInf", db_.getFilename(), e);
    }
}

void SqliteDeviceRegistry::set_devinf(const std::string& user, const std::string& device, const std::string& devinf_xml) {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        StatementInUse use(statements_->update_devinf);
        use->bind(1, devinf_xml);  // as TEXT
        use->bind(2, user);
        use->bind(3, device);
        use->exec();
    } catch (const SQLite::Exception& e) {
        throw failure("saving a DevInf", db_.getFilename(), e);
    }
}

std::size_t SqliteDeviceRegistry::device_count(const std::string& user) {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
        StatementInUse use(statements_->count_devices);
        use->bind(1, user);
        use->executeStep();
        return static_cast<std::size_t>(use->getColumn(0).getInt64());
    } catch (const SQLite::Exception& e) {
        throw failure("counting devices", db_.getFilename(), e);
    }
}

std::vector<RegisteredDevice> SqliteDeviceRegistry::devices_of(const std::string& user) {
    // Its own reading connection: the registry's statements stay as they are.
    return read_registered_devices(db_.getFilename(), user);
}

}  // namespace smk::state
