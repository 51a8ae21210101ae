// One table in the state database, smk_bases: (guid, revision) -> the item's
// format and data at that revision.
#include "state/sqlite/base_versions.hpp"

#include <SQLiteCpp/Statement.h>

#include <vector>

#include "sqlite/guarded.hpp"
#include "sqlite/statement_in_use.hpp"

namespace smk::state {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS smk_bases(
    guid     TEXT NOT NULL,
    revision TEXT NOT NULL,
    type     TEXT NOT NULL,
    version  TEXT NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (guid, revision)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS smk_client_items_by_guid ON smk_client_items(guid, revision);
)sql";

using sqlite::guarded;
using sqlite::StatementInUse;

}  // namespace

struct SqliteBaseVersions::Statements {
    explicit Statements(SQLite::Database& db)
        // Adds sent to a device whose Map has not come are noted in
        // smk_sent_adds, not yet in rows (a list per session, not by GUID):
        // while any are noted, the revision may be held by such a device,
        // so a base is kept and none is pruned. Only extra bases, never a
        // missing one; they go at the item's next pruning.
        : held_elsewhere(db,
                         "SELECT 1 FROM smk_client_items WHERE guid = ?1 AND revision = ?2 AND device <> ?3 "
                         "UNION ALL SELECT 1 FROM smk_sent_adds WHERE device <> ?3 LIMIT 1"),
          insert(db, "INSERT OR IGNORE INTO smk_bases(guid, revision, type, version, data) VALUES (?, ?, ?, ?, ?)"),
          select(db, "SELECT type, version, data FROM smk_bases WHERE guid = ? AND revision = ?"),
          // The bases of one item, each with whether a device holds it:
          // nearly always none, found by one seek of the primary key; a
          // DELETE with the same condition would build a temporary table
          // on every call.
          bases_of(db,
                   "SELECT revision, EXISTS (SELECT 1 FROM smk_client_items c WHERE c.guid = ?1 "
                   "AND c.revision = smk_bases.revision) OR EXISTS (SELECT 1 FROM smk_sent_adds) "
                   "FROM smk_bases WHERE guid = ?1"),
          remove(db, "DELETE FROM smk_bases WHERE guid = ? AND revision = ?") {}

    SQLite::Statement held_elsewhere, insert, select, bases_of, remove;
};

SqliteBaseVersions::SqliteBaseVersions(SQLite::Database& db) : db_(db) {
    guarded("base versions", "creating tables", db_, [&] {
        db_.exec(kSchema);
        statements_ = std::make_unique<Statements>(db_);
    });
}

SqliteBaseVersions::~SqliteBaseVersions() = default;

void SqliteBaseVersions::keep_if_held(const std::string& device, const StoredItem& item) {
    guarded("base versions", "keeping", db_, [&] {
        {
            StatementInUse use(statements_->held_elsewhere);
            use->bind(1, item.guid);
            use->bind(2, item.revision);
            use->bind(3, device);
            if (!use->executeStep()) return;
        }
        StatementInUse use(statements_->insert);
        use->bind(1, item.guid);
        use->bind(2, item.revision);
        use->bind(3, item.format.type);
        use->bind(4, item.format.version);
        use->bind(5, item.data.data(), static_cast<int>(item.data.size()));
        use->exec();
    });
}

std::optional<StoredItem> SqliteBaseVersions::find(const std::string& guid, const std::string& revision) {
    return guarded("base versions", "reading", db_, [&]() -> std::optional<StoredItem> {
        StatementInUse use(statements_->select);
        use->bind(1, guid);
        use->bind(2, revision);
        if (!use->executeStep()) return std::nullopt;
        SQLite::Column data = use->getColumn(2);
        return StoredItem{guid, revision, Format{use->getColumn(0).getString(), use->getColumn(1).getString()},
                          std::string(static_cast<const char*>(data.getBlob()), static_cast<std::size_t>(data.getBytes()))};
    });
}

void SqliteBaseVersions::prune(const std::string& guid) {
    guarded("base versions", "pruning", db_, [&] {
        std::vector<std::string> unheld;
        {
            StatementInUse use(statements_->bases_of);
            use->bind(1, guid);
            while (use->executeStep())
                if (use->getColumn(1).getInt() == 0) unheld.push_back(use->getColumn(0).getString());
        }
        for (const std::string& revision : unheld) {
            StatementInUse use(statements_->remove);
            use->bind(1, guid);
            use->bind(2, revision);
            use->exec();
        }
    });
}

}  // namespace smk::state
