#include "data_dir.hpp"

#include <algorithm>
#include <ctime>
#include <set>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "state/sqlite/sync_state.hpp"
#include "store/sqlite_datastore.hpp"

namespace smk::admin {
namespace fs = std::filesystem;

namespace {

constexpr Category kCategories[] = {Category::contacts, Category::calendar, Category::tasks, Category::notes};

std::int64_t count(SQLite::Database& db, const std::string& sql, std::int64_t bound = -1) {
    SQLite::Statement q(db, sql);
    if (bound >= 0) q.bind(1, bound);
    q.executeStep();
    return q.getColumn(0).getInt64();
}

std::int64_t counter(SQLite::Database& db, const char* name) {
    SQLite::Statement q(db, "SELECT value FROM smk_counters WHERE name = ?");
    q.bind(1, name);
    return q.executeStep() ? q.getColumn(0).getInt64() : 0;
}

// A text that is a decimal number from 1 to ?1: a GUID or revision the
// store's counter has handed out.
std::string issued(const std::string& column) {
    return "(" + column + " <> '' AND " + column + " NOT GLOB '*[^0-9]*' AND length(" + column +
           ") < 19 AND CAST(" + column + " AS INTEGER) BETWEEN 1 AND ?1)";
}

}  // namespace

DataDir::DataDir(fs::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    if (!fs::is_directory(dir_, ec)) throw Failure(dir_.string() + ": no such data directory");
    stores_ = std::make_unique<SqliteStoreProvider>(dir_.string());
}

fs::path DataDir::database_file(const std::string& user, Category category) const {
    return dir_ / user / (std::string(category_name(category)) + ".sqlite");
}

std::vector<Category> DataDir::databases(const std::string& user) {
    std::vector<Category> out;
    if (user.empty() || user.front() == '.' || user == "_global" || user.find('/') != std::string::npos) return out;
    std::error_code ec;
    for (Category c : kCategories)
        if (fs::is_regular_file(database_file(user, c), ec)) out.push_back(c);
    return out;
}

std::vector<RegisteredDevice> DataDir::registered_devices(const std::string& user) {
    return known_devices((dir_ / "state").string(), user);
}

std::vector<std::string> DataDir::users() {
    std::set<std::string> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        std::string name = entry.path().filename().string();
        if (entry.is_directory(ec) && !databases(name).empty()) found.insert(name);
    }
    if (fs::is_regular_file(registry_file(), ec)) {
        SQLite::Database db(registry_file().string(), SQLite::OPEN_READONLY, 5000);
        if (count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'smk_user_devices'") > 0) {
            SQLite::Statement q(db, "SELECT DISTINCT user FROM smk_user_devices");
            while (q.executeStep()) found.insert(q.getColumn(0).getString());
        }
    }
    return {found.begin(), found.end()};
}

void DataDir::require_user(const std::string& user) {
    if (databases(user).empty() && registered_devices(user).empty())
        throw Failure("no user \"" + user + "\" in " + dir_.string() + " (no database, no device)");
}

void DataDir::require_database(const std::string& user, Category category) {
    std::vector<Category> mine = databases(user);
    if (std::find(mine.begin(), mine.end(), category) != mine.end()) return;
    require_user(user);
    std::string have;
    for (Category c : mine) have += std::string(have.empty() ? "" : ", ") + category_name(c);
    throw Failure("no database " + database_name(user, category) + " (" + user + " has " +
                  (have.empty() ? std::string("none") : have) + ")");
}

std::shared_ptr<store::SqliteDatastore> DataDir::open(const std::string& user, Category category) {
    require_database(user, category);
    auto store = std::dynamic_pointer_cast<store::SqliteDatastore>(stores_->open(user, category));
    if (!store) throw Failure("cannot open " + database_name(user, category));
    state::SqliteSyncState tables(store->database());  // the state's tables, as a session makes them
    return store;
}

std::vector<DeviceState> DataDir::device_states(const std::string& user, Category category) {
    require_database(user, category);
    return stores_->client_states(user, category);
}

std::string database_name(const std::string& user, Category category) {
    return user + "/" + category_name(category);
}

std::string utc_time(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

CheckReport check(DataDir& data, const std::string& user, Category category) {
    auto store = data.open(user, category);
    SQLite::Database& db = store->database();
    state::SqliteSyncState tables(db);
    CheckReport r;
    {
        SQLite::Statement q(db, "PRAGMA quick_check");
        std::string first;
        while (q.executeStep())
            if (first.empty()) first = q.getColumn(0).getString();
        r.quick_check = first;
    }
    std::int64_t guids = counter(db, "guid"), revisions = counter(db, "revision");
    r.items = count(db, "SELECT count(*) FROM smk_items");
    r.devices = count(db,
                      "SELECT count(*) FROM (SELECT device FROM smk_anchors UNION SELECT device FROM smk_client_items "
                      "UNION SELECT device FROM smk_outbox UNION SELECT device FROM smk_outbox_pages "
                      "UNION SELECT device FROM smk_sent_adds)");
    std::int64_t without_items = count(db, "SELECT count(*) FROM smk_client_items WHERE guid NOT IN (SELECT guid FROM smk_items)");
    r.state_pointing_nowhere = count(db,
        "SELECT count(*) FROM smk_client_items WHERE guid NOT IN (SELECT guid FROM smk_items) AND NOT " + issued("guid"),
        guids);
    r.state_without_items = static_cast<std::size_t>(without_items) - r.state_pointing_nowhere;
    r.luids_mapped_twice = count(db,
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM smk_client_items WHERE luid <> '' "
        "GROUP BY device, luid HAVING n > 1)");
    r.revisions_never_issued =
        count(db, "SELECT count(*) FROM smk_items WHERE NOT " + issued("revision"), revisions) +
        count(db, "SELECT count(*) FROM smk_client_items WHERE revision <> '' AND NOT " + issued("revision"), revisions);
    r.items_without_state = count(db, "SELECT count(*) FROM smk_items WHERE guid NOT IN (SELECT guid FROM smk_client_items)");
    // Rows awaiting their Map, and the Adds of a last message noted until
    // the client's next one (or the device's next session) makes them rows.
    r.awaiting_map = static_cast<std::size_t>(count(db, "SELECT count(*) FROM smk_client_items WHERE luid = ''")) +
                     tables.sent_adds_total();
    r.unfinished_devices = count(db,
        "SELECT count(DISTINCT device) FROM smk_client_items WHERE device NOT IN (SELECT device FROM smk_anchors)");
    r.queued = tables.queued_total();
    return r;
}

}  // namespace smk::admin
