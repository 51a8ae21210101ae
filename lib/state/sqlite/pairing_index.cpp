// Two tables in the state database: smk_identity (one row per store item:
// the revision it was computed from, its identity key and details) and
// smk_claims (the GUIDs a device's items were paired with in the exchange
// under way).
#include "state/sqlite/pairing_index.hpp"

#include <SQLiteCpp/Statement.h>

#include "sqlite/guarded.hpp"
#include "sqlite/statement_in_use.hpp"

namespace smk::state {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS smk_identity(
    guid     TEXT PRIMARY KEY NOT NULL,
    revision TEXT NOT NULL,
    key      TEXT NOT NULL,
    details  TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS smk_identity_by_key ON smk_identity(key);
CREATE TABLE IF NOT EXISTS smk_claims(
    device TEXT NOT NULL,
    guid   TEXT NOT NULL,
    PRIMARY KEY (device, guid)) WITHOUT ROWID;
)sql";

std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) out += p + '\n';
    return out;
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        out.push_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

using sqlite::guarded;
using sqlite::StatementInUse;

}  // namespace

struct SqlitePairingIndex::Statements {
    explicit Statements(SQLite::Database& db)
        : select_revision(db, "SELECT revision FROM smk_identity WHERE guid = ?"),
          upsert(db,
                 "INSERT INTO smk_identity(guid, revision, key, details) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT(guid) DO UPDATE SET revision = excluded.revision, key = excluded.key, "
                 "details = excluded.details"),
          erase(db, "DELETE FROM smk_identity WHERE guid = ?"),
          candidates(db,
                     "SELECT i.guid, i.revision, i.details FROM smk_identity i WHERE i.key = ? AND NOT EXISTS "
                     "(SELECT 1 FROM smk_claims c WHERE c.device = ? AND c.guid = i.guid) ORDER BY i.guid LIMIT 64"),
          claim(db, "INSERT OR IGNORE INTO smk_claims(device, guid) VALUES (?, ?)"),
          claimed(db, "SELECT 1 FROM smk_claims WHERE device = ? AND guid = ?"),
          clear_claims(db, "DELETE FROM smk_claims WHERE device = ?") {}

    SQLite::Statement select_revision, upsert, erase, candidates, claim, claimed, clear_claims;
};

SqlitePairingIndex::SqlitePairingIndex(SQLite::Database& db) : db_(db) {
    guarded("pairing index", "creating tables", db_, [&] {
        db_.exec(kSchema);
        statements_ = std::make_unique<Statements>(db_);
    });
}

SqlitePairingIndex::~SqlitePairingIndex() = default;

std::optional<std::string> SqlitePairingIndex::indexed_revision(const std::string& guid) {
    return guarded("pairing index", "reading", db_, [&]() -> std::optional<std::string> {
        StatementInUse use(statements_->select_revision);
        use->bind(1, guid);
        if (!use->executeStep()) return std::nullopt;
        return use->getColumn(0).getString();
    });
}

void SqlitePairingIndex::put(const std::string& guid, const std::string& revision, const std::string& key,
                       const std::vector<std::string>& details) {
    guarded("pairing index", "writing", db_, [&] {
        StatementInUse use(statements_->upsert);
        use->bind(1, guid);
        use->bind(2, revision);
        use->bind(3, key);
        use->bind(4, joined(details));
        use->exec();
    });
}

void SqlitePairingIndex::erase(const std::string& guid) {
    guarded("pairing index", "erasing", db_, [&] {
        StatementInUse use(statements_->erase);
        use->bind(1, guid);
        use->exec();
    });
}

std::vector<PairingIndex::Candidate> SqlitePairingIndex::candidates(const std::string& device, const std::string& key) {
    return guarded("pairing index", "looking up", db_, [&] {
        std::vector<Candidate> out;
        StatementInUse use(statements_->candidates);
        use->bind(1, key);
        use->bind(2, device);
        while (use->executeStep())
            out.push_back({use->getColumn(0).getString(), use->getColumn(1).getString(),
                           split(use->getColumn(2).getString())});
        return out;
    });
}

void SqlitePairingIndex::claim(const std::string& device, const std::string& guid) {
    guarded("pairing index", "claiming", db_, [&] {
        StatementInUse use(statements_->claim);
        use->bind(1, device);
        use->bind(2, guid);
        use->exec();
    });
}

bool SqlitePairingIndex::claimed(const std::string& device, const std::string& guid) {
    return guarded("pairing index", "reading claims", db_, [&] {
        StatementInUse use(statements_->claimed);
        use->bind(1, device);
        use->bind(2, guid);
        return use->executeStep();
    });
}

void SqlitePairingIndex::clear_claims(const std::string& device) {
    guarded("pairing index", "clearing claims", db_, [&] {
        StatementInUse use(statements_->clear_claims);
        use->bind(1, device);
        use->exec();
    });
}

}  // namespace smk::state
