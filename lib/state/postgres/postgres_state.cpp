#include "state/postgres/postgres_state.hpp"
#include "state/postgres/shared_secret.hpp"

#include <optional>

#include "pg/connection.hpp"
#include "state/postgres/base_versions.hpp"
#include "state/postgres/database_connection.hpp"
#include "state/postgres/device_registry.hpp"
#include "state/postgres/pairing_index.hpp"
#include "state/postgres/resume_state.hpp"
#include "state/postgres/schema.hpp"
#include "state/postgres/session_store.hpp"
#include "state/postgres/sync_state.hpp"

namespace smk::state {
namespace {

using postgres::DatabaseConnection;

// The parts of one database's state on one connection: the store's, or one
// of the pool's, leased by begin() until commit() or rollback() and by
// each statement outside a transaction (DatabaseConnection).
class PgDatabaseState final : public DatabaseState {
public:
    PgDatabaseState(pg::Pool& pool, const std::string& owner, Category category) : db_(pool, owner, category) {}
    PgDatabaseState(pg::Connection& connection, const std::string& owner, Category category)
        : db_(connection, owner, category) {}

    SyncState& sync() override { return sync_; }
    PairingIndex& pairing() override { return pairing_; }
    BaseVersions& bases() override { return bases_; }
    ResumeState& resume() override { return resume_; }

    bool has_own_transaction() const override { return db_.pool != nullptr; }
    void begin() override {
        if (!db_.pool) return;
        db_.failed = false;
        try {
            db_.connection().begin();
        } catch (const std::exception& e) {
            db_.lease = pg::Pool::Lease();
            throw DatastoreError(std::string("sync state: beginning a transaction: ") + e.what());
        }
        db_.in_transaction = true;
    }
    // PostgreSQL answers the COMMIT of a transaction that a failed
    // statement aborted with a rollback: that is refused here, so the
    // caller learns that nothing of it was kept.
    void commit() override {
        if (!db_.pool || !db_.in_transaction) return;
        db_.in_transaction = false;
        try {
            if (db_.failed || !db_.lease || !db_.lease->healthy())
                throw DatastoreError("a statement of the transaction failed: the transaction is rolled back");
            db_.lease->commit();
        } catch (const std::exception& e) {
            rollback();
            throw DatastoreError(std::string("sync state: committing: ") + e.what());
        }
        db_.settle();
    }
    void rollback() override {
        if (!db_.pool) return;
        db_.in_transaction = false;
        if (db_.lease) db_.lease->rollback();
        db_.lease = pg::Pool::Lease();
        db_.failed = false;
    }

private:
    DatabaseConnection db_;  // first: its lease returns after the parts are gone
    postgres::PgSyncState sync_{db_};
    postgres::PgPairingIndex pairing_{db_};
    postgres::PgBaseVersions bases_{db_};
    postgres::PgResumeState resume_{db_};
};

class PgStateBackend final : public StateBackend {
public:
    PgStateBackend(const std::string& url, std::size_t pool_size) : pool_(url, pool_size), registry_(pool_) {
        pg::Pool::Lease connection = pool_.acquire();
        postgres::migrate_state_schema(*connection);
        sessions_ = open_postgres_sessions(url, pool_size);
    }
    SessionStore* sessions() override { return sessions_.get(); }

    std::unique_ptr<DatabaseState> open(const std::string& owner, Category category, Datastore& store) override {
        if (auto* in_store = dynamic_cast<StateInStore*>(&store)) return in_store->open_state();
        return std::make_unique<PgDatabaseState>(pool_, owner, category);
    }
    DeviceRegistry& devices() override { return registry_; }
    std::optional<std::string> shared_secret() override {
        pg::Pool::Lease connection = pool_.acquire();
        return postgres::shared_secret(*connection);
    }

private:
    pg::Pool pool_;
    postgres::PgDeviceRegistry registry_;
    std::unique_ptr<SessionStore> sessions_;  ///< in a pool of its own: a message holds one for its lock
};

}  // namespace

std::unique_ptr<StateBackend> open_postgres_state(const std::string& url, std::size_t pool_size) {
    return std::make_unique<PgStateBackend>(url, pool_size);
}

std::unique_ptr<DatabaseState> postgres_state_on(pg::Connection& connection, const std::string& owner,
                                                 Category category) {
    return std::make_unique<PgDatabaseState>(connection, owner, category);
}

}  // namespace smk::state
