// The resume points of one database in PostgreSQL (state/resume_state.hpp
// has the contract): table smk_resume_points of schema.hpp.
#pragma once

#include "state/resume_state.hpp"

namespace smk::state::postgres {

struct DatabaseConnection;

class PgResumeState final : public ResumeState {
public:
    /// `db` must outlive this object.
    explicit PgResumeState(DatabaseConnection& db) : db_(db) {}

    std::optional<ResumePoint> load(const std::string& device) override;
    void save(const std::string& device, const ResumePoint& point) override;
    bool erase(const std::string& device) override;

private:
    DatabaseConnection& db_;
};

}  // namespace smk::state::postgres
