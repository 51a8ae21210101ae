// SyncMLKit's store for several server processes: every user's items, and
// every client's sync state beside them, in one PostgreSQL database that the
// processes share (SQLite, sqlite_store.hpp, stays the default for one
// process). The same administration surface as the SQLite store's
// (builtin_store.hpp): grants, the Global Address Book import, snapshots
// taken before each refresh from a client and their online restore, the
// clients' sync state.
#pragma once

#include <cstddef>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "syncmlkit/builtin_store.hpp"
#include "syncmlkit/datastore.hpp"
#include "syncmlkit/export.hpp"

namespace smk {

class SMK_API PostgresStoreProvider : public BuiltinStoreProvider {
public:
    /// Connects to `url` ("postgresql://user@host:port/db", or libpq's
    /// "key=value" form) and creates or updates the store's and the sync
    /// state's tables there (several processes starting at once do it once).
    /// Each store open() hands out holds one of at most `pool_size`
    /// connections for its life; a further open() waits up to 10 s for one,
    /// then throws DatastoreError. Throws DatastoreError when the database
    /// cannot be reached or its tables are of a newer version than this
    /// library's.
    explicit PostgresStoreProvider(const std::string& url, std::size_t pool_size = 16);
    ~PostgresStoreProvider() override;

    /// Snapshots kept of each database (the oldest beyond are dropped).
    static constexpr std::size_t kMaxSnapshots = 5;

    /// Lets `user` sync `owner`'s database (held by this provider, as the
    /// SQLite provider holds them: every process adds the same grants).
    void add_grant(const std::string& owner, Category category, const std::string& user, Access access) override;
    /// Replaces the Global Address Book (builtin_store.hpp), in one transaction.
    using BuiltinStoreProvider::import_global_address_book;
    std::size_t import_global_address_book(std::istream& vcf, ItemCounts& counts) override;

    /// The snapshots of `owner`'s database, oldest first, by name:
    /// "<category>-<UTC time>-<nn>-<reason>", the form of the SQLite
    /// store's file names without the folder and ".sqlite".
    std::vector<std::string> snapshots(const std::string& owner, Category category) override;
    /// The number of items a snapshot holds; nullopt when there is no such
    /// snapshot (`snapshot` as restore() takes it).
    std::optional<std::size_t> snapshot_items(const std::string& owner, Category category,
                                              const std::string& snapshot);
    /// Puts a snapshot's content back (builtin_store.hpp), in one
    /// transaction that waits for a running session's message. `snapshot`
    /// is a name snapshots() lists, with or without the "<category>-" prefix
    /// (a leading folder and a ".sqlite" ending are ignored), or "latest".
    /// Takes no snapshot of its own: to be able to undo it, take one first.
    /// Throws DatastoreError.
    using BuiltinStoreProvider::restore;
    void restore(const std::string& owner, Category category, const std::string& snapshot,
                 ItemCounts& counts) override;
    /// The name restore() resolves `snapshot` to; nullopt when there is none.
    std::optional<std::string> find_snapshot(const std::string& owner, Category category,
                                             const std::string& snapshot) override;

    /// Whether `owner` has this database (a store of it was opened, or a
    /// snapshot restored into it); nothing is made.
    bool has_database(const std::string& owner, Category category) override;
    /// Clients with sync state in `owner`'s database (builtin_store.hpp).
    std::vector<ClientSyncState> client_states(const std::string& owner, Category category) override;
    /// Forgets a client's sync state in `owner`'s database (builtin_store.hpp),
    /// under the database's lock, as a session's message would.
    std::optional<ClientSyncState> forget_client(const std::string& owner, Category category,
                                                 const std::string& device) override;

    /// `owner`'s store (nullptr for the empty owner, which names the Global
    /// Address Book). Each open() is a new store on its own connection.
    std::shared_ptr<Datastore> open(const std::string& owner, Category category) override;
    std::optional<Access> grant(const std::string& owner, Category category, const std::string& user) override;
    /// nullptr before the first import.
    std::shared_ptr<Datastore> open_global_address_book() override;

private:
    struct SMK_HIDDEN Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace smk
