// Per-client sync state in three tables of the store's SQLite file:
// smk_anchors (one row per device), smk_client_items (one row per item a
// device holds, keyed by (device, guid), found by (device, luid) too) and
// smk_outbox (what is still to be sent, in seq order).
#include "state/sqlite/sync_state.hpp"

#include "sqlite/guarded.hpp"
#include "sqlite/lost_transaction.hpp"
#include "sqlite/statement_in_use.hpp"

#include <stdexcept>
#include <utility>

#include <sqlite3.h>

#include "syncmlkit/datastore.hpp"

namespace smk::state {
namespace {

// WITHOUT ROWID: the rows are small and always looked up by their key, so
// the key's B-tree holds the rows themselves. The outbox keeps a rowid with
// AUTOINCREMENT, so a seq is never handed out twice, not even after
// clear_outbox().
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS smk_anchors(
    device      TEXT PRIMARY KEY NOT NULL,
    client_next TEXT NOT NULL,
    server_next TEXT NOT NULL,
    completed   INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS smk_client_items(
    device   TEXT NOT NULL,
    guid     TEXT NOT NULL,
    luid     TEXT NOT NULL,
    revision TEXT NOT NULL,
    PRIMARY KEY (device, guid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS smk_client_items_by_luid ON smk_client_items(device, luid);
CREATE TABLE IF NOT EXISTS smk_outbox(
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    op     TEXT NOT NULL,
    guid   TEXT NOT NULL,
    luid   TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS smk_outbox_by_device ON smk_outbox(device, seq);
CREATE TABLE IF NOT EXISTS smk_outbox_pages(
    device  TEXT NOT NULL,
    page    INTEGER NOT NULL,
    entries BLOB NOT NULL,
    PRIMARY KEY (device, page)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS smk_sent_adds(
    device  TEXT NOT NULL,
    session TEXT NOT NULL,
    adds    BLOB NOT NULL,
    PRIMARY KEY (device, session)) WITHOUT ROWID;
)sql";

// Rows put_all() writes a statement.
constexpr std::size_t kRowsPerPut = 32;

std::string upsert_items_sql(std::size_t rows) {
    std::string sql = "INSERT INTO smk_client_items(device, guid, luid, revision) VALUES ";
    for (std::size_t i = 0; i < rows; ++i) sql += i ? ", (?, ?, ?, ?)" : "(?, ?, ?, ?)";
    return sql + " ON CONFLICT(device, guid) DO UPDATE SET luid = excluded.luid, revision = excluded.revision";
}

constexpr const char* kListItemsSql =
    "SELECT guid, luid, revision FROM smk_client_items WHERE device = ? ORDER BY guid";

using sqlite::StatementInUse;

const char* op_name(OutOp op) {
    switch (op) {
        case OutOp::add: return "add";
        case OutOp::replace: return "replace";
        case OutOp::remove: return "remove";
    }
    throw std::invalid_argument("unknown OutOp");
}

OutOp op_from_name(const std::string& name) {
    if (name == "add") return OutOp::add;
    if (name == "replace") return OutOp::replace;
    if (name == "remove") return OutOp::remove;
    throw std::runtime_error("unknown outbox operation \"" + name + "\"");
}

// Lists of strings as one blob: each string as its length (LEB128) and bytes.
void put_string(std::string& out, const std::string& s) {
    std::size_t n = s.size();
    do {
        unsigned char b = n & 0x7F;
        n >>= 7;
        out += static_cast<char>(n ? b | 0x80 : b);
    } while (n);
    out += s;
}

std::string get_string(const char*& p, const char* end) {
    std::size_t n = 0;
    for (int shift = 0;; shift += 7) {
        if (p == end || shift > 56) throw std::runtime_error("sync state: a damaged list");
        auto b = static_cast<unsigned char>(*p++);
        n |= static_cast<std::size_t>(b & 0x7F) << shift;
        if (!(b & 0x80)) break;
    }
    if (static_cast<std::size_t>(end - p) < n) throw std::runtime_error("sync state: a damaged list");
    std::string s(p, n);
    p += n;
    return s;
}

// Columns guid, luid, revision of the current row.
ClientItem client_item(SQLite::Statement& row) {
    return ClientItem{row.getColumn(0).getString(), row.getColumn(1).getString(), row.getColumn(2).getString()};
}

std::size_t count(SQLite::Statement& statement, const std::string& device) {
    StatementInUse use(statement);
    use->bind(1, device);
    use->executeStep();
    return static_cast<std::size_t>(use->getColumn(0).getInt64());
}

class ClientItemListing : public ClientItemCursor {
public:
    ClientItemListing(const SQLite::Database& db, std::shared_ptr<SQLite::Statement> statement)
        : db_(db), statement_(std::move(statement)) {}
    ~ClientItemListing() override { statement_->tryReset(); }

    bool next(ClientItem& out) override {
        if (done_) return false;
        bool was_open = sqlite::transaction_open(db_);
        try {
            if (!statement_->executeStep()) return finish();
            out = client_item(*statement_);
            return true;
        } catch (const SQLite::Exception& e) {
            finish();
            throw sqlite::failure("sync state", "listing a device's items", db_, e, was_open);
        }
    }

private:
    bool finish() {
        done_ = true;
        statement_->tryReset();  // ends the read at once, not when the cursor goes
        return false;
    }

    const SQLite::Database& db_;
    std::shared_ptr<SQLite::Statement> statement_;
    bool done_ = false;
};

// SQLite's exceptions as DatastoreError, the transaction's loss marked.
template <typename Body>
auto guarded(const char* what, const SQLite::Database& db, Body&& body) {
    return sqlite::guarded("sync state", what, db, std::forward<Body>(body));
}

// smk_anchors.completed (when the session ended, Unix seconds) came later:
// a file made before it gets the column, NULL in its old rows.
// Two connections may add it at once: the loser's ALTER fails, and is fine.
void add_completed_column(SQLite::Database& db) {
    auto has_column = [&db] {
        SQLite::Statement has(db, "SELECT count(*) FROM pragma_table_info('smk_anchors') WHERE name = 'completed'");
        return has.executeStep() && has.getColumn(0).getInt() > 0;
    };
    if (has_column()) return;
    if (db.tryExec("ALTER TABLE smk_anchors ADD COLUMN completed INTEGER") != SQLITE_OK && !has_column())
        db.exec("ALTER TABLE smk_anchors ADD COLUMN completed INTEGER");  // throws the cause
}

// Devices with any sync state in the database: anchors, client items or outbox.
constexpr const char* kClientsSql = R"sql(
SELECT device, max(has_anchors), max(completed), sum(items) FROM (
    SELECT device, 1 AS has_anchors, completed, 0 AS items FROM smk_anchors
    UNION ALL SELECT device, 0, NULL, count(*) FROM smk_client_items GROUP BY device
    UNION ALL SELECT DISTINCT device, 0, NULL, 0 FROM smk_outbox
    UNION ALL SELECT DISTINCT device, 0, NULL, 0 FROM smk_outbox_pages
    UNION ALL SELECT DISTINCT device, 0, NULL, 0 FROM smk_sent_adds)
GROUP BY device ORDER BY device
)sql";

}  // namespace

struct SqliteSyncState::Statements {
    explicit Statements(SQLite::Database& db)
        : select_anchors(db, "SELECT client_next, server_next FROM smk_anchors WHERE device = ?"),
          upsert_anchors(db,
                         "INSERT INTO smk_anchors(device, client_next, server_next, completed) "
                         "VALUES (?, ?, ?, strftime('%s', 'now')) "
                         "ON CONFLICT(device) DO UPDATE SET client_next = excluded.client_next, "
                         "server_next = excluded.server_next, completed = excluded.completed"),
          select_by_guid(db, "SELECT guid, luid, revision FROM smk_client_items WHERE device = ? AND guid = ?"),
          // INDEXED BY: without statistics SQLite prefers scanning the
          // device's rows in the primary key, one lookup costing as many
          // steps as the client has items.
          select_by_luid(db,
                         "SELECT guid, luid, revision FROM smk_client_items INDEXED BY smk_client_items_by_luid "
                         "WHERE device = ? AND luid = ? ORDER BY guid LIMIT 1"),
          upsert_item(db, upsert_items_sql(1)),
          upsert_items(db, upsert_items_sql(kRowsPerPut)),
          update_luid(db, "UPDATE smk_client_items SET luid = ? WHERE device = ? AND guid = ?"),
          delete_item(db, "DELETE FROM smk_client_items WHERE device = ? AND guid = ?"),
          delete_items(db, "DELETE FROM smk_client_items WHERE device = ?"),
          count_items(db, "SELECT count(*) FROM smk_client_items WHERE device = ?"),
          delete_outbox(db, "DELETE FROM smk_outbox WHERE device = ?"),
          insert_outbox(db, "INSERT INTO smk_outbox(device, op, guid, luid) VALUES (?, ?, ?, ?)"),
          select_next_queued(db,
                             "SELECT seq, op, guid, luid FROM smk_outbox WHERE device = ? AND seq > ? "
                             "ORDER BY seq LIMIT 1"),
          count_queued(db, "SELECT count(*) FROM smk_outbox WHERE device = ?"),
          forget_anchors(db, "DELETE FROM smk_anchors WHERE device = ?"),
          delete_pages(db, "DELETE FROM smk_outbox_pages WHERE device = ?"),
          insert_page(db, "INSERT OR REPLACE INTO smk_outbox_pages(device, page, entries) VALUES (?, ?, ?)"),
          select_page(db, "SELECT entries FROM smk_outbox_pages WHERE device = ? AND page = ?"),
          select_sent_adds(db, "SELECT adds FROM smk_sent_adds WHERE device = ?"),
          upsert_sent_adds(db, "INSERT OR REPLACE INTO smk_sent_adds(device, session, adds) VALUES (?, ?, ?)"),
          delete_sent_adds(db, "DELETE FROM smk_sent_adds WHERE device = ?"),
          delete_session_adds(db, "DELETE FROM smk_sent_adds WHERE device = ? AND session = ?"),
          insert_unmapped(db,
                          "INSERT INTO smk_client_items(device, guid, luid, revision) VALUES (?, ?, '', ?) "
                          "ON CONFLICT(device, guid) DO UPDATE SET revision = excluded.revision WHERE luid = ''"),
          list_items(std::make_shared<SQLite::Statement>(db, kListItemsSql)) {}

    SQLite::Statement select_anchors, upsert_anchors;
    SQLite::Statement select_by_guid, select_by_luid, upsert_item, upsert_items, update_luid, delete_item, delete_items,
        count_items;
    SQLite::Statement delete_outbox, insert_outbox, select_next_queued, count_queued;
    SQLite::Statement forget_anchors;
    SQLite::Statement delete_pages, insert_page, select_page;
    SQLite::Statement select_sent_adds, upsert_sent_adds, delete_sent_adds, delete_session_adds, insert_unmapped;
    std::shared_ptr<SQLite::Statement> list_items;  // lent to one cursor at a time
};

SqliteSyncState::SqliteSyncState(SQLite::Database& db) : db_(db) {
    guarded("creating tables", db_, [&] {
        db_.exec(kSchema);
        add_completed_column(db_);
        statements_ = std::make_unique<Statements>(db_);
    });
}

SqliteSyncState::~SqliteSyncState() = default;

std::optional<Anchors> SqliteSyncState::anchors(const std::string& device) {
    return guarded("reading anchors", db_, [&]() -> std::optional<Anchors> {
        StatementInUse use(statements_->select_anchors);
        use->bind(1, device);
        if (!use->executeStep()) return std::nullopt;
        return Anchors{use->getColumn(0).getString(), use->getColumn(1).getString()};
    });
}

void SqliteSyncState::save_anchors(const std::string& device, const Anchors& anchors) {
    guarded("saving anchors", db_, [&] {
        StatementInUse use(statements_->upsert_anchors);
        use->bind(1, device);
        use->bind(2, anchors.client_next);
        use->bind(3, anchors.server_next);
        use->exec();
    });
}

void SqliteSyncState::forget_anchors(const std::string& device) {
    guarded("forgetting anchors", db_, [&] {
        StatementInUse use(statements_->forget_anchors);
        use->bind(1, device);
        use->exec();
    });
}

void SqliteSyncState::forget(const std::string& device) {
    guarded("forgetting a device", db_, [&] {
        for (SQLite::Statement* s :
             {&statements_->forget_anchors, &statements_->delete_items, &statements_->delete_outbox,
              &statements_->delete_pages, &statements_->delete_sent_adds}) {
            StatementInUse use(*s);
            use->bind(1, device);
            use->exec();
        }
    });
}

std::optional<ClientItem> SqliteSyncState::by_guid(const std::string& device, const std::string& guid) {
    return guarded("looking up a GUID", db_, [&]() -> std::optional<ClientItem> {
        StatementInUse use(statements_->select_by_guid);
        use->bind(1, device);
        use->bind(2, guid);
        if (!use->executeStep()) return std::nullopt;
        return client_item(statements_->select_by_guid);
    });
}

std::optional<ClientItem> SqliteSyncState::by_luid(const std::string& device, const std::string& luid) {
    if (luid.empty()) return std::nullopt;
    return guarded("looking up a LUID", db_, [&]() -> std::optional<ClientItem> {
        StatementInUse use(statements_->select_by_luid);
        use->bind(1, device);
        use->bind(2, luid);
        if (!use->executeStep()) return std::nullopt;
        return client_item(statements_->select_by_luid);
    });
}

void SqliteSyncState::put(const std::string& device, const ClientItem& item) {
    guarded("storing a client item", db_, [&] {
        StatementInUse use(statements_->upsert_item);
        use->bind(1, device);
        use->bind(2, item.guid);
        use->bind(3, item.luid);
        use->bind(4, item.revision);
        use->exec();
    });
}

void SqliteSyncState::put_all(const std::string& device, const std::vector<ClientItem>& items) {
    std::size_t i = 0;
    if (items.size() >= kRowsPerPut)
        guarded("storing client items", db_, [&] {
            for (; items.size() - i >= kRowsPerPut; i += kRowsPerPut) {
                StatementInUse use(statements_->upsert_items);
                for (std::size_t r = 0; r < kRowsPerPut; ++r) {
                    const ClientItem& item = items[i + r];
                    int p = static_cast<int>(r * 4);
                    use->bindNoCopy(p + 1, device);
                    use->bindNoCopy(p + 2, item.guid);
                    use->bindNoCopy(p + 3, item.luid);
                    use->bindNoCopy(p + 4, item.revision);
                }
                use->exec();
            }
        });
    for (; i < items.size(); ++i) put(device, items[i]);
}

bool SqliteSyncState::set_luid(const std::string& device, const std::string& guid, const std::string& luid) {
    return guarded("mapping a LUID", db_, [&] {
        StatementInUse use(statements_->update_luid);
        use->bind(1, luid);
        use->bind(2, device);
        use->bind(3, guid);
        return use->exec() > 0;
    });
}

void SqliteSyncState::erase(const std::string& device, const std::string& guid) {
    guarded("forgetting a client item", db_, [&] {
        StatementInUse use(statements_->delete_item);
        use->bind(1, device);
        use->bind(2, guid);
        use->exec();
    });
}

void SqliteSyncState::erase_all(const std::string& device) {
    guarded("forgetting a device's items", db_, [&] {
        for (SQLite::Statement* s : {&statements_->delete_items, &statements_->delete_sent_adds}) {
            StatementInUse use(*s);
            use->bind(1, device);
            use->exec();
        }
    });
}

std::unique_ptr<ClientItemCursor> SqliteSyncState::items(const std::string& device) {
    return guarded("listing a device's items", db_, [&]() -> std::unique_ptr<ClientItemCursor> {
        // The cached statement is free unless an earlier cursor still holds
        // it; then this listing gets one of its own.
        std::shared_ptr<SQLite::Statement> statement = statements_->list_items;
        if (statement.use_count() > 2)
            statement = std::make_shared<SQLite::Statement>(db_, kListItemsSql);
        else
            statement->tryReset();
        statement->bind(1, device);  // bind() copies: the cursor may outlive `device`
        return std::make_unique<ClientItemListing>(db_, std::move(statement));
    });
}

bool SqliteSyncState::has_unmapped(const std::string& device) {
    return guarded("looking for unmapped items", db_, [&] {
        // Once a session at most: not worth a statement kept prepared.
        SQLite::Statement q(db_, "SELECT 1 FROM smk_client_items INDEXED BY smk_client_items_by_luid "
                                 "WHERE device = ? AND luid = '' LIMIT 1");
        q.bind(1, device);
        return q.executeStep();
    });
}

std::size_t SqliteSyncState::item_count(const std::string& device) {
    return guarded("counting a device's items", db_, [&] { return count(statements_->count_items, device); });
}

void SqliteSyncState::clear_outbox(const std::string& device) {
    guarded("clearing the outbox", db_, [&] {
        for (SQLite::Statement* s : {&statements_->delete_outbox, &statements_->delete_pages}) {
            StatementInUse use(*s);
            use->bind(1, device);
            use->exec();
        }
    });
}

void SqliteSyncState::queue_page(const std::string& device, std::int64_t page, const std::vector<OutboxEntry>& entries) {
    std::string blob;
    for (const OutboxEntry& e : entries) {
        blob += e.op == OutOp::add ? 'a' : e.op == OutOp::replace ? 'r' : 'd';
        put_string(blob, e.guid);
        put_string(blob, e.luid);
    }
    guarded("queueing changes", db_, [&] {
        StatementInUse use(statements_->insert_page);
        use->bind(1, device);
        use->bind(2, page);
        use->bindNoCopy(3, blob.data(), static_cast<int>(blob.size()));
        use->exec();
    });
}

std::vector<OutboxEntry> SqliteSyncState::queued_page(const std::string& device, std::int64_t page) {
    return guarded("reading the outbox", db_, [&] {
        std::vector<OutboxEntry> out;
        StatementInUse use(statements_->select_page);
        use->bind(1, device);
        use->bind(2, page);
        if (!use->executeStep()) return out;
        SQLite::Column c = use->getColumn(0);
        const char* p = static_cast<const char*>(c.getBlob());
        const char* end = p + c.getBytes();
        while (p != end) {
            OutboxEntry e;
            char op = *p++;
            e.op = op == 'a' ? OutOp::add : op == 'r' ? OutOp::replace : OutOp::remove;
            e.guid = get_string(p, end);
            e.luid = get_string(p, end);
            out.push_back(std::move(e));
        }
        return out;
    });
}

void SqliteSyncState::save_sent_adds(const std::string& device, const std::string& session,
                               const std::vector<SentAdd>& adds) {
    std::string blob;
    for (const SentAdd& a : adds) {
        put_string(blob, a.guid);
        put_string(blob, a.revision);
    }
    guarded("noting the Adds sent", db_, [&] {
        if (adds.empty()) {
            StatementInUse use(statements_->delete_session_adds);
            use->bind(1, device);
            use->bind(2, session);
            use->exec();
            return;
        }
        StatementInUse use(statements_->upsert_sent_adds);
        use->bind(1, device);
        use->bind(2, session);
        use->bindNoCopy(3, blob.data(), static_cast<int>(blob.size()));
        use->exec();
    });
}

void SqliteSyncState::put_unmapped(const std::string& device, const std::string& guid, const std::string& revision) {
    guarded("recording an Add awaiting its Map", db_, [&] {
        StatementInUse use(statements_->insert_unmapped);
        use->bind(1, device);
        use->bind(2, guid);
        use->bind(3, revision);
        use->exec();
    });
}

void SqliteSyncState::recover_sent_adds(const std::string& device) {
    std::vector<SentAdd> adds;
    guarded("reading the Adds sent", db_, [&] {
        StatementInUse use(statements_->select_sent_adds);
        use->bind(1, device);
        while (use->executeStep()) {
            SQLite::Column c = use->getColumn(0);
            const char* p = static_cast<const char*>(c.getBlob());
            const char* end = p + c.getBytes();
            while (p != end) {
                SentAdd a;
                a.guid = get_string(p, end);
                a.revision = get_string(p, end);
                adds.push_back(std::move(a));
            }
        }
    });
    if (adds.empty()) return;
    guarded("recording the Adds sent", db_, [&] {
        // A row mapped since (by a session of the device running beside
        // the one that sent them) stays as it is.
        for (const SentAdd& a : adds) {
            StatementInUse use(statements_->insert_unmapped);
            use->bind(1, device);
            use->bind(2, a.guid);
            use->bind(3, a.revision);
            use->exec();
        }
        StatementInUse use(statements_->delete_sent_adds);
        use->bind(1, device);
        use->exec();
    });
}

std::size_t SqliteSyncState::queued_total() {
    return guarded("counting the outbox", db_, [&] {
        std::size_t n = static_cast<std::size_t>(db_.execAndGet("SELECT count(*) FROM smk_outbox").getInt64());
        SQLite::Statement pages(db_, "SELECT entries FROM smk_outbox_pages");
        while (pages.executeStep()) {
            SQLite::Column c = pages.getColumn(0);
            const char* p = static_cast<const char*>(c.getBlob());
            const char* end = p + c.getBytes();
            for (; p != end; ++n) {
                ++p;  // the operation
                get_string(p, end);
                get_string(p, end);
            }
        }
        return n;
    });
}

std::size_t SqliteSyncState::sent_adds_total() {
    return guarded("counting the Adds sent", db_, [&] {
        std::size_t n = 0;
        SQLite::Statement lists(db_, "SELECT adds FROM smk_sent_adds");
        while (lists.executeStep()) {
            SQLite::Column c = lists.getColumn(0);
            const char* p = static_cast<const char*>(c.getBlob());
            const char* end = p + c.getBytes();
            for (; p != end; ++n) {
                get_string(p, end);
                get_string(p, end);
            }
        }
        return n;
    });
}

void SqliteSyncState::queue(const std::string& device, const OutboxEntry& entry) {
    guarded("queueing a change", db_, [&] {
        StatementInUse use(statements_->insert_outbox);
        use->bind(1, device);
        use->bind(2, op_name(entry.op));
        use->bind(3, entry.guid);
        use->bind(4, entry.luid);
        use->exec();
    });
}

std::optional<OutboxEntry> SqliteSyncState::next_queued(const std::string& device, std::int64_t after_seq) {
    return guarded("reading the outbox", db_, [&]() -> std::optional<OutboxEntry> {
        StatementInUse use(statements_->select_next_queued);
        use->bind(1, device);
        use->bind(2, after_seq);
        if (!use->executeStep()) return std::nullopt;
        OutboxEntry entry;
        entry.seq = use->getColumn(0).getInt64();
        entry.op = op_from_name(use->getColumn(1).getString());
        entry.guid = use->getColumn(2).getString();
        entry.luid = use->getColumn(3).getString();
        return entry;
    });
}

std::size_t SqliteSyncState::queued_count(const std::string& device) {
    return guarded("counting the outbox", db_, [&] { return count(statements_->count_queued, device); });
}

std::vector<ClientSyncState> SqliteSyncState::clients() {
    return guarded("listing clients", db_, [&] {
        std::vector<ClientSyncState> out;
        SQLite::Statement q(db_, kClientsSql);
        while (q.executeStep()) {
            ClientSyncState c;
            c.device = q.getColumn(0).getString();
            c.completed = q.getColumn(1).getInt() != 0;
            if (!q.getColumn(2).isNull()) c.when = q.getColumn(2).getInt64();
            c.items = static_cast<std::size_t>(q.getColumn(3).getInt64());
            out.push_back(std::move(c));
        }
        return out;
    });
}

}  // namespace smk::state
