// The pairing index of one database in PostgreSQL (state/pairing_index.hpp
// has the contract): tables smk_identity and smk_claims of schema.hpp.
#pragma once

#include "state/pairing_index.hpp"

namespace smk::state::postgres {

struct DatabaseConnection;

class PgPairingIndex final : public PairingIndex {
public:
    /// `db` must outlive this object.
    explicit PgPairingIndex(DatabaseConnection& db) : db_(db) {}

    std::optional<std::string> indexed_revision(const std::string& guid) override;
    void put(const std::string& guid, const std::string& revision, const std::string& key,
             const std::vector<std::string>& details) override;
    void erase(const std::string& guid) override;
    std::vector<Candidate> candidates(const std::string& device, const std::string& key) override;
    void claim(const std::string& device, const std::string& guid) override;
    bool claimed(const std::string& device, const std::string& guid) override;
    void clear_claims(const std::string& device) override;

private:
    DatabaseConnection& db_;
};

}  // namespace smk::state::postgres
