// The PostgreSQL tables of the sync state and the device registry, one set
// for every database: each row names the database it belongs to by owner
// ("" for the global address book) and category. Strings a client or a
// host's store supplies (device IDs, LUIDs, anchors, GUIDs, revisions,
// DevInf) are bytea, since PostgreSQL refuses text that is not valid UTF-8,
// and so compare bytewise, as SQLite's do: "in GUID order" means the same
// in both.
#pragma once

#include <string>
#include <vector>

namespace smk::pg {
class Connection;
}

namespace smk::state::postgres {

/// The steps of the component "state" for pg::migrate (step i takes the
/// schema from version i to i + 1).
const std::vector<std::string>& schema_steps();

/// Creates or updates the tables (pg::migrate("state", ...)): once when a
/// process starts, before any of the classes here is used on the database.
/// Throws DatastoreError.
void migrate_state_schema(pg::Connection& connection);

}  // namespace smk::state::postgres
