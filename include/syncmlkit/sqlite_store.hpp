// SyncMLKit's default store: SQLite, one file per user and database under a
// data directory, holding the items and every client's sync state together.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
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

class SMK_API SqliteStoreProvider : public DatastoreProvider {
public:
    /// `data_dir` is created if missing. Users' files are
    /// <data_dir>/<user>/<category>.sqlite; the Global Address Book is
    /// <data_dir>/_global/contacts.sqlite.
    explicit SqliteStoreProvider(std::string data_dir);
    ~SqliteStoreProvider() override;

    /// Lets `user` sync `owner`'s database.
    void add_grant(const std::string& owner, Category category, const std::string& user, Access access);
    /// Replaces the Global Address Book with the vCards read from `vcf`. An
    /// entry keeps its GUID across imports as long as its UID (else its FN
    /// and first EMAIL or TEL) stays the same, so clients are not made to
    /// download the directory again. Returns the number of entries.
    std::size_t import_global_address_book(std::istream& vcf);
    /// The same, telling what changed.
    std::size_t import_global_address_book(std::istream& vcf, ItemCounts& counts);

    /// The snapshots of `owner`'s database (taken before each refresh from a
    /// client), oldest first: file paths under <data_dir>/<owner>/snapshots/.
    std::vector<std::string> snapshots(const std::string& owner, Category category);
    /// Puts a snapshot's content back into `owner`'s database, online: the
    /// server may go on running. `snapshot` is a path snapshots() lists, or
    /// a file name in the snapshots folder, with or without ".sqlite" and the
    /// "<category>-" prefix, or "latest". The clients' sync state stays:
    /// each client's next sync is a two-way sync that brings it the
    /// snapshot's data (items deleted since come back as Adds, changed ones
    /// as Replaces, items made since are deleted on it), with no duplicate.
    /// Throws DatastoreError.
    void restore(const std::string& owner, Category category, const std::string& snapshot);
    /// The same, telling what changed.
    void restore(const std::string& owner, Category category, const std::string& snapshot, ItemCounts& counts);
    /// The file restore() reads for `snapshot`; nullopt when there is none.
    std::optional<std::string> find_snapshot(const std::string& owner, Category category, const std::string& snapshot);

    /// Whether `owner` has this database (its file exists); nothing is made.
    bool has_database(const std::string& owner, Category category);
    /// Every client with sync state in `owner`'s database (anchors, items
    /// it holds, or changes queued for it), in device order; none when the
    /// database does not exist (no file is made). Safe while sessions run.
    /// Throws DatastoreError.
    std::vector<ClientSyncState> client_states(const std::string& owner, Category category);
    /// Forgets a client's sync state in `owner`'s database (its anchors, the
    /// items it holds, an interrupted session's resume point): its next sync
    /// there is a slow sync that pairs its items with the server's; no item
    /// is deleted. Waits for a running session's message, as a session
    /// would. Returns the state forgotten; nullopt when the client had none
    /// (no file is made). Throws DatastoreError.
    std::optional<ClientSyncState> forget_client(const std::string& owner, Category category,
                                                 const std::string& device);

    std::shared_ptr<Datastore> open(const std::string& owner, Category category) override;
    std::optional<Access> grant(const std::string& owner, Category category, const std::string& user) override;
    std::shared_ptr<Datastore> open_global_address_book() override;

private:
    struct SMK_HIDDEN Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace smk
