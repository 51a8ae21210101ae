// Whole sessions on the PostgreSQL store, whose sync state lives in its
// database (StateInStore): two clients converge item by item, a refresh
// from a client leaves a snapshot, and a restored snapshot reaches every
// client at its next sync with nothing duplicated or lost (counted on both
// sides), as the SQLite store's tests prove for it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <map>

#include "engine/session_archive.hpp"
#include "engine_client.hpp"
#include "pg/connection.hpp"
#include "state/memory_session_store.hpp"
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

// The sessions of every Server made while it lives, in one store, as a
// PostgreSQL session store is to several processes.
class SharedSessions : public state::SessionStore {
public:
    explicit SharedSessions(state::MemorySessionStore& inner) : inner_(inner) {}
    std::unique_ptr<Lease> lock(const std::string& t) override { return inner_.lock(t); }
    std::optional<std::string> load(const std::string& t) override { return inner_.load(t); }
    std::optional<state::SessionInfo> info(const std::string& t) override { return inner_.info(t); }
    void save(const std::string& t, const std::string& u, const std::string& d, bool f, std::string_view b) override {
        inner_.save(t, u, d, f, b);
    }
    void erase(const std::string& t) override { inner_.erase(t); }
    std::vector<std::string> idle(std::int64_t a, std::int64_t b, std::size_t n) override { return inner_.idle(a, b, n); }
    std::vector<std::string> of_device(const std::string& u, const std::string& d) override {
        return inner_.of_device(u, d);
    }
    std::vector<state::SessionInfo> of_user(const std::string& u) override { return inner_.of_user(u); }
    std::size_t count_open() override { return inner_.count_open(); }

private:
    state::MemorySessionStore& inner_;
};

struct SessionsHook {
    explicit SessionsHook(state::MemorySessionStore& store)
        : before(engine::set_session_store_for_tests([&store] { return std::make_unique<SharedSessions>(store); })) {}
    ~SessionsHook() { engine::set_session_store_for_tests(std::move(before)); }
    std::function<std::unique_ptr<state::SessionStore>()> before;
};

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
    ModelClient(TestClient::Transport transport, const std::string& device) : c(std::move(transport), device) {}

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

TEST_CASE("a refresh from a client leaves a snapshot of what it replaced") {
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

TEST_CASE("after a restore each client gets the snapshot, no duplicate") {
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

// As several processes behind a round-robin balancer: every message goes to
// the next of two Servers, each with a provider (a pool) of its own over one
// PostgreSQL database; they share only the database and the sessions.
TEST_CASE("Two servers, two pools, messages round-robin") {
    std::string url = smk::test::pg_fresh_database();
    state::MemorySessionStore sessions;
    std::unique_ptr<TestServer> first;
    std::unique_ptr<Server> second;
    auto second_stores = std::make_shared<PostgresStoreProvider>(url, 4);
    auto first_stores = std::make_shared<PostgresStoreProvider>(url, 4);
    {
        SessionsHook hook(sessions);
        first = std::make_unique<TestServer>(150000, [&](ServerConfig& c) { c.datastores = first_stores; });
        ServerConfig config;
        config.auth = first->auth;
        config.datastores = second_stores;
        config.logger = first->logger;
        config.state_dir = (first->dir / "state").string();
        second = std::make_unique<Server>(config);
    }
    std::size_t turn = 0;
    std::array<std::size_t, 2> handled{0, 0};
    auto round_robin = [&](const Request& r) {
        std::size_t which = turn++ % 2;
        ++handled[which];
        return (which ? *second : *first->server).process(r);
    };
    {
        auto store = first_stores->open("alice", Category::contacts);
        for (const char* n : {"Anne", "Bert", "Cleo", "Dana", "Emil"}) store->add(kVCard, vcard(n));
    }
    auto server_names = [&] {
        auto store = second_stores->open("alice", Category::contacts);
        std::vector<std::string> out;
        auto cursor = store->list();
        ItemVersion v;
        while (cursor->next(v)) out.push_back(full_name(store->read(v.guid)->data));
        return sorted(out);
    };
    ModelClient one(round_robin, "IMEI:1"), two(round_robin, "IMEI:2");
    ModelClient::Result r = one.sync("201", {one.add(vcard("Fred")), one.add(vcard("Gina"))});
    CHECK(r.adds == 5);
    CHECK(r.client_statuses == std::vector<std::string>{"201", "201"});
    CHECK(two.sync("201").adds == 7);
    const auto seven = names({"Anne", "Bert", "Cleo", "Dana", "Emil", "Fred", "Gina"});
    CHECK(server_names() == seven);
    CHECK(one.names() == seven);
    CHECK(two.names() == seven);
    auto taken = first_stores->open("alice", Category::contacts)->snapshot("admin");
    REQUIRE(taken);

    one.sync("200", {one.remove("Anne"), one.replace("Bert", vcard("Bert", "+1 555 0111")), one.add(vcard("Hugo"))});
    r = two.sync("200", {two.replace("Cleo", vcard("Cleo", "+1 555 0122"))});
    CHECK(r.adds == 1);
    CHECK(r.replaces == 1);
    CHECK(r.deletes == 1);
    r = one.sync("200");
    CHECK(r.replaces == 1);
    CHECK(r.adds + r.deletes == 0);
    const auto changed = names({"Bert", "Cleo", "Dana", "Emil", "Fred", "Gina", "Hugo"});
    CHECK(server_names() == changed);
    CHECK(one.names() == changed);
    CHECK(two.names() == changed);
    CHECK(one.items[one.luid_of("Cleo")].find("0122") != std::string::npos);
    CHECK(two.items[two.luid_of("Bert")].find("0111") != std::string::npos);

    // A restore through one provider reaches both clients through both servers.
    ItemCounts n;
    second_stores->restore("alice", Category::contacts, *taken, n);
    CHECK(n.added == 1);
    CHECK(n.changed == 2);
    CHECK(n.removed == 1);
    CHECK(n.unchanged == 4);
    for (ModelClient* c : {&one, &two}) {
        r = c->sync("200");
        CHECK(r.alert_status == "200");
        CHECK(r.adds == 1);
        CHECK(r.replaces == 2);
        CHECK(r.deletes == 1);
        CHECK(c->names() == seven);
    }
    CHECK(server_names() == seven);
    // Both servers took part in every session, and nothing is left open.
    CHECK(handled[0] >= 10);
    CHECK(handled[1] >= 10);
    CHECK(sessions.count_open() == 0);
    for (const ClientSyncState& c : first_stores->client_states("alice", Category::contacts)) CHECK(c.items == 7);
}
