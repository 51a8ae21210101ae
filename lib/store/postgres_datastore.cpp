// The PostgreSQL Datastore (postgres_datastore.hpp).
//
// Client data (item data, formats) and owners go in bytea columns, since
// PostgreSQL refuses text that is not valid UTF-8; GUIDs too, because the
// engine looks up whatever GUID a client's state names, and bytea orders
// bytewise, which is std::string's order (the sync state walks its rows in
// that order beside the store's listing). Categories are our own names.
#include "store/postgres_datastore.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <utility>
#include <vector>

#include "pg/connection.hpp"
#include "state/postgres/postgres_state.hpp"

namespace smk::store {
namespace {

// A listing reads this many rows per statement (the LIMIT of its
// statements): memory stays bounded by a page, not by the store.
constexpr int kListPage = 256;

// How long begin() (and a restore) waits for another writer's message.
constexpr const char* kLockTimeout = "5s";

// The advisory locks of the store, apart from anyone else's: the two-key
// form (class, object) never meets a one-key lock. The class is
// 0x534D4B53 ("SMKS"), written out in lock_database()'s statement.

const std::vector<std::string> kSchema = {
    // 1: items of every database, their counters, and snapshots.
    R"sql(
CREATE SEQUENCE smk_store_guid;
CREATE SEQUENCE smk_store_revision;
CREATE TABLE smk_store_databases(
    owner    bytea NOT NULL,
    category text NOT NULL,
    created  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, category));
CREATE TABLE smk_store_items(
    owner           bytea NOT NULL,
    category        text NOT NULL,
    guid            bytea NOT NULL,
    revision        bigint NOT NULL,
    content_type    bytea NOT NULL,
    content_version bytea NOT NULL,
    data            bytea NOT NULL,
    PRIMARY KEY (owner, category, guid));
CREATE TABLE smk_store_snapshots(
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner    bytea NOT NULL,
    category text NOT NULL,
    name     text NOT NULL,
    reason   text NOT NULL,
    taken    timestamptz NOT NULL DEFAULT now(),
    items    bigint NOT NULL DEFAULT 0,
    UNIQUE (owner, category, name));
CREATE INDEX smk_store_snapshots_of ON smk_store_snapshots(owner, category, id);
CREATE TABLE smk_store_snapshot_items(
    snapshot        bigint NOT NULL REFERENCES smk_store_snapshots(id) ON DELETE CASCADE,
    guid            bytea NOT NULL,
    revision        bigint NOT NULL,
    content_type    bytea NOT NULL,
    content_version bytea NOT NULL,
    data            bytea NOT NULL,
    PRIMARY KEY (snapshot, guid));
)sql",
};

std::string database_name(const std::string& owner, Category category) {
    return (owner.empty() ? std::string("Global Address Book") : owner) + "/" + category_name(category);
}

// 32 bits of FNV-1a over owner and category: the object of the database's lock.
std::int64_t lock_key(const std::string& owner, Category category) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    auto mix = [&](std::string_view bytes) {
        for (unsigned char c : bytes) {
            hash ^= c;
            hash *= 0x100000001b3ULL;
        }
    };
    mix(owner);
    mix(std::string_view("\0", 1));
    mix(category_name(category));
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(hash ^ (hash >> 32)));
}

// The store's connection, shared by the store and its cursors: the last
// of them returns it to the pool (rolled back if left in a transaction,
// closed if broken).
struct Link {
    std::shared_ptr<pg::Pool> pool;  // first: outlives the lease
    pg::Pool::Lease lease;
};

// Runs `body`, giving a failure the database's name and what was being done.
template <typename Body>
auto guarded(const char* what, const std::string& database, Body&& body) {
    try {
        return body();
    } catch (const DatastoreError& e) {
        throw DatastoreError(std::string(what) + " (" + database + " in PostgreSQL): " + e.what());
    }
}

std::string revision_text(const pg::Result& r, int row, int col) { return std::to_string(r.int8(row, col)); }

// Walks the database's items in GUID order, a page per statement; each page
// starts after the last GUID of the one before, so writes in between neither
// repeat nor skip an item that stays.
class ItemPages : public ItemCursor {
public:
    ItemPages(std::shared_ptr<Link> link, std::string owner, Category category)
        : link_(std::move(link)), owner_(std::move(owner)), category_(category) {}

    bool next(ItemVersion& out) override {
        if (at_ == page_.size()) {
            if (done_) return false;
            fetch();
            if (page_.empty()) return false;
        }
        out = std::move(page_[at_++]);
        return true;
    }

private:
    void fetch() {
        page_.clear();
        at_ = 0;
        const char* category = category_name(category_);
        guarded("listing items", database_name(owner_, category_), [&] {
            pg::Connection& conn = *link_->lease;
            pg::Result r =
                started_ ? conn.run("store_list_after",
                                    "SELECT guid, revision FROM smk_store_items WHERE owner = $1 AND category = $2 "
                                    "AND guid > $3 ORDER BY guid LIMIT 256",
                                    {pg::Param::bytes(owner_), pg::Param::bytes(category), pg::Param::bytes(after_)})
                         : conn.run("store_list_first",
                                    "SELECT guid, revision FROM smk_store_items WHERE owner = $1 AND category = $2 "
                                    "ORDER BY guid LIMIT 256",
                                    {pg::Param::bytes(owner_), pg::Param::bytes(category)});
            page_.reserve(static_cast<std::size_t>(r.rows()));
            for (int i = 0; i < r.rows(); ++i) page_.push_back(ItemVersion{r.str(i, 0), revision_text(r, i, 1)});
            done_ = r.rows() < kListPage;
        });
        started_ = true;
        if (!page_.empty()) after_ = page_.back().guid;
        else done_ = true;
    }

    std::shared_ptr<Link> link_;
    std::string owner_;
    Category category_;
    std::vector<ItemVersion> page_;
    std::size_t at_ = 0;
    std::string after_;
    bool started_ = false, done_ = false;
};

// The PostgreSQL sync state on a store's connection, holding the
// connection for as long as it lives.
class StateOnStore final : public state::DatabaseState {
public:
    StateOnStore(std::shared_ptr<Link> link, const std::string& owner, Category category)
        : link_(std::move(link)), state_(state::postgres_state_on(*link_->lease, owner, category)) {}

    state::SyncState& sync() override { return state_->sync(); }
    state::PairingIndex& pairing() override { return state_->pairing(); }
    state::BaseVersions& bases() override { return state_->bases(); }
    state::ResumeState& resume() override { return state_->resume(); }
    bool has_own_transaction() const override { return false; }
    void begin() override {}
    void commit() override {}
    void rollback() override {}

private:
    std::shared_ptr<Link> link_;  // first: outlives the state
    std::unique_ptr<state::DatabaseState> state_;
};

}  // namespace

const std::vector<std::string>& postgres_store_schema() { return kSchema; }

namespace {

// The statements that take the database's lock, waiting at most
// kLockTimeout (set for this transaction alone). Sent as one script with
// the key written out (a number we make), so that they cost one round trip.
std::string lock_statements(const std::string& owner, Category category) {
    return std::string("SELECT set_config('lock_timeout', '") + kLockTimeout +
           "', true); SELECT pg_advisory_xact_lock(1397574483, " + std::to_string(lock_key(owner, category)) + ")";
}

}  // namespace

void lock_database(pg::Connection& conn, const std::string& owner, Category category) {
    conn.script(lock_statements(owner, category));
}

pg::Pool::Lease live_lease(pg::Pool& pool, const std::function<void(pg::Connection&)>& first) {
    for (std::size_t attempt = 0;; ++attempt) {
        pg::Pool::Lease lease = pool.acquire();
        try {
            first(*lease);
            return lease;
        } catch (const DatastoreError&) {
            // Broken (not merely a failed statement): the lease closes it.
            if (lease->healthy() || lease->in_transaction() || attempt >= pool.max_connections()) throw;
        }
    }
}

void note_database(pg::Connection& conn, const std::string& owner, Category category) {
    // No write when the row is there already.
    conn.run("store_note_database",
             "INSERT INTO smk_store_databases(owner, category) VALUES ($1, $2) ON CONFLICT DO NOTHING",
             {pg::Param::bytes(owner), pg::Param::bytes(category_name(category))});
}

struct PostgresDatastore::Impl {
    std::shared_ptr<Link> link;
    std::string owner;
    Category category;
    std::string category_text;
    Format native;
    std::string name;    // for messages: "alice/contacts"
    bool began = false;  // begin() was called and neither commit() nor rollback() since

    pg::Connection& conn() { return *link->lease; }

    std::vector<pg::Param> key() const { return {pg::Param::bytes(owner), pg::Param::bytes(category_text)}; }

    // Inside begin()/commit(), after a statement failed PostgreSQL ignores
    // every later one until the rollback: say so without asking it.
    void require_usable(const char* what) {
        if (began && !conn().healthy())
            throw DatastoreError(std::string(what) + " (" + name +
                                 " in PostgreSQL): not written: an earlier statement of the transaction failed");
    }
};

PostgresDatastore::PostgresDatastore(std::shared_ptr<pg::Pool> pool, std::string owner, Category category,
                                     Format native)
    : impl_(std::make_unique<Impl>()) {
    impl_->owner = std::move(owner);
    impl_->category = category;
    impl_->category_text = category_name(category);
    impl_->native = std::move(native);
    impl_->name = database_name(impl_->owner, category);
    guarded("cannot open the store", impl_->name, [&] {
        pg::Pool::Lease lease =
            live_lease(*pool, [&](pg::Connection& conn) { note_database(conn, impl_->owner, category); });
        impl_->link = std::make_shared<Link>(Link{std::move(pool), std::move(lease)});
    });
}

PostgresDatastore::~PostgresDatastore() {
    if (impl_ && impl_->link && impl_->began) impl_->conn().rollback();
}

Format PostgresDatastore::native_format() const { return impl_->native; }

const std::string& PostgresDatastore::owner() const { return impl_->owner; }
Category PostgresDatastore::category() const { return impl_->category; }
pg::Connection& PostgresDatastore::connection() { return impl_->conn(); }

std::unique_ptr<state::DatabaseState> PostgresDatastore::open_state() {
    return std::make_unique<StateOnStore>(impl_->link, impl_->owner, impl_->category);
}

std::unique_ptr<ItemCursor> PostgresDatastore::list() {
    return std::make_unique<ItemPages>(impl_->link, impl_->owner, impl_->category);
}

std::optional<StoredItem> PostgresDatastore::read(const std::string& guid) {
    impl_->require_usable("reading an item");
    return guarded("reading an item", impl_->name, [&]() -> std::optional<StoredItem> {
        pg::Result r = impl_->conn().run(
            "store_read",
            "SELECT revision, content_type, content_version, data FROM smk_store_items "
            "WHERE owner = $1 AND category = $2 AND guid = $3",
            {pg::Param::bytes(impl_->owner), pg::Param::bytes(impl_->category_text), pg::Param::bytes(guid)});
        if (r.rows() == 0) return std::nullopt;
        return StoredItem{guid, revision_text(r, 0, 0), Format{r.str(0, 1), r.str(0, 2)}, r.str(0, 3)};
    });
}

std::optional<std::string> PostgresDatastore::revision(const std::string& guid) {
    impl_->require_usable("reading a revision");
    return guarded("reading a revision", impl_->name, [&]() -> std::optional<std::string> {
        pg::Result r = impl_->conn().run(
            "store_revision", "SELECT revision FROM smk_store_items WHERE owner = $1 AND category = $2 AND guid = $3",
            {pg::Param::bytes(impl_->owner), pg::Param::bytes(impl_->category_text), pg::Param::bytes(guid)});
        if (r.rows() == 0) return std::nullopt;
        return revision_text(r, 0, 0);
    });
}

ItemVersion PostgresDatastore::add(const Format& format, std::string_view data) {
    impl_->require_usable("adding an item");
    return guarded("adding an item", impl_->name, [&] {
        // A GUID put_with_guid() chose may sit where the sequence points: skip it.
        for (int attempt = 0; attempt < 1000; ++attempt) {
            pg::Result r = impl_->conn().run(
                "store_add",
                "INSERT INTO smk_store_items(owner, category, guid, revision, content_type, content_version, data) "
                "VALUES ($1, $2, convert_to(nextval('smk_store_guid')::text, 'UTF8'), nextval('smk_store_revision'), "
                "$3, $4, $5) ON CONFLICT DO NOTHING RETURNING guid, revision",
                {pg::Param::bytes(impl_->owner), pg::Param::bytes(impl_->category_text), pg::Param::bytes(format.type),
                 pg::Param::bytes(format.version), pg::Param::bytes(data)});
            if (r.rows() == 1) return ItemVersion{r.str(0, 0), revision_text(r, 0, 1)};
        }
        throw DatastoreError("no free GUID after 1000 attempts");
    });
}

std::optional<std::string> PostgresDatastore::replace(const std::string& guid, const Format& format,
                                                      std::string_view data) {
    impl_->require_usable("replacing an item");
    return guarded("replacing an item", impl_->name, [&]() -> std::optional<std::string> {
        pg::Result r = impl_->conn().run(
            "store_replace",
            "UPDATE smk_store_items SET revision = nextval('smk_store_revision'), content_type = $4, "
            "content_version = $5, data = $6 WHERE owner = $1 AND category = $2 AND guid = $3 RETURNING revision",
            {pg::Param::bytes(impl_->owner), pg::Param::bytes(impl_->category_text), pg::Param::bytes(guid),
             pg::Param::bytes(format.type), pg::Param::bytes(format.version), pg::Param::bytes(data)});
        if (r.rows() == 0) return std::nullopt;
        return revision_text(r, 0, 0);
    });
}

bool PostgresDatastore::remove(const std::string& guid) {
    impl_->require_usable("removing an item");
    return guarded("removing an item", impl_->name, [&] {
        pg::Result r = impl_->conn().run(
            "store_remove", "DELETE FROM smk_store_items WHERE owner = $1 AND category = $2 AND guid = $3",
            {pg::Param::bytes(impl_->owner), pg::Param::bytes(impl_->category_text), pg::Param::bytes(guid)});
        return r.affected() > 0;
    });
}

std::string PostgresDatastore::put_with_guid(const std::string& guid, const Format& format, std::string_view data) {
    impl_->require_usable("storing an item");
    return guarded("storing an item", impl_->name, [&] {
        pg::Result r = impl_->conn().run(
            "store_put",
            "INSERT INTO smk_store_items(owner, category, guid, revision, content_type, content_version, data) "
            "VALUES ($1, $2, $3, nextval('smk_store_revision'), $4, $5, $6) "
            "ON CONFLICT (owner, category, guid) DO UPDATE SET revision = excluded.revision, "
            "content_type = excluded.content_type, content_version = excluded.content_version, data = excluded.data "
            "RETURNING revision",
            {pg::Param::bytes(impl_->owner), pg::Param::bytes(impl_->category_text), pg::Param::bytes(guid),
             pg::Param::bytes(format.type), pg::Param::bytes(format.version), pg::Param::bytes(data)});
        return revision_text(r, 0, 0);
    });
}

void PostgresDatastore::begin() {
    if (impl_->began) throw std::logic_error("PostgresDatastore::begin() inside a transaction (" + impl_->name + ")");
    guarded("beginning a transaction", impl_->name, [&] {
        pg::Connection& conn = impl_->conn();
        try {
            // BEGIN and the lock in one round trip.
            conn.script("BEGIN; " + lock_statements(impl_->owner, impl_->category));
        } catch (...) {
            conn.rollback();
            throw;
        }
    });
    impl_->began = true;
}

void PostgresDatastore::commit() {
    if (!impl_->began) throw std::logic_error("PostgresDatastore::commit() without begin() (" + impl_->name + ")");
    pg::Connection& conn = impl_->conn();
    // PostgreSQL answers COMMIT of a transaction in which a statement failed
    // with a rollback, not an error: tell the caller.
    if (!conn.healthy() || !conn.in_transaction()) {
        impl_->began = false;
        conn.rollback();
        throw DatastoreError("committing (" + impl_->name +
                             " in PostgreSQL): not committed: an earlier statement of the transaction failed");
    }
    // A failed COMMIT ends the transaction either way; the caller's
    // rollback() then has nothing left to do.
    impl_->began = false;
    guarded("committing", impl_->name, [&] { conn.commit(); });
}

void PostgresDatastore::rollback() {
    // Also safe after a failed begin() or commit(), and on a broken connection.
    impl_->began = false;
    impl_->conn().rollback();
}

std::optional<std::string> PostgresDatastore::snapshot(std::string_view reason) {
    std::string tag;
    for (char c : reason) tag += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
    impl_->require_usable("taking a snapshot");
    return guarded("taking a snapshot", impl_->name, [&]() -> std::optional<std::string> {
        pg::Connection& conn = impl_->conn();
        bool own = !impl_->began;
        if (own) {
            conn.begin();
            lock_database(conn, impl_->owner, impl_->category);  // also numbers the snapshots of one second in turn
        }
        try {
            std::vector<pg::Param> key = impl_->key();
            pg::Result stamp = conn.run("store_snapshot_stamp",
                                        "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"')");
            // <category>-<time>-<nn>-<reason>: names sort by age, also two in a second.
            std::string prefix = impl_->category_text + "-" + stamp.str(0, 0) + "-";
            pg::Result same_second = conn.run(
                "store_snapshot_same_second",
                "SELECT name FROM smk_store_snapshots WHERE owner = $1 AND category = $2 AND starts_with(name, $3)",
                {key[0], key[1], pg::Param::bytes(prefix)});
            int last = 0;
            for (int i = 0; i < same_second.rows(); ++i)
                last = std::max(last, std::atoi(same_second.str(i, 0).c_str() + prefix.size()));
            char seq[16];
            std::snprintf(seq, sizeof seq, "%02d", last + 1);
            std::string name = prefix + seq + "-" + tag;
            pg::Result header = conn.run("store_snapshot_header",
                                         "INSERT INTO smk_store_snapshots(owner, category, name, reason) "
                                         "VALUES ($1, $2, $3, $4) RETURNING id",
                                         {key[0], key[1], pg::Param::bytes(name), pg::Param::bytes(tag)});
            std::int64_t id = header.int8(0, 0);
            pg::Result copied = conn.run(
                "store_snapshot_copy",
                "INSERT INTO smk_store_snapshot_items(snapshot, guid, revision, content_type, content_version, data) "
                "SELECT $3::bigint, guid, revision, content_type, content_version, data FROM smk_store_items "
                "WHERE owner = $1 AND category = $2",
                {key[0], key[1], pg::Param::int8(id)});
            conn.run("store_snapshot_count", "UPDATE smk_store_snapshots SET items = $2::bigint WHERE id = $1::bigint",
                     {pg::Param::int8(id), pg::Param::int8(copied.affected())});
            // Only the newest few are kept: a snapshot is for undoing the
            // last refreshes, not an archive.
            conn.run("store_snapshot_prune",
                     "DELETE FROM smk_store_snapshots WHERE owner = $1 AND category = $2 AND id NOT IN "
                     "(SELECT id FROM smk_store_snapshots WHERE owner = $1 AND category = $2 "
                     "ORDER BY id DESC LIMIT $3::bigint)",
                     {key[0], key[1], pg::Param::int8(static_cast<std::int64_t>(kMaxSnapshots))});
            if (own) conn.commit();
            return name;
        } catch (...) {
            if (own) conn.rollback();
            throw;
        }
    });
}

}  // namespace smk::store
