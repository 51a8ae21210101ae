// The base versions of one database in PostgreSQL (state/base_versions.hpp
// has the contract): table smk_bases of schema.hpp, beside the sync state's
// tables whose rows tell whether a device holds a revision.
#pragma once

#include "state/base_versions.hpp"

namespace smk::state::postgres {

struct DatabaseConnection;

class PgBaseVersions final : public BaseVersions {
public:
    /// `db` must outlive this object.
    explicit PgBaseVersions(DatabaseConnection& db) : db_(db) {}

    /// One statement: the test and the insert, so a device's row written
    /// meanwhile by another process is seen or not, never half.
    void keep_if_held(const std::string& device, const StoredItem& item) override;
    std::optional<StoredItem> find(const std::string& guid, const std::string& revision) override;
    void prune(const std::string& guid) override;

private:
    DatabaseConnection& db_;
};

}  // namespace smk::state::postgres
