// Makes and exercises a data directory for the syncmlkit-admin tests: whole
// sessions through smk::Server::process (the scripted client of the engine
// tests) on a data dir laid out as syncmlkit-httpd lays it out, with each
// client's items kept in a file so that both sides can be counted.
//
//   admin_fixture setup DATA CLIENTS     alice: IMEI:1 (Nokia E71; contacts and
//                                        calendar) and IMEI:2 (SonyEricsson
//                                        K800i; contacts) hold Anne, Bert, Cleo;
//                                        bob: bob-phone holds Zoe
//   admin_fixture sync DATA CLIENTS USER DEVICE CATEGORY
//                                        a two-way sync (a slow one if the
//                                        server asks): prints what happened
//   admin_fixture change DATA USER       on the server: adds Dana, deletes Anne
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine_client.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::TestClient;
namespace fs = std::filesystem;

namespace {

std::string vcard(const std::string& name) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\nTEL:+1 555 01" +
           std::to_string(name.size()) + "\r\nEND:VCARD\r\n";
}

// "Anne" from "FN:Test Anne".
std::string name_of(const std::string& data) {
    std::size_t at = data.find("FN:Test ");
    if (at == std::string::npos) return "?";
    return data.substr(at + 8, data.find_first_of("\r\n", at) - at - 8);
}

struct Setup {
    std::shared_ptr<test::MapAuth> auth = std::make_shared<test::MapAuth>();
    std::shared_ptr<SqliteStoreProvider> stores;
    std::unique_ptr<Server> server;

    explicit Setup(const std::string& data) {
        auth->users = {{"alice", "secret"}, {"bob", "hunter2"}};
        stores = std::make_shared<SqliteStoreProvider>(data);
        ServerConfig config;
        config.auth = auth;
        config.datastores = stores;
        config.state_dir = (fs::path(data) / "state").string();
        server = std::make_unique<Server>(config);
    }
};

// A client's copy of one database: its last anchor and its items by LUID.
struct ClientCopy {
    fs::path file;
    int anchor = 0;
    std::map<std::string, std::string> items;  // LUID -> name

    ClientCopy(const std::string& clients, const std::string& user, const std::string& device, Category c)
        : file(fs::path(clients) / (user + "-" + device + "-" + category_name(c))) {
        std::ifstream in(file);
        std::string luid, name;
        in >> anchor;
        while (in >> luid >> name) items[luid] = name;
    }
    void save() const {
        std::ofstream out(file);
        out << anchor << "\n";
        for (const auto& [luid, name] : items) out << luid << " " << name << "\n";
    }
};

const std::map<std::string, std::pair<std::string, std::string>> kMakes = {
    {"IMEI:1", {"Nokia", "E71"}}, {"IMEI:2", {"SonyEricsson", "K800i"}}, {"bob-phone", {"Palm", "Treo"}}};

std::size_t server_duplicates(Setup& s, const std::string& user, Category c, std::size_t& count) {
    auto store = s.stores->open(user, c);
    auto cursor = store->list();
    ItemVersion v;
    std::multiset<std::string> names;
    while (cursor->next(v)) names.insert(name_of(store->read(v.guid)->data));
    count = names.size();
    return names.size() - std::set<std::string>(names.begin(), names.end()).size();
}

// One session; `first` sends the DevInf and asks for a slow sync.
int sync(Setup& s, const std::string& clients, const std::string& user, const std::string& device, Category c,
         bool first, const std::vector<std::string>& new_items = {}) {
    ClientCopy copy(clients, user, device, c);
    TestClient client(*s.server, device);
    client.user = user;
    client.password = s.auth->users.at(user);
    std::string db = category_name(c);
    std::string last = std::to_string(copy.anchor), next = std::to_string(copy.anchor + 1);
    Message pkg2;
    if (first) {
        test::steps::ClientDescription d;
        d.device = device;
        d.type = c == Category::contacts ? "text/vcard" : "text/calendar";
        d.version = c == Category::contacts ? "3.0" : "2.0";
        d.db = db;
        std::tie(d.man, d.mod) = kMakes.at(device);
        pkg2 = test::steps::init_with_devinf(client, d, "201", next);
    } else {
        pkg2 = test::steps::init(client, "200", db, last, next);
    }
    const Command* status = test::find_status(pkg2, "Alert");
    const Command* alert = test::find_command(pkg2, CommandKind::Alert);
    if (!status || !alert) throw std::runtime_error("no Alert answered");
    std::vector<Command> ops;
    bool slow = alert->data == "201";
    int luid = static_cast<int>(copy.items.size()) + 100;
    for (const std::string& name : new_items) {
        std::string id = "n" + std::to_string(luid++);
        copy.items[id] = name;
        if (!slow) ops.push_back(TestClient::item_command(CommandKind::Add, id, vcard(name)));
    }
    if (slow)  // all the client holds
        for (const auto& [id, name] : copy.items) ops.push_back(TestClient::item_command(CommandKind::Add, id, vcard(name)));
    Message pkg4 = test::steps::client_changes(client, pkg2, db, ops);
    int adds = 0, replaces = 0, deletes = 0;
    for (const Command& op : test::steps::server_ops(pkg4)) {
        const Item& it = op.items.at(0);
        if (op.kind == CommandKind::Add) copy.items["c" + it.source.uri] = name_of(it.data), ++adds;
        if (op.kind == CommandKind::Replace) copy.items[it.target.uri] = name_of(it.data), ++replaces;
        if (op.kind == CommandKind::Delete) deletes += copy.items.erase(it.target.uri) ? 1 : 0;
    }
    test::steps::map_phase(client, pkg4, db);
    if (!client.last_response.session_ended) throw std::runtime_error("the session did not end");
    copy.anchor += 1;
    copy.save();
    std::multiset<std::string> names;
    for (const auto& [id, name] : copy.items) names.insert(name);
    std::size_t on_server = 0;
    std::size_t server_dups = server_duplicates(s, user, c, on_server);
    std::printf("%s %s %s: alert=%s mode=%s adds=%d replaces=%d deletes=%d client=%zu client_duplicates=%zu "
                "server=%zu server_duplicates=%zu names=",
                user.c_str(), device.c_str(), db.c_str(), status->data.c_str(), alert->data.c_str(), adds, replaces,
                deletes, names.size(), names.size() - std::set<std::string>(names.begin(), names.end()).size(),
                on_server, server_dups);
    for (const std::string& n : names) std::printf("%s,", n.c_str());
    std::printf("\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    try {
        if (a.size() == 3 && a[0] == "setup") {
            Setup s(a[1]);
            fs::create_directories(a[2]);
            auto store = s.stores->open("alice", Category::contacts);
            for (const char* n : {"Anne", "Bert", "Cleo"}) store->add(Format{"text/vcard", "3.0"}, vcard(n));
            store.reset();
            sync(s, a[2], "alice", "IMEI:1", Category::contacts, true);
            sync(s, a[2], "alice", "IMEI:1", Category::calendar, false);  // anchors "0": a slow sync
            sync(s, a[2], "alice", "IMEI:2", Category::contacts, true);
            sync(s, a[2], "bob", "bob-phone", Category::contacts, true, {"Zoe"});
            return 0;
        }
        if (a.size() == 6 && a[0] == "sync") {
            Setup s(a[1]);
            std::optional<Category> c = category_from_name(a[5]);
            if (!c) throw std::runtime_error("no category " + a[5]);
            return sync(s, a[2], a[3], a[4], *c, false);
        }
        if (a.size() == 3 && a[0] == "change") {
            Setup s(a[1]);
            auto store = s.stores->open(a[2], Category::contacts);
            store->add(Format{"text/vcard", "3.0"}, vcard("Dana"));
            auto cursor = store->list();
            ItemVersion v;
            std::string anne;
            while (cursor->next(v))
                if (name_of(store->read(v.guid)->data) == "Anne") anne = v.guid;
            cursor.reset();
            if (anne.empty() || !store->remove(anne)) throw std::runtime_error("no Anne");
            std::printf("added Dana, deleted Anne\n");
            return 0;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "admin_fixture: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: admin_fixture setup DATA CLIENTS | sync DATA CLIENTS USER DEVICE CATEGORY | "
                         "change DATA USER\n");
    return 2;
}
