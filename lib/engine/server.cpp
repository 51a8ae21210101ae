// smk::Server: finds the session a message belongs to and lets it answer.
#include "syncmlkit/server.hpp"

#include <filesystem>
#include <unordered_map>

#include "engine/session.hpp"
#include "syncmlkit/wire.hpp"

namespace smk {
namespace engine {
std::string new_session_token();
}

const char* category_name(Category c);

namespace {

using Clock = std::chrono::steady_clock;

// The value of query parameter `name` in `url`, "" when absent.
std::string query_param(const std::string& url, const std::string& name) {
    std::size_t q = url.find('?');
    if (q == std::string::npos) return "";
    std::size_t pos = q + 1;
    while (pos < url.size()) {
        std::size_t amp = url.find('&', pos);
        std::string param = url.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
        if (param.rfind(name + "=", 0) == 0) return param.substr(name.size() + 1);
        if (amp == std::string::npos) break;
        pos = amp + 1;
    }
    return "";
}

Response text_response(int status, const std::string& text) {
    Response r;
    r.http_status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = text + "\n";
    r.session_ended = true;
    return r;
}

}  // namespace

struct Server::Impl {
    engine::ServerContext ctx;
    mutable std::mutex mutex;  // guards the two maps
    std::unordered_map<std::string, std::shared_ptr<engine::Session>> by_token;
    std::unordered_map<std::string, std::string> token_by_key;  // device + SessionID -> token

    static std::string key(const wire::Message& m) { return m.header.source.uri + "\n" + m.header.session_id; }

    std::shared_ptr<engine::Session> find(const wire::Message& msg, const std::string& url) {
        std::lock_guard<std::mutex> lock(mutex);
        std::string token = query_param(url, "s");
        if (auto it = by_token.find(token); !token.empty() && it != by_token.end()) return it->second;
        // Clients that ignore RespURI are found by device and SessionID.
        if (auto k = token_by_key.find(key(msg)); k != token_by_key.end()) {
            auto it = by_token.find(k->second);
            if (it != by_token.end()) return it->second;
        }
        return nullptr;
    }

    std::shared_ptr<engine::Session> start(const wire::Message& msg) {
        std::lock_guard<std::mutex> lock(mutex);
        auto session = std::make_shared<engine::Session>(ctx, engine::new_session_token());
        by_token[session->token()] = session;
        token_by_key[key(msg)] = session->token();
        return session;
    }

    Clock::time_point last_sweep{};

    void expire(bool force = false) {
        std::lock_guard<std::mutex> lock(mutex);
        auto now = Clock::now();
        // Each request sweeps at most once a second: the sweep walks every session.
        if (!force && now - last_sweep < std::chrono::seconds(1)) return;
        last_sweep = now;
        for (auto it = by_token.begin(); it != by_token.end();) {
            auto idle = now - it->second->last_activity.load();
            // Ended sessions stay a minute to answer a resent last message.
            bool gone = idle > ctx.config.session_timeout || (it->second->ended() && idle > std::chrono::seconds(60));
            if (gone) {
                for (auto k = token_by_key.begin(); k != token_by_key.end();)
                    k = k->second == it->first ? token_by_key.erase(k) : std::next(k);
                it = by_token.erase(it);
            } else {
                ++it;
            }
        }
    }
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>()) {
    if (!config.auth) throw std::invalid_argument("ServerConfig.auth is required");
    if (!config.datastores) throw std::invalid_argument("ServerConfig.datastores is required");
    if (config.state_dir.empty()) throw std::invalid_argument("ServerConfig.state_dir is required");
    std::filesystem::create_directories(config.state_dir);
    impl_->ctx.devices = std::make_unique<state::DeviceRegistry>(
        (std::filesystem::path(config.state_dir) / "devices.sqlite").string());
    impl_->ctx.auth = std::make_unique<engine::Authenticator>(*config.auth, *impl_->ctx.devices);
    impl_->ctx.config = std::move(config);
}

Server::~Server() = default;

Response Server::process(const Request& request) {
    impl_->expire();
    const engine::ServerContext& ctx = impl_->ctx;
    std::optional<wire::Encoding> enc = wire::encoding_from_content_type(request.content_type);
    if (!enc && request.content_type.empty()) enc = wire::sniff_encoding(request.body);
    if (!enc) {
        ctx.log(LogLevel::warning, request.peer + ": not a SyncML content type: \"" + request.content_type + "\" (415)");
        return text_response(415, "SyncMLKit: expected application/vnd.syncml+xml or application/vnd.syncml+wbxml");
    }
    wire::Message msg;
    try {
        wire::DecodeLimits limits;
        // Clients size their messages loosely (Funambol overshot 15000 by 7%).
        limits.max_bytes = std::max<std::size_t>(ctx.config.max_msg_size * 2, 1024 * 1024);
        msg = wire::decode(request.body, *enc, limits);
    } catch (const wire::DecodeError& e) {
        ctx.log(LogLevel::warning, request.peer + ": undecodable message: " + e.what() + " (HTTP 400)");
        return text_response(400, std::string("SyncMLKit: undecodable SyncML message: ") + e.what());
    }
    if (std::shared_ptr<engine::Session> session = impl_->find(msg, request.url)) {
        std::lock_guard<std::mutex> lock(session->mutex);
        // An ended session only answers resends; anything else starts anew
        // (a client retrying after a failed authentication, say).
        if (!session->ended() || session->is_resend(request.body))
            return session->handle(msg, request.body, *enc, request.peer);
    }
    std::shared_ptr<engine::Session> session = impl_->start(msg);
    std::lock_guard<std::mutex> lock(session->mutex);
    return session->handle(msg, request.body, *enc, request.peer);
}

void Server::expire_idle_sessions() { impl_->expire(true); }

std::size_t Server::session_count() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    std::size_t open = 0;
    for (const auto& [token, session] : impl_->by_token) open += !session->ended();
    return open;
}

}  // namespace smk
