// The default Datastore: one SQLite file per user and database.
//
// Items live in smk_items, ordered by GUID (SQLite's BINARY collation, which
// is std::string's order), so the engine can walk the store's listing and a
// client's state (state/sync_state.hpp, also in GUID order) side by side.
// GUIDs and revisions come from counters kept in the file (smk_counters): a
// GUID is never handed out twice and every write gets a revision no earlier
// write had, whichever connection made it.
#include "store/sqlite_datastore.hpp"
#include "sqlite/enable_wal.hpp"

#include "sqlite/lost_transaction.hpp"
#include "sqlite/statement_in_use.hpp"
#include "state/sqlite/sqlite_state.hpp"

#include <SQLiteCpp/Statement.h>
#include <sqlite3.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cctype>
#include <filesystem>
#include <ctime>
#include <algorithm>
#include <deque>
#include <mutex>
#include <stdexcept>

namespace smk::store {
namespace {

// Two sessions of one user may write the same file at once, each on its own
// connection; the second waits for the first's transaction this long.
constexpr int kBusyTimeoutMs = 5000;

// SQLite's page cache per connection (SQLite's default is 2,000 KiB): a
// connection of a large store fills it, one of a small store does not, so
// it is what a process's memory grows by with the store's size. The pages
// a lookup walks (the B-trees' upper levels) fit many times over; the rest
// comes from the operating system's file cache.
constexpr int kCacheKiB = 512;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS smk_items(
    guid            TEXT PRIMARY KEY NOT NULL,
    revision        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    content_version TEXT NOT NULL,
    data            BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS smk_counters(
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL);
INSERT OR IGNORE INTO smk_counters(name, value) VALUES ('guid', 0), ('revision', 0);
)sql";

DatastoreError failure(const std::string& what, const std::string& path, const std::exception& e) {
    return DatastoreError(what + " (" + path + "): " + e.what());
}

// The same for a failed SQLite statement on `db`, telling whether it cost
// the transaction of begin() (`was_open`: one was open before it).
DatastoreError failure(const std::string& what, const SQLite::Database& db, const SQLite::Exception& e,
                       bool was_open) {
    std::string more = sqlite::explain_failure(db, was_open, e.getErrorCode(), what + ": " + e.what());
    return DatastoreError(what + " (" + db.getFilename() + "): " + e.what() + more);
}

// At most kCacheKiB; a smaller cache set at open (an extension's) stays.
void bound_page_cache(SQLite::Database& db) {
    std::int64_t size = db.execAndGet("PRAGMA cache_size").getInt64();
    std::int64_t kib = size < 0 ? -size : size * db.execAndGet("PRAGMA page_size").getInt64() / 1024;
    if (kib > kCacheKiB) db.exec("PRAGMA cache_size=" + std::to_string(-kCacheKiB));
}

// Opens the file and creates the tables. WAL lets sessions read while another
// writes; synchronous=NORMAL keeps a WAL file consistent through a crash and
// may lose only the last commits on power loss, which a client recovers from
// with a slow sync (the anchors are lost with the items).
//
// NOMUTEX: a connection is used by one thread at a time (a session's calls
// are serialised by the server, and the pool hands a connection on under
// its mutex), so SQLite's own lock per call (hundreds per item) buys nothing.
std::shared_ptr<SQLite::Database> open_store_file(const std::string& path) {
    auto db = std::make_shared<SQLite::Database>(
        path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX, kBusyTimeoutMs);
    db->exec("PRAGMA synchronous=NORMAL");  // first: the switch to WAL then syncs less
    bound_page_cache(*db);
    sqlite::enable_wal(*db);
    db->exec("BEGIN IMMEDIATE");
    try {
        db->exec(kSchema);
        db->exec("COMMIT");
    } catch (...) {
        db->tryExec("ROLLBACK");
        throw;
    }
    return db;
}

using sqlite::transaction_open;

// Idle connections, by file. A session's store is closed when the session
// ends and opened again by the next one; keeping the connection spares the
// re-open, and SQLite's deleting and re-creating the WAL files with it (file
// creation was the largest cost of a short session). A few dozen at most.
class ConnectionPool {
public:
    std::shared_ptr<SQLite::Database> take(const std::string& path) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto it = idle_.begin(); it != idle_.end(); ++it) {
            if (it->first != path) continue;
            std::shared_ptr<SQLite::Database> db = std::move(it->second);
            idle_.erase(it);
            return db;
        }
        return nullptr;
    }
    void give(const std::string& path, std::shared_ptr<SQLite::Database> db) {
        std::lock_guard<std::mutex> lock(mutex_);
        idle_.emplace_back(path, std::move(db));
        if (idle_.size() > kMaxIdle) idle_.pop_front();  // the longest idle one closes
    }

private:
    static constexpr std::size_t kMaxIdle = 32;
    std::mutex mutex_;
    std::deque<std::pair<std::string, std::shared_ptr<SQLite::Database>>> idle_;
};

ConnectionPool& connection_pool() {
    static ConnectionPool pool;
    return pool;
}

// The store's connection: from the pool when one is idle, back to it when
// the store closes with no transaction open and no cursor still using it.
class PooledConnection {
public:
    explicit PooledConnection(const std::string& path) : path_(path), db_(connection_pool().take(path)) {
        if (!db_) db_ = open_store_file(path);
    }
    ~PooledConnection() {
        if (db_ && db_.use_count() == 1 && !transaction_open(*db_)) connection_pool().give(path_, std::move(db_));
    }
    PooledConnection(const PooledConnection&) = delete;
    PooledConnection& operator=(const PooledConnection&) = delete;
    SQLite::Database& operator*() const { return *db_; }
    SQLite::Database* operator->() const { return db_.get(); }
    const std::shared_ptr<SQLite::Database>& shared() const { return db_; }

private:
    std::string path_;
    std::shared_ptr<SQLite::Database> db_;
};

using sqlite::StatementInUse;

void bind_data(SQLite::Statement& statement, int index, std::string_view data) {
    if (data.size() > static_cast<std::size_t>(INT_MAX)) throw std::length_error("item larger than 2 GiB");
    // A null pointer would bind NULL; an empty item is an empty blob.
    statement.bindNoCopy(index, data.empty() ? "" : data.data(), static_cast<int>(data.size()));
}

// Walks smk_items in GUID order, one row per next(), keeping the connection
// alive for as long as it lives.
class ItemListing : public ItemCursor {
public:
    ItemListing(std::shared_ptr<SQLite::Database> db, std::shared_ptr<SQLite::Statement> statement)
        : db_(std::move(db)), statement_(std::move(statement)) {}
    ~ItemListing() override { statement_->tryReset(); }

    bool next(ItemVersion& out) override {
        if (done_) return false;
        bool was_open = transaction_open(*db_);
        try {
            if (!statement_->executeStep()) return finish();
            out.guid = statement_->getColumn(0).getString();
            out.revision = statement_->getColumn(1).getString();
            return true;
        } catch (const SQLite::Exception& e) {
            finish();
            throw failure("listing items", *db_, e, was_open);
        }
    }

private:
    bool finish() {
        done_ = true;
        statement_->tryReset();  // ends the read at once, not when the cursor goes
        return false;
    }

    std::shared_ptr<SQLite::Database> db_;  // declared first: outlives the statement
    std::shared_ptr<SQLite::Statement> statement_;
    bool done_ = false;
};

}  // namespace

struct SqliteDatastore::Impl {
    Impl(const std::string& path, Format native_format)
        : native(std::move(native_format)),
          db(path),
          select_item(*db, "SELECT revision, content_type, content_version, data FROM smk_items WHERE guid = ?"),
          select_revision(*db, "SELECT revision FROM smk_items WHERE guid = ?"),
          insert_item(*db,
                      "INSERT INTO smk_items(guid, revision, content_type, content_version, data) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT(guid) DO NOTHING"),
          update_item(*db,
                      "UPDATE smk_items SET revision = ?2, content_type = ?3, content_version = ?4, data = ?5 "
                      "WHERE guid = ?1"),
          upsert_item(*db,
                      "INSERT INTO smk_items(guid, revision, content_type, content_version, data) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT(guid) DO UPDATE SET revision = excluded.revision, "
                      "content_type = excluded.content_type, content_version = excluded.content_version, "
                      "data = excluded.data"),
          delete_item(*db, "DELETE FROM smk_items WHERE guid = ?"),
          bump_counter(*db, "UPDATE smk_counters SET value = value + 1 WHERE name = ?"),
          read_counter(*db, "SELECT value FROM smk_counters WHERE name = ?"),
          set_counter(*db, "UPDATE smk_counters SET value = ? WHERE name = ?"),
          begin_transaction(*db, "BEGIN IMMEDIATE"),
          commit_transaction(*db, "COMMIT"),
          rollback_transaction(*db, "ROLLBACK"),
          list_items(std::make_shared<SQLite::Statement>(*db, kListSql)) {}

    static constexpr const char* kListSql = "SELECT guid, revision FROM smk_items ORDER BY guid";

    const std::string& path() const { return db->getFilename(); }

    // Steps a counter and returns its new value. Callers hold a write
    // transaction, so no other connection steps it in between. (Not one
    // UPDATE ... RETURNING: SQLite buffers RETURNING rows in a temporary
    // table it creates on every run; add() took 25 times as long.)
    // Inside begin()/commit() the write lock is held from BEGIN IMMEDIATE
    // on, so the counter is read once and stepped in memory; commit()
    // writes it back before COMMIT, rollback() forgets it.
    std::string next_value(const char* counter) {
        if (began && transaction_open(*db)) {
            Counter& c = counter[0] == 'g' ? guid_counter : revision_counter;
            if (!c.loaded) {
                c.value = read_value(counter);
                c.loaded = true;
            }
            ++c.value;
            c.dirty = true;
            return std::to_string(c.value);
        }
        {
            StatementInUse bump(bump_counter);
            bump->bind(1, counter);
            if (bump->exec() != 1) throw std::logic_error(std::string("no counter ") + counter);
        }
        return std::to_string(read_value(counter));
    }

    std::int64_t read_value(const char* counter) {
        StatementInUse read(read_counter);
        read->bind(1, counter);
        if (!read->executeStep()) throw std::logic_error(std::string("no counter ") + counter);
        return read->getColumn(0).getInt64();
    }

    // The counters stepped in memory since begin(), written back (inside
    // the transaction, before COMMIT).
    void store_counters() {
        for (auto [c, name] : {std::pair<Counter*, const char*>{&guid_counter, "guid"}, {&revision_counter, "revision"}}) {
            if (!c->dirty) continue;
            StatementInUse set(set_counter);
            set->bind(1, c->value);
            set->bind(2, name);
            if (set->exec() != 1) throw std::logic_error(std::string("no counter ") + name);
            c->dirty = false;
        }
    }

    void forget_counters() { guid_counter = revision_counter = Counter{}; }

    // Binds guid, revision, format and data as ?1..?5 (the order of every write statement).
    static void bind_item(SQLite::Statement& statement, const std::string& guid, const std::string& revision,
                          const Format& format, std::string_view data) {
        // Not copied: StatementInUse unbinds before the strings go.
        statement.bindNoCopy(1, guid);
        statement.bindNoCopy(2, revision);
        statement.bindNoCopy(3, format.type);
        statement.bindNoCopy(4, format.version);
        bind_data(statement, 5, data);
    }

    // Runs one write statement; true when it changed a row.
    static bool write(SQLite::Statement& statement, const std::string& guid, const std::string& revision,
                      const Format& format, std::string_view data) {
        StatementInUse use(statement);
        bind_item(statement, guid, revision, format, data);
        return use->exec() > 0;
    }

    void run(SQLite::Statement& statement) {
        StatementInUse use(statement);
        use->exec();
    }

    // After SQLite rolled back the transaction of begin() by itself (an I/O
    // error, a full disk), nothing may be written until rollback(): it would
    // commit on its own, half a message.
    void require_transaction(const char* what) const {
        if (!began || transaction_open(*db)) return;
        std::string cause = sqlite::lost_cause(*db);
        throw DatastoreError(std::string(what) + " (" + path() +
                             "): not written: SQLite rolled the transaction back after " +
                             (cause.empty() ? "an earlier error" : cause));
    }

    // Makes a write made outside begin()/commit() atomic on its own, so that
    // a counter step and the row it numbers commit together; inside the
    // caller's transaction it does nothing.
    class WriteScope {
    public:
        WriteScope(Impl& store, const char* what) : store_(store), own_(!transaction_open(*store.db)) {
            store_.require_transaction(what);
            if (own_) store_.run(store_.begin_transaction);
        }
        ~WriteScope() {
            if (own_) store_.db->tryExec("ROLLBACK");  // only on an error path
        }
        WriteScope(const WriteScope&) = delete;
        WriteScope& operator=(const WriteScope&) = delete;
        void commit() {
            if (!own_) return;
            store_.run(store_.commit_transaction);
            own_ = false;
        }

    private:
        Impl& store_;
        bool own_;
    };

    Format native;
    bool began = false;  // begin() was called and neither commit() nor rollback() since
    struct Counter {
        std::int64_t value = 0;
        bool loaded = false, dirty = false;
    };
    Counter guid_counter, revision_counter;  // inside begin()/commit() only

    PooledConnection db;  // declared before the statements: released after them
    SQLite::Statement select_item, select_revision, insert_item, update_item, upsert_item, delete_item;
    SQLite::Statement bump_counter, read_counter, set_counter, begin_transaction, commit_transaction, rollback_transaction;
    std::shared_ptr<SQLite::Statement> list_items;  // lent to one cursor at a time
};

namespace {

// Runs `body`, turning SQLite's exceptions into DatastoreError naming what
// was being done and the file. Should the failure cost the transaction of
// begin(), the connection is marked so that nothing more is written on it
// (by the store or the sync state) until rollback().
template <typename Body>
auto guarded(const char* what, const SQLite::Database& db, Body&& body) {
    bool was_open = transaction_open(db);
    try {
        return body();
    } catch (const SQLite::Exception& e) {
        throw failure(what, db, e, was_open);
    } catch (const std::length_error& e) {
        throw failure(what, db.getFilename(), e);
    }
}

}  // namespace

SqliteDatastore::SqliteDatastore(const std::string& path, Format native) {
    try {
        impl_ = std::make_unique<Impl>(path, std::move(native));
    } catch (const SQLite::Exception& e) {
        throw failure("cannot open the store", path, e);
    }
}

SqliteDatastore::~SqliteDatastore() {
    if (!impl_) return;
    if (impl_->began) impl_->db->tryExec("ROLLBACK");
    sqlite::clear_lost(*impl_->db);  // the connection may go back to the pool
}

Format SqliteDatastore::native_format() const { return impl_->native; }

std::unique_ptr<ItemCursor> SqliteDatastore::list() {
    return guarded("listing items", *impl_->db, [&]() -> std::unique_ptr<ItemCursor> {
        // The cached statement is free unless an earlier cursor still holds it;
        // then this listing gets one of its own.
        std::shared_ptr<SQLite::Statement> statement = impl_->list_items;
        if (statement.use_count() > 2)
            statement = std::make_shared<SQLite::Statement>(*impl_->db, Impl::kListSql);
        else
            statement->tryReset();
        return std::make_unique<ItemListing>(impl_->db.shared(), std::move(statement));
    });
}

std::optional<StoredItem> SqliteDatastore::read(const std::string& guid) {
    return guarded("reading an item", *impl_->db, [&]() -> std::optional<StoredItem> {
        StatementInUse use(impl_->select_item);
        use->bindNoCopy(1, guid);
        if (!use->executeStep()) return std::nullopt;
        return StoredItem{guid, use->getColumn(0).getString(),
                          Format{use->getColumn(1).getString(), use->getColumn(2).getString()},
                          use->getColumn(3).getString()};
    });
}

std::optional<std::string> SqliteDatastore::revision(const std::string& guid) {
    return guarded("reading a revision", *impl_->db, [&]() -> std::optional<std::string> {
        StatementInUse use(impl_->select_revision);
        use->bindNoCopy(1, guid);
        if (!use->executeStep()) return std::nullopt;
        return use->getColumn(0).getString();
    });
}

ItemVersion SqliteDatastore::add(const Format& format, std::string_view data) {
    return guarded("adding an item", *impl_->db, [&] {
        Impl::WriteScope scope(*impl_, "adding an item");
        std::string revision = impl_->next_value("revision");
        // A GUID put_with_guid() chose may sit where the counter points: skip it.
        std::string guid;
        do {
            guid = impl_->next_value("guid");
        } while (!Impl::write(impl_->insert_item, guid, revision, format, data));
        scope.commit();
        return ItemVersion{guid, revision};
    });
}

std::optional<std::string> SqliteDatastore::replace(const std::string& guid, const Format& format,
                                                    std::string_view data) {
    return guarded("replacing an item", *impl_->db, [&]() -> std::optional<std::string> {
        Impl::WriteScope scope(*impl_, "replacing an item");
        std::string revision = impl_->next_value("revision");
        if (!Impl::write(impl_->update_item, guid, revision, format, data)) return std::nullopt;
        scope.commit();
        return revision;
    });
}

bool SqliteDatastore::remove(const std::string& guid) {
    return guarded("removing an item", *impl_->db, [&] {
        impl_->require_transaction("removing an item");
        StatementInUse use(impl_->delete_item);
        use->bindNoCopy(1, guid);
        return use->exec() > 0;
    });
}

std::string SqliteDatastore::put_with_guid(const std::string& guid, const Format& format, std::string_view data) {
    return guarded("storing an item", *impl_->db, [&] {
        Impl::WriteScope scope(*impl_, "storing an item");
        std::string revision = impl_->next_value("revision");
        Impl::write(impl_->upsert_item, guid, revision, format, data);
        scope.commit();
        return revision;
    });
}

void SqliteDatastore::begin() {
    if (impl_->began) throw std::logic_error("SqliteDatastore::begin() inside a transaction (" + impl_->path() + ")");
    sqlite::clear_lost(*impl_->db);
    impl_->forget_counters();
    guarded("beginning a transaction", *impl_->db, [&] { impl_->run(impl_->begin_transaction); });
    impl_->began = true;
}

void SqliteDatastore::commit() {
    if (!impl_->began) throw std::logic_error("SqliteDatastore::commit() without begin() (" + impl_->path() + ")");
    // SQLite rolls a transaction back by itself after some errors (disk
    // full, I/O errors); then there is nothing left to commit. After an I/O
    // error or a full disk that it did not roll back for, the transaction
    // lacks the failed statement: it is not committed either.
    if (!transaction_open(*impl_->db)) {
        impl_->began = false;
        std::string cause = sqlite::lost_cause(*impl_->db);
        throw DatastoreError("committing (" + impl_->path() + "): SQLite rolled the transaction back after " +
                             (cause.empty() ? "an error" : cause));
    }
    if (std::string cause = sqlite::lost_cause(*impl_->db); !cause.empty())
        throw DatastoreError("committing (" + impl_->path() + "): not committed after " + cause);
    // A failed COMMIT leaves the transaction open (busy) or SQLite rolled it
    // back (an I/O error); either way the caller's rollback() ends it.
    guarded("committing", *impl_->db, [&] {
        impl_->store_counters();
        impl_->run(impl_->commit_transaction);
    });
    impl_->began = false;
    impl_->forget_counters();
}

void SqliteDatastore::rollback() {
    // Also safe after a failed begin() or commit(): the engine rolls back on
    // every error path without tracking which call failed.
    impl_->began = false;
    impl_->forget_counters();
    sqlite::clear_lost(*impl_->db);
    if (!transaction_open(*impl_->db)) return;
    guarded("rolling back", *impl_->db, [&] { impl_->run(impl_->rollback_transaction); });
}

std::optional<std::string> SqliteDatastore::snapshot(std::string_view reason) {
    namespace fs = std::filesystem;
    fs::path file(impl_->path());
    fs::path folder = file.parent_path() / "snapshots";
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    std::string tag;
    for (char c : reason) tag += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
    std::string stem = file.stem().string() + "-";
    // <name>-<time>-<nn>-<reason>.sqlite: names sort by age, also two in a second.
    auto name = [&](int n) {
        char seq[16];
        std::snprintf(seq, sizeof seq, "%02d", n);
        return folder / (stem + stamp + "-" + seq + "-" + tag + ".sqlite");
    };
    fs::path target = name(1);
    return guarded("taking a snapshot", *impl_->db, [&]() -> std::optional<std::string> {
        std::error_code ec;
        fs::create_directories(folder, ec);
        // After the last one of this second (older ones may have been pruned).
        int last = 0;
        std::string prefix = stem + stamp + "-";
        for (const auto& entry : fs::directory_iterator(folder, ec)) {
            std::string f = entry.path().filename().string();
            if (f.rfind(prefix, 0) == 0) last = std::max(last, std::atoi(f.c_str() + prefix.size()));
        }
        target = name(last + 1);
        SQLite::Statement vacuum(*impl_->db, "VACUUM INTO ?");
        vacuum.bind(1, target.string());
        vacuum.exec();
        // Only the newest few are kept: a snapshot is for undoing the last
        // refreshes, not an archive.
        std::vector<fs::path> mine;
        for (const auto& entry : fs::directory_iterator(folder, ec))
            if (entry.path().filename().string().rfind(stem, 0) == 0) mine.push_back(entry.path());
        std::sort(mine.begin(), mine.end());
        for (std::size_t i = 0; i + kMaxSnapshots < mine.size(); ++i) fs::remove(mine[i], ec);
        return target.string();
    });
}

SQLite::Database& SqliteDatastore::database() { return *impl_->db; }

std::unique_ptr<state::DatabaseState> SqliteDatastore::open_state() {
    return std::make_unique<state::SqliteDatabaseState>(database());
}

}  // namespace smk::store
