// smk::Server: finds the session a message belongs to and lets it answer.
#include "syncmlkit/server.hpp"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "engine/log_text.hpp"
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

// Commands and items of a message, nested ones included.
std::size_t count_commands(const std::vector<wire::Command>& cmds) {
    std::size_t n = 0;
    for (const wire::Command& c : cmds) n += 1 + c.items.size() + c.map_items.size() + count_commands(c.children);
    return n;
}

// Device IDs are IMEIs, UUIDs and the like; anything longer is no client's.
constexpr std::size_t kMaxDeviceIdBytes = 512;

}  // namespace

std::size_t effective_max_request_size(const ServerConfig& config) {
    if (config.max_request_size) return config.max_request_size;
    // A client's first message, with its DevInf, comes before it knows our
    // MaxMsgSize (SyncEvolution's is 14 kB in XML): never below 64 KiB.
    return std::max<std::size_t>(2 * config.max_msg_size, 64 * 1024);
}

// Sessions are found by their RespURI token alone, and only while the
// message comes from the device and user that opened them. A session is
// remembered only once its first message logged in, so requests without
// valid credentials leave nothing behind.
struct Server::Impl {
    engine::ServerContext ctx;
    mutable std::mutex mutex;  // guards by_token
    std::unordered_map<std::string, std::shared_ptr<engine::Session>> by_token;
    Clock::time_point last_sweep{};

    bool too_old(const engine::Session& s, Clock::time_point now) const {
        return now - s.created() > ctx.config.max_session_lifetime;
    }

    std::shared_ptr<engine::Session> find(const wire::Message& msg, const std::string& url, const std::string& peer) {
        std::string token = query_param(url, "s");
        if (token.empty()) return nullptr;
        std::shared_ptr<engine::Session> session;
        {
            std::lock_guard<std::mutex> lock(mutex);
            auto it = by_token.find(token);
            if (it != by_token.end()) session = it->second;
        }
        std::string prefix = engine::for_log(token, 8);
        if (!session) {
            ctx.log(LogLevel::info, peer + ": session " + prefix + " is unknown or over; a new session starts");
            return nullptr;
        }
        if (too_old(*session, Clock::now())) {
            ctx.log(LogLevel::warning, peer + ": session " + prefix + " outlived " +
                                           std::to_string(ctx.config.max_session_lifetime.count()) +
                                           " s and was dropped; a new session starts");
            drop(token);
            return nullptr;
        }
        if (!session->accepts(msg)) {
            ctx.log(LogLevel::warning, peer + ": a message for session " + prefix + " from device \"" +
                                           engine::for_log(msg.header.source.uri) +
                                           "\", not the session's device or user; not let in, a new session starts");
            return nullptr;
        }
        return session;
    }

    // Sessions leave the map under the lock but end after it (`gone` is
    // destroyed last): an unfinished one writes its resume point as it ends.
    using Ending = std::vector<std::shared_ptr<engine::Session>>;

    void drop(const std::string& token) {
        Ending gone;
        std::lock_guard<std::mutex> lock(mutex);
        auto it = by_token.find(token);
        if (it == by_token.end()) return;
        gone.push_back(std::move(it->second));
        by_token.erase(it);
    }

    std::size_t open_sessions() const {
        std::lock_guard<std::mutex> lock(mutex);
        std::size_t open = 0;
        for (const auto& [token, session] : by_token) open += !session->ended();
        return open;
    }

    // A session that logged in is remembered; a user's sessions beyond the
    // limit are dropped, least recently active first (most likely clients
    // that vanished mid-sync; their committed messages stay).
    void remember(const std::shared_ptr<engine::Session>& session) {
        Ending gone;
        std::lock_guard<std::mutex> lock(mutex);
        by_token[session->token()] = session;
        std::vector<std::shared_ptr<engine::Session>> mine;
        // Ended sessions count too (they wait a minute for resends), so no
        // user piles up sessions by ending each at once.
        for (const auto& [token, s] : by_token)
            if (s != session && s->user() == session->user()) mine.push_back(s);
        std::size_t limit = std::max<std::size_t>(ctx.config.max_sessions_per_user, 1);
        if (mine.size() + 1 <= limit) return;
        // Ended ones first, then the least recently active.
        std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) {
            if (a->ended() != b->ended()) return a->ended();
            return a->last_activity.load() < b->last_activity.load();
        });
        for (std::size_t i = 0; i + limit <= mine.size(); ++i) {
            if (!mine[i]->ended())
                ctx.log(LogLevel::warning, "user " + session->user() + " has more than " + std::to_string(limit) +
                                               " sessions open; session " + mine[i]->token().substr(0, 8) +
                                               ", the least recently active, is dropped");
            gone.push_back(mine[i]);
            by_token.erase(mine[i]->token());
        }
    }

    // The unfinished sessions of `newer`'s user and device end (resume
    // points kept by their destructors), released outside the lock.
    void supersede(const engine::Session& newer) {
        Ending gone;
        std::lock_guard<std::mutex> lock(mutex);
        for (auto it = by_token.begin(); it != by_token.end();) {
            const engine::Session& s = *it->second;
            bool same = &s != &newer && !s.ended() && s.user() == newer.user() && s.device() == newer.device();
            if (same) {
                ctx.log(LogLevel::info, "session " + s.token().substr(0, 8) + " of " + s.user() + "@" + s.device() +
                                            " ends: the device resumes in a new session");
                gone.push_back(std::move(it->second));
                it = by_token.erase(it);
            } else {
                ++it;
            }
        }
    }

    void expire(bool force = false) {
        Ending gone;
        std::lock_guard<std::mutex> lock(mutex);
        auto now = Clock::now();
        // Each request sweeps at most once a second: the sweep walks every session.
        if (!force && now - last_sweep < std::chrono::seconds(1)) return;
        last_sweep = now;
        for (auto it = by_token.begin(); it != by_token.end();) {
            auto idle = now - it->second->last_activity.load();
            // Ended sessions stay a minute to answer a resent last message.
            bool over = idle > ctx.config.session_timeout || too_old(*it->second, now) ||
                        (it->second->ended() && idle > std::chrono::seconds(60));
            if (!over) {
                ++it;
                continue;
            }
            gone.push_back(std::move(it->second));
            it = by_token.erase(it);
        }
    }
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>()) {
    if (!config.auth) throw std::invalid_argument("ServerConfig.auth is required");
    if (!config.datastores) throw std::invalid_argument("ServerConfig.datastores is required");
    if (config.state_dir.empty()) throw std::invalid_argument("ServerConfig.state_dir is required");
    namespace fs = std::filesystem;
    fs::create_directories(config.state_dir);
    engine::ServerContext& ctx = impl_->ctx;
    ctx.config = std::move(config);
    ctx.supersede = [impl = impl_.get()](const engine::Session& newer) { impl->supersede(newer); };
    ctx.state = state::open_sqlite_state(ctx.config.state_dir);
    ctx.auth = std::make_unique<engine::Authenticator>(
        *ctx.config.auth, ctx.state->devices(), ctx.config,
        engine::server_secret((fs::path(ctx.config.state_dir) / "server.key").string()));
}

Server::~Server() = default;

LoginCheck Server::check_login(const std::string& user, const std::string& password, const std::string& peer) {
    return impl_->ctx.auth->check_password(user, password, peer);
}

Response Server::process(const Request& request) {
    // No exception ever leaves: the host would answer it with a bare 500.
    try {
        return process_message(request);
    } catch (const std::exception& e) {
        impl_->ctx.log(LogLevel::error, request.peer + ": message failed: " + e.what() + " (HTTP 500)");
    } catch (...) {
        impl_->ctx.log(LogLevel::error, request.peer + ": message failed (HTTP 500)");
    }
    return text_response(500, "SyncMLKit: internal error; the message was not applied");
}

Response Server::process_message(const Request& request) {
    impl_->expire();
    const engine::ServerContext& ctx = impl_->ctx;
    const ServerConfig& config = ctx.config;
    std::optional<wire::Encoding> enc = wire::encoding_from_content_type(request.content_type);
    if (!enc && request.content_type.empty()) enc = wire::sniff_encoding(request.body);
    if (!enc) {
        ctx.log(LogLevel::warning, request.peer + ": not a SyncML content type: \"" +
                                       engine::for_log(request.content_type, 80) + "\" (415)");
        return text_response(415, "SyncMLKit: expected application/vnd.syncml+xml or application/vnd.syncml+wbxml");
    }
    std::size_t max_bytes = effective_max_request_size(config);
    if (request.body.size() > max_bytes) {
        ctx.log(LogLevel::warning, request.peer + ": a message of " + std::to_string(request.body.size()) +
                                       " bytes, above the limit of " + std::to_string(max_bytes) + " (HTTP 413)");
        return text_response(413, "SyncMLKit: message larger than " + std::to_string(max_bytes) + " bytes");
    }
    wire::Message msg;
    try {
        wire::DecodeLimits limits;
        limits.max_bytes = max_bytes;
        limits.max_depth = config.max_xml_depth;
        msg = wire::decode(request.body, *enc, limits);
    } catch (const wire::DecodeError& e) {
        ctx.log(LogLevel::warning, request.peer + ": undecodable message: " + e.what() + " (HTTP 400)");
        return text_response(400, std::string("SyncMLKit: undecodable SyncML message: ") + e.what());
    }

    // Messages no session takes: answered with the SyncHdr status alone.
    auto refuse = [&](int code, const std::string& why, unsigned retry_after = 0) {
        ctx.log(LogLevel::warning, request.peer + ": " + why + " (" + std::to_string(code) + ")");
        engine::Session nobody(ctx, "");
        return nobody.refuse_unread(msg, *enc, request.peer, code, retry_after);
    };
    if (msg.header.source.uri.size() > kMaxDeviceIdBytes) {
        msg.header.source.uri.resize(kMaxDeviceIdBytes);
        return refuse(400, "a device ID longer than " + std::to_string(kMaxDeviceIdBytes) + " bytes");
    }
    if (std::size_t n = count_commands(msg.body); n > config.max_commands_per_message)
        return refuse(413, "device " + engine::for_log(msg.header.source.uri) + ": " + std::to_string(n) +
                               " commands and items in one message, above the limit of " +
                               std::to_string(config.max_commands_per_message));

    if (std::shared_ptr<engine::Session> session = impl_->find(msg, request.url, request.peer)) {
        std::lock_guard<std::mutex> lock(session->mutex);
        // An ended session only answers resends; anything else starts anew
        // (a client retrying after a failed authentication, say).
        if (!session->ended() || session->is_resend(request.body)) {
            Response response = session->handle(msg, request.body, *enc, request.peer);
            response.session = session->token().substr(0, 8);
            return response;
        }
    }
    if (impl_->open_sessions() >= config.max_sessions) {
        impl_->expire(true);
        if (impl_->open_sessions() >= config.max_sessions)
            return refuse(503, "no session free (" + std::to_string(config.max_sessions) + " open)", 30);
    }
    auto session = std::make_shared<engine::Session>(ctx, engine::new_session_token());
    Response response;
    {
        std::lock_guard<std::mutex> lock(session->mutex);
        response = session->handle(msg, request.body, *enc, request.peer);
    }
    response.session = session->token().substr(0, 8);
    if (session->authenticated()) impl_->remember(session);
    return response;
}

void Server::expire_idle_sessions() { impl_->expire(true); }

std::size_t Server::session_count() const { return impl_->open_sessions(); }

}  // namespace smk
