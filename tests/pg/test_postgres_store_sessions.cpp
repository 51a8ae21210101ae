// Whole sessions on the PostgreSQL store, whose sync state lives in its
// database (StateInStore): two clients converge item by item, a refresh
// from a client leaves a snapshot, and a restored snapshot reaches every
// client at its next sync with nothing duplicated or lost (counted on both
// sides), as the SQLite store's tests prove for it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "engine_client.hpp"
#include "pg/connection.hpp"
#include "pg_test.hpp"
#include "syncmlkit/postgres_store.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace {

const Format kVCard{"text/vcard", "3.0"};

std::string vcard(const std::string& name, const std::string& tel = "+1 555 0100") {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\nTEL:" + tel +
           "\r\nEND:VCARD\r\n";
}

std::string full_name(const std::string& data) {
    std::size_t at = data.find("FN:");
    if (at == std::string::npos) return "?";
    return data.substr(at + 3, data.find_first_of("\r\n", at) - at - 3);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::vector<std::string> names(std::initializer_list<const char*> list) {
    std::vector<std::string> out;
    for (const char* n : list) out.push_back(std::string("Test ") + n);
    return sorted(out);
}

// A server whose items and sync state are in a fresh PostgreSQL database.
struct PgServer {
    std::shared_ptr<PostgresStoreProvider> stores =
        std::make_shared<PostgresStoreProvider>(smk::test::pg_fresh_database(), 8);
    TestServer ts{150000, [this](ServerConfig& c) { c.datastores = stores; }};

    std::vector<std::string> server_names(const std::string& owner = "alice") {
        auto store = stores->open(owner, Category::contacts);
        std::vector<std::string> out;
        auto cursor = store->list();
        ItemVersion v;
        while (cursor->next(v)) out.push_back(full_name(store->read(v.guid)->data));
        return sorted(out);
    }
};

// A client that keeps its items by LUID and applies what the server sends.
struct ModelClient {
    TestClient c;
    std::map<std::string, std::string> items;  // LUID -> vCard
    std::string last;
    int sessions = 0;
    int next_luid = 1;

    ModelClient(Server& server, const std::string& device) : c(server, device) {}

    struct Result {
        std::string alert_status;
        int adds = 0, replaces = 0, deletes = 0;
        std::vector<std::string> client_statuses;  // the server's answers to the client's changes
    };

    Result sync(const std::string& code, std::vector<Command> ops = {}) {
        if (sessions > 0) c.new_session();
        std::string next = "N" + std::to_string(++sessions);
        Message pkg2 = init(c, code, "contacts", code == "201" || code == "203" ? "" : last, next);
        Result r;
        const Command* alert = find_status(pkg2, "Alert");
        REQUIRE(alert);
        r.alert_status = alert->data;
        std::size_t sent = ops.size();
        Message pkg4 = client_changes(c, pkg2, "contacts", std::move(ops));
        REQUIRE(pkg4.final);
        for (std::size_t i = 0; i < sent; ++i)
            for (const char* kind : {"Add", "Replace", "Delete"})
                if (const Command* s = find_status(pkg4, kind, i)) r.client_statuses.push_back(s->data);
        for (const Command& op : server_ops(pkg4)) {
            REQUIRE(op.items.size() == 1);
            const Item& it = op.items[0];
            if (op.kind == CommandKind::Add) {
                items["c" + it.source.uri] = it.data;
                ++r.adds;
            } else if (op.kind == CommandKind::Replace) {
                REQUIRE(items.count(it.target.uri));
                items[it.target.uri] = it.data;
                ++r.replaces;
            } else if (op.kind == CommandKind::Delete) {
                REQUIRE(items.erase(it.target.uri) == 1);
                ++r.deletes;
            }
        }
        map_phase(c, pkg4, "contacts");
        REQUIRE(c.last_response.session_ended);
        last = next;
        return r;
    }

    Command add(const std::string& data) {
        std::string luid = "n" + std::to_string(next_luid++);
        items[luid] = data;
        return TestClient::item_command(CommandKind::Add, luid, data);
    }
    std::string luid_of(const std::string& name) const {
        for (const auto& [luid, data] : items)
            if (full_name(data) == "Test " + name) return luid;
        FAIL("the client holds no " << name);
        return "";
    }
    Command replace(const std::string& name, const std::string& data) {
        std::string luid = luid_of(name);
        items[luid] = data;
        return TestClient::item_command(CommandKind::Replace, luid, data);
    }
    Command remove(const std::string& name) {
        std::string luid = luid_of(name);
        items.erase(luid);
        return TestClient::item_command(CommandKind::Delete, luid, "");
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [luid, data] : items) out.push_back(full_name(data));
        return sorted(out);
    }
};

}  // namespace

TEST_CASE("Two clients converge item by item on the PostgreSQL store") {
    PgServer s;
    {
        auto store = s.stores->open("alice", Category::contacts);
        for (const char* n : {"Anne", "Bert"}) store->add(kVCard, vcard(n));
    }
    ModelClient one(*s.ts.server, "IMEI:1"), two(*s.ts.server, "IMEI:2");
    ModelClient::Result r = one.sync("201", {one.add(vcard("Cleo")), one.add(vcard("Dana"))});
    CHECK(r.adds == 2);
    CHECK(r.client_statuses == std::vector<std::string>{"201", "201"});
    CHECK(s.server_names() == names({"Anne", "Bert", "Cleo", "Dana"}));
    CHECK(two.sync("201").adds == 4);

    // Changes on both sides and on the server, then each catches up.
    one.sync("200", {one.remove("Anne"), one.replace("Bert", vcard("Bert", "+1 555 0111"))});
    two.sync("200", {two.add(vcard("Emil"))});
    one.sync("200");
    two.sync("200");
    const auto all = names({"Bert", "Cleo", "Dana", "Emil"});
    CHECK(s.server_names() == all);
    CHECK(one.names() == all);
    CHECK(two.names() == all);
    CHECK(two.items[two.luid_of("Bert")].find("0111") != std::string::npos);
    // Nothing more to exchange, and the state knows both clients' items.
    for (ModelClient* c : {&one, &two}) {
        ModelClient::Result again = c->sync("200");
        CHECK(again.adds + again.replaces + again.deletes == 0);
    }
    std::vector<ClientSyncState> clients = s.stores->client_states("alice", Category::contacts);
    REQUIRE(clients.size() == 2);
    for (const ClientSyncState& c : clients) {
        CHECK(c.completed);
        CHECK(c.items == 4);
    }
    // The state is in the store's PostgreSQL database, none under the state dir.
    CHECK_FALSE(std::filesystem::exists(s.ts.dir / "state" / "sync"));
}

TEST_CASE("A refresh from a client on the PostgreSQL store leaves a snapshot of what it replaced") {
    PgServer s;
    {
        auto store = s.stores->open("alice", Category::contacts);
        for (const char* n : {"Anne", "Bert", "Cleo"}) store->add(kVCard, vcard(n));
    }
    ModelClient one(*s.ts.server, "IMEI:1");
    CHECK(one.sync("201").adds == 3);
    one.items.clear();
    ModelClient::Result r = one.sync("203", {one.add(vcard("Zoe"))});  // refresh from the client
    CHECK(r.alert_status == "200");
    CHECK(s.server_names() == names({"Zoe"}));
    std::vector<std::string> snapshots = s.stores->snapshots("alice", Category::contacts);
    REQUIRE(snapshots.size() == 1);
    CHECK(snapshots[0].size() > std::string("-refresh-from-client").size());
    CHECK(snapshots[0].substr(snapshots[0].size() - 20) == "-refresh-from-client");
    CHECK(s.stores->snapshot_items("alice", Category::contacts, "latest") == 3);
    ItemCounts n;
    s.stores->restore("alice", Category::contacts, snapshots[0], n);
    CHECK(n.added == 3);
    CHECK(n.removed == 1);
    CHECK(s.server_names() == names({"Anne", "Bert", "Cleo"}));
    r = one.sync("200");
    CHECK(r.adds == 3);
    CHECK(r.deletes == 1);
    CHECK(one.names() == names({"Anne", "Bert", "Cleo"}));
}

TEST_CASE("After a PostgreSQL restore every client gets the snapshot's data at its next sync, without duplicates") {
    PgServer s;
    {
        auto store = s.stores->open("alice", Category::contacts);
        for (const char* n : {"Anne", "Bert", "Cleo", "Dana", "Emil"}) store->add(kVCard, vcard(n));
    }
    ModelClient one(*s.ts.server, "IMEI:1"), two(*s.ts.server, "IMEI:2");
    CHECK(one.sync("201").adds == 5);
    CHECK(two.sync("201").adds == 5);
    const auto snapshot_names = names({"Anne", "Bert", "Cleo", "Dana", "Emil"});
    REQUIRE(one.names() == snapshot_names);
    std::optional<std::string> taken = s.stores->open("alice", Category::contacts)->snapshot("admin");
    REQUIRE(taken);

    one.sync("200", {one.remove("Bert"), one.replace("Cleo", vcard("Cleo", "+1 555 0199"))});
    two.sync("200", {two.add(vcard("Fred"))});
    {
        auto store = s.stores->open("alice", Category::contacts);
        auto cursor = store->list();
        ItemVersion v;
        std::string dana;
        while (cursor->next(v))
            if (full_name(store->read(v.guid)->data) == "Test Dana") dana = v.guid;
        REQUIRE(store->remove(dana));
    }
    one.sync("200");
    two.sync("200");
    const auto after = names({"Anne", "Cleo", "Emil", "Fred"});
    REQUIRE(s.server_names() == after);
    REQUIRE(one.names() == after);
    REQUIRE(two.names() == after);

    ItemCounts counts;
    s.stores->restore("alice", Category::contacts, taken->substr(std::string("contacts-").size()), counts);
    CHECK(counts.added == 2);      // Bert and Dana
    CHECK(counts.changed == 1);    // Cleo
    CHECK(counts.unchanged == 2);  // Anne and Emil
    CHECK(counts.removed == 1);    // Fred
    REQUIRE(s.server_names() == snapshot_names);

    for (ModelClient* client : {&one, &two}) {
        ModelClient::Result r = client->sync("200");
        CHECK(r.alert_status == "200");  // an ordinary two-way sync, no slow sync pushing Fred back
        CHECK(r.adds == 2);
        CHECK(r.replaces == 1);
        CHECK(r.deletes == 1);
        CHECK(client->names() == snapshot_names);
        CHECK(client->items[client->luid_of("Cleo")].find("0199") == std::string::npos);
        CHECK(s.server_names() == snapshot_names);
    }
    for (ModelClient* client : {&one, &two}) {
        ModelClient::Result r = client->sync("200");
        CHECK(r.adds + r.replaces + r.deletes == 0);
    }
    // A client whose own state is lost slow-syncs and pairs: still 5.
    ModelClient three(*s.ts.server, "IMEI:3");
    CHECK(three.sync("201").adds == 5);
    CHECK(s.server_names() == snapshot_names);

    // A client forgotten by the administrator slow-syncs and pairs what it holds: no duplicate.
    REQUIRE(s.stores->forget_client("alice", Category::contacts, "IMEI:1"));
    ModelClient::Result r = one.sync("200");
    CHECK(r.alert_status == "508");
    CHECK(s.server_names() == snapshot_names);
    CHECK(one.names() == snapshot_names);
}
