// SyncMLKit's default store: SQLite, one file per user and database under a
// data directory, holding the items and every client's sync state together.
#pragma once

#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "syncmlkit/datastore.hpp"
#include "syncmlkit/export.hpp"

namespace smk {

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

    /// The snapshots of `owner`'s database (taken before each refresh from a
    /// client), oldest first: file paths under <data_dir>/<owner>/snapshots/.
    std::vector<std::string> snapshots(const std::string& owner, Category category);
    /// Puts a snapshot's content back into `owner`'s database, online: the
    /// server may go on running. Clients that synced since then get a slow
    /// sync next time, which pairs their items up. Throws DatastoreError.
    void restore(const std::string& owner, Category category, const std::string& snapshot);

    std::shared_ptr<Datastore> open(const std::string& owner, Category category) override;
    std::optional<Access> grant(const std::string& owner, Category category, const std::string& user) override;
    std::shared_ptr<Datastore> open_global_address_book() override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace smk
