// ResumeState in SQLite: one row per device in smk_resume_points, in the
// same database as the device's SqliteSyncState.
#pragma once

#include <SQLiteCpp/Database.h>

#include "state/resume_state.hpp"

namespace smk::state {

class SqliteResumeState final : public ResumeState {
public:
    /// Creates its tables in `db` if missing (outside a transaction, as
    /// SqliteSyncState). `db` must outlive this object.
    explicit SqliteResumeState(SQLite::Database& db);

    std::optional<ResumePoint> load(const std::string& device) override;
    void save(const std::string& device, const ResumePoint& point) override;
    bool erase(const std::string& device) override;

private:
    SQLite::Database& db_;
};

}  // namespace smk::state
