// The default SQLite store: items, revisions, listings, transactions shared
// with the sync state, errors, and the provider (paths, grants, the Global
// Address Book import).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "state/sqlite/sync_state.hpp"
#include "store/sqlite_datastore.hpp"
#include "syncmlkit/sqlite_store.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using smk::Format;
using smk::store::SqliteDatastore;

namespace {

// A fresh directory per test, removed afterwards.
struct TempDir : smk::test::TempDir {
    TempDir() : smk::test::TempDir("smk-sqlite-store") {}
};

const Format kVCard{"text/vcard", "3.0"};
const Format kVCard21{"text/x-vcard", "2.1"};

std::string card(const std::string& fn) { return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + fn + "\r\nEND:VCARD\r\n"; }

std::vector<smk::ItemVersion> list_all(smk::Datastore& store) {
    std::vector<smk::ItemVersion> all;
    auto cursor = store.list();
    smk::ItemVersion item;
    while (cursor->next(item)) all.push_back(item);
    return all;
}

}  // namespace

TEST_CASE("SqliteDatastore adds, reads, replaces and removes items") {
    TempDir dir;
    SqliteDatastore store(dir.file("contacts.sqlite"), kVCard);
    CHECK(store.native_format() == kVCard);

    smk::ItemVersion added = store.add(kVCard, card("Ann"));
    CHECK_FALSE(added.guid.empty());
    CHECK_FALSE(added.revision.empty());
    auto read = store.read(added.guid);
    REQUIRE(read);
    CHECK(read->guid == added.guid);
    CHECK(read->revision == added.revision);
    CHECK(read->format == kVCard);
    CHECK(read->data == card("Ann"));
    CHECK(store.revision(added.guid) == added.revision);

    // A replace gives a new revision and may change the format.
    auto replaced = store.replace(added.guid, kVCard21, card("Ann B"));
    REQUIRE(replaced);
    CHECK(*replaced != added.revision);
    CHECK(store.revision(added.guid) == replaced);
    read = store.read(added.guid);
    REQUIRE(read);
    CHECK(read->data == card("Ann B"));
    CHECK(read->format == kVCard21);
    // The same data again is still a change of revision.
    auto again = store.replace(added.guid, kVCard21, card("Ann B"));
    REQUIRE(again);
    CHECK(*again != *replaced);

    CHECK(store.remove(added.guid));
    CHECK_FALSE(store.read(added.guid));
    CHECK_FALSE(store.revision(added.guid));
    CHECK_FALSE(store.remove(added.guid));
    CHECK_FALSE(store.replace(added.guid, kVCard, card("Ghost")));
    CHECK_FALSE(store.read("no-such-guid"));
}

TEST_CASE("SqliteDatastore never hands out a GUID twice") {
    TempDir dir;
    std::set<std::string> guids;
    std::string path = dir.file("c.sqlite");
    {
        SqliteDatastore store(path, kVCard);
        auto first = store.add(kVCard, "a");
        auto second = store.add(kVCard, "b");
        guids = {first.guid, second.guid};
        CHECK(guids.size() == 2);
        // Removed, then the file reopened: its GUID still does not come back.
        store.remove(second.guid);
    }
    SqliteDatastore store(path, kVCard);
    guids.insert(store.add(kVCard, "c").guid);
    CHECK(guids.size() == 3);

    // A GUID chosen with put_with_guid where the counter would go next is skipped.
    std::string next = std::to_string(std::stoll(*guids.rbegin()) + 1);
    store.put_with_guid(next, kVCard, "taken");
    auto added = store.add(kVCard, "d");
    CHECK(added.guid != next);
    CHECK(store.read(next)->data == "taken");
}

// Inside begin()/commit() the counters are stepped in memory and written
// back at commit: what a transaction hands out must still be unique across
// connections, commits, rollbacks and reopening, and a rollback leaves the
// file's counters as they were.
TEST_CASE("GUIDs and revisions from transactions are unique across connections, rollbacks and restarts") {
    TempDir dir;
    std::string path = dir.file("c.sqlite");
    auto counter = [&](SqliteDatastore& s, const char* name) {
        SQLite::Statement q(s.database(), "SELECT value FROM smk_counters WHERE name = ?");
        q.bind(1, name);
        REQUIRE(q.executeStep());
        return q.getColumn(0).getInt64();
    };
    std::set<std::string> guids, revisions;
    std::size_t handed_out = 0;
    auto note = [&](const smk::ItemVersion& v) {
        guids.insert(v.guid);
        revisions.insert(v.revision);
        ++handed_out;
    };
    {
        SqliteDatastore one(path, kVCard);
        SqliteDatastore two(path, kVCard);
        for (int round = 0; round < 3; ++round) {
            one.begin();
            for (int i = 0; i < 5; ++i) note(one.add(kVCard, "one"));
            auto replaced = one.replace(*guids.begin(), kVCard, "changed");
            REQUIRE(replaced);
            revisions.insert(*replaced);
            ++handed_out;
            one.commit();
            note(two.add(kVCard, "two, outside a transaction"));
            two.begin();
            note(two.add(kVCard, "two"));
            two.commit();
        }
        CHECK(counter(one, "guid") == std::stoll(*std::max_element(guids.begin(), guids.end(), [](auto& a, auto& b) {
                  return std::stoll(a) < std::stoll(b);
              })));

        // A rolled-back message leaves neither its items nor its counter steps behind.
        std::int64_t guid_before = counter(one, "guid"), revision_before = counter(one, "revision");
        one.begin();
        auto lost = one.add(kVCard, "rolled back");
        one.rollback();
        CHECK_FALSE(one.read(lost.guid));
        CHECK(counter(one, "guid") == guid_before);
        CHECK(counter(one, "revision") == revision_before);
        CHECK(list_all(two).size() == 3 * 7);

        // A GUID chosen with put_with_guid where the counter points is skipped inside a transaction too.
        std::string next = std::to_string(guid_before + 1);
        one.begin();
        one.put_with_guid(next, kVCard, "taken");
        auto after = one.add(kVCard, "after");
        one.commit();
        CHECK(after.guid != next);
        CHECK(one.read(next)->data == "taken");
        note(after);
    }
    SqliteDatastore reopened(path, kVCard);
    reopened.begin();
    note(reopened.add(kVCard, "after a restart"));
    reopened.commit();
    note(reopened.add(kVCard, "and outside a transaction"));
    CHECK(guids.size() == handed_out - 3);  // the three replaces gave revisions, not GUIDs
    CHECK(revisions.size() == handed_out);
}

// SQLite's default page cache (2,000 KiB) fills on a large store and not on
// a small one: peak memory would grow with the store's size.
TEST_CASE("SqliteDatastore bounds SQLite's page cache per connection") {
    TempDir dir;
    SqliteDatastore store(dir.file("c.sqlite"), kVCard);
    CHECK(store.database().execAndGet("PRAGMA cache_size").getInt64() == -512);
}

TEST_CASE("SqliteDatastore keeps data byte for byte") {
    TempDir dir;
    SqliteDatastore store(dir.file("c.sqlite"), kVCard);
    const std::string crlf = "BEGIN:VCARD\r\nNOTE:line one\r\n line two\nbare LF\rbare CR\r\nEND:VCARD\r\n";
    const std::string nul("a\0b\0\0c", 6);
    const std::string utf8 = "FN:J\xC3\xBCrgen M\xC3\xBCller \xE2\x82\xAC \xF0\x9F\x98\x80";
    std::string all_bytes;
    for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
    const std::string invalid_utf8 = "\xFF\xFE\xC3(";

    for (const std::string& data : {crlf, nul, utf8, all_bytes, invalid_utf8, std::string()}) {
        auto added = store.add(kVCard, data);
        auto read = store.read(added.guid);
        REQUIRE(read);
        CHECK(read->data.size() == data.size());
        CHECK(read->data == data);
        auto replaced = store.replace(added.guid, kVCard, data + data);
        REQUIRE(replaced);
        CHECK(store.read(added.guid)->data == data + data);
    }
}

TEST_CASE("SqliteDatastore lists every item once, in GUID order, lazily") {
    TempDir dir;
    SqliteDatastore store(dir.file("c.sqlite"), kVCard);
    std::set<std::string> added;
    store.begin();
    for (int i = 0; i < 1000; ++i) added.insert(store.add(kVCard, card("Person " + std::to_string(i))).guid);
    store.commit();
    REQUIRE(added.size() == 1000);

    std::vector<smk::ItemVersion> listed = list_all(store);
    REQUIRE(listed.size() == 1000);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < listed.size(); ++i) {
        if (i > 0) CHECK(listed[i - 1].guid < listed[i].guid);  // std::string order, as SyncState's items()
        CHECK(store.revision(listed[i].guid) == listed[i].revision);
        seen.insert(listed[i].guid);
    }
    CHECK(seen == added);

    // A cursor past its end stays there.
    auto cursor = store.list();
    smk::ItemVersion item;
    std::size_t count = 0;
    while (cursor->next(item)) ++count;
    CHECK(count == 1000);
    CHECK_FALSE(cursor->next(item));

    // Two listings at once walk independently.
    auto a = store.list();
    auto b = store.list();
    smk::ItemVersion from_a, from_b;
    REQUIRE(a->next(from_a));
    REQUIRE(a->next(from_a));
    REQUIRE(b->next(from_b));
    CHECK(from_b.guid == listed[0].guid);
    CHECK(from_a.guid == listed[1].guid);

    SqliteDatastore empty(dir.file("empty.sqlite"), kVCard);
    CHECK(list_all(empty).empty());
}

TEST_CASE("A cursor may outlive its SqliteDatastore") {
    TempDir dir;
    std::unique_ptr<smk::ItemCursor> cursor;
    {
        SqliteDatastore store(dir.file("c.sqlite"), kVCard);
        store.add(kVCard, "a");
        store.add(kVCard, "b");
        cursor = store.list();
    }
    smk::ItemVersion item;
    CHECK(cursor->next(item));
    CHECK(cursor->next(item));
    CHECK_FALSE(cursor->next(item));
}

TEST_CASE("SqliteDatastore put_with_guid adds or replaces under the given GUID") {
    TempDir dir;
    SqliteDatastore store(dir.file("c.sqlite"), kVCard);
    std::string first = store.put_with_guid("gab-1", kVCard, "one");
    CHECK(store.read("gab-1")->data == "one");
    std::string second = store.put_with_guid("gab-1", kVCard21, "two");
    CHECK(second != first);
    auto read = store.read("gab-1");
    REQUIRE(read);
    CHECK(read->data == "two");
    CHECK(read->format == kVCard21);
    CHECK(read->revision == second);
    CHECK(list_all(store).size() == 1);
}

TEST_CASE("A rollback undoes item writes and sync state writes of the same transaction") {
    TempDir dir;
    SqliteDatastore store(dir.file("c.sqlite"), kVCard);
    smk::state::SqliteSyncState state(store.database());
    auto kept = store.add(kVCard, "kept");
    state.put("phone", {kept.guid, "1", kept.revision});

    store.begin();
    auto added = store.add(kVCard, "added");
    state.put("phone", {added.guid, "2", added.revision});
    store.replace(kept.guid, kVCard, "changed");
    state.save_anchors("phone", {"c1", "s1"});
    state.queue("phone", {0, smk::state::OutOp::add, added.guid, ""});
    CHECK(store.read(added.guid));
    store.rollback();

    CHECK_FALSE(store.read(added.guid));
    CHECK(store.read(kept.guid)->data == "kept");
    CHECK(store.revision(kept.guid) == kept.revision);
    CHECK_FALSE(state.by_guid("phone", added.guid));
    CHECK(state.by_guid("phone", kept.guid));
    CHECK_FALSE(state.anchors("phone"));
    CHECK(state.queued_count("phone") == 0);

    // And a commit keeps both.
    store.begin();
    added = store.add(kVCard, "added");
    state.put("phone", {added.guid, "2", added.revision});
    store.commit();
    CHECK(store.read(added.guid));
    CHECK(state.by_luid("phone", "2")->guid == added.guid);
}

TEST_CASE("SqliteDatastore transactions are not nested; rollback is always safe") {
    TempDir dir;
    SqliteDatastore store(dir.file("c.sqlite"), kVCard);
    CHECK_THROWS_AS(store.commit(), std::logic_error);
    store.rollback();  // nothing open: nothing to do
    store.begin();
    CHECK_THROWS_AS(store.begin(), std::logic_error);
    store.add(kVCard, "x");
    store.commit();
    CHECK(list_all(store).size() == 1);
    store.rollback();
    store.begin();
    store.rollback();
    store.rollback();
}

TEST_CASE("Two SqliteDatastore objects on one file see each other's commits") {
    TempDir dir;
    std::string path = dir.file("c.sqlite");
    SqliteDatastore one(path, kVCard);
    SqliteDatastore two(path, kVCard);

    auto from_one = one.add(kVCard, "from one");
    CHECK(two.read(from_one.guid)->data == "from one");

    // Uncommitted writes stay invisible to the other connection.
    two.begin();
    auto from_two = two.add(kVCard, "from two");
    CHECK_FALSE(one.read(from_two.guid));
    CHECK(list_all(one).size() == 1);
    two.commit();
    CHECK(one.read(from_two.guid)->data == "from two");
    CHECK(list_all(one).size() == 2);

    // Counters are shared through the file: no GUID or revision repeats.
    auto next = one.add(kVCard, "again");
    CHECK(next.guid != from_two.guid);
    CHECK(next.revision != from_two.revision);
    CHECK(two.remove(next.guid));
    CHECK_FALSE(one.read(next.guid));
}

TEST_CASE("Two sessions may create and write one file at the same time") {
    TempDir dir;
    std::string path = dir.file("c.sqlite");
    constexpr int kSessions = 3, kMessages = 10, kItemsPerMessage = 5;
    std::vector<std::thread> sessions;
    std::mutex errors_mutex;  // Catch2's assertions are not for threads: collect, check after
    std::vector<std::string> errors;
    for (int s = 0; s < kSessions; ++s) {
        sessions.emplace_back([&, s] {
            try {
                SqliteDatastore store(path, kVCard);  // each session its own connection
                for (int m = 0; m < kMessages; ++m) {
                    store.begin();  // a second writer waits here (busy_timeout)
                    for (int i = 0; i < kItemsPerMessage; ++i)
                        store.add(kVCard, card(std::to_string(s) + "/" + std::to_string(m) + "/" + std::to_string(i)));
                    store.commit();
                    store.add(kVCard, "outside a transaction");
                }
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(errors_mutex);
                errors.push_back(e.what());
            }
        });
    }
    for (std::thread& session : sessions) session.join();
    CHECK(errors == std::vector<std::string>{});
    SqliteDatastore store(path, kVCard);
    std::vector<smk::ItemVersion> items = list_all(store);
    CHECK(items.size() == kSessions * kMessages * (kItemsPerMessage + 1));
    std::set<std::string> revisions;
    for (const smk::ItemVersion& item : items) revisions.insert(item.revision);
    CHECK(revisions.size() == items.size());
}

TEST_CASE("SqliteDatastore throws DatastoreError naming a file it cannot open") {
    TempDir dir;
    std::ofstream(dir.path / "plain-file") << "not a folder";
    std::string path = (dir.path / "plain-file" / "c.sqlite").string();
    try {
        SqliteDatastore store(path, kVCard);
        FAIL("opened a file under a regular file");
    } catch (const smk::DatastoreError& e) {
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }

    // Not an SQLite file at all.
    std::ofstream(dir.path / "garbage.sqlite") << std::string(4096, 'x');
    CHECK_THROWS_AS(SqliteDatastore(dir.file("garbage.sqlite"), kVCard), smk::DatastoreError);
}

// ---- SqliteStoreProvider ----

TEST_CASE("category_name names the three categories") {
    CHECK(std::string(smk::category_name(smk::Category::contacts)) == "contacts");
    CHECK(std::string(smk::category_name(smk::Category::calendar)) == "calendar");
    CHECK(std::string(smk::category_name(smk::Category::tasks)) == "tasks");
}

TEST_CASE("SqliteStoreProvider keeps each user's databases in their own files") {
    TempDir dir;
    fs::path data = dir.path / "data";  // created by the provider
    smk::SqliteStoreProvider provider(data.string());
    CHECK(fs::is_directory(data));

    auto contacts = provider.open("alice", smk::Category::contacts);
    REQUIRE(contacts);
    CHECK(fs::exists(data / "alice" / "contacts.sqlite"));
    CHECK(contacts->native_format() == kVCard);
    auto calendar = provider.open("alice", smk::Category::calendar);
    REQUIRE(calendar);
    CHECK(fs::exists(data / "alice" / "calendar.sqlite"));
    CHECK(calendar->native_format() == Format{"text/calendar", "2.0"});
    auto tasks = provider.open("bob", smk::Category::tasks);
    REQUIRE(tasks);
    CHECK(fs::exists(data / "bob" / "tasks.sqlite"));
    CHECK(tasks->native_format() == Format{"text/calendar", "2.0"});

    // Every open is a new store on its own connection, over the same file.
    auto again = provider.open("alice", smk::Category::contacts);
    CHECK(again != contacts);
    auto added = contacts->add(kVCard, card("Ann"));
    CHECK(again->read(added.guid)->data == card("Ann"));
    CHECK_FALSE(calendar->read(added.guid));

    // Non-ASCII user names are fine.
    CHECK(provider.open("j\xC3\xBCrgen@example.com", smk::Category::contacts));
}

TEST_CASE("SqliteStoreProvider refuses owner names that are not a safe folder name") {
    TempDir dir;
    smk::SqliteStoreProvider provider((dir.path / "data").string());
    for (const std::string& owner : {std::string(), std::string("."), std::string(".."), std::string(".hidden"),
                                     std::string("../escape"), std::string("a/b"), std::string("/etc"),
                                     std::string("a\\b"), std::string("a\0b", 3), std::string("tab\there"),
                                     std::string("new\nline"), std::string("del\x7F"), std::string("_global")}) {
        CAPTURE(owner);
        CHECK(provider.open(owner, smk::Category::contacts) == nullptr);
    }
    CHECK_FALSE(fs::exists(dir.path / "escape"));
    // Only the data dir itself was made.
    CHECK(fs::is_empty(dir.path / "data"));
}

TEST_CASE("SqliteStoreProvider grants") {
    TempDir dir;
    smk::SqliteStoreProvider provider(dir.path.string());
    CHECK_FALSE(provider.grant("alice", smk::Category::calendar, "bob"));
    provider.add_grant("alice", smk::Category::calendar, "bob", smk::Access::read_only);
    provider.add_grant("alice", smk::Category::contacts, "carol", smk::Access::read_write);
    CHECK(provider.grant("alice", smk::Category::calendar, "bob") == smk::Access::read_only);
    CHECK(provider.grant("alice", smk::Category::contacts, "carol") == smk::Access::read_write);
    CHECK_FALSE(provider.grant("alice", smk::Category::contacts, "bob"));
    CHECK_FALSE(provider.grant("bob", smk::Category::calendar, "alice"));
    CHECK_FALSE(provider.grant("alice", smk::Category::calendar, "carol"));
    // A later grant replaces the earlier one.
    provider.add_grant("alice", smk::Category::calendar, "bob", smk::Access::read_write);
    CHECK(provider.grant("alice", smk::Category::calendar, "bob") == smk::Access::read_write);
}

// ---- The Global Address Book ----

namespace {

const std::string kAnn = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-1\r\nFN:Ann Example\r\nEMAIL:ann@example.com\r\nEND:VCARD\r\n";
const std::string kBob = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Example\r\nEMAIL;TYPE=work:bob@example.com\r\nEND:VCARD\r\n";
const std::string kCarol = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol Example\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n";
const std::string kNobody = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Nobody;;;;\r\nEND:VCARD\r\n";

std::size_t import(smk::SqliteStoreProvider& provider, const std::string& vcf) {
    std::istringstream in(vcf);
    return provider.import_global_address_book(in);
}

// GUID -> (revision, data) of every entry.
std::map<std::string, std::pair<std::string, std::string>> directory(smk::SqliteStoreProvider& provider) {
    std::map<std::string, std::pair<std::string, std::string>> entries;
    auto gab = provider.open_global_address_book();
    REQUIRE(gab);
    for (const smk::ItemVersion& item : list_all(*gab)) entries[item.guid] = {item.revision, gab->read(item.guid)->data};
    return entries;
}

std::string guid_of(const std::map<std::string, std::pair<std::string, std::string>>& entries,
                    const std::string& data) {
    for (const auto& [guid, entry] : entries)
        if (entry.second == data) return guid;
    return "";
}

std::string to_lf(std::string s) {
    std::string out;
    for (char c : s)
        if (c != '\r') out += c;
    return out;
}

}  // namespace

TEST_CASE("No Global Address Book before the first import") {
    TempDir dir;
    smk::SqliteStoreProvider provider(dir.path.string());
    CHECK(provider.open_global_address_book() == nullptr);
    CHECK(import(provider, "") == 0);
    auto gab = provider.open_global_address_book();
    REQUIRE(gab);
    CHECK(fs::exists(dir.path / "_global" / "contacts.sqlite"));
    CHECK(gab->native_format() == kVCard);
    CHECK(list_all(*gab).empty());
}

TEST_CASE("The Global Address Book import splits vCards and stores each") {
    TempDir dir;
    smk::SqliteStoreProvider provider(dir.path.string());
    // LF line ends, lowercase keywords, text between cards, a folded line and
    // a card cut off by the end of input.
    std::string vcf = "header junk\n" + to_lf(kAnn) + "\n" + to_lf(kBob) +
                      "begin:vcard\nVERSION:3.0\nFN:Dora\n Folded\nEMAIL:dora@example.com\nend:VCARD\n" +
                      "BEGIN:VCARD\nFN:Cut off\n";
    CHECK(import(provider, vcf) == 3);
    auto entries = directory(provider);
    REQUIRE(entries.size() == 3);
    // Stored with CRLF line ends, whichever the file had.
    CHECK(guid_of(entries, kAnn) != "");
    CHECK(guid_of(entries, kBob) != "");
    std::string dora_lower = "begin:vcard\r\nVERSION:3.0\r\nFN:Dora\r\n Folded\r\nEMAIL:dora@example.com\r\nend:VCARD\r\n";
    CHECK(guid_of(entries, dora_lower) != "");
    for (const auto& [guid, entry] : entries) {
        CHECK(guid.rfind("gab-", 0) == 0);
        CHECK(guid.size() == 20);
    }
}

TEST_CASE("Global Address Book GUIDs and revisions are stable across imports") {
    TempDir dir;
    smk::SqliteStoreProvider provider(dir.path.string());
    REQUIRE(import(provider, kAnn + kBob + kCarol + kNobody) == 4);
    auto first = directory(provider);
    REQUIRE(first.size() == 4);

    SECTION("the same file again changes nothing") {
        CHECK(import(provider, kAnn + kBob + kCarol + kNobody) == 4);
        CHECK(directory(provider) == first);
    }
    SECTION("a re-ordered file, with LF line ends, changes nothing") {
        CHECK(import(provider, to_lf(kNobody + kCarol + kBob + kAnn)) == 4);
        CHECK(directory(provider) == first);
    }
    SECTION("a dropped entry is removed, the others stay as they were") {
        CHECK(import(provider, kAnn + kCarol + kNobody) == 3);
        auto second = directory(provider);
        CHECK(second.size() == 3);
        CHECK_FALSE(second.count(guid_of(first, kBob)));
        for (const std::string& kept : {kAnn, kCarol, kNobody}) CHECK(second.at(guid_of(first, kept)) == first.at(guid_of(first, kept)));
    }
    SECTION("a changed entry keeps its GUID and gets a new revision") {
        // Same UID, new name; same FN and EMAIL, a new title; same FN and TEL, a note.
        std::string ann2 = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-1\r\nFN:Ann Married\r\nEMAIL:ann@example.com\r\nEND:VCARD\r\n";
        std::string bob2 = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Example\r\nTITLE:Boss\r\nEMAIL;TYPE=work:bob@example.com\r\nEMAIL:second@example.com\r\nEND:VCARD\r\n";
        std::string carol2 = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol Example\r\nTEL:+1 555 0100\r\nNOTE:new\r\nEND:VCARD\r\n";
        CHECK(import(provider, ann2 + bob2 + carol2 + kNobody) == 4);
        auto second = directory(provider);
        REQUIRE(second.size() == 4);
        for (const auto& [before, after] : {std::pair{kAnn, ann2}, std::pair{kBob, bob2}, std::pair{kCarol, carol2}}) {
            std::string guid = guid_of(first, before);
            REQUIRE(second.count(guid));
            CHECK(second.at(guid).second == after);
            CHECK(second.at(guid).first != first.at(guid).first);
        }
        CHECK(second.at(guid_of(first, kNobody)) == first.at(guid_of(first, kNobody)));
    }
    SECTION("an entry keyed by its whole text is new once its text changes") {
        std::string nobody2 = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Nobody;Else;;;\r\nEND:VCARD\r\n";
        CHECK(import(provider, kAnn + kBob + kCarol + nobody2) == 4);
        auto second = directory(provider);
        CHECK_FALSE(second.count(guid_of(first, kNobody)));
        CHECK(guid_of(second, nobody2) != "");
    }
}

TEST_CASE("A vCard's UID is found in a folded line and with a group") {
    TempDir dir;
    smk::SqliteStoreProvider provider(dir.path.string());
    std::string folded = "BEGIN:VCARD\r\nVERSION:3.0\r\nitem1.UID:abc\r\n -def\r\nFN:X\r\nEND:VCARD\r\n";
    std::string unfolded = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:abc-def\r\nFN:Y\r\nEND:VCARD\r\n";
    CHECK(import(provider, folded) == 1);
    std::string guid = directory(provider).begin()->first;
    CHECK(import(provider, unfolded) == 1);
    auto entries = directory(provider);
    REQUIRE(entries.count(guid));
    CHECK(entries.at(guid).second == unfolded);
    // Two cards with one key: the first is kept, counted once.
    CHECK(import(provider, folded + unfolded) == 1);
    CHECK(directory(provider).at(guid).second == folded);
}

TEST_CASE("The Global Address Book import is one transaction") {
    TempDir dir;
    smk::SqliteStoreProvider provider(dir.path.string());
    REQUIRE(import(provider, kAnn + kBob) == 2);
    auto before = directory(provider);

    // A stream that fails half way leaves the directory as it was, though
    // one whole card had been read before the failure.
    struct FailingBuffer : std::streambuf {
        explicit FailingBuffer(std::string first) : first(std::move(first)) {
            setg(this->first.data(), this->first.data(), this->first.data() + this->first.size());
        }
        int_type underflow() override { throw std::runtime_error("disk gone"); }
        std::string first;
    } buffer(kCarol + "BEGIN:VCARD\r\nFN:Half");
    std::istream failing(&buffer);
    CHECK_THROWS_AS(provider.import_global_address_book(failing), smk::DatastoreError);
    CHECK(directory(provider) == before);
}

TEST_CASE("snapshots are complete copies, and only the newest five are kept") {
    TempDir dir;
    smk::SqliteStoreProvider provider(dir.path.string());
    auto store = provider.open("alice", smk::Category::calendar);
    store->add(Format{"text/calendar", "2.0"}, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
    std::vector<std::string> taken;
    for (int i = 0; i < 7; ++i) taken.push_back(*store->snapshot("test"));
    auto kept = provider.snapshots("alice", smk::Category::calendar);
    REQUIRE(kept.size() == SqliteDatastore::kMaxSnapshots);
    CHECK(kept.back() == taken.back());
    CHECK(std::find(kept.begin(), kept.end(), taken.front()) == kept.end());
    CHECK(provider.snapshots("alice", smk::Category::contacts).empty());
    SqliteDatastore copy(kept.back(), Format{"text/calendar", "2.0"});
    auto cursor = copy.list();
    smk::ItemVersion v;
    CHECK(cursor->next(v));
    CHECK(copy.read(v.guid)->data == "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
}
