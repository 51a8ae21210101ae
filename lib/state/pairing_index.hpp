// What a full exchange (a slow sync, a refresh from the client) needs to
// pair a client's items with the server's when no mapping does: an index of
// the store's items by identity (pim::identity_of), kept in the state
// database and brought up to date from the store's revisions, and the GUIDs
// the client has claimed in this exchange. Both live in SQLite, not in
// memory, so a 50,000-item slow sync pairs with memory bounded by the
// message size.
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace smk::state {

class PairingIndex {
public:
    /// Creates its tables in `db` if missing (outside a transaction, as for SyncState).
    explicit PairingIndex(SQLite::Database& db);
    ~PairingIndex();

    /// The revision the index holds for `guid`, nullopt when none.
    std::optional<std::string> indexed_revision(const std::string& guid);
    void put(const std::string& guid, const std::string& revision, const std::string& key,
             const std::vector<std::string>& details);
    void erase(const std::string& guid);

    struct Candidate {
        std::string guid, revision;
        std::vector<std::string> details;
    };
    /// Items of identity `key` that `device` has not claimed in this exchange (at most 64).
    std::vector<Candidate> candidates(const std::string& device, const std::string& key);

    void claim(const std::string& device, const std::string& guid);
    bool claimed(const std::string& device, const std::string& guid);
    /// Forgets the claims of `device` (at the start and end of an exchange).
    void clear_claims(const std::string& device);

private:
    struct Statements;
    SQLite::Database& db_;
    std::unique_ptr<Statements> statements_;
};

}  // namespace smk::state
