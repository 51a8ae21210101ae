// The PostgreSQL store against a real PostgreSQL: the SQLite store's
// contract (items, revisions, listings, transactions, the provider, the
// Global Address Book import), snapshots and their restore, several
// providers (as several server processes) writing one user's store at once,
// and a connection killed in the middle of a transaction.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pg/connection.hpp"
#include "pg_test.hpp"
#include "store/postgres_datastore.hpp"
#include "syncmlkit/postgres_store.hpp"

using smk::Category;
using smk::Format;
using smk::PostgresStoreProvider;
using smk::store::PostgresDatastore;

namespace {

const Format kVCard{"text/vcard", "3.0"};
const Format kVCard21{"text/x-vcard", "2.1"};
const Format kICal{"text/calendar", "2.0"};

std::string card(const std::string& fn) { return "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + fn + "\r\nEND:VCARD\r\n"; }

std::vector<smk::ItemVersion> list_all(smk::Datastore& store) {
    std::vector<smk::ItemVersion> all;
    auto cursor = store.list();
    smk::ItemVersion item;
    while (cursor->next(item)) all.push_back(item);
    return all;
}

// A fresh database per test case, and a provider over it.
struct Fixture {
    std::string url = smk::test::pg_fresh_database();
    PostgresStoreProvider provider{url, 8};

    std::shared_ptr<PostgresDatastore> open(const std::string& owner = "alice", Category c = Category::contacts) {
        auto store = std::dynamic_pointer_cast<PostgresDatastore>(provider.open(owner, c));
        REQUIRE(store);
        return store;
    }
    std::int64_t count(const std::string& sql) {
        smk::pg::Connection c(url);
        return c.exec(sql).int8(0, 0);
    }
};

}  // namespace

TEST_CASE("PostgresDatastore adds, reads, replaces and removes items") {
    Fixture f;
    auto store = f.open();
    CHECK(store->native_format() == kVCard);

    smk::ItemVersion added = store->add(kVCard, card("Ann"));
    CHECK_FALSE(added.guid.empty());
    CHECK_FALSE(added.revision.empty());
    auto read = store->read(added.guid);
    REQUIRE(read);
    CHECK(read->guid == added.guid);
    CHECK(read->revision == added.revision);
    CHECK(read->format == kVCard);
    CHECK(read->data == card("Ann"));
    CHECK(store->revision(added.guid) == added.revision);

    // A replace gives a new revision and may change the format.
    auto replaced = store->replace(added.guid, kVCard21, card("Ann B"));
    REQUIRE(replaced);
    CHECK(*replaced != added.revision);
    CHECK(store->revision(added.guid) == replaced);
    read = store->read(added.guid);
    REQUIRE(read);
    CHECK(read->data == card("Ann B"));
    CHECK(read->format == kVCard21);
    // The same data again is still a change of revision.
    auto again = store->replace(added.guid, kVCard21, card("Ann B"));
    REQUIRE(again);
    CHECK(*again != *replaced);

    CHECK(store->remove(added.guid));
    CHECK_FALSE(store->read(added.guid));
    CHECK_FALSE(store->revision(added.guid));
    CHECK_FALSE(store->remove(added.guid));
    CHECK_FALSE(store->replace(added.guid, kVCard, card("Ghost")));
    CHECK_FALSE(store->read("no-such-guid"));
    // A GUID no store would make, bytes PostgreSQL refuses in text included: not found, no error.
    CHECK_FALSE(store->read(std::string("\xff\0x", 3)));
    CHECK_FALSE(store->revision("\xc3("));
    CHECK_FALSE(store->remove(std::string("\0", 1)));
    CHECK(f.count("SELECT count(*) FROM smk_store_items") == 0);
}

TEST_CASE("revisions unique and increasing, GUIDs never repeat") {
    Fixture f;
    std::set<std::string> guids, revisions;
    std::size_t handed_out = 0;
    std::int64_t last_revision = 0;
    auto note_revision = [&](const std::string& r) {
        revisions.insert(r);
        ++handed_out;
        CHECK(std::stoll(r) > last_revision);  // each write's revision is newer than any before
        last_revision = std::stoll(r);
    };
    {
        auto one = f.open();
        auto two = f.open();
        for (int round = 0; round < 3; ++round) {
            one->begin();
            for (int i = 0; i < 5; ++i) {
                auto v = one->add(kVCard, "one");
                guids.insert(v.guid);
                note_revision(v.revision);
            }
            auto replaced = one->replace(*guids.begin(), kVCard, "changed");
            REQUIRE(replaced);
            note_revision(*replaced);
            one->commit();
            auto v = two->add(kVCard, "two, outside a transaction");
            guids.insert(v.guid);
            note_revision(v.revision);
            note_revision(two->put_with_guid("fixed", kVCard, "again and again"));
        }
        // A rolled-back message leaves no item behind, and its GUID and
        // revision are not handed out again.
        one->begin();
        auto lost = one->add(kVCard, "rolled back");
        one->rollback();
        CHECK_FALSE(one->read(lost.guid));
        CHECK_FALSE(two->read(lost.guid));
        auto after = two->add(kVCard, "after the rollback");
        CHECK(after.guid != lost.guid);
        CHECK(std::stoll(after.revision) > std::stoll(lost.revision));
        guids.insert(after.guid);
        note_revision(after.revision);
        CHECK(list_all(*two).size() == 3 * 6 + 1 + 1);  // "fixed" once

        // A GUID chosen with put_with_guid where the sequence points next is skipped.
        smk::pg::Connection admin(f.url);
        std::string next = std::to_string(admin.exec("SELECT last_value FROM smk_store_guid").int8(0, 0) + 1);
        one->put_with_guid(next, kVCard, "taken");
        auto skipped = one->add(kVCard, "d");
        CHECK(skipped.guid != next);
        CHECK(one->read(next)->data == "taken");
        guids.insert(skipped.guid);
    }
    // Another provider (another process, after a restart) goes on from there.
    PostgresStoreProvider restarted(f.url, 2);
    auto store = restarted.open("alice", Category::contacts);
    auto v = store->add(kVCard, "after a restart");
    guids.insert(v.guid);
    note_revision(v.revision);
    CHECK(guids.size() == 3 * 6 + 1 + 1 + 1);
    CHECK(revisions.size() == handed_out);
}

TEST_CASE("data byte for byte: NUL, invalid UTF-8, every byte") {
    Fixture f;
    auto store = f.open();
    const std::string crlf = "BEGIN:VCARD\r\nNOTE:line one\r\n line two\nbare LF\rbare CR\r\nEND:VCARD\r\n";
    const std::string nul("a\0b\0\0c", 6);
    const std::string utf8 = "FN:J\xC3\xBCrgen M\xC3\xBCller \xE2\x82\xAC \xF0\x9F\x98\x80";
    std::string all_bytes;
    for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
    const std::string invalid_utf8 = "\xFF\xFE\xC3(";
    const std::string large(3 << 20, '\x80');  // past a page and TOAST's thresholds

    int n = 0;
    for (const std::string& data : {crlf, nul, utf8, all_bytes, invalid_utf8, std::string(), large}) {
        CAPTURE(n++);
        auto added = store->add(kVCard, data);
        auto read = store->read(added.guid);
        REQUIRE(read);
        CHECK(read->data.size() == data.size());
        CHECK(read->data == data);
        auto replaced = store->replace(added.guid, kVCard, data + data);
        REQUIRE(replaced);
        CHECK(store->read(added.guid)->data == data + data);
    }
    // Formats too are kept as given (they come from clients).
    Format odd{std::string("text/\xff\0x", 7), "\xc3("};
    auto added = store->add(odd, invalid_utf8);
    CHECK(store->read(added.guid)->format == odd);
    CHECK(store->put_with_guid(std::string("g\0\xff", 3), odd, nul) != "");
    CHECK(store->read(std::string("g\0\xff", 3))->data == nul);
}

TEST_CASE("listing: every item once, in GUID order, a page at a time") {
    Fixture f;
    auto store = f.open();
    std::set<std::string> added;
    store->begin();
    for (int i = 0; i < 1000; ++i) added.insert(store->add(kVCard, card("Person " + std::to_string(i))).guid);
    // GUIDs of other shapes sort bytewise among them.
    for (const std::string& g : {std::string("gab-1"), std::string("\xff"), std::string("A"), std::string("0")})
    {
        store->put_with_guid(g, kVCard, "chosen");
        added.insert(g);
    }
    store->commit();
    REQUIRE(added.size() == 1004);

    std::vector<smk::ItemVersion> listed = list_all(*store);
    REQUIRE(listed.size() == 1004);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < listed.size(); ++i) {
        if (i > 0) CHECK(listed[i - 1].guid < listed[i].guid);  // std::string order, as the sync state's
        CHECK(store->revision(listed[i].guid) == listed[i].revision);
        seen.insert(listed[i].guid);
    }
    CHECK(seen == added);
    CHECK(listed.back().guid == "\xff");

    // A cursor past its end stays there.
    auto cursor = store->list();
    smk::ItemVersion item;
    std::size_t count = 0;
    while (cursor->next(item)) ++count;
    CHECK(count == 1004);
    CHECK_FALSE(cursor->next(item));

    // Two listings at once walk independently.
    auto a = store->list();
    auto b = store->list();
    smk::ItemVersion from_a, from_b;
    REQUIRE(a->next(from_a));
    REQUIRE(a->next(from_a));
    REQUIRE(b->next(from_b));
    CHECK(from_b.guid == listed[0].guid);
    CHECK(from_a.guid == listed[1].guid);

    // Writes between pages neither repeat nor skip an item that stays.
    auto walking = store->list();
    std::vector<std::string> walked;
    while (walking->next(item)) {
        walked.push_back(item.guid);
        if (walked.size() == 300) {
            store->remove(listed[10].guid);   // already walked
            store->remove(listed[900].guid);  // not yet: not listed
            store->replace(listed[800].guid, kVCard, "changed");
        }
    }
    CHECK(walked.size() == 1003);
    CHECK(std::set<std::string>(walked.begin(), walked.end()).size() == walked.size());

    // Another user's items and another category are not listed.
    auto bobs = f.open("bob");
    bobs->add(kVCard, "bob's");
    auto calendar = f.open("alice", Category::calendar);
    CHECK(list_all(*calendar).empty());
    CHECK(list_all(*bobs).size() == 1);
    CHECK(list_all(*store).size() == 1002);
}

TEST_CASE("A cursor may outlive its PostgresDatastore") {
    Fixture f;
    std::unique_ptr<smk::ItemCursor> cursor;
    {
        auto store = f.open();
        store->add(kVCard, "a");
        store->add(kVCard, "b");
        cursor = store->list();
    }
    smk::ItemVersion item;
    CHECK(cursor->next(item));
    CHECK(cursor->next(item));
    CHECK_FALSE(cursor->next(item));
}

TEST_CASE("PostgresDatastore put_with_guid adds or replaces under the given GUID") {
    Fixture f;
    auto store = f.open();
    std::string first = store->put_with_guid("gab-1", kVCard, "one");
    CHECK(store->read("gab-1")->data == "one");
    std::string second = store->put_with_guid("gab-1", kVCard21, "two");
    CHECK(second != first);
    auto read = store->read("gab-1");
    REQUIRE(read);
    CHECK(read->data == "two");
    CHECK(read->format == kVCard21);
    CHECK(read->revision == second);
    CHECK(list_all(*store).size() == 1);
}

TEST_CASE("transactions: rollback undoes, not nested, always safe") {
    Fixture f;
    auto store = f.open();
    auto other = f.open();
    auto kept = store->add(kVCard, "kept");

    store->begin();
    auto added = store->add(kVCard, "added");
    store->replace(kept.guid, kVCard, "changed");
    CHECK(store->read(added.guid));
    // Uncommitted writes stay invisible to another store.
    CHECK_FALSE(other->read(added.guid));
    CHECK(other->read(kept.guid)->data == "kept");
    store->rollback();
    CHECK_FALSE(store->read(added.guid));
    CHECK(store->read(kept.guid)->data == "kept");
    CHECK(store->revision(kept.guid) == kept.revision);

    store->begin();
    added = store->add(kVCard, "added");
    store->commit();
    CHECK(other->read(added.guid)->data == "added");

    CHECK_THROWS_AS(store->commit(), std::logic_error);
    store->rollback();  // nothing open: nothing to do
    store->begin();
    CHECK_THROWS_AS(store->begin(), std::logic_error);
    store->add(kVCard, "x");
    store->commit();
    CHECK(list_all(*other).size() == 3);
    store->rollback();
    store->begin();
    store->rollback();
    store->rollback();

    // A store destroyed inside a transaction leaves nothing behind, and its
    // connection goes back clean.
    {
        auto dropped = f.open();
        dropped->begin();
        dropped->add(kVCard, "never committed");
    }
    CHECK(list_all(*other).size() == 3);
    store->begin();
    store->add(kVCard, "y");
    store->commit();
    CHECK(list_all(*other).size() == 4);
}

TEST_CASE("A failed statement fails the commit: PostgreSQL ends the transaction") {
    Fixture f;
    auto store = f.open();
    store->begin();
    auto a = store->add(kVCard, "a");
    // A statement that fails inside the transaction (as a broken table would).
    CHECK_THROWS_AS(store->connection().exec("SELECT 1/0"), smk::DatastoreError);
    CHECK_THROWS_AS(store->add(kVCard, "b"), smk::DatastoreError);
    CHECK_THROWS_AS(store->commit(), smk::DatastoreError);
    store->rollback();
    CHECK_FALSE(store->read(a.guid));
    // And the store goes on.
    store->begin();
    auto c = store->add(kVCard, "c");
    store->commit();
    CHECK(f.open()->read(c.guid)->data == "c");
}

// ---- The provider ----

TEST_CASE("PostgresStoreProvider keeps each user's databases apart") {
    Fixture f;
    CHECK_FALSE(f.provider.has_database("alice", Category::contacts));
    auto contacts = f.open("alice", Category::contacts);
    CHECK(f.provider.has_database("alice", Category::contacts));
    CHECK(contacts->native_format() == kVCard);
    auto calendar = f.open("alice", Category::calendar);
    CHECK(calendar->native_format() == kICal);
    auto tasks = f.open("bob", Category::tasks);
    CHECK(tasks->native_format() == kICal);
    CHECK(f.open("bob", Category::notes)->native_format() == Format{"text/x-vnote", "1.1"});
    CHECK_FALSE(f.provider.has_database("bob", Category::contacts));

    // Every open is a new store on its own connection, over the same rows.
    auto again = f.open("alice", Category::contacts);
    CHECK(again != contacts);
    CHECK(&again->connection() != &contacts->connection());
    auto added = contacts->add(kVCard, card("Ann"));
    CHECK(again->read(added.guid)->data == card("Ann"));
    CHECK_FALSE(calendar->read(added.guid));
    CHECK_FALSE(tasks->read(added.guid));

    // Any owner but the empty one (the Global Address Book's): names that
    // are no folder name are fine here, each its own database.
    CHECK(f.provider.open("", Category::contacts) == nullptr);
    std::vector<std::string> owners = {"j\xC3\xBCrgen@example.com", "../escape", "_global", std::string("a\0b", 3),
                                       std::string("a"), std::string("\xff")};
    for (const std::string& owner : owners) {
        CAPTURE(owner);
        auto store = f.open(owner);
        CHECK(list_all(*store).empty());
        store->add(kVCard, owner);
    }
    for (const std::string& owner : owners) {
        auto all = list_all(*f.open(owner));
        REQUIRE(all.size() == 1);
        CHECK(f.open(owner)->read(all[0].guid)->data == owner);
    }
}

TEST_CASE("PostgresStoreProvider grants") {
    Fixture f;
    auto& provider = f.provider;
    CHECK_FALSE(provider.grant("alice", Category::calendar, "bob"));
    provider.add_grant("alice", Category::calendar, "bob", smk::Access::read_only);
    provider.add_grant("alice", Category::contacts, "carol", smk::Access::read_write);
    CHECK(provider.grant("alice", Category::calendar, "bob") == smk::Access::read_only);
    CHECK(provider.grant("alice", Category::contacts, "carol") == smk::Access::read_write);
    CHECK_FALSE(provider.grant("alice", Category::contacts, "bob"));
    CHECK_FALSE(provider.grant("bob", Category::calendar, "alice"));
    CHECK_FALSE(provider.grant("alice", Category::calendar, "carol"));
    provider.add_grant("alice", Category::calendar, "bob", smk::Access::read_write);
    CHECK(provider.grant("alice", Category::calendar, "bob") == smk::Access::read_write);
}

TEST_CASE("providers migrate once; a newer schema is refused") {
    std::string url = smk::test::pg_fresh_database();
    std::vector<std::thread> starting;
    std::atomic<int> failures{0};
    for (int i = 0; i < 4; ++i)
        starting.emplace_back([&] {
            try {
                PostgresStoreProvider p(url, 1);
            } catch (const std::exception&) {
                ++failures;
            }
        });
    for (auto& t : starting) t.join();
    CHECK(failures == 0);
    smk::pg::Connection c(url);
    CHECK(c.exec("SELECT version FROM smk_schema WHERE component = 'store'").int8(0, 0) ==
          static_cast<std::int64_t>(smk::store::postgres_store_schema().size()));
    c.exec("UPDATE smk_schema SET version = version + 1 WHERE component = 'store'");
    CHECK_THROWS_AS(PostgresStoreProvider(url, 1), smk::DatastoreError);
}

// ---- The Global Address Book ----

namespace {

const std::string kAnn = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-1\r\nFN:Ann Example\r\nEMAIL:ann@example.com\r\nEND:VCARD\r\n";
const std::string kBob = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Example\r\nEMAIL;TYPE=work:bob@example.com\r\nEND:VCARD\r\n";
const std::string kCarol = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol Example\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n";
const std::string kNobody = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Nobody;;;;\r\nEND:VCARD\r\n";

std::size_t import(PostgresStoreProvider& provider, const std::string& vcf, smk::ItemCounts* counts = nullptr) {
    std::istringstream in(vcf);
    smk::ItemCounts ignored;
    return provider.import_global_address_book(in, counts ? *counts : ignored);
}

// GUID -> (revision, data) of every entry.
std::map<std::string, std::pair<std::string, std::string>> directory(PostgresStoreProvider& provider) {
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

}  // namespace

TEST_CASE("Global Address Book: none before an import, then stable") {
    Fixture f;
    CHECK(f.provider.open_global_address_book() == nullptr);
    CHECK(import(f.provider, "") == 0);
    auto gab = f.provider.open_global_address_book();
    REQUIRE(gab);
    CHECK(gab->native_format() == kVCard);
    CHECK(list_all(*gab).empty());

    smk::ItemCounts n;
    REQUIRE(import(f.provider, "junk\n" + kAnn + kBob + kCarol + kNobody + kAnn, &n) == 4);
    CHECK(n.added == 4);
    CHECK(n.repeated == 1);
    auto first = directory(f.provider);
    REQUIRE(first.size() == 4);
    for (const auto& [guid, entry] : first) CHECK(guid.rfind("gab-", 0) == 0);
    // Not a user's database: no user's store shows it.
    CHECK(list_all(*f.open("alice")).empty());

    // The same file again changes nothing: GUIDs and revisions stay.
    REQUIRE(import(f.provider, kNobody + kCarol + kBob + kAnn, &n) == 4);
    CHECK(n.unchanged == 4);
    CHECK(directory(f.provider) == first);

    // A changed entry keeps its GUID with a new revision; a dropped one goes.
    std::string ann2 = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ann-1\r\nFN:Ann Married\r\nEMAIL:ann@example.com\r\nEND:VCARD\r\n";
    REQUIRE(import(f.provider, ann2 + kCarol + kNobody, &n) == 3);
    CHECK(n.changed == 1);
    CHECK(n.unchanged == 2);
    CHECK(n.removed == 1);
    auto second = directory(f.provider);
    CHECK(second.size() == 3);
    CHECK_FALSE(second.count(guid_of(first, kBob)));
    std::string ann = guid_of(first, kAnn);
    CHECK(second.at(ann).second == ann2);
    CHECK(second.at(ann).first != first.at(ann).first);
    CHECK(second.at(guid_of(first, kCarol)) == first.at(guid_of(first, kCarol)));

    // A stream that fails half way leaves the directory as it was.
    struct FailingBuffer : std::streambuf {
        explicit FailingBuffer(std::string first) : first(std::move(first)) {
            setg(this->first.data(), this->first.data(), this->first.data() + this->first.size());
        }
        int_type underflow() override { throw std::runtime_error("disk gone"); }
        std::string first;
    } buffer(kBob + "BEGIN:VCARD\r\nFN:Half");
    std::istream failing(&buffer);
    CHECK_THROWS_AS(f.provider.import_global_address_book(failing), smk::DatastoreError);
    CHECK(directory(f.provider) == second);
}

// ---- Snapshots and restore ----

TEST_CASE("snapshots: complete copies by name, the newest five kept") {
    Fixture f;
    auto store = f.open("alice", Category::calendar);
    auto other = f.open("bob", Category::calendar);
    const std::string event = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
    store->add(kICal, event);
    other->add(kICal, "bob's");
    other->add(kICal, "bob's too");
    std::vector<std::string> taken;
    for (int i = 0; i < 7; ++i) {
        store->add(kICal, "number " + std::to_string(i));
        auto name = store->snapshot(i == 6 ? "odd reason/ü" : "test");
        REQUIRE(name);
        CHECK(name->rfind("calendar-", 0) == 0);
        CHECK(f.provider.snapshot_items("alice", Category::calendar, *name) == static_cast<std::size_t>(i + 2));
        taken.push_back(*name);
    }
    // The reason in the name: letters, digits and '-'; '_' for any other byte.
    const std::string tail = "-odd_reason___";
    CHECK(taken.back().substr(taken.back().size() - tail.size()) == tail);
    auto kept = f.provider.snapshots("alice", Category::calendar);
    REQUIRE(kept.size() == PostgresStoreProvider::kMaxSnapshots);
    CHECK(kept == std::vector<std::string>(taken.end() - 5, taken.end()));
    CHECK(f.provider.snapshots("alice", Category::contacts).empty());
    CHECK(f.provider.snapshots("bob", Category::calendar).empty());
    // The pruned ones' items went with them.
    CHECK(f.count("SELECT count(*) FROM smk_store_snapshot_items") == 4 + 5 + 6 + 7 + 8);
    // Names sort by age, also several in one second.
    CHECK(std::is_sorted(kept.begin(), kept.end()));
    // find_snapshot takes the name, without the category, as a path, with ".sqlite", or "latest".
    std::string newest = kept.back();
    std::string short_name = newest.substr(std::string("calendar-").size());
    for (const std::string& form : {newest, short_name, "/some/folder/" + newest + ".sqlite", std::string("latest")})
        CHECK(f.provider.find_snapshot("alice", Category::calendar, form) == newest);
    for (const std::string& form : {taken.front(), std::string(""), std::string(".."), std::string("nothing")})
        CHECK_FALSE(f.provider.find_snapshot("alice", Category::calendar, form));
    CHECK_FALSE(f.provider.find_snapshot("bob", Category::calendar, newest));
    CHECK_FALSE(f.provider.find_snapshot("alice", Category::contacts, short_name));
}

TEST_CASE("restore: the snapshot's items exactly, new revisions, counted") {
    Fixture f;
    auto store = f.open();
    std::map<std::string, std::string> at_snapshot;  // GUID -> data
    for (int i = 0; i < 40; ++i) {
        auto v = store->add(kVCard, card("Person " + std::to_string(i)));
        at_snapshot[v.guid] = card("Person " + std::to_string(i));
    }
    auto bobs = f.open("bob");
    bobs->add(kVCard, "bob's, untouched by alice's restore");
    auto name = store->snapshot("refresh-from-client");
    REQUIRE(name);
    CHECK(f.provider.snapshot_items("alice", Category::contacts, *name) == 40);

    // After the snapshot: 5 deleted, 7 changed (one of them in format only),
    // 3 made, the rest as they were.
    std::vector<std::string> guids;
    for (const auto& [guid, data] : at_snapshot) guids.push_back(guid);
    for (int i = 0; i < 5; ++i) store->remove(guids[i]);
    for (int i = 5; i < 11; ++i) store->replace(guids[i], kVCard, "changed");
    store->replace(guids[11], kVCard21, at_snapshot[guids[11]]);
    std::set<std::string> made;
    for (int i = 0; i < 3; ++i) made.insert(store->add(kVCard, "made since").guid);
    std::map<std::string, std::string> revision_before;
    for (const auto& item : list_all(*store)) revision_before[item.guid] = item.revision;

    smk::ItemCounts n;
    f.provider.restore("alice", Category::contacts, *name, n);
    CHECK(n.added == 5);
    CHECK(n.changed == 7);
    CHECK(n.unchanged == 40 - 5 - 7);
    CHECK(n.removed == 3);
    CHECK(n.repeated == 0);

    // The items are the snapshot's, byte for byte, no more, no fewer.
    auto after = list_all(*store);
    REQUIRE(after.size() == 40);
    for (const auto& item : after) {
        REQUIRE(at_snapshot.count(item.guid));
        auto read = store->read(item.guid);
        CHECK(read->data == at_snapshot[item.guid]);
        CHECK(read->format == kVCard);
        CHECK_FALSE(made.count(item.guid));
    }
    // Unchanged items keep their revision; every other one has a new one,
    // newer than any before (so each client's two-way sync sends it).
    std::int64_t newest_before = 0;
    for (const auto& [guid, revision] : revision_before) newest_before = std::max<std::int64_t>(newest_before, std::stoll(revision));
    std::size_t kept_revision = 0;
    for (const auto& item : after) {
        auto before = revision_before.find(item.guid);
        if (before != revision_before.end() && before->second == item.revision) ++kept_revision;
        else CHECK(std::stoll(item.revision) > newest_before);
    }
    CHECK(kept_revision == 40 - 5 - 7);
    CHECK(list_all(*bobs).size() == 1);

    // Again: nothing differs now.
    f.provider.restore("alice", Category::contacts, "latest", n);
    CHECK(n.added + n.changed + n.removed == 0);
    CHECK(n.unchanged == 40);

    // A restore into a database with no items (or none yet) brings all back.
    store->begin();
    for (const auto& item : list_all(*store)) store->remove(item.guid);
    store->commit();
    f.provider.restore("alice", Category::contacts, name->substr(9), n);
    CHECK(n.added == 40);
    CHECK(list_all(*store).size() == 40);

    CHECK_THROWS_AS(f.provider.restore("alice", Category::contacts, "no-such-snapshot"), smk::DatastoreError);
    CHECK_THROWS_AS(f.provider.restore("bob", Category::contacts, *name), smk::DatastoreError);
    CHECK(list_all(*store).size() == 40);
}

TEST_CASE("restore waits for a message; a snapshot inside one copies it") {
    Fixture f;
    auto store = f.open();
    auto a = store->add(kVCard, "a");
    auto name = store->snapshot("before");
    REQUIRE(name);
    store->begin();
    store->replace(a.guid, kVCard, "changed in the message");
    auto inside = store->snapshot("inside");  // the engine takes one after the Alert, maybe inside the message
    REQUIRE(inside);
    CHECK(f.provider.snapshot_items("alice", Category::contacts, *inside) == std::nullopt);  // not committed yet
    std::atomic<bool> restored{false};
    std::thread admin([&] {
        f.provider.restore("alice", Category::contacts, *name);
        restored = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK_FALSE(restored);  // waits for the message
    store->add(kVCard, "b");
    store->commit();
    admin.join();
    CHECK(restored);
    CHECK(store->read(a.guid)->data == "a");
    CHECK(list_all(*store).size() == 1);
    CHECK(f.provider.snapshot_items("alice", Category::contacts, *inside) == 1);
}

// ---- Several processes ----

// Two providers (two processes' pools) and several sessions each write one
// user's database at once: every add is kept once, every revision differs,
// and read-modify-write inside a message loses no update, since writers of
// one database take turns message by message.
TEST_CASE("Two providers writing one user's store at once stay consistent") {
    Fixture f;
    PostgresStoreProvider second(f.url, 4);
    f.open()->put_with_guid("counter", kVCard, "0");
    constexpr int kSessions = 4, kMessages = 15, kItemsPerMessage = 4;
    std::mutex errors_mutex;
    std::vector<std::string> errors;
    std::vector<std::thread> sessions;
    for (int s = 0; s < kSessions; ++s) {
        sessions.emplace_back([&, s] {
            try {
                PostgresStoreProvider& provider = s % 2 ? second : f.provider;
                auto store = provider.open("alice", Category::contacts);
                for (int m = 0; m < kMessages; ++m) {
                    store->begin();
                    for (int i = 0; i < kItemsPerMessage; ++i)
                        store->add(kVCard, card(std::to_string(s) + "/" + std::to_string(m) + "/" + std::to_string(i)));
                    auto now = store->read("counter");
                    if (!now) throw std::runtime_error("no counter");
                    store->replace("counter", kVCard, std::to_string(std::stoi(now->data) + 1));
                    store->commit();
                    store->add(kVCard, "outside a transaction");
                }
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(errors_mutex);
                errors.push_back(e.what());
            }
        });
    }
    for (auto& t : sessions) t.join();
    CHECK(errors == std::vector<std::string>{});
    auto store = second.open("alice", Category::contacts);
    std::vector<smk::ItemVersion> items = list_all(*store);
    CHECK(items.size() == kSessions * kMessages * (kItemsPerMessage + 1) + 1);
    std::set<std::string> revisions, datas;
    for (const auto& item : items) {
        revisions.insert(item.revision);
        datas.insert(store->read(item.guid)->data);
    }
    CHECK(revisions.size() == items.size());
    CHECK(datas.size() == kSessions * kMessages * kItemsPerMessage + 2);  // + "outside..." + the counter
    CHECK(store->read("counter")->data == std::to_string(kSessions * kMessages));
}

TEST_CASE("a second writer waits at most 5 s; other databases do not") {
    Fixture f;
    auto holder = f.open();
    holder->begin();
    holder->add(kVCard, "held");
    auto other_user = f.open("bob");
    auto start = std::chrono::steady_clock::now();
    other_user->begin();  // another database: at once
    other_user->add(kVCard, "bob's");
    other_user->commit();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    auto waiting = f.open();
    start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(waiting->begin(), smk::DatastoreError);
    auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= std::chrono::milliseconds(4900));
    CHECK(waited < std::chrono::seconds(8));
    waiting->rollback();
    holder->commit();
    waiting->begin();  // now free
    waiting->add(kVCard, "after");
    waiting->commit();
    CHECK(list_all(*waiting).size() == 2);
}

TEST_CASE("a connection killed mid-transaction: rolled back, DatastoreError") {
    Fixture f;
    auto store = f.open();
    auto before = store->add(kVCard, "before");
    store->begin();
    auto lost = store->add(kVCard, "in the killed transaction");
    store->replace(before.guid, kVCard, "changed in the killed transaction");
    {
        smk::pg::Connection admin(f.url);
        CHECK(admin.exec("SELECT pg_terminate_backend($1::integer)",
                         {smk::pg::Param::int8(store->connection().backend_pid())})
                  .boolean(0, 0));
    }
    CHECK_THROWS_AS(store->add(kVCard, "after the kill"), smk::DatastoreError);
    CHECK_THROWS_AS(store->commit(), smk::DatastoreError);
    store->rollback();  // never throws
    // The store stays broken (its connection is gone) but fails cleanly.
    CHECK_THROWS_AS(store->read(before.guid), smk::DatastoreError);
    CHECK_THROWS_AS(store->begin(), smk::DatastoreError);
    store->rollback();
    auto cursor = store->list();
    smk::ItemVersion item;
    CHECK_THROWS_AS(cursor->next(item), smk::DatastoreError);
    cursor.reset();
    store.reset();  // its broken connection is closed, not pooled

    // Nothing of the transaction was kept; a new store gets a fresh connection.
    auto fresh = f.open();
    CHECK_FALSE(fresh->read(lost.guid));
    CHECK(fresh->read(before.guid)->data == "before");
    CHECK(fresh->read(before.guid)->revision == before.revision);
    fresh->begin();
    auto added = fresh->add(kVCard, "on a fresh connection");
    fresh->commit();
    CHECK(list_all(*fresh).size() == 2);
    CHECK(f.open()->read(added.guid)->data == "on a fresh connection");
}

TEST_CASE("idle connections the server closed are replaced silently") {
    Fixture f;
    {
        // Several connections, all idle in the pool afterwards.
        auto a = f.open();
        auto b = f.open("bob");
        auto c = f.open("carol");
        a->add(kVCard, "a");
        a->snapshot("idle");
    }
    smk::pg::Connection admin(f.url);
    std::int64_t ended = admin.exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                             .int8(0, 0);
    CHECK(ended >= 3);
    // Give the server a moment to end them.
    for (int i = 0; i < 50 && admin.exec("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND pid <> pg_backend_pid()")
                                      .int8(0, 0) > 0;
         ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(f.provider.has_database("alice", Category::contacts));
    CHECK(f.provider.snapshots("alice", Category::contacts).size() == 1);
    auto store = f.open();
    CHECK(list_all(*store).size() == 1);
    auto bobs = f.open("bob");
    bobs->begin();
    bobs->add(kVCard, "b");
    bobs->commit();
    f.provider.restore("alice", Category::contacts, "latest");
    CHECK(list_all(*f.open("carol")).empty());
}

// ---- The sync state in the store's database ----

TEST_CASE("an item and its mapping commit and roll back together") {
    Fixture f;
    auto store = f.open();
    std::unique_ptr<smk::state::DatabaseState> state = store->open_state();
    CHECK_FALSE(state->has_own_transaction());
    auto kept = store->add(kVCard, "kept");
    state->sync().put("phone", {kept.guid, "1", kept.revision});

    store->begin();
    state->begin();  // does nothing: the store's transaction covers it
    auto added = store->add(kVCard, "added");
    state->sync().put("phone", {added.guid, "2", added.revision});
    store->replace(kept.guid, kVCard, "changed");
    state->sync().save_anchors("phone", {"c1", "s1"});
    state->sync().queue("phone", {0, smk::state::OutOp::add, added.guid, ""});
    // Another session (another connection) sees none of it yet.
    auto other = f.open();
    auto other_state = other->open_state();
    CHECK_FALSE(other_state->sync().by_guid("phone", added.guid));
    state->rollback();
    store->rollback();

    CHECK_FALSE(store->read(added.guid));
    CHECK(store->read(kept.guid)->data == "kept");
    CHECK_FALSE(state->sync().by_guid("phone", added.guid));
    CHECK(state->sync().by_guid("phone", kept.guid));
    CHECK_FALSE(state->sync().anchors("phone"));
    CHECK(state->sync().queued_count("phone") == 0);

    // And a commit keeps both, for every other connection too.
    store->begin();
    added = store->add(kVCard, "added");
    state->sync().put("phone", {added.guid, "2", added.revision});
    state->commit();
    store->commit();
    CHECK(other->read(added.guid));
    CHECK(other_state->sync().by_luid("phone", "2")->guid == added.guid);

    // A failed state write fails the store's commit: neither is kept.
    store->begin();
    auto lost = store->add(kVCard, "lost");
    state->sync().put("phone", {lost.guid, "3", lost.revision});
    CHECK_THROWS_AS(store->connection().exec("SELECT 1/0"), smk::DatastoreError);
    CHECK_THROWS_AS(store->commit(), smk::DatastoreError);
    store->rollback();
    CHECK_FALSE(other->read(lost.guid));
    CHECK_FALSE(other_state->sync().by_luid("phone", "3"));

    // The state keeps the connection: it may outlive its store.
    store.reset();
    CHECK(state->sync().item_count("phone") == 2);

    // Each database has its own state.
    auto bobs = f.open("bob")->open_state();
    CHECK(bobs->sync().item_count("phone") == 0);
    CHECK(f.open("alice", Category::calendar)->open_state()->sync().item_count("phone") == 0);
}

TEST_CASE("PostgresStoreProvider lists and forgets clients' sync state") {
    Fixture f;
    CHECK(f.provider.client_states("alice", Category::contacts).empty());
    CHECK_FALSE(f.provider.has_database("alice", Category::contacts));  // nothing made by asking
    CHECK_FALSE(f.provider.forget_client("alice", Category::contacts, "phone"));
    auto store = f.open();
    auto state = store->open_state();
    std::vector<smk::ItemVersion> items;
    for (int i = 0; i < 3; ++i) items.push_back(store->add(kVCard, card(std::to_string(i))));
    store->begin();
    for (std::size_t i = 0; i < items.size(); ++i)
        state->sync().put("phone", {items[i].guid, "p" + std::to_string(i), items[i].revision});
    state->sync().put("tablet", {items[0].guid, "t0", items[0].revision});
    state->sync().save_anchors("phone", {"c1", "s1"});
    store->commit();

    auto clients = f.provider.client_states("alice", Category::contacts);
    REQUIRE(clients.size() == 2);
    CHECK(clients[0].device == "phone");
    CHECK(clients[0].completed);
    CHECK(clients[0].items == 3);
    CHECK(clients[1].device == "tablet");
    CHECK_FALSE(clients[1].completed);
    CHECK(clients[1].items == 1);
    CHECK(f.provider.client_states("bob", Category::contacts).empty());

    auto forgotten = f.provider.forget_client("alice", Category::contacts, "phone");
    REQUIRE(forgotten);
    CHECK(forgotten->items == 3);
    clients = f.provider.client_states("alice", Category::contacts);
    REQUIRE(clients.size() == 1);
    CHECK(clients[0].device == "tablet");
    CHECK_FALSE(state->sync().anchors("phone"));
    CHECK(list_all(*store).size() == 3);  // no item is deleted
    CHECK_FALSE(f.provider.forget_client("alice", Category::contacts, "phone"));
}
