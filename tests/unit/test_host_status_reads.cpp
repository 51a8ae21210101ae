// What a host's status page reads through the public API: a password
// checked through the SyncML logins' throttle (Server::check_login), the
// devices a user logged in from (smk::known_devices) and each client's sync
// state in a database (SqliteStoreProvider::client_states).
#include <catch2/catch.hpp>

#include <ctime>

#include "engine_client.hpp"

using namespace smk;
using namespace smk::test;

TEST_CASE("check_login: right, wrong, and throttled together with SyncML logins") {
    TestServer s;
    const std::string guesser = "192.0.2.7";
    CHECK(s.server->check_login("alice", "secret", guesser).ok);
    LoginCheck wrong = s.server->check_login("alice", "nope", guesser);
    CHECK_FALSE(wrong.ok);
    CHECK(wrong.retry_after == 0);
    CHECK_FALSE(s.server->check_login("nobody", "secret", guesser).ok);
    CHECK_FALSE(s.server->check_login("", "", guesser).ok);
    // Five failures from one address (the defaults): the address is held
    // back, for the page and for SyncML logins alike, right password or not.
    for (int i = 0; i < 2; ++i) CHECK_FALSE(s.server->check_login("bob", "guess", guesser).ok);
    LoginCheck held = s.server->check_login("alice", "secret", guesser);
    CHECK_FALSE(held.ok);
    CHECK(held.retry_after > 0);
    TestClient c(*s.server, "phone-1");
    c.peer = guesser;
    wire::Message pkg2 = steps::init(c, "201", "contacts", "", "1");
    REQUIRE(find_status(pkg2, "SyncHdr"));
    CHECK(find_status(pkg2, "SyncHdr")->data == "503");
    // Another address: alice's own page login goes through, and does not
    // remember a device.
    CHECK(s.server->check_login("alice", "secret", "192.0.2.8").ok);
    CHECK(known_devices((s.dir / "state").string(), "alice").empty());
}

TEST_CASE("known_devices and client_states: a user's devices and their last syncs") {
    TestServer s;
    const std::string state_dir = (s.dir / "state").string();
    CHECK(known_devices(state_dir, "alice").empty());
    CHECK(s.stores->client_states("alice", Category::contacts).empty());
    CHECK_FALSE(s.stores->has_database("alice", Category::contacts));

    std::time_t before = std::time(nullptr);
    TestClient c(*s.server, "alice-phone");
    steps::ClientDescription d;
    d.device = "alice-phone";
    d.type = "text/x-vcard";
    d.version = "2.1";
    d.man = "Nokia";
    d.mod = "N95";
    wire::Message pkg2 = steps::init_with_devinf(c, d, "201", "1");
    wire::Message pkg4 = steps::client_changes(
        c, pkg2, "contacts",
        {TestClient::item_command(wire::CommandKind::Add, "1", "BEGIN:VCARD\r\nVERSION:2.1\r\nN:A;B\r\nEND:VCARD\r\n")});
    steps::map_phase(c, pkg4, "contacts");

    std::vector<KnownDevice> devices = known_devices(state_dir, "alice");
    REQUIRE(devices.size() == 1);
    CHECK(devices[0].device == "alice-phone");
    CHECK(devices[0].make == "Nokia");
    CHECK(devices[0].model == "N95");
    CHECK(devices[0].last_seen >= before);
    CHECK(known_devices(state_dir, "bob").empty());

    CHECK(s.stores->has_database("alice", Category::contacts));
    CHECK_FALSE(s.stores->has_database("alice", Category::notes));
    CHECK_FALSE(s.stores->has_database("../alice", Category::contacts));
    std::vector<ClientSyncState> states = s.stores->client_states("alice", Category::contacts);
    REQUIRE(states.size() == 1);
    CHECK(states[0].device == "alice-phone");
    CHECK(states[0].completed);
    REQUIRE(states[0].when);
    CHECK(*states[0].when >= before);
    CHECK(states[0].items == 1);
    CHECK(s.stores->client_states("alice", Category::notes).empty());
    CHECK_FALSE(s.stores->has_database("alice", Category::notes));  // asking made no file
}
