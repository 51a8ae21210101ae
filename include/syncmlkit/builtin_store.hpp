// What SyncMLKit's own stores offer beyond DatastoreProvider: grants, the
// Global Address Book's import, snapshots and their restore, and the
// administration of clients' sync state. Two implement it: SqliteStoreProvider
// (sqlite_store.hpp, files under a data directory, the embedded default) and
// PostgresStoreProvider (postgres_store.hpp, one PostgreSQL database shared
// by many server processes). A host written against this class runs on either.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "syncmlkit/datastore.hpp"
#include "syncmlkit/export.hpp"

namespace smk {

/// What an import or a restore did to a database's items.
struct ItemCounts {
    std::size_t added = 0;      ///< new items (or, for a restore, items deleted since the snapshot)
    std::size_t changed = 0;    ///< items written again with other content
    std::size_t unchanged = 0;  ///< items left as they were (their revision too)
    std::size_t removed = 0;    ///< items deleted
    std::size_t repeated = 0;   ///< import: entries of the file that repeat an earlier one's identity
};

/// One client's sync state in one database, as the store keeps it beside the items.
struct ClientSyncState {
    std::string device;                ///< the client's device ID
    bool completed = false;            ///< a session with it completed: its anchors are kept
    std::optional<std::int64_t> when;  ///< when that session ended, Unix seconds (files of older versions lack it)
    std::size_t items = 0;             ///< items the server knows the client holds
};

class SMK_API BuiltinStoreProvider : public DatastoreProvider {
public:
    /// Lets `user` sync `owner`'s database.
    virtual void add_grant(const std::string& owner, Category category, const std::string& user, Access access) = 0;
    /// Replaces the Global Address Book with the vCards read from `vcf`. An
    /// entry keeps its GUID across imports as long as its UID (else its FN
    /// and first EMAIL or TEL) stays the same, so clients are not made to
    /// download the directory again. Returns the number of entries.
    std::size_t import_global_address_book(std::istream& vcf) {
        ItemCounts counts;
        return import_global_address_book(vcf, counts);
    }
    /// The same, telling what changed.
    virtual std::size_t import_global_address_book(std::istream& vcf, ItemCounts& counts) = 0;

    /// The snapshots of `owner`'s database (taken before each refresh from a
    /// client), oldest first, by the names restore() takes.
    virtual std::vector<std::string> snapshots(const std::string& owner, Category category) = 0;
    /// Puts a snapshot's content back into `owner`'s database, online: the
    /// server may go on running. `snapshot` is a name snapshots() lists (each
    /// store says which shorter forms it takes too), or "latest". The
    /// clients' sync state stays: each client's next sync is a two-way sync
    /// that brings it the snapshot's data (items deleted since come back as
    /// Adds, changed ones as Replaces, items made since are deleted on it),
    /// with no duplicate. Throws DatastoreError.
    void restore(const std::string& owner, Category category, const std::string& snapshot) {
        ItemCounts counts;
        restore(owner, category, snapshot, counts);
    }
    /// The same, telling what changed.
    virtual void restore(const std::string& owner, Category category, const std::string& snapshot,
                         ItemCounts& counts) = 0;
    /// The snapshot restore() reads for `snapshot`, by its full name; nullopt when there is none.
    virtual std::optional<std::string> find_snapshot(const std::string& owner, Category category,
                                                     const std::string& snapshot) = 0;

    /// Whether `owner` has this database; nothing is made.
    virtual bool has_database(const std::string& owner, Category category) = 0;
    /// Every client with sync state in `owner`'s database (anchors, items
    /// it holds, or changes queued for it), in device order; none when the
    /// database does not exist (nothing is made). Safe while sessions run.
    /// Throws DatastoreError.
    virtual std::vector<ClientSyncState> client_states(const std::string& owner, Category category) = 0;
    /// Forgets a client's sync state in `owner`'s database (its anchors, the
    /// items it holds, an interrupted session's resume point): its next sync
    /// there is a slow sync that pairs its items with the server's; no item
    /// is deleted. Waits for a running session's message, as a session
    /// would. Returns the state forgotten; nullopt when the client had none
    /// (nothing is made). Throws DatastoreError.
    virtual std::optional<ClientSyncState> forget_client(const std::string& owner, Category category,
                                                         const std::string& device) = 0;
};

}  // namespace smk
