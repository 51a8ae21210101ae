// SyncMLKit's store for several server processes: every user's items in one
// PostgreSQL database, which the processes share (SQLite, sqlite_store.hpp,
// stays the default for one process). The same provider surface as the
// SQLite store's: grants, the Global Address Book import, snapshots taken
// before each refresh from a client, and their online restore.
#pragma once

#include <cstddef>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "syncmlkit/datastore.hpp"
#include "syncmlkit/export.hpp"
#include "syncmlkit/sqlite_store.hpp"  // ItemCounts

namespace smk {

class SMK_API PostgresStoreProvider : public DatastoreProvider {
public:
    /// Connects to `url` ("postgresql://user@host:port/db", or libpq's
    /// "key=value" form) and creates or updates the store's tables there
    /// (several processes starting at once do it once). Each store open()
    /// hands out holds one of at most `pool_size` connections for its life;
    /// a further open() waits up to 10 s for one, then throws
    /// DatastoreError. Throws DatastoreError when the database cannot be
    /// reached or its tables are of a newer version than this library's.
    explicit PostgresStoreProvider(const std::string& url, std::size_t pool_size = 16);
    ~PostgresStoreProvider() override;

    /// Snapshots kept of each database (the oldest beyond are dropped).
    static constexpr std::size_t kMaxSnapshots = 5;

    /// Lets `user` sync `owner`'s database (held by this provider, as the
    /// SQLite provider holds them: every process adds the same grants).
    void add_grant(const std::string& owner, Category category, const std::string& user, Access access);
    /// Replaces the Global Address Book with the vCards read from `vcf`, in
    /// one transaction. An entry keeps its GUID across imports as long as
    /// its UID (else its FN and first EMAIL or TEL) stays the same, and an
    /// unchanged entry its revision. Returns the number of entries.
    std::size_t import_global_address_book(std::istream& vcf);
    /// The same, telling what changed.
    std::size_t import_global_address_book(std::istream& vcf, ItemCounts& counts);

    /// The snapshots of `owner`'s database, oldest first, by name:
    /// "<category>-<UTC time>-<nn>-<reason>", the form of the SQLite
    /// store's file names without the folder and ".sqlite".
    std::vector<std::string> snapshots(const std::string& owner, Category category);
    /// The number of items a snapshot holds; nullopt when there is no such
    /// snapshot (`snapshot` as restore() takes it).
    std::optional<std::size_t> snapshot_items(const std::string& owner, Category category,
                                              const std::string& snapshot);
    /// Puts a snapshot's content back into `owner`'s database, online, in
    /// one transaction that waits for a running session's message. `snapshot`
    /// is a name snapshots() lists, with or without the "<category>-" prefix
    /// (a leading folder and a ".sqlite" ending are ignored), or "latest".
    /// The clients' sync state stays: each client's next sync is a two-way
    /// sync that brings it the snapshot's data (items deleted since come
    /// back as Adds, changed ones as Replaces, items made since are deleted
    /// on it), with no duplicate. Takes no snapshot of its own: to be able
    /// to undo it, take one first. Throws DatastoreError.
    void restore(const std::string& owner, Category category, const std::string& snapshot);
    /// The same, telling what changed.
    void restore(const std::string& owner, Category category, const std::string& snapshot, ItemCounts& counts);
    /// The name restore() resolves `snapshot` to; nullopt when there is none.
    std::optional<std::string> find_snapshot(const std::string& owner, Category category, const std::string& snapshot);

    /// Whether `owner` has this database (a store of it was opened, or a
    /// snapshot restored into it); nothing is made.
    bool has_database(const std::string& owner, Category category);

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
