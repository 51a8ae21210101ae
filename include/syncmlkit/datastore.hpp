// The datastore interface a host implements, and how database names resolve
// to stores. SyncMLKit's own SQLite store (sqlite_store.hpp) implements it
// too, so everything runs with no setup.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "syncmlkit/export.hpp"

namespace smk {

/// A content format: MIME type and version, e.g. {"text/vcard", "3.0"}.
struct Format {
    std::string type;
    std::string version;
    bool operator==(const Format& o) const { return type == o.type && version == o.version; }
};

/// An item's identity and version without its data.
struct ItemVersion {
    std::string guid;      ///< stable id the store gives the item
    std::string revision;  ///< opaque token that changes whenever the item changes
};

/// One item with its data.
struct StoredItem {
    std::string guid;
    std::string revision;
    Format format;
    std::string data;
};

/// A forward-only listing of a store. Stores hand out cursors so that the
/// engine never needs the whole store in memory.
class SMK_API ItemCursor {
public:
    virtual ~ItemCursor() = default;
    /// Fills `out` with the next item and returns true; false at the end.
    virtual bool next(ItemVersion& out) = 0;
};

/// A store failed (disk full, I/O error, a broken connection). The engine
/// answers the command with 510 and rolls the message back.
class SMK_API DatastoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Items of one kind (contacts, events, tasks or notes) of one user. The engine
/// derives each client's changes from revisions, so a store needs no change
/// log. Calls for one store come from one session at a time.
class SMK_API Datastore {
public:
    virtual ~Datastore() = default;
    /// The format items are kept in.
    virtual Format native_format() const = 0;
    /// Every item's GUID and revision.
    virtual std::unique_ptr<ItemCursor> list() = 0;
    /// The item, or nullopt when there is none by that GUID.
    virtual std::optional<StoredItem> read(const std::string& guid) = 0;
    /// The item's revision, or nullopt when there is none by that GUID.
    virtual std::optional<std::string> revision(const std::string& guid) = 0;
    /// Stores a new item and returns its GUID and revision.
    virtual ItemVersion add(const Format& format, std::string_view data) = 0;
    /// Replaces an item's data and returns its new revision; nullopt when
    /// there is no item by that GUID.
    virtual std::optional<std::string> replace(const std::string& guid, const Format& format,
                                               std::string_view data) = 0;
    /// Deletes an item; false when there was none by that GUID.
    virtual bool remove(const std::string& guid) = 0;
    /// The writes of one SyncML message are grouped between begin() and
    /// commit() (or rollback() when the message fails). A store without
    /// transactions may ignore them.
    virtual void begin() {}
    virtual void commit() {}
    virtual void rollback() {}
    /// Takes an online copy of the whole store, called before a client
    /// replaces everything in it (a refresh from the client, "Recover" in
    /// the Funambol plug-in), outside any transaction. Returns a name the
    /// host can restore from, or nullopt for a store that keeps no snapshots.
    virtual std::optional<std::string> snapshot(std::string_view reason) {
        (void)reason;
        return std::nullopt;
    }
};

/// The categories a mail server's SyncML service offers.
enum class Category { contacts, calendar, tasks, notes };

/// "contacts", "calendar", "tasks" or "notes".
SMK_API const char* category_name(Category c);
/// The category of such a name; nullopt for any other.
SMK_API std::optional<Category> category_from_name(std::string_view name);

enum class Access { read_write, read_only };

/// Resolves databases to stores. Database names are parsed by the engine
/// ("contacts", "bob/contacts", "Global Address Book/contacts", aliases); the
/// provider only answers for an owner and a category.
class SMK_API DatastoreProvider {
public:
    virtual ~DatastoreProvider() = default;
    /// The store of `owner`'s database, or nullptr when it does not exist.
    /// The engine calls this only for a user who may use the database.
    virtual std::shared_ptr<Datastore> open(const std::string& owner, Category category) = 0;
    /// How `user` may use `owner`'s database: nullopt without a grant. The
    /// engine never asks about a user's own databases (always read-write).
    virtual std::optional<Access> grant(const std::string& owner, Category category, const std::string& user) = 0;
    /// The organisation's directory, served read-only to every user;
    /// nullptr when there is none.
    virtual std::shared_ptr<Datastore> open_global_address_book() = 0;
};

}  // namespace smk
