// BaseVersions in SQLite: smk_bases, in the same database as the
// SqliteSyncState whose smk_client_items it reads.
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>

#include "state/base_versions.hpp"

namespace smk::state {

class SqliteBaseVersions final : public BaseVersions {
public:
    /// Creates its table in `db` if missing; needs SqliteSyncState's tables there.
    explicit SqliteBaseVersions(SQLite::Database& db);
    ~SqliteBaseVersions() override;

    void keep_if_held(const std::string& device, const StoredItem& item) override;
    std::optional<StoredItem> find(const std::string& guid, const std::string& revision) override;
    void prune(const std::string& guid) override;

private:
    struct Statements;
    SQLite::Database& db_;
    std::unique_ptr<Statements> statements_;
};

}  // namespace smk::state
