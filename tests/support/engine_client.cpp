#include "engine_client.hpp"

#include <unistd.h>

#include <atomic>
#include <functional>

#include "../../lib/engine/md5.hpp"
#include "../../lib/wire/text.hpp"

namespace smk::test {
using namespace smk::wire;

TestServer::TestServer(std::size_t max_msg_size, const std::function<void(ServerConfig&)>& adjust) {
    static std::atomic<int> counter{0};
    dir = std::filesystem::temp_directory_path() /
          ("smk-engine-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    auth->users = {{"alice", "secret"}, {"bob", "hunter2"}};
    stores = std::make_shared<SqliteStoreProvider>((dir / "data").string());
    ServerConfig config;
    config.auth = auth;
    config.datastores = stores;
    config.logger = logger;
    config.state_dir = (dir / "state").string();
    config.max_msg_size = max_msg_size;
    if (adjust) adjust(config);
    server = std::make_unique<Server>(config);
}

TestServer::~TestServer() {
    server.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

std::vector<std::string> TestServer::items(const std::string& owner, Category category) {
    auto store = stores->open(owner, category);
    std::vector<std::string> out;
    auto cursor = store->list();
    ItemVersion v;
    while (cursor->next(v)) out.push_back(store->read(v.guid)->data);
    return out;
}

TestClient::TestClient(Server& server, std::string device, Encoding enc)
    : TestClient([&server](const Request& req) { return server.process(req); }, std::move(device), enc) {}

TestClient::TestClient(Transport transport, std::string device, Encoding enc)
    : transport_(std::move(transport)), device_(std::move(device)), enc_(enc) {
    new_session();
}

void TestClient::new_session() {
    session_id_ = std::to_string(++session_counter_ + 100);
    msg_id_ = 0;
    target_url_ = url;
}

Message TestClient::message(bool final) {
    Message m;
    m.header.ver_dtd = version;
    m.header.ver_proto = "SyncML/" + version;
    m.header.session_id = session_id_;
    m.header.msg_id = std::to_string(++msg_id_);
    m.header.target.uri = url;
    m.header.source.uri = device_;
    m.header.meta.max_msg_size = max_msg_size;
    if (msg_id_ == 1 && auth != Auth::none) {
        Cred cred;
        cred.meta.format = "b64";
        if (auth == Auth::basic) {
            cred.meta.type = "syncml:auth-basic";
            cred.data = base64_encode(user + ":" + password);
        } else {
            cred.meta.type = "syncml:auth-md5";
            m.header.source.name = user;
            std::string secret = base64_encode(engine::md5(user + ":" + password));
            cred.data = base64_encode(engine::md5(secret + ":" + nonce));
        }
        m.header.cred = cred;
    }
    m.final = final;
    return m;
}

Message TestClient::send(const Message& msg) {
    std::string body = encode(msg, enc_);
    Request req;
    req.body = body;
    req.content_type = content_type(enc_);
    req.url = target_url_;
    req.peer = peer;
    last_response = transport_(req);
    if (last_response.http_status != 200) throw std::runtime_error("HTTP " + std::to_string(last_response.http_status) + ": " + last_response.body);
    Message reply = decode(last_response.body, enc_);
    if (!reply.header.resp_uri.empty()) target_url_ = reply.header.resp_uri;
    for (const Command& c : reply.body)
        if (c.kind == CommandKind::Status && c.cmd == "SyncHdr" && c.chal && !c.chal->meta.next_nonce.empty())
            nonce = base64_decode(c.chal->meta.next_nonce).value_or("");
    return reply;
}

Command TestClient::alert(const std::string& code, const std::string& server_db, const std::string& client_db,
                          const std::string& last, const std::string& next) {
    Command a;
    a.kind = CommandKind::Alert;
    a.cmd_id = "1";
    a.data = code;
    Item it;
    it.target.uri = server_db;
    it.source.uri = client_db;
    it.meta.anchor = Anchor{last, next};
    a.items.push_back(it);
    return a;
}

Command TestClient::item_command(CommandKind kind, const std::string& luid, const std::string& data) {
    Command c;
    c.kind = kind;
    c.cmd_id = "1";
    c.meta.type = "text/vcard";
    Item it;
    it.source.uri = luid;
    if (kind != CommandKind::Delete) {
        it.data = data;
        it.has_data = true;
    }
    c.items.push_back(it);
    return c;
}

Command TestClient::sync(const std::string& server_db, std::vector<Command> ops, int first_id) {
    Command sync;
    sync.kind = CommandKind::Sync;
    sync.cmd_id = std::to_string(first_id++);
    sync.target.uri = server_db;
    sync.source.uri = "./" + server_db;
    for (Command& op : ops) {
        op.cmd_id = std::to_string(first_id++);
        sync.children.push_back(std::move(op));
    }
    return sync;
}

std::vector<Command> TestClient::statuses_for(const Message& reply, int code) {
    std::vector<Command> out;
    Command hs;
    hs.kind = CommandKind::Status;
    hs.msg_ref = reply.header.msg_id;
    hs.cmd_ref = "0";
    hs.cmd = "SyncHdr";
    hs.data = std::to_string(code);
    out.push_back(hs);
    std::function<void(const std::vector<Command>&)> walk = [&](const std::vector<Command>& cmds) {
        for (const Command& c : cmds) {
            if (c.kind == CommandKind::Status) continue;
            Command s;
            s.kind = CommandKind::Status;
            s.msg_ref = reply.header.msg_id;
            s.cmd_ref = c.cmd_id;
            s.cmd = command_name(c.kind);
            s.data = std::to_string(code);
            out.push_back(s);
            walk(c.children);
        }
    };
    walk(reply.body);
    return out;
}

const Command* find_status(const Message& m, const std::string& cmd, std::size_t nth) {
    for (const Command& c : m.body)
        if (c.kind == CommandKind::Status && c.cmd == cmd && nth-- == 0) return &c;
    return nullptr;
}

const Command* find_command(const Message& m, CommandKind kind) {
    for (const Command& c : m.body)
        if (c.kind == kind) return &c;
    return nullptr;
}

namespace steps {

// Package 1 with an Alert; returns package 2.
wire::Message init(TestClient& c, const std::string& code, const std::string& db, const std::string& last,
             const std::string& next) {
    Message m = c.message();
    m.body.push_back(TestClient::alert(code, db, "./" + db, last, next));
    return c.send(m);
}

// Package 3 with `ops` in one Sync; returns package 4.
wire::Message client_changes(TestClient& c, const Message& pkg2, const std::string& db, std::vector<Command> ops) {
    Message m = c.message();
    m.body = c.statuses_for(pkg2);
    m.body.push_back(TestClient::sync(db, std::move(ops)));
    return c.send(m);
}

// Package 5: statuses, and a Map for every Add of the server (LUIDs "c<GUID>").
wire::Message map_phase(TestClient& c, const Message& pkg4, const std::string& db) {
    Message m = c.message();
    m.body = c.statuses_for(pkg4);
    Command map;
    map.kind = CommandKind::Map;
    map.cmd_id = "90";
    map.target.uri = db;
    map.source.uri = "./" + db;
    for (const Command& cmd : pkg4.body)
        for (const Command& op : cmd.children)
            if (op.kind == CommandKind::Add)
                for (const Item& it : op.items) map.map_items.push_back(MapItem{{it.source.uri, ""}, {"c" + it.source.uri, ""}});
    if (!map.map_items.empty()) m.body.push_back(map);
    return c.send(m);
}

std::vector<Command> server_ops(const Message& pkg4) {
    for (const Command& c : pkg4.body)
        if (c.kind == CommandKind::Sync) return c.children;
    return {};
}

Command devinf_put(const ClientDescription& d) {
    Command put;
    put.kind = CommandKind::Put;
    put.cmd_id = "9";
    Item it;
    it.source.uri = "./devinf12";
    it.devinf = DevInf{};
    it.devinf->ver_dtd = "1.2";
    it.devinf->dev_id = d.device;
    it.devinf->man = d.man;
    it.devinf->mod = d.mod;
    it.devinf->dev_typ = "workstation";
    it.devinf->support_large_objs = d.large_objects;
    DataStore ds;
    ds.source_ref = "./" + d.db;
    ds.rx_pref = ContentType{d.type, d.version};
    ds.tx_pref = ContentType{d.type, d.version};
    it.devinf->datastores.push_back(ds);
    it.has_data = true;
    put.items.push_back(it);
    return put;
}

Message init_with_devinf(TestClient& c, const ClientDescription& d, const std::string& code, const std::string& next) {
    Message m = c.message();
    m.body.push_back(devinf_put(d));
    m.body.push_back(TestClient::alert(code, d.db, "./" + d.db, "", next));
    return c.send(m);
}

}  // namespace steps
}  // namespace smk::test
