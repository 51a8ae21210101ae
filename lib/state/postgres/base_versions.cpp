// Parameters $1 and $2 are always the database's owner and category.
#include "state/postgres/base_versions.hpp"

#include "pg/connection.hpp"
#include "state/postgres/database_connection.hpp"

namespace smk::state::postgres {
namespace {

using pg::Param;

constexpr const char* kPart = "base versions";

}  // namespace

void PgBaseVersions::keep_if_held(const std::string& device, const StoredItem& item) {
    guarded(db_, kPart, "keeping", [&] {
        // Adds sent to a device whose Map has not come are noted in
        // smk_sent_adds, not yet in rows (a list per session, not by GUID):
        // while any are noted, the revision may be held by such a device,
        // so a base is kept (as the SQLite state does).
        db_.connection().run(
            "state_keep_base",
            "INSERT INTO smk_bases(owner, category, guid, revision, type, version, data) "
            "SELECT $1::bytea, $2::text, $3::bytea, $4::bytea, $5::bytea, $6::bytea, $7::bytea "
            "WHERE EXISTS (SELECT 1 FROM smk_client_items WHERE owner = $1 AND category = $2 AND guid = $3 "
            "AND revision = $4 AND device <> $8::bytea) "
            "OR EXISTS (SELECT 1 FROM smk_sent_adds WHERE owner = $1 AND category = $2 AND device <> $8::bytea) "
            "ON CONFLICT DO NOTHING",
            db_.params({Param::bytes(item.guid), Param::bytes(item.revision), Param::bytes(item.format.type),
                        Param::bytes(item.format.version), Param::bytes(item.data), Param::bytes(device)}));
    });
}

std::optional<StoredItem> PgBaseVersions::find(const std::string& guid, const std::string& revision) {
    return guarded(db_, kPart, "reading", [&]() -> std::optional<StoredItem> {
        pg::Result r = db_.connection().run("state_find_base",
                                          "SELECT type, version, data FROM smk_bases "
                                          "WHERE owner = $1 AND category = $2 AND guid = $3 AND revision = $4",
                                          db_.params({Param::bytes(guid), Param::bytes(revision)}));
        if (r.rows() == 0) return std::nullopt;
        return StoredItem{guid, revision, Format{r.str(0, 0), r.str(0, 1)}, r.str(0, 2)};
    });
}

void PgBaseVersions::prune(const std::string& guid) {
    guarded(db_, kPart, "pruning", [&] {
        // The item's bases by its key, each tested against the rows of its
        // revision (index smk_client_items_by_guid); none while Adds await
        // a Map anywhere in the database, as in keep_if_held().
        db_.connection().run("state_prune_bases",
                           "DELETE FROM smk_bases b WHERE b.owner = $1 AND b.category = $2 AND b.guid = $3 "
                           "AND NOT EXISTS (SELECT 1 FROM smk_client_items c WHERE c.owner = $1 AND c.category = $2 "
                           "AND c.guid = $3 AND c.revision = b.revision) "
                           "AND NOT EXISTS (SELECT 1 FROM smk_sent_adds s WHERE s.owner = $1 AND s.category = $2)",
                           db_.params({Param::bytes(guid)}));
    });
}

}  // namespace smk::state::postgres
