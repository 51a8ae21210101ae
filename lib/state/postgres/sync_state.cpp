// Tables smk_anchors, smk_client_items, smk_outbox, smk_outbox_pages and
// smk_sent_adds (schema.cpp); parameters $1 and $2 are always the
// database's owner and category, $3 the device.
#include "state/postgres/sync_state.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "pg/connection.hpp"
#include "state/postgres/database_connection.hpp"
#include "syncmlkit/datastore.hpp"

namespace smk::state::postgres {
namespace {

using pg::Param;

constexpr const char* kPart = "sync state";

// Rows put_all() writes a statement, and a cursor reads a page.
constexpr std::size_t kRowsPerPut = 32;
constexpr int kRowsPerRead = 500;

#define SMK_WHERE_DEVICE "owner = $1 AND category = $2 AND device = $3"

const char* op_name(OutOp op) {
    switch (op) {
        case OutOp::add: return "add";
        case OutOp::replace: return "replace";
        case OutOp::remove: return "remove";
    }
    throw std::invalid_argument("unknown OutOp");
}

OutOp op_from_name(std::string_view name) {
    if (name == "add") return OutOp::add;
    if (name == "replace") return OutOp::replace;
    if (name == "remove") return OutOp::remove;
    throw std::runtime_error("unknown outbox operation \"" + std::string(name) + "\"");
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
        if (p == end || shift > 56) throw std::runtime_error("a damaged list");
        auto b = static_cast<unsigned char>(*p++);
        n |= static_cast<std::size_t>(b & 0x7F) << shift;
        if (!(b & 0x80)) break;
    }
    if (static_cast<std::size_t>(end - p) < n) throw std::runtime_error("a damaged list");
    std::string s(p, n);
    p += n;
    return s;
}

ClientItem client_item(const pg::Result& r, int row) {
    return ClientItem{r.str(row, 0), r.str(row, 1), r.str(row, 2)};
}

std::optional<ClientItem> first_item(const pg::Result& r) {
    if (r.rows() == 0) return std::nullopt;
    return client_item(r, 0);
}

// The INSERT of `rows` client items, and its statement name, for rows 1..kRowsPerPut.
struct PutStatement {
    std::string name, sql;
};
const PutStatement& put_statement(std::size_t rows) {
    static const std::vector<PutStatement> statements = [] {
        std::vector<PutStatement> out;
        for (std::size_t n = 1; n <= kRowsPerPut; ++n) {
            std::string sql = "INSERT INTO smk_client_items(owner, category, device, guid, luid, revision) VALUES ";
            for (std::size_t i = 0; i < n; ++i) {
                std::size_t p = 4 + 3 * i;
                sql += (i ? ", ($1, $2, $3, $" : "($1, $2, $3, $") + std::to_string(p) + ", $" +
                       std::to_string(p + 1) + ", $" + std::to_string(p + 2) + ")";
            }
            sql += " ON CONFLICT (owner, category, device, guid) DO UPDATE SET luid = excluded.luid, "
                   "revision = excluded.revision";
            out.push_back({"state_put_items_" + std::to_string(n), std::move(sql)});
        }
        return out;
    }();
    return statements[rows - 1];
}

constexpr const char* kInsertUnmapped =
    "INSERT INTO smk_client_items(owner, category, device, guid, luid, revision) VALUES ($1, $2, $3, $4, '', $5) "
    "ON CONFLICT (owner, category, device, guid) DO UPDATE SET revision = excluded.revision "
    "WHERE smk_client_items.luid = ''";

// The device's items a page at a time, in GUID order.
class ClientItemPages : public ClientItemCursor {
public:
    ClientItemPages(DatabaseConnection& db, std::string device) : db_(db), device_(std::move(device)) {}

    bool next(ClientItem& out) override {
        if (pos_ == page_.size()) {
            if (last_page_) return false;
            read_page();
            if (page_.empty()) return false;
        }
        out = std::move(page_[pos_++]);
        return true;
    }

private:
    void read_page() {
        guarded(db_, kPart, "listing a device's items", [&] {
            pg::Result r =
                started_ ? db_.connection().run("state_items_after",
                                              "SELECT guid, luid, revision FROM smk_client_items WHERE " SMK_WHERE_DEVICE
                                              " AND guid > $4 ORDER BY guid LIMIT $5",
                                              db_.params({Param::bytes(device_), Param::bytes(after_),
                                                          Param::int8(kRowsPerRead)}))
                         : db_.connection().run("state_items_first",
                                              "SELECT guid, luid, revision FROM smk_client_items WHERE " SMK_WHERE_DEVICE
                                              " ORDER BY guid LIMIT $4",
                                              db_.params({Param::bytes(device_), Param::int8(kRowsPerRead)}));
            started_ = true;
            page_.clear();
            pos_ = 0;
            for (int i = 0; i < r.rows(); ++i) page_.push_back(client_item(r, i));
            last_page_ = r.rows() < kRowsPerRead;
            if (!page_.empty()) after_ = page_.back().guid;
        });
    }

    DatabaseConnection& db_;
    const std::string device_;
    std::vector<ClientItem> page_;
    std::size_t pos_ = 0;
    std::string after_;  // the last GUID read
    bool started_ = false, last_page_ = false;
};

std::size_t count(const pg::Result& r) { return static_cast<std::size_t>(r.int8(0, 0)); }

}  // namespace

std::optional<Anchors> PgSyncState::anchors(const std::string& device) {
    return guarded(db_, kPart, "reading anchors", [&]() -> std::optional<Anchors> {
        pg::Result r = db_.connection().run(
            "state_anchors", "SELECT client_next, server_next FROM smk_anchors WHERE " SMK_WHERE_DEVICE,
            db_.params({Param::bytes(device)}));
        if (r.rows() == 0) return std::nullopt;
        return Anchors{r.str(0, 0), r.str(0, 1)};
    });
}

void PgSyncState::save_anchors(const std::string& device, const Anchors& anchors) {
    guarded(db_, kPart, "saving anchors", [&] {
        db_.connection().run("state_save_anchors",
                           "INSERT INTO smk_anchors(owner, category, device, client_next, server_next, completed) "
                           "VALUES ($1, $2, $3, $4, $5, floor(extract(epoch FROM now()))::bigint) "
                           "ON CONFLICT (owner, category, device) DO UPDATE SET client_next = excluded.client_next, "
                           "server_next = excluded.server_next, completed = excluded.completed",
                           db_.params({Param::bytes(device), Param::bytes(anchors.client_next),
                                       Param::bytes(anchors.server_next)}));
    });
}

void PgSyncState::forget(const std::string& device) {
    guarded(db_, kPart, "forgetting a device", [&] {
        db_.connection().run("state_forget",
                           "WITH a AS (DELETE FROM smk_anchors WHERE " SMK_WHERE_DEVICE "), "
                           "i AS (DELETE FROM smk_client_items WHERE " SMK_WHERE_DEVICE "), "
                           "o AS (DELETE FROM smk_outbox WHERE " SMK_WHERE_DEVICE "), "
                           "p AS (DELETE FROM smk_outbox_pages WHERE " SMK_WHERE_DEVICE ") "
                           "DELETE FROM smk_sent_adds WHERE " SMK_WHERE_DEVICE,
                           db_.params({Param::bytes(device)}));
    });
}

void PgSyncState::forget_anchors(const std::string& device) {
    guarded(db_, kPart, "forgetting anchors", [&] {
        db_.connection().run("state_forget_anchors", "DELETE FROM smk_anchors WHERE " SMK_WHERE_DEVICE,
                           db_.params({Param::bytes(device)}));
    });
}

std::optional<ClientItem> PgSyncState::by_guid(const std::string& device, const std::string& guid) {
    return guarded(db_, kPart, "looking up a GUID", [&] {
        return first_item(db_.connection().run(
            "state_by_guid",
            "SELECT guid, luid, revision FROM smk_client_items WHERE " SMK_WHERE_DEVICE " AND guid = $4",
            db_.params({Param::bytes(device), Param::bytes(guid)})));
    });
}

std::optional<ClientItem> PgSyncState::by_luid(const std::string& device, const std::string& luid) {
    if (luid.empty()) return std::nullopt;
    return guarded(db_, kPart, "looking up a LUID", [&] {
        return first_item(db_.connection().run(
            "state_by_luid",
            "SELECT guid, luid, revision FROM smk_client_items WHERE " SMK_WHERE_DEVICE
            " AND luid <> '' AND luid = $4 ORDER BY guid LIMIT 1",
            db_.params({Param::bytes(device), Param::bytes(luid)})));
    });
}

void PgSyncState::upsert_rows(const std::string& device, const ClientItem* const* rows, std::size_t n) {
    const PutStatement& statement = put_statement(n);
    std::vector<Param> params = db_.params({Param::bytes(device)});
    params.reserve(3 + 3 * n);
    for (std::size_t i = 0; i < n; ++i) {
        params.push_back(Param::bytes(rows[i]->guid));
        params.push_back(Param::bytes(rows[i]->luid));
        params.push_back(Param::bytes(rows[i]->revision));
    }
    db_.connection().run(statement.name.c_str(), statement.sql.c_str(), params);
}

void PgSyncState::put(const std::string& device, const ClientItem& item) {
    guarded(db_, kPart, "storing a client item", [&] {
        const ClientItem* row = &item;
        upsert_rows(device, &row, 1);
    });
}

void PgSyncState::put_all(const std::string& device, const std::vector<ClientItem>& items) {
    guarded(db_, kPart, "storing client items", [&] {
        // One statement may not update a row twice: a GUID that comes again
        // starts the next statement, so the later row wins, as with put().
        std::vector<const ClientItem*> rows;
        rows.reserve(std::min(items.size(), kRowsPerPut));
        for (const ClientItem& item : items) {
            bool again = std::any_of(rows.begin(), rows.end(), [&](const ClientItem* r) { return r->guid == item.guid; });
            if (again || rows.size() == kRowsPerPut) {
                upsert_rows(device, rows.data(), rows.size());
                rows.clear();
            }
            rows.push_back(&item);
        }
        if (!rows.empty()) upsert_rows(device, rows.data(), rows.size());
    });
}

void PgSyncState::put_unmapped(const std::string& device, const std::string& guid, const std::string& revision) {
    guarded(db_, kPart, "recording an Add awaiting its Map", [&] {
        db_.connection().run("state_put_unmapped", kInsertUnmapped,
                           db_.params({Param::bytes(device), Param::bytes(guid), Param::bytes(revision)}));
    });
}

bool PgSyncState::set_luid(const std::string& device, const std::string& guid, const std::string& luid) {
    return guarded(db_, kPart, "mapping a LUID", [&] {
        return db_.connection()
                   .run("state_set_luid",
                        "UPDATE smk_client_items SET luid = $5 WHERE " SMK_WHERE_DEVICE " AND guid = $4",
                        db_.params({Param::bytes(device), Param::bytes(guid), Param::bytes(luid)}))
                   .affected() > 0;
    });
}

void PgSyncState::erase(const std::string& device, const std::string& guid) {
    guarded(db_, kPart, "forgetting a client item", [&] {
        db_.connection().run("state_erase_item", "DELETE FROM smk_client_items WHERE " SMK_WHERE_DEVICE " AND guid = $4",
                           db_.params({Param::bytes(device), Param::bytes(guid)}));
    });
}

void PgSyncState::erase_all(const std::string& device) {
    guarded(db_, kPart, "forgetting a device's items", [&] {
        db_.connection().run("state_erase_items",
                           "WITH i AS (DELETE FROM smk_client_items WHERE " SMK_WHERE_DEVICE ") "
                           "DELETE FROM smk_sent_adds WHERE " SMK_WHERE_DEVICE,
                           db_.params({Param::bytes(device)}));
    });
}

std::unique_ptr<ClientItemCursor> PgSyncState::items(const std::string& device) {
    return std::make_unique<ClientItemPages>(db_, device);
}

std::size_t PgSyncState::item_count(const std::string& device) {
    return guarded(db_, kPart, "counting a device's items", [&] {
        return count(db_.connection().run("state_count_items",
                                        "SELECT count(*) FROM smk_client_items WHERE " SMK_WHERE_DEVICE,
                                        db_.params({Param::bytes(device)})));
    });
}

bool PgSyncState::has_unmapped(const std::string& device) {
    return guarded(db_, kPart, "looking for unmapped items", [&] {
        return db_.connection()
                   .run("state_has_unmapped",
                        "SELECT 1 FROM smk_client_items WHERE " SMK_WHERE_DEVICE " AND luid = '' LIMIT 1",
                        db_.params({Param::bytes(device)}))
                   .rows() > 0;
    });
}

void PgSyncState::clear_outbox(const std::string& device) {
    guarded(db_, kPart, "clearing the outbox", [&] {
        db_.connection().run("state_clear_outbox",
                           "WITH o AS (DELETE FROM smk_outbox WHERE " SMK_WHERE_DEVICE ") "
                           "DELETE FROM smk_outbox_pages WHERE " SMK_WHERE_DEVICE,
                           db_.params({Param::bytes(device)}));
    });
}

void PgSyncState::queue(const std::string& device, const OutboxEntry& entry) {
    guarded(db_, kPart, "queueing a change", [&] {
        db_.connection().run("state_queue",
                           "INSERT INTO smk_outbox(owner, category, device, op, guid, luid) VALUES ($1, $2, $3, $4, $5, $6)",
                           db_.params({Param::bytes(device), Param::bytes(op_name(entry.op)), Param::bytes(entry.guid),
                                       Param::bytes(entry.luid)}));
    });
}

std::optional<OutboxEntry> PgSyncState::next_queued(const std::string& device, std::int64_t after_seq) {
    return guarded(db_, kPart, "reading the outbox", [&]() -> std::optional<OutboxEntry> {
        pg::Result r = db_.connection().run(
            "state_next_queued",
            "SELECT seq, op, guid, luid FROM smk_outbox WHERE " SMK_WHERE_DEVICE " AND seq > $4 ORDER BY seq LIMIT 1",
            db_.params({Param::bytes(device), Param::int8(after_seq)}));
        if (r.rows() == 0) return std::nullopt;
        OutboxEntry entry;
        entry.seq = r.int8(0, 0);
        entry.op = op_from_name(r.text(0, 1));
        entry.guid = r.str(0, 2);
        entry.luid = r.str(0, 3);
        return entry;
    });
}

std::size_t PgSyncState::queued_count(const std::string& device) {
    return guarded(db_, kPart, "counting the outbox", [&] {
        return count(db_.connection().run("state_queued_count", "SELECT count(*) FROM smk_outbox WHERE " SMK_WHERE_DEVICE,
                                        db_.params({Param::bytes(device)})));
    });
}

void PgSyncState::queue_page(const std::string& device, std::int64_t page, const std::vector<OutboxEntry>& entries) {
    std::string blob;
    for (const OutboxEntry& e : entries) {
        blob += e.op == OutOp::add ? 'a' : e.op == OutOp::replace ? 'r' : 'd';
        put_string(blob, e.guid);
        put_string(blob, e.luid);
    }
    guarded(db_, kPart, "queueing changes", [&] {
        db_.connection().run("state_queue_page",
                           "INSERT INTO smk_outbox_pages(owner, category, device, page, entries, count) "
                           "VALUES ($1, $2, $3, $4, $5, $6::bigint) "
                           "ON CONFLICT (owner, category, device, page) DO UPDATE SET entries = excluded.entries, "
                           "count = excluded.count",
                           db_.params({Param::bytes(device), Param::int8(page), Param::bytes(blob),
                                       Param::int8(static_cast<std::int64_t>(entries.size()))}));
    });
}

std::vector<OutboxEntry> PgSyncState::queued_page(const std::string& device, std::int64_t page) {
    return guarded(db_, kPart, "reading the outbox", [&] {
        std::vector<OutboxEntry> out;
        pg::Result r = db_.connection().run(
            "state_queued_page", "SELECT entries FROM smk_outbox_pages WHERE " SMK_WHERE_DEVICE " AND page = $4",
            db_.params({Param::bytes(device), Param::int8(page)}));
        if (r.rows() == 0) return out;
        std::string_view blob = r.text(0, 0);
        const char* p = blob.data();
        const char* end = p + blob.size();
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

void PgSyncState::save_sent_adds(const std::string& device, const std::string& session,
                                 const std::vector<SentAdd>& adds) {
    std::string blob;
    for (const SentAdd& a : adds) {
        put_string(blob, a.guid);
        put_string(blob, a.revision);
    }
    guarded(db_, kPart, "noting the Adds sent", [&] {
        if (adds.empty()) {
            db_.connection().run("state_drop_sent_adds",
                               "DELETE FROM smk_sent_adds WHERE " SMK_WHERE_DEVICE " AND session = $4",
                               db_.params({Param::bytes(device), Param::bytes(session)}));
            return;
        }
        db_.connection().run("state_save_sent_adds",
                           "INSERT INTO smk_sent_adds(owner, category, device, session, adds, count) "
                           "VALUES ($1, $2, $3, $4, $5, $6::bigint) "
                           "ON CONFLICT (owner, category, device, session) DO UPDATE SET adds = excluded.adds, "
                           "count = excluded.count",
                           db_.params({Param::bytes(device), Param::bytes(session), Param::bytes(blob),
                                       Param::int8(static_cast<std::int64_t>(adds.size()))}));
    });
}

void PgSyncState::recover_sent_adds(const std::string& device) {
    guarded(db_, kPart, "recording the Adds sent", [&] {
        // Taken by the DELETE that removes them: of two sessions of the
        // device recovering at once, one gets them, the other waits for it
        // and finds none. Recorded in the session order of the SQLite state
        // (a GUID noted twice keeps the revision of the later session).
        in_transaction(db_.connection(), [&] {
            pg::Result r = db_.connection().run(
                "state_take_sent_adds", "DELETE FROM smk_sent_adds WHERE " SMK_WHERE_DEVICE " RETURNING session, adds",
                db_.params({Param::bytes(device)}));
            std::vector<std::pair<std::string, std::string>> lists;
            for (int i = 0; i < r.rows(); ++i) lists.emplace_back(r.str(i, 0), r.str(i, 1));
            std::sort(lists.begin(), lists.end());
            // A row mapped since (by a session of the device running beside
            // the one that sent them) stays as it is.
            for (const auto& list : lists) {
                const char* p = list.second.data();
                const char* end = p + list.second.size();
                while (p != end) {
                    std::string guid = get_string(p, end);
                    std::string revision = get_string(p, end);
                    db_.connection().run("state_put_unmapped", kInsertUnmapped,
                                       db_.params({Param::bytes(device), Param::bytes(guid), Param::bytes(revision)}));
                }
            }
        });
    });
}

std::size_t PgSyncState::queued_total() {
    return guarded(db_, kPart, "counting the outbox", [&] {
        return count(db_.connection().run(
            "state_queued_total",
            "SELECT (SELECT count(*) FROM smk_outbox WHERE owner = $1 AND category = $2) + "
            "(SELECT coalesce(sum(count), 0) FROM smk_outbox_pages WHERE owner = $1 AND category = $2)",
            db_.params({})));
    });
}

std::size_t PgSyncState::sent_adds_total() {
    return guarded(db_, kPart, "counting the Adds sent", [&] {
        return count(db_.connection().run(
            "state_sent_adds_total",
            "SELECT coalesce(sum(count), 0) FROM smk_sent_adds WHERE owner = $1 AND category = $2", db_.params({})));
    });
}

std::vector<ClientSyncState> PgSyncState::clients() {
    return guarded(db_, kPart, "listing clients", [&] {
        pg::Result r = db_.connection().run(
            "state_clients",
            "SELECT device, bool_or(has_anchors), max(completed), sum(items)::bigint FROM ("
            "SELECT device, true AS has_anchors, completed, 0::bigint AS items FROM smk_anchors "
            "WHERE owner = $1 AND category = $2 "
            "UNION ALL SELECT device, false, NULL::bigint, count(*) FROM smk_client_items "
            "WHERE owner = $1 AND category = $2 GROUP BY device "
            "UNION ALL SELECT DISTINCT device, false, NULL::bigint, 0::bigint FROM smk_outbox WHERE owner = $1 AND category = $2 "
            "UNION ALL SELECT DISTINCT device, false, NULL::bigint, 0::bigint FROM smk_outbox_pages WHERE owner = $1 AND category = $2 "
            "UNION ALL SELECT DISTINCT device, false, NULL::bigint, 0::bigint FROM smk_sent_adds WHERE owner = $1 AND category = $2"
            ") d GROUP BY device ORDER BY device",
            db_.params({}));
        std::vector<ClientSyncState> out;
        for (int i = 0; i < r.rows(); ++i) {
            ClientSyncState c;
            c.device = r.str(i, 0);
            c.completed = r.boolean(i, 1);
            if (!r.null(i, 2)) c.when = r.int8(i, 2);
            c.items = static_cast<std::size_t>(r.int8(i, 3));
            out.push_back(std::move(c));
        }
        return out;
    });
}

}  // namespace smk::state::postgres
