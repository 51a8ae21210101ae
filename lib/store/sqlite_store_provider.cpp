// SqliteStoreProvider: where each user's SQLite files live, the grants
// between users, and the import of the Global Address Book from a vCard file.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_set>
#include <vector>

#include <SQLiteCpp/Statement.h>

#include "state/sqlite/pairing_index.hpp"
#include "state/sqlite/resume_state.hpp"
#include "state/sqlite/sync_state.hpp"
#include "store/sqlite_datastore.hpp"
#include "syncmlkit/sqlite_store.hpp"
#include "store/address_book_import.hpp"  // the Global Address Book import

namespace smk {

const char* category_name(Category c) {
    switch (c) {
        case Category::contacts: return "contacts";
        case Category::calendar: return "calendar";
        case Category::tasks: return "tasks";
        case Category::notes: return "notes";
    }
    return "unknown";
}

std::optional<Category> category_from_name(std::string_view name) {
    for (Category c : {Category::contacts, Category::calendar, Category::tasks, Category::notes})
        if (name == category_name(c)) return c;
    return std::nullopt;
}

namespace {

namespace fs = std::filesystem;

// The Global Address Book's folder. Owners are user names, so "_global" is
// refused as one: a user by that name would otherwise write to the directory.
constexpr const char* kGlobalFolder = "_global";

Format native_format(Category c) {
    // The native formats: one copy of each item, converted for each client.
    switch (c) {
        case Category::contacts: return Format{"text/vcard", "3.0"};
        case Category::notes: return Format{"text/x-vnote", "1.1"};
        default: return Format{"text/calendar", "2.0"};
    }
}

// An owner name becomes a folder name: refuse anything that could leave the
// data dir or name a hidden or special entry ("", ".", "..", "a/b", "\0").
bool is_safe_folder_name(const std::string& name) {
    if (name.empty() || name.front() == '.' || name == kGlobalFolder) return false;
    for (unsigned char c : name)
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7F) return false;
    return true;
}

void create_folder(const fs::path& folder) {
    std::error_code ec;
    if (fs::is_directory(folder, ec)) return;  // the common case: one stat, no mkdir
    fs::create_directories(folder, ec);
    if (ec) throw DatastoreError("cannot create " + folder.string() + ": " + ec.message());
}

}  // namespace

struct SqliteStoreProvider::Impl {
    fs::path data_dir;
    std::mutex grants_mutex;
    std::map<std::tuple<std::string, Category, std::string>, Access> grants;  // (owner, category, user)

    fs::path global_address_book() const { return data_dir / kGlobalFolder / "contacts.sqlite"; }
    // The file a snapshot name given to restore() means; empty when none.
    fs::path snapshot_file(const std::string& owner, Category category, const std::string& name) const;
};

SqliteStoreProvider::SqliteStoreProvider(std::string data_dir) : impl_(std::make_unique<Impl>()) {
    impl_->data_dir = fs::path(std::move(data_dir));
    create_folder(impl_->data_dir);
}

SqliteStoreProvider::~SqliteStoreProvider() = default;

void SqliteStoreProvider::add_grant(const std::string& owner, Category category, const std::string& user,
                                    Access access) {
    std::lock_guard<std::mutex> lock(impl_->grants_mutex);
    impl_->grants[{owner, category, user}] = access;
}

std::optional<Access> SqliteStoreProvider::grant(const std::string& owner, Category category,
                                                 const std::string& user) {
    std::lock_guard<std::mutex> lock(impl_->grants_mutex);
    auto found = impl_->grants.find({owner, category, user});
    if (found == impl_->grants.end()) return std::nullopt;
    return found->second;
}

std::vector<std::string> SqliteStoreProvider::snapshots(const std::string& owner, Category category) {
    std::vector<std::string> out;
    if (!is_safe_folder_name(owner)) return out;
    fs::path folder = impl_->data_dir / owner / "snapshots";
    std::string stem = std::string(category_name(category)) + "-";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec))
        if (entry.path().filename().string().rfind(stem, 0) == 0) out.push_back(entry.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

fs::path SqliteStoreProvider::Impl::snapshot_file(const std::string& owner, Category category,
                                                  const std::string& name) const {
    std::string stem = std::string(category_name(category)) + "-";
    if (name.find('/') != std::string::npos) return fs::path(name);  // a path, as snapshots() gives
    fs::path folder = data_dir / owner / "snapshots";
    std::error_code ec;
    if (name == "latest") {
        fs::path newest;
        for (const auto& entry : fs::directory_iterator(folder, ec))
            if (entry.path().filename().string().rfind(stem, 0) == 0 && entry.path() > newest) newest = entry.path();
        return newest;
    }
    if (name.empty() || name.front() == '.') return {};
    for (const std::string& candidate : {name, name + ".sqlite", stem + name + ".sqlite"})
        if (candidate.rfind(stem, 0) == 0 && fs::is_regular_file(folder / candidate, ec)) return folder / candidate;
    return {};
}

std::optional<std::string> SqliteStoreProvider::find_snapshot(const std::string& owner, Category category,
                                                              const std::string& snapshot) {
    if (!is_safe_folder_name(owner)) return std::nullopt;
    fs::path file = impl_->snapshot_file(owner, category, snapshot);
    std::error_code ec;
    if (file.empty() || !fs::is_regular_file(file, ec)) return std::nullopt;
    return file.string();
}

// Online, in one transaction on the live file, so a session sees the data
// before or after, never half. The clients' sync state stays: each item that
// differs from the live one (or was deleted since) is written with a
// revision of the live file's counter, newer than any a client has seen, and
// items made since the snapshot are deleted. So every client's next sync is
// an ordinary two-way sync that sends it exactly the difference; a slow sync
// would push the items made since the snapshot back to the server.
void SqliteStoreProvider::restore(const std::string& owner, Category category, const std::string& snapshot,
                                  ItemCounts& counts) {
    counts = ItemCounts{};
    std::string database = owner + "/" + category_name(category);
    if (!is_safe_folder_name(owner)) throw DatastoreError("no database " + database);
    fs::path file = impl_->data_dir / owner / (std::string(category_name(category)) + ".sqlite");
    std::optional<std::string> found = find_snapshot(owner, category, snapshot);
    if (!found) throw DatastoreError("cannot restore " + database + ": no snapshot \"" + snapshot + "\"");
    fs::path source = *found;
    create_folder(file.parent_path());
    // Its tables, as a session would make them.
    { store::SqliteDatastore tables(file.string(), native_format(category)); }
    try {
        // A connection of its own: the snapshot is attached to it alone.
        SQLite::Database db(file.string(), SQLite::OPEN_READWRITE, 5000);
        SQLite::Statement attach(db, "ATTACH DATABASE ? AS snap");
        attach.bind(1, source.string());
        attach.exec();
        SQLite::Statement is_snapshot(db, "SELECT count(*) FROM snap.sqlite_master WHERE type = 'table' AND name = 'smk_items'");
        if (!is_snapshot.executeStep() || is_snapshot.getColumn(0).getInt() == 0)
            throw DatastoreError("cannot restore " + database + ": " + source.string() + " is not a snapshot");
        db.exec("BEGIN IMMEDIATE");  // waits for a session's message, as a session would
        try {
            // Should the live file be younger than the snapshot, its
            // counters still never hand out a GUID or revision again.
            db.exec("UPDATE main.smk_counters SET value = max(value, coalesce((SELECT s.value FROM snap.smk_counters s "
                    "WHERE s.name = smk_counters.name), 0))");
            counts.removed = static_cast<std::size_t>(
                db.exec("DELETE FROM main.smk_items WHERE guid NOT IN (SELECT guid FROM snap.smk_items)"));
            std::vector<std::pair<std::string, bool>> differing;  // GUID, and whether the live file lacks it
            {
                SQLite::Statement list(db,
                    "SELECT s.guid, m.guid IS NULL FROM snap.smk_items s LEFT JOIN main.smk_items m ON m.guid = s.guid "
                    "WHERE m.guid IS NULL OR m.content_type IS NOT s.content_type "
                    "OR m.content_version IS NOT s.content_version OR m.data IS NOT s.data ORDER BY s.guid");
                while (list.executeStep())
                    differing.emplace_back(list.getColumn(0).getString(), list.getColumn(1).getInt() != 0);
            }
            SQLite::Statement revision(db, "SELECT value FROM main.smk_counters WHERE name = 'revision'");
            if (!revision.executeStep()) throw DatastoreError("cannot restore " + database + ": no revision counter");
            std::int64_t next = revision.getColumn(0).getInt64();
            revision.reset();
            SQLite::Statement put(db,
                "INSERT INTO main.smk_items(guid, revision, content_type, content_version, data) "
                "SELECT guid, ?2, content_type, content_version, data FROM snap.smk_items WHERE guid = ?1 "
                "ON CONFLICT(guid) DO UPDATE SET revision = excluded.revision, content_type = excluded.content_type, "
                "content_version = excluded.content_version, data = excluded.data");
            for (const auto& [guid, added] : differing) {
                put.bind(1, guid);
                put.bind(2, std::to_string(++next));
                put.exec();
                put.reset();
                ++(added ? counts.added : counts.changed);
            }
            SQLite::Statement bump(db, "UPDATE main.smk_counters SET value = ? WHERE name = 'revision'");
            bump.bind(1, next);
            bump.exec();
            SQLite::Statement total(db, "SELECT count(*) FROM snap.smk_items");
            total.executeStep();
            counts.unchanged = static_cast<std::size_t>(total.getColumn(0).getInt64()) - differing.size();
            db.exec("COMMIT");
        } catch (...) {
            db.tryExec("ROLLBACK");
            throw;
        }
    } catch (const SQLite::Exception& e) {
        throw DatastoreError("cannot restore " + file.string() + " from " + source.string() + ": " + e.what());
    }
}

bool SqliteStoreProvider::has_database(const std::string& owner, Category category) {
    if (!is_safe_folder_name(owner)) return false;
    std::error_code ec;
    return fs::is_regular_file(impl_->data_dir / owner / (std::string(category_name(category)) + ".sqlite"), ec);
}

std::vector<ClientSyncState> SqliteStoreProvider::client_states(const std::string& owner, Category category) {
    if (!has_database(owner, category)) return {};
    auto store = std::static_pointer_cast<store::SqliteDatastore>(open(owner, category));
    state::SqliteSyncState state(store->database());  // its tables, as a session makes them
    return state.clients();
}

std::optional<ClientSyncState> SqliteStoreProvider::forget_client(const std::string& owner, Category category,
                                                                  const std::string& device) {
    std::vector<ClientSyncState> states = client_states(owner, category);
    auto found = std::find_if(states.begin(), states.end(), [&](const ClientSyncState& s) { return s.device == device; });
    if (found == states.end()) return std::nullopt;
    auto store = std::static_pointer_cast<store::SqliteDatastore>(open(owner, category));
    state::SqliteSyncState state(store->database());
    state::SqliteResumeState resume(store->database());  // tables made outside the transaction
    state::SqlitePairingIndex pairing(store->database());
    store->begin();  // waits for a running session's message
    try {
        state.forget(device);
        resume.erase(device);  // an interrupted session is not resumed either
        pairing.clear_claims(device);
        store->commit();
    } catch (...) {
        store->rollback();
        throw;
    }
    return *found;
}

std::shared_ptr<Datastore> SqliteStoreProvider::open(const std::string& owner, Category category) {
    if (!is_safe_folder_name(owner)) return nullptr;
    fs::path folder = impl_->data_dir / owner;
    create_folder(folder);
    fs::path file = folder / (std::string(category_name(category)) + ".sqlite");
    return std::make_shared<store::SqliteDatastore>(file.string(), native_format(category));
}

std::shared_ptr<Datastore> SqliteStoreProvider::open_global_address_book() {
    fs::path file = impl_->global_address_book();
    std::error_code ec;
    if (!fs::exists(file, ec)) return nullptr;
    return std::make_shared<store::SqliteDatastore>(file.string(), native_format(Category::contacts));
}

std::size_t SqliteStoreProvider::import_global_address_book(std::istream& vcf, ItemCounts& counts) {
    counts = ItemCounts{};
    fs::path file = impl_->global_address_book();
    create_folder(file.parent_path());
    store::SqliteDatastore directory(file.string(), native_format(Category::contacts));
    return store::import_directory(
        directory, [&](const std::string& guid, const Format& format, std::string_view data) {
            directory.put_with_guid(guid, format, data);
        },
        vcf, counts);
}

}  // namespace smk
