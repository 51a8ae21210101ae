// The engine with a host's own Datastore (here a map in memory): its sync
// state then lives in SQLite files of its own under the state dir.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <map>

#include "engine_client.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_command;
using smk::test::find_status;
using smk::test::TestClient;

namespace {

class MemoryStore : public Datastore {
public:
    struct Entry {
        std::string revision;
        Format format;
        std::string data;
    };
    std::map<std::string, Entry> items;
    int next_id = 1, next_rev = 1;
    int transactions = 0;

    Format native_format() const override { return {"text/vcard", "3.0"}; }
    std::unique_ptr<ItemCursor> list() override {
        struct Cursor : ItemCursor {
            std::map<std::string, Entry>::const_iterator it, end;
            bool next(ItemVersion& out) override {
                if (it == end) return false;
                out = {it->first, it->second.revision};
                ++it;
                return true;
            }
        };
        auto c = std::make_unique<Cursor>();
        c->it = items.begin();
        c->end = items.end();
        return c;
    }
    std::optional<StoredItem> read(const std::string& guid) override {
        auto it = items.find(guid);
        if (it == items.end()) return std::nullopt;
        return StoredItem{guid, it->second.revision, it->second.format, it->second.data};
    }
    std::optional<std::string> revision(const std::string& guid) override {
        auto it = items.find(guid);
        if (it == items.end()) return std::nullopt;
        return it->second.revision;
    }
    ItemVersion add(const Format& format, std::string_view data) override {
        std::string guid = "m" + std::to_string(next_id++);
        items[guid] = {std::to_string(next_rev++), format, std::string(data)};
        return {guid, items[guid].revision};
    }
    std::optional<std::string> replace(const std::string& guid, const Format& format, std::string_view data) override {
        auto it = items.find(guid);
        if (it == items.end()) return std::nullopt;
        it->second = {std::to_string(next_rev++), format, std::string(data)};
        return it->second.revision;
    }
    bool remove(const std::string& guid) override { return items.erase(guid) > 0; }
    void begin() override { ++transactions; }
};

class MemoryProvider : public DatastoreProvider {
public:
    std::shared_ptr<MemoryStore> alice = std::make_shared<MemoryStore>();
    std::shared_ptr<Datastore> open(const std::string& owner, Category category) override {
        return owner == "alice" && category == Category::contacts ? alice : nullptr;
    }
    std::optional<Access> grant(const std::string&, Category, const std::string&) override { return std::nullopt; }
    std::shared_ptr<Datastore> open_global_address_book() override { return nullptr; }
};

}  // namespace

TEST_CASE("a host's own datastore syncs, with the sync state kept by the server") {
    auto dir = std::filesystem::temp_directory_path() / ("smk-host-store-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    auto auth = std::make_shared<smk::test::MapAuth>();
    auth->users["alice"] = "secret";
    auto provider = std::make_shared<MemoryProvider>();
    provider->alice->add({"text/vcard", "3.0"}, "BEGIN:VCARD\nVERSION:3.0\nFN:On Server\nN:Server;On;;;\nEND:VCARD\n");
    ServerConfig config;
    config.auth = auth;
    config.datastores = provider;
    config.state_dir = dir.string();
    {
        Server server(config);
        TestClient c(server, "IMEI:host");
        Message m = c.message();
        m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "H1"));
        Message reply = c.send(m);
        CHECK(find_status(reply, "Alert")->data == "200");
        CHECK(find_status(reply, "Alert", 0)->target_refs.at(0) == "contacts");
        CHECK_FALSE(find_command(reply, CommandKind::Results));

        Message pkg3 = c.message();
        pkg3.body = c.statuses_for(reply);
        pkg3.body.push_back(TestClient::sync(
            "contacts", {TestClient::item_command(CommandKind::Add, "L1",
                                                  "BEGIN:VCARD\nVERSION:3.0\nFN:From Client\nN:Client;From;;;\nEND:VCARD\n")}));
        reply = c.send(pkg3);
        CHECK(find_status(reply, "Add")->data == "201");
        const Command* server_sync = find_command(reply, CommandKind::Sync);
        REQUIRE(server_sync);
        REQUIRE(server_sync->children.size() == 1);
        CHECK(server_sync->children[0].items[0].source.uri == "m1");

        Message pkg5 = c.message();
        pkg5.body = c.statuses_for(reply);
        Command map;
        map.kind = CommandKind::Map;
        map.cmd_id = "9";
        map.target.uri = "contacts";
        map.source.uri = "./contacts";
        map.map_items.push_back(MapItem{{"m1", ""}, {"L9", ""}});
        pkg5.body.push_back(map);
        c.send(pkg5);
        CHECK(c.last_response.session_ended);
        CHECK(provider->alice->items.size() == 2);
        CHECK(provider->alice->transactions >= 3);  // one per message
    }
    CHECK(std::filesystem::exists(dir / "sync" / "alice" / "contacts.sqlite"));
    {
        // A second server on the same state dir knows the anchors and the map.
        Server server(config);
        TestClient c(server, "IMEI:host");
        Message m = c.message();
        m.body.push_back(TestClient::alert("200", "contacts", "./contacts", "H1", "H2"));
        Message reply = c.send(m);
        CHECK(find_status(reply, "Alert")->data == "200");
        Message pkg3 = c.message();
        pkg3.body = c.statuses_for(reply);
        pkg3.body.push_back(TestClient::sync("contacts", {TestClient::item_command(CommandKind::Delete, "L9", "")}));
        reply = c.send(pkg3);
        CHECK(find_status(reply, "Delete")->data == "200");
        CHECK(provider->alice->items.count("m1") == 0);
    }
    std::filesystem::remove_all(dir);
}
