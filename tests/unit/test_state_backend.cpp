// open_sqlite_state, the default StateBackend: SyncMLKit's SQLite store
// offers the state in its own file and transaction (StateInStore), a host's
// store gets a file per database under <state_dir>/sync/, and the device
// registry is <state_dir>/devices.sqlite.
#include <catch2/catch.hpp>

#include <filesystem>

#include "sqlite/lost_transaction.hpp"
#include "state/sqlite/sqlite_state.hpp"
#include "state/state_backend.hpp"
#include "store/sqlite_datastore.hpp"
#include "temp_dir.hpp"

using namespace smk;
using smk::test::TempDir;
namespace fs = std::filesystem;

namespace {

const Format kVCard{"text/vcard", "3.0"};

// A host's store that holds nothing: the state backend only looks at its type.
class NoItems : public Datastore {
public:
    Format native_format() const override { return kVCard; }
    std::unique_ptr<ItemCursor> list() override {
        struct None : ItemCursor {
            bool next(ItemVersion&) override { return false; }
        };
        return std::make_unique<None>();
    }
    std::optional<StoredItem> read(const std::string&) override { return std::nullopt; }
    std::optional<std::string> revision(const std::string&) override { return std::nullopt; }
    ItemVersion add(const Format&, std::string_view) override { return {"g", "1"}; }
    std::optional<std::string> replace(const std::string&, const Format&, std::string_view) override {
        return std::nullopt;
    }
    bool remove(const std::string&) override { return false; }
};

std::size_t files_under(const fs::path& dir) {
    if (!fs::exists(dir)) return 0;
    std::size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file();
    return n;
}

}  // namespace

TEST_CASE("open_sqlite_state: the SQLite store's state is in its own file and commits with it") {
    TempDir dir("smk-state-backend-own");
    std::unique_ptr<state::StateBackend> backend = state::open_sqlite_state(dir.file("state"));
    store::SqliteDatastore store(dir.file("contacts.sqlite"), kVCard);
    std::unique_ptr<state::DatabaseState> st = backend->open("alice", Category::contacts, store);
    REQUIRE(st);
    CHECK_FALSE(st->has_own_transaction());
    CHECK(files_under(dir.path / "state" / "sync") == 0);  // no state file of its own

    // The store's transaction is the state's: a rollback of the store undoes both.
    store.begin();
    ItemVersion v = store.add(kVCard, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:One\r\nEND:VCARD\r\n");
    st->sync().put("dev", {v.guid, "L1", v.revision});
    st->resume().save("dev", state::ResumePoint{});
    store.rollback();
    CHECK(st->sync().item_count("dev") == 0);
    CHECK_FALSE(st->resume().load("dev"));
    CHECK_FALSE(store.read(v.guid));

    store.begin();
    v = store.add(kVCard, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:One\r\nEND:VCARD\r\n");
    st->sync().put("dev", {v.guid, "L1", v.revision});
    store.commit();
    // Another connection to the file sees both.
    store::SqliteDatastore again(dir.file("contacts.sqlite"), kVCard);
    std::unique_ptr<state::DatabaseState> st2 = backend->open("alice", Category::contacts, again);
    CHECK(again.read(v.guid));
    std::optional<state::ClientItem> row = st2->sync().by_luid("dev", "L1");
    REQUIRE(row);
    CHECK(row->guid == v.guid);
}

TEST_CASE("open_sqlite_state: a host's store gets a state file per database, with a transaction of its own") {
    TempDir dir("smk-state-backend-host");
    fs::path state_dir = dir.path / "state";
    std::unique_ptr<state::StateBackend> backend = state::open_sqlite_state(state_dir.string());
    NoItems store;

    std::unique_ptr<state::DatabaseState> alice = backend->open("alice", Category::calendar, store);
    CHECK(alice->has_own_transaction());
    CHECK(fs::is_regular_file(state_dir / "sync" / "alice" / "calendar.sqlite"));
    std::unique_ptr<state::DatabaseState> gab = backend->open("", Category::contacts, store);
    CHECK(fs::is_regular_file(state_dir / "sync" / "_global" / "contacts.sqlite"));
    // An owner is percent-encoded into one path component: nothing escapes the state dir.
    std::unique_ptr<state::DatabaseState> odd = backend->open("../x y", Category::tasks, store);
    CHECK(fs::is_regular_file(state_dir / "sync" / "%2E.%2Fx%20y" / "tasks.sqlite"));
    CHECK(files_under(dir.path) - files_under(state_dir) == 0);

    alice->begin();
    alice->sync().put("dev", {"g1", "L1", "1"});
    alice->sync().save_anchors("dev", {"c1", "s1"});
    alice->rollback();
    CHECK(alice->sync().item_count("dev") == 0);
    CHECK_FALSE(alice->sync().anchors("dev"));

    alice->begin();
    alice->sync().put("dev", {"g1", "L1", "1"});
    alice->commit();
    // Committed to the file: a later open (another session) reads it; the
    // other databases' files hold nothing of it.
    CHECK(backend->open("alice", Category::calendar, store)->sync().item_count("dev") == 1);
    CHECK(gab->sync().item_count("dev") == 0);
    CHECK(odd->sync().item_count("dev") == 0);

    // rollback() without an open transaction does nothing.
    CHECK_NOTHROW(alice->rollback());
}

TEST_CASE("open_sqlite_state: a state file's transaction that lost a write is not committed") {
    TempDir dir("smk-state-backend-lost");
    state::SqliteDatabaseState st(dir.file("contacts.sqlite"));
    REQUIRE(st.has_own_transaction());
    st.begin();
    st.sync().put("dev", {"g1", "L1", "1"});
    sqlite::mark_lost(st.database(), "sync state: storing a client item: disk I/O error");
    CHECK_THROWS_AS(st.commit(), DatastoreError);
    st.rollback();  // clears the mark
    CHECK(st.sync().item_count("dev") == 0);
    st.begin();
    st.sync().put("dev", {"g2", "L2", "1"});
    CHECK_NOTHROW(st.commit());
    CHECK(st.sync().item_count("dev") == 1);
}

TEST_CASE("open_sqlite_state: the device registry is devices.sqlite in the state dir") {
    TempDir dir("smk-state-backend-devices");
    std::string state_dir = dir.file("state");
    CHECK(state::read_sqlite_devices(state_dir, "alice").empty());  // nothing yet, nothing made
    {
        std::unique_ptr<state::StateBackend> backend = state::open_sqlite_state(state_dir);
        CHECK(backend->sessions() == nullptr);  // sessions stay in the process
        backend->devices().record_login("alice", "phone", {"nonce", 3}, 10);
        backend->devices().record_login("alice", "laptop", {"n2", 0}, 10);
        backend->devices().record_login("bob", "tablet", {"n3", 0}, 10);
        backend->devices().set_devinf("alice", "phone", "<DevInf/>");
    }
    CHECK(fs::is_regular_file(fs::path(state_dir) / "devices.sqlite"));
    std::vector<state::RegisteredDevice> devices = state::read_sqlite_devices(state_dir, "alice");
    REQUIRE(devices.size() == 2);
    CHECK(devices[0].device == "laptop");
    CHECK_FALSE(devices[0].devinf);
    CHECK(devices[1].device == "phone");
    CHECK(devices[1].devinf == std::optional<std::string>("<DevInf/>"));
    // A second backend on the directory (another process) sees the logins.
    std::unique_ptr<state::StateBackend> again = state::open_sqlite_state(state_dir);
    std::optional<state::DeviceLogin> login = again->devices().login("alice", "phone");
    REQUIRE(login);
    CHECK(login->nonce == "nonce");
    CHECK(login->nonce_floor == 3);
    CHECK(again->devices().device_count("bob") == 1);
}
