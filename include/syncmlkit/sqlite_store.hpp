// SyncMLKit's default store: SQLite, one file per user and database under a
// data directory, holding the items and every client's sync state together.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "syncmlkit/builtin_store.hpp"
#include "syncmlkit/datastore.hpp"
#include "syncmlkit/export.hpp"

namespace smk {

class SMK_API SqliteStoreProvider : public BuiltinStoreProvider {
public:
    /// `data_dir` is created if missing. Users' files are
    /// <data_dir>/<user>/<category>.sqlite; the Global Address Book is
    /// <data_dir>/_global/contacts.sqlite.
    explicit SqliteStoreProvider(std::string data_dir);
    ~SqliteStoreProvider() override;

    /// Lets `user` sync `owner`'s database.
    void add_grant(const std::string& owner, Category category, const std::string& user, Access access) override;
    /// Replaces the Global Address Book (builtin_store.hpp).
    using BuiltinStoreProvider::import_global_address_book;
    std::size_t import_global_address_book(std::istream& vcf, ItemCounts& counts) override;

    /// The snapshots of `owner`'s database (taken before each refresh from a
    /// client), oldest first: file paths under <data_dir>/<owner>/snapshots/.
    std::vector<std::string> snapshots(const std::string& owner, Category category) override;
    /// Puts a snapshot's content back into `owner`'s database, online: the
    /// server may go on running. `snapshot` is a path snapshots() lists, or
    /// a file name in the snapshots folder, with or without ".sqlite" and the
    /// "<category>-" prefix, or "latest". The clients' sync state stays:
    /// each client's next sync is a two-way sync that brings it the
    /// snapshot's data (items deleted since come back as Adds, changed ones
    /// as Replaces, items made since are deleted on it), with no duplicate.
    /// Throws DatastoreError.
    using BuiltinStoreProvider::restore;
    void restore(const std::string& owner, Category category, const std::string& snapshot,
                 ItemCounts& counts) override;
    /// The file restore() reads for `snapshot`; nullopt when there is none.
    std::optional<std::string> find_snapshot(const std::string& owner, Category category,
                                             const std::string& snapshot) override;

    /// Whether `owner` has this database (its file exists); nothing is made.
    bool has_database(const std::string& owner, Category category) override;
    /// Every client with sync state in `owner`'s database (anchors, items
    /// it holds, or changes queued for it), in device order; none when the
    /// database does not exist (no file is made). Safe while sessions run.
    /// Throws DatastoreError.
    std::vector<ClientSyncState> client_states(const std::string& owner, Category category) override;
    /// Forgets a client's sync state in `owner`'s database (its anchors, the
    /// items it holds, an interrupted session's resume point): its next sync
    /// there is a slow sync that pairs its items with the server's; no item
    /// is deleted. Waits for a running session's message, as a session
    /// would. Returns the state forgotten; nullopt when the client had none
    /// (no file is made). Throws DatastoreError.
    std::optional<ClientSyncState> forget_client(const std::string& owner, Category category,
                                                 const std::string& device) override;

    std::shared_ptr<Datastore> open(const std::string& owner, Category category) override;
    std::optional<Access> grant(const std::string& owner, Category category, const std::string& user) override;
    std::shared_ptr<Datastore> open_global_address_book() override;

private:
    struct SMK_HIDDEN Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace smk
