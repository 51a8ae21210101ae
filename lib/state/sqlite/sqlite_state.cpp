// open_sqlite_state: the sync state in SQLite files under the state dir, as
// every SyncMLKit server before PostgreSQL kept it.
#include "state/sqlite/sqlite_state.hpp"

#include <cctype>
#include <filesystem>

#include "sqlite/enable_wal.hpp"
#include "sqlite/lost_transaction.hpp"
#include "state/sqlite/device_registry.hpp"

namespace smk::state {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<SQLite::Database> open_state_file(const std::string& path) {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    // The busy timeout first: switching to WAL while another session's
    // connection writes would otherwise fail at once ("database is locked").
    db->exec("PRAGMA busy_timeout=5000");
    sqlite::enable_wal(*db);
    return db;
}

// A database owner as a file name: anything but letters, digits, '-', '_'
// and '.' (not leading) is percent-encoded, so no name escapes the state dir.
std::string path_component(const std::string& name) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        auto c = static_cast<unsigned char>(name[i]);
        bool plain = std::isalnum(c) || c == '-' || c == '_' || (c == '.' && i > 0);
        if (plain) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        }
    }
    return out.empty() ? "%" : out;
}

fs::path registry_file(const std::string& state_dir) { return fs::path(state_dir) / "devices.sqlite"; }

class SqliteStateBackend final : public StateBackend {
public:
    explicit SqliteStateBackend(const std::string& state_dir)
        : dir_(state_dir), devices_(registry_file(state_dir).string()) {}

    std::unique_ptr<DatabaseState> open(const std::string& owner, Category category, Datastore& store) override {
        if (auto* own = dynamic_cast<StateInStore*>(&store)) return own->open_state();
        fs::path dir = dir_ / "sync" / (owner.empty() ? std::string("_global") : path_component(owner));
        fs::create_directories(dir);
        return std::make_unique<SqliteDatabaseState>((dir / (std::string(category_name(category)) + ".sqlite")).string());
    }

    DeviceRegistry& devices() override { return devices_; }

private:
    fs::path dir_;
    SqliteDeviceRegistry devices_;
};

}  // namespace

SqliteDatabaseState::SqliteDatabaseState(SQLite::Database& db)
    : db_(db), sync_(db_), pairing_(db_), bases_(db_), resume_(db_) {}

SqliteDatabaseState::SqliteDatabaseState(const std::string& path)
    : own_(open_state_file(path)), db_(*own_), sync_(db_), pairing_(db_), bases_(db_), resume_(db_) {}

SqliteDatabaseState::~SqliteDatabaseState() = default;

void SqliteDatabaseState::begin() {
    if (own_) own_->exec("BEGIN IMMEDIATE");
}

void SqliteDatabaseState::commit() {
    if (!own_) return;
    // After an I/O error or a full disk in the sync state the transaction
    // lacks a write (or SQLite rolled it back): it is not committed.
    if (std::string cause = sqlite::lost_cause(*own_); !cause.empty())
        throw DatastoreError("sync state (" + own_->getFilename() + "): not committed after " + cause);
    own_->exec("COMMIT");
}

void SqliteDatabaseState::rollback() {
    if (!own_) return;
    sqlite::clear_lost(*own_);
    try {
        own_->exec("ROLLBACK");
    } catch (const std::exception&) {
        // no transaction was open
    }
}

std::unique_ptr<StateBackend> open_sqlite_state(const std::string& state_dir) {
    fs::create_directories(state_dir);
    return std::make_unique<SqliteStateBackend>(state_dir);
}

std::vector<RegisteredDevice> read_sqlite_devices(const std::string& state_dir, const std::string& user) {
    return read_registered_devices(registry_file(state_dir).string(), user);
}

}  // namespace smk::state
