// What a full exchange (a slow sync, a refresh from the client) needs to
// pair a client's items with the server's when no mapping does: an index of
// the store's items by identity (pim::identity_of), kept in the state
// database and brought up to date from the store's revisions, and the GUIDs
// the client has claimed in this exchange. Both live in the state's
// database, not in memory, so a 50,000-item slow sync pairs with memory
// bounded by the message size. An interface: state/sqlite/pairing_index.hpp
// implements it in SQLite, in the same database as the SyncState.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace smk::state {

class PairingIndex {
public:
    virtual ~PairingIndex() = default;

    /// The revision the index holds for `guid`, nullopt when none.
    virtual std::optional<std::string> indexed_revision(const std::string& guid) = 0;
    virtual void put(const std::string& guid, const std::string& revision, const std::string& key,
                     const std::vector<std::string>& details) = 0;
    virtual void erase(const std::string& guid) = 0;

    struct Candidate {
        std::string guid, revision;
        std::vector<std::string> details;
    };
    /// Items of identity `key` that `device` has not claimed in this exchange (at most 64).
    virtual std::vector<Candidate> candidates(const std::string& device, const std::string& key) = 0;

    virtual void claim(const std::string& device, const std::string& guid) = 0;
    virtual bool claimed(const std::string& device, const std::string& guid) = 0;
    /// Forgets the claims of `device` (at the start and end of an exchange).
    virtual void clear_claims(const std::string& device) = 0;
};

}  // namespace smk::state
