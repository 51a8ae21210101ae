// smk::Server: finds the session a message belongs to and lets it answer.
#include "syncmlkit/server.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <unordered_map>

#include "engine/log_text.hpp"
#include "engine/known_devices.hpp"
#include "engine/session.hpp"
#include "engine/session_archive.hpp"
#include "state/session_store.hpp"
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
    // Sessions kept in a SessionStore between messages ("Sessions in a
    // SessionStore" below): when set, no Session stays in memory from one
    // message to the next, and by_token stays empty.
    std::unique_ptr<state::SessionStore> own_sessions;  ///< the tests' (engine::set_session_store_for_tests)
    state::SessionStore* sessions = nullptr;

    ~Impl() {
        // Sessions that live no longer than this process end with it, as
        // those in by_token do.
        if (sessions && sessions->process_local()) try {
                for (const std::string& token : sessions->idle(INT64_MAX, INT64_MAX, SIZE_MAX)) end_stored(token);
            } catch (const std::exception& e) {
                ctx.log(LogLevel::error, std::string("sessions not ended: ") + e.what());
            }
    }

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
        if (sessions) return sessions->count_open();
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
        if (sessions) return supersede_stored(newer);
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
        if (sessions) return expire_stored(force);
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

    // ---- Sessions in a SessionStore ----

    // The session of `token` rebuilt from the store, parked (so that leaving
    // memory does not end it); nullptr when there is none to go on with. The
    // caller holds the session's lock.
    std::unique_ptr<engine::Session> load_stored(const std::string& token, const wire::Message& msg,
                                                 const std::string& peer) {
        std::string prefix = engine::for_log(token, 8);
        std::optional<std::string> blob = sessions->load(token);
        std::unique_ptr<engine::Session> session;
        if (blob) try {
                session = engine::Session::restore(ctx, token, *blob);
                session->park();
            } catch (const engine::SessionArchiveError& e) {
                ctx.log(LogLevel::warning, peer + ": session " + prefix + " cannot be read (" + e.what() +
                                               "); a new session starts");
                sessions->erase(token);
                return nullptr;
            }
        if (!session) {
            ctx.log(LogLevel::info, peer + ": session " + prefix + " is unknown or over; a new session starts");
            return nullptr;
        }
        if (too_old(*session, Clock::now())) {
            ctx.log(LogLevel::warning, peer + ": session " + prefix + " outlived " +
                                           std::to_string(ctx.config.max_session_lifetime.count()) +
                                           " s and was dropped; a new session starts");
            session->park(false);  // ends now, leaving its resume points
            session.reset();
            sessions->erase(token);
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

    // After a message: the session goes back to the store, ended or not
    // (an ended one answers resends for a minute, then the sweep erases it).
    void save_stored(engine::Session& session) {
        sessions->save(session.token(), session.user(), session.device(), session.ended(), session.archive());
        session.park();
    }

    // Ends the stored session `token` as an in-memory one ends when it leaves
    // memory (an unfinished one keeps its resume points), and forgets it.
    void end_stored(const std::string& token) {
        std::unique_ptr<state::SessionStore::Lease> lease = sessions->lock(token);
        std::optional<std::string> blob = sessions->load(token);
        if (!blob) return;
        try {
            std::unique_ptr<engine::Session> session = engine::Session::restore(ctx, token, *blob);
        } catch (const std::exception& e) {
            ctx.log(LogLevel::error, "session " + engine::for_log(token, 8) + " ends unread: " + e.what());
        }
        sessions->erase(token);
    }

    void supersede_stored(const engine::Session& newer) {
        for (const std::string& token : sessions->of_device(newer.user(), newer.device())) {
            if (token == newer.token()) continue;
            ctx.log(LogLevel::info, "session " + token.substr(0, 8) + " of " + newer.user() + "@" + newer.device() +
                                        " ends: the device resumes in a new session");
            try {
                end_stored(token);
            } catch (const std::exception& e) {
                ctx.log(LogLevel::error, "session " + token.substr(0, 8) + " not ended: " + e.what());
            }
        }
    }

    // The user's sessions beyond the limit go, ended ones first, then the
    // least recently active (as remember() does in memory).
    void remember_stored(const engine::Session& session) {
        std::vector<state::SessionInfo> mine;
        for (state::SessionInfo& info : sessions->of_user(session.user()))
            if (info.token != session.token()) mine.push_back(std::move(info));
        std::size_t limit = std::max<std::size_t>(ctx.config.max_sessions_per_user, 1);
        if (mine.size() + 1 <= limit) return;
        std::stable_sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) { return a.finished > b.finished; });
        for (std::size_t i = 0; i + limit <= mine.size(); ++i) {
            if (!mine[i].finished)
                ctx.log(LogLevel::warning, "user " + session.user() + " has more than " + std::to_string(limit) +
                                               " sessions open; session " + mine[i].token.substr(0, 8) +
                                               ", the least recently active, is dropped");
            try {
                end_stored(mine[i].token);
            } catch (const std::exception& e) {
                ctx.log(LogLevel::error, "session " + mine[i].token.substr(0, 8) + " not ended: " + e.what());
            }
        }
    }

    // Any process may sweep: an idle unfinished session is dropped (its
    // resume points kept), an ended one erased after its minute for resends.
    void expire_stored(bool force) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            auto now = Clock::now();
            if (!force && now - last_sweep < std::chrono::seconds(1)) return;
            last_sweep = now;
        }
        std::int64_t now = state::unix_millis();
        std::int64_t unfinished_before =
            now - std::chrono::duration_cast<std::chrono::milliseconds>(ctx.config.session_timeout).count();
        std::int64_t finished_before = now - 60 * 1000;
        std::vector<std::string> idle;
        try {
            idle = sessions->idle(unfinished_before, finished_before, 1000);
        } catch (const std::exception& e) {
            ctx.log(LogLevel::error, std::string("idle sessions not swept: ") + e.what());
            return;
        }
        for (const std::string& token : idle) try {
                std::unique_ptr<state::SessionStore::Lease> lease = sessions->lock(token);
                // A message may have come since: still idle?
                std::optional<state::SessionInfo> info = sessions->info(token);
                if (!info || info->updated > (info->finished ? finished_before : unfinished_before)) continue;
                lease.reset();
                end_stored(token);
            } catch (const std::exception& e) {
                ctx.log(LogLevel::error, "session " + token.substr(0, 8) + " not swept: " + e.what());
            }
    }

    // One message of a server whose sessions are kept in the store.
    Response process_stored(const wire::Message& msg, const Request& request, wire::Encoding enc,
                            const std::function<Response(int, const std::string&, unsigned)>& refuse) {
        std::string token = query_param(request.url, "s");
        // Only a token we could have made is looked up (hex, as new_session_token makes them).
        bool ours = !token.empty() && token.size() <= 64 &&
                    token.find_first_not_of("0123456789abcdef") == std::string::npos;
        if (!token.empty() && !ours)
            ctx.log(LogLevel::info, request.peer + ": session " + engine::for_log(token, 8) +
                                        " is unknown or over; a new session starts");
        if (ours) {
            std::unique_ptr<state::SessionStore::Lease> lease = sessions->lock(token);
            std::unique_ptr<engine::Session> session = load_stored(token, msg, request.peer);
            // An ended session only answers resends; anything else starts anew.
            if (session && (!session->ended() || session->is_resend(request.body))) {
                Response response = session->handle(msg, request.body, enc, request.peer);
                response.session = session->token().substr(0, 8);
                save_stored(*session);
                return response;
            }
        }
        if (sessions->count_open() >= ctx.config.max_sessions) {
            expire_stored(true);
            if (sessions->count_open() >= ctx.config.max_sessions)
                return refuse(503, "no session free (" + std::to_string(ctx.config.max_sessions) + " open)", 30);
        }
        // No lock: nobody knows the new token before the reply goes, and a
        // resuming device's first message locks its other sessions.
        auto session = std::make_unique<engine::Session>(ctx, engine::new_session_token());
        Response response = session->handle(msg, request.body, enc, request.peer);
        response.session = session->token().substr(0, 8);
        if (!session->authenticated()) return response;
        save_stored(*session);
        remember_stored(*session);
        return response;
    }
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>()) {
    if (!config.auth) throw std::invalid_argument("ServerConfig.auth is required");
    if (!config.datastores) throw std::invalid_argument("ServerConfig.datastores is required");
    if (config.state_dir.empty() && config.state.empty())
        throw std::invalid_argument("ServerConfig.state_dir (or ServerConfig.state) is required");
    namespace fs = std::filesystem;
    if (!config.state_dir.empty()) fs::create_directories(config.state_dir);
    engine::ServerContext& ctx = impl_->ctx;
    ctx.config = std::move(config);
    ctx.supersede = [impl = impl_.get()](const engine::Session& newer) { impl->supersede(newer); };
    ctx.state = state::open_state_backend(ctx.config.state, ctx.config.state_dir, ctx.config.state_pool);
    std::optional<std::string> secret = ctx.state->shared_secret();
    if (!secret) secret = engine::server_secret((fs::path(ctx.config.state_dir) / "server.key").string());
    ctx.auth = std::make_unique<engine::Authenticator>(*ctx.config.auth, ctx.state->devices(), ctx.config,
                                                       std::move(*secret));
    // Sessions shared by every process of the backend, else (tests) a store of this server's own.
    impl_->sessions = ctx.state->sessions();
    if (!impl_->sessions) {
        impl_->own_sessions = engine::session_store_for_tests();
        impl_->sessions = impl_->own_sessions.get();
    }
}

Server::~Server() = default;

std::vector<KnownDevice> Server::known_devices(const std::string& user) {
    return engine::known_devices_of(impl_->ctx.state->devices().devices_of(user));
}

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

    if (impl_->sessions) return impl_->process_stored(msg, request, *enc, refuse);
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
