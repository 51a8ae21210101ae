// PairingIndex in SQLite: smk_identity and smk_claims, in the same
// database as the SqliteSyncState.
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>

#include "state/pairing_index.hpp"

namespace smk::state {

class SqlitePairingIndex final : public PairingIndex {
public:
    /// Creates its tables in `db` if missing (outside a transaction, as for SqliteSyncState).
    explicit SqlitePairingIndex(SQLite::Database& db);
    ~SqlitePairingIndex() override;

    std::optional<std::string> indexed_revision(const std::string& guid) override;
    void put(const std::string& guid, const std::string& revision, const std::string& key,
             const std::vector<std::string>& details) override;
    void erase(const std::string& guid) override;
    std::vector<Candidate> candidates(const std::string& device, const std::string& key) override;
    void claim(const std::string& device, const std::string& guid) override;
    bool claimed(const std::string& device, const std::string& guid) override;
    void clear_claims(const std::string& device) override;

private:
    struct Statements;
    SQLite::Database& db_;
    std::unique_ptr<Statements> statements_;
};

}  // namespace smk::state
