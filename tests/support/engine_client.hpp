// A scripted SyncML client for engine tests: builds messages with the codec,
// sends them through smk::Server::process, follows RespURI, and decodes the
// replies.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "syncmlkit/server.hpp"
#include "syncmlkit/sqlite_store.hpp"
#include "syncmlkit/wire.hpp"

namespace smk::test {

/// Users with clear passwords.
class MapAuth : public AuthProvider {
public:
    std::map<std::string, std::string> users;
    std::optional<std::string> password(const std::string& user) override {
        auto it = users.find(user);
        if (it == users.end()) return std::nullopt;
        return it->second;
    }
};

/// Collects log lines.
class MemoryLogger : public Logger {
public:
    std::vector<std::string> lines;
    std::mutex mutex;
    void log(LogLevel, std::string_view message) override {
        std::lock_guard<std::mutex> lock(mutex);
        lines.emplace_back(message);
    }
    bool contains(const std::string& text) {
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& l : lines)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }
};

/// A server on a fresh temporary data dir, with users alice/secret and bob/hunter2.
struct TestServer {
    std::filesystem::path dir;
    std::shared_ptr<MapAuth> auth = std::make_shared<MapAuth>();
    std::shared_ptr<SqliteStoreProvider> stores;
    std::shared_ptr<MemoryLogger> logger = std::make_shared<MemoryLogger>();
    std::unique_ptr<Server> server;

    /// `adjust` may change the configuration before the server is made.
    explicit TestServer(std::size_t max_msg_size = 150000, const std::function<void(ServerConfig&)>& adjust = {});
    ~TestServer();
    /// Items of a user's database, data only.
    std::vector<std::string> items(const std::string& owner, Category category);
};

class TestClient {
public:
    TestClient(Server& server, std::string device, wire::Encoding enc = wire::Encoding::xml);
    /// A client of a server reached some other way (the C ABI, say).
    using Transport = std::function<Response(const Request&)>;
    TestClient(Transport transport, std::string device, wire::Encoding enc = wire::Encoding::xml);

    std::string url = "http://sync.example.com:7887/sync";
    std::string user = "alice", password = "secret";
    enum class Auth { basic, md5, none } auth = Auth::basic;
    std::string nonce;  ///< raw bytes from the server's last Chal
    std::string max_msg_size = "150000";
    std::string version = "1.2";
    std::string peer = "127.0.0.1";  ///< the address the server sees

    /// Starts a new session: SessionID, MsgID 1, the original URL.
    void new_session();
    /// A message with the session's header (Cred on the first message).
    wire::Message message(bool final = true);
    /// Sends, decodes the reply, follows RespURI, remembers any nonce.
    wire::Message send(const wire::Message& msg);
    Response last_response;

    static wire::Command alert(const std::string& code, const std::string& server_db, const std::string& client_db,
                               const std::string& last, const std::string& next);
    static wire::Command item_command(wire::CommandKind kind, const std::string& luid, const std::string& data);
    /// A Sync of `ops` for `server_db` from "./<server_db>", CmdIDs numbered from `first_id`.
    static wire::Command sync(const std::string& server_db, std::vector<wire::Command> ops, int first_id = 50);
    /// Statuses for every command of `reply` (as a client answers).
    std::vector<wire::Command> statuses_for(const wire::Message& reply, int code = 200);

private:
    Transport transport_;
    std::string device_;
    wire::Encoding enc_;
    std::string session_id_;
    unsigned msg_id_ = 0;
    std::string target_url_;
    unsigned session_counter_ = 0;
};

/// The first status in `m` answering command `cmd` ("SyncHdr", "Alert", ...).
const wire::Command* find_status(const wire::Message& m, const std::string& cmd, std::size_t nth = 0);
/// The first command of `kind` in `m` (top level).
const wire::Command* find_command(const wire::Message& m, wire::CommandKind kind);

/// The steps of a session as the engine tests script them.
namespace steps {

/// Package 1 with an Alert for `db` (client name "./<db>"); returns package 2.
wire::Message init(TestClient& c, const std::string& code, const std::string& db, const std::string& last,
                   const std::string& next);
/// Package 3 with `ops` in one Sync; returns package 4.
wire::Message client_changes(TestClient& c, const wire::Message& pkg2, const std::string& db,
                             std::vector<wire::Command> ops);
/// Package 5: statuses, and a Map for every Add of the server (LUIDs "c<GUID>").
wire::Message map_phase(TestClient& c, const wire::Message& pkg4, const std::string& db);
/// The commands inside the first Sync of a message.
std::vector<wire::Command> server_ops(const wire::Message& pkg4);

/// Who a DevInf says the client is, and what its database `db` takes.
struct ClientDescription {
    std::string device;
    std::string type, version;   ///< Rx-Pref and Tx-Pref
    std::string db = "contacts"; ///< its SourceRef, "./<db>"
    std::string man = "", mod = "";
    bool large_objects = false;
};
/// A Put of that DevInf.
wire::Command devinf_put(const ClientDescription& d);
/// Package 1 with the DevInf Put and an Alert for its database; returns package 2.
wire::Message init_with_devinf(TestClient& c, const ClientDescription& d, const std::string& code,
                               const std::string& next);

}  // namespace steps
}  // namespace smk::test
