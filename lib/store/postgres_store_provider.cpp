// PostgresStoreProvider: the PostgreSQL store's pool and schema, grants
// between users, the Global Address Book (owner "", contacts), and the
// snapshots' listing and restore.
#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>

#include "pg/connection.hpp"
#include "state/postgres/schema.hpp"
#include "store/address_book_import.hpp"
#include "store/postgres_datastore.hpp"
#include "syncmlkit/postgres_store.hpp"

namespace smk {
namespace {

Format native_format(Category c) {
    switch (c) {
        case Category::contacts: return Format{"text/vcard", "3.0"};
        case Category::notes: return Format{"text/x-vnote", "1.1"};
        default: return Format{"text/calendar", "2.0"};
    }
}

std::string database_name(const std::string& owner, Category category) {
    return owner + "/" + category_name(category);
}

struct FoundSnapshot {
    std::int64_t id;
    std::string name;
    std::int64_t items;
};

// The snapshot a name given to restore() means: a name snapshots() lists,
// with or without the "<category>-" prefix, also as a path or with the
// SQLite store's ".sqlite" ending, or "latest".
std::optional<FoundSnapshot> find_on(pg::Connection& conn, const std::string& owner, Category category,
                                     std::string name) {
    if (std::size_t slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
    const std::string ending = ".sqlite";
    if (name.size() > ending.size() && name.compare(name.size() - ending.size(), ending.size(), ending) == 0)
        name.resize(name.size() - ending.size());
    if (name.empty() || name.front() == '.') return std::nullopt;
    std::string category_text = category_name(category);
    pg::Result r =
        name == "latest"
            ? conn.run("store_snapshot_latest",
                       "SELECT id, name, items FROM smk_store_snapshots WHERE owner = $1 AND category = $2 "
                       "ORDER BY id DESC LIMIT 1",
                       {pg::Param::bytes(owner), pg::Param::bytes(category_text)})
            : conn.run("store_snapshot_find",
                       "SELECT id, name, items FROM smk_store_snapshots WHERE owner = $1 AND category = $2 "
                       "AND name IN ($3, $4) ORDER BY id DESC LIMIT 1",
                       {pg::Param::bytes(owner), pg::Param::bytes(category_text), pg::Param::bytes(name),
                        pg::Param::bytes(category_text + "-" + name)});
    if (r.rows() == 0) return std::nullopt;
    return FoundSnapshot{r.int8(0, 0), r.str(0, 1), r.int8(0, 2)};
}

}  // namespace

struct PostgresStoreProvider::Impl {
    std::shared_ptr<pg::Pool> pool;
    std::mutex grants_mutex;
    std::map<std::tuple<std::string, Category, std::string>, Access> grants;  // (owner, category, user)

    std::shared_ptr<store::PostgresDatastore> open_store(const std::string& owner, Category category) {
        return std::make_shared<store::PostgresDatastore>(pool, owner, category, native_format(category));
    }
};

PostgresStoreProvider::PostgresStoreProvider(const std::string& url, std::size_t pool_size)
    : impl_(std::make_unique<Impl>()) {
    impl_->pool = std::make_shared<pg::Pool>(url, pool_size);
    store::live_lease(*impl_->pool, [](pg::Connection& conn) {
        pg::migrate(conn, "store", store::postgres_store_schema());
        state::postgres::migrate_state_schema(conn);  // the stores' sync state lives beside the items
    });
}

PostgresStoreProvider::~PostgresStoreProvider() = default;

void PostgresStoreProvider::add_grant(const std::string& owner, Category category, const std::string& user,
                                      Access access) {
    std::lock_guard<std::mutex> lock(impl_->grants_mutex);
    impl_->grants[{owner, category, user}] = access;
}

std::optional<Access> PostgresStoreProvider::grant(const std::string& owner, Category category,
                                                   const std::string& user) {
    std::lock_guard<std::mutex> lock(impl_->grants_mutex);
    auto found = impl_->grants.find({owner, category, user});
    if (found == impl_->grants.end()) return std::nullopt;
    return found->second;
}

std::shared_ptr<Datastore> PostgresStoreProvider::open(const std::string& owner, Category category) {
    if (owner.empty()) return nullptr;  // the Global Address Book's owner
    return impl_->open_store(owner, category);
}

std::shared_ptr<Datastore> PostgresStoreProvider::open_global_address_book() {
    if (!has_database("", Category::contacts)) return nullptr;
    return impl_->open_store("", Category::contacts);
}

bool PostgresStoreProvider::has_database(const std::string& owner, Category category) {
    bool found = false;
    store::live_lease(*impl_->pool, [&](pg::Connection& conn) {
        found = conn.run("store_has_database", "SELECT 1 FROM smk_store_databases WHERE owner = $1 AND category = $2",
                         {pg::Param::bytes(owner), pg::Param::bytes(category_name(category))})
                    .rows() > 0;
    });
    return found;
}

std::size_t PostgresStoreProvider::import_global_address_book(std::istream& vcf, ItemCounts& counts) {
    counts = ItemCounts{};
    std::shared_ptr<store::PostgresDatastore> directory = impl_->open_store("", Category::contacts);
    return store::import_directory(
        *directory, [&](const std::string& guid, const Format& format, std::string_view data) {
            directory->put_with_guid(guid, format, data);
        },
        vcf, counts);
}

std::vector<std::string> PostgresStoreProvider::snapshots(const std::string& owner, Category category) {
    std::vector<std::string> out;
    store::live_lease(*impl_->pool, [&](pg::Connection& conn) {
        pg::Result r = conn.run("store_snapshots",
                                "SELECT name FROM smk_store_snapshots WHERE owner = $1 AND category = $2 ORDER BY id",
                                {pg::Param::bytes(owner), pg::Param::bytes(category_name(category))});
        out.reserve(static_cast<std::size_t>(r.rows()));
        for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    });
    return out;
}

std::optional<std::string> PostgresStoreProvider::find_snapshot(const std::string& owner, Category category,
                                                                const std::string& snapshot) {
    std::optional<FoundSnapshot> found;
    store::live_lease(*impl_->pool, [&](pg::Connection& conn) { found = find_on(conn, owner, category, snapshot); });
    if (!found) return std::nullopt;
    return found->name;
}

std::optional<std::size_t> PostgresStoreProvider::snapshot_items(const std::string& owner, Category category,
                                                                 const std::string& snapshot) {
    std::optional<FoundSnapshot> found;
    store::live_lease(*impl_->pool, [&](pg::Connection& conn) { found = find_on(conn, owner, category, snapshot); });
    if (!found) return std::nullopt;
    return static_cast<std::size_t>(found->items);
}

// Online, in one transaction under the database's lock (so after a
// session's message, before its next), as a session would write. The
// clients' sync state stays: each item that differs from the live one (or
// was deleted since) is written with a new revision from the sequence,
// newer than any a client has seen, and items made since the snapshot are
// deleted. So every client's next sync is an ordinary two-way sync that
// sends it exactly the difference; a slow sync would push the items made
// since the snapshot back to the server.
void PostgresStoreProvider::restore(const std::string& owner, Category category, const std::string& snapshot,
                                    ItemCounts& counts) {
    counts = ItemCounts{};
    std::string database = database_name(owner, category);
    std::string category_text = category_name(category);
    pg::Pool::Lease lease = store::live_lease(*impl_->pool, [](pg::Connection& conn) { conn.begin(); });
    pg::Connection& conn = *lease;
    try {
        std::optional<FoundSnapshot> found = find_on(conn, owner, category, snapshot);
        if (!found) throw DatastoreError("cannot restore " + database + ": no snapshot \"" + snapshot + "\"");
        store::note_database(conn, owner, category);
        store::lock_database(conn, owner, category);  // waits for a session's message, as a session would
        std::vector<pg::Param> params = {pg::Param::bytes(owner), pg::Param::bytes(category_text),
                                         pg::Param::int8(found->id)};
        counts.removed = static_cast<std::size_t>(
            conn.run("store_restore_remove",
                     "DELETE FROM smk_store_items i WHERE i.owner = $1 AND i.category = $2 AND NOT EXISTS "
                     "(SELECT 1 FROM smk_store_snapshot_items s WHERE s.snapshot = $3::bigint AND s.guid = i.guid)",
                     params)
                .affected());
        counts.changed = static_cast<std::size_t>(
            conn.run("store_restore_change",
                     "UPDATE smk_store_items i SET revision = nextval('smk_store_revision'), "
                     "content_type = s.content_type, content_version = s.content_version, data = s.data "
                     "FROM smk_store_snapshot_items s WHERE s.snapshot = $3::bigint AND i.owner = $1 "
                     "AND i.category = $2 AND i.guid = s.guid AND (i.content_type <> s.content_type "
                     "OR i.content_version <> s.content_version OR i.data <> s.data)",
                     params)
                .affected());
        counts.added = static_cast<std::size_t>(
            conn.run("store_restore_add",
                     "INSERT INTO smk_store_items(owner, category, guid, revision, content_type, content_version, data) "
                     "SELECT $1::bytea, $2::text, s.guid, nextval('smk_store_revision'), s.content_type, s.content_version, s.data "
                     "FROM smk_store_snapshot_items s WHERE s.snapshot = $3::bigint AND NOT EXISTS "
                     "(SELECT 1 FROM smk_store_items i WHERE i.owner = $1 AND i.category = $2 AND i.guid = s.guid) "
                     "ORDER BY s.guid",
                     params)
                .affected());
        std::int64_t total =
            conn.run("store_restore_total",
                     "SELECT count(*) FROM smk_store_snapshot_items WHERE snapshot = $1::bigint",
                     {pg::Param::int8(found->id)})
                .int8(0, 0);
        counts.unchanged = static_cast<std::size_t>(total) - counts.added - counts.changed;
        conn.commit();
    } catch (const DatastoreError& e) {
        conn.rollback();
        std::string what = e.what();
        if (what.rfind("cannot restore", 0) == 0) throw;
        throw DatastoreError("cannot restore " + database + " from \"" + snapshot + "\": " + what);
    } catch (...) {
        conn.rollback();
        throw;
    }
}

std::vector<ClientSyncState> PostgresStoreProvider::client_states(const std::string& owner, Category category) {
    if (!has_database(owner, category)) return {};
    std::shared_ptr<store::PostgresDatastore> store = impl_->open_store(owner, category);
    return store->open_state()->sync().clients();
}

std::optional<ClientSyncState> PostgresStoreProvider::forget_client(const std::string& owner, Category category,
                                                                    const std::string& device) {
    std::vector<ClientSyncState> states = client_states(owner, category);
    auto found = std::find_if(states.begin(), states.end(), [&](const ClientSyncState& s) { return s.device == device; });
    if (found == states.end()) return std::nullopt;
    std::shared_ptr<store::PostgresDatastore> store = impl_->open_store(owner, category);
    std::unique_ptr<state::DatabaseState> state = store->open_state();
    store->begin();  // waits for a running session's message
    try {
        state->sync().forget(device);
        state->resume().erase(device);  // an interrupted session is not resumed either
        state->pairing().clear_claims(device);
        store->commit();
    } catch (...) {
        store->rollback();
        throw;
    }
    return *found;
}

}  // namespace smk
