// The SyncML server: one message in, the reply out. No I/O of its own, so a
// host embeds it in any HTTP server or event loop.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "syncmlkit/datastore.hpp"
#include "syncmlkit/export.hpp"
#include "syncmlkit/pim.hpp"

namespace smk {

/// The user check the host plugs in. Implement password() alone, or
/// check_password() for Basic plus md5_digest() for MD5.
/// Called from several threads at once (one per session in progress).
class SMK_API AuthProvider {
public:
    virtual ~AuthProvider() = default;
    /// The user's password in clear; nullopt for an unknown user or when the
    /// host does not keep clear passwords.
    virtual std::optional<std::string> password(const std::string& user) {
        (void)user;
        return std::nullopt;
    }
    /// Basic authentication: is this the user's password? Defaults to
    /// comparing with password().
    virtual bool check_password(const std::string& user, const std::string& password);
    /// MD5 authentication needs base64(md5("user:password")). Defaults to
    /// computing it from password(); nullopt turns MD5 away (the client is
    /// then challenged for Basic).
    virtual std::optional<std::string> md5_digest(const std::string& user);
};

enum class LogLevel { debug, info, warning, error };

/// Receives the server's log lines. Sessions run in parallel, so log() may be
/// called from several threads at once.
class SMK_API Logger {
public:
    virtual ~Logger() = default;
    virtual void log(LogLevel level, std::string_view message) = 0;
};

struct ServerConfig {
    std::shared_ptr<AuthProvider> auth;
    std::shared_ptr<DatastoreProvider> datastores;
    std::shared_ptr<Logger> logger;  ///< optional
    /// Where the server keeps what it must remember across sessions: nonces,
    /// devices' DevInf, and sync state for stores other than its own SQLite
    /// store. Created if missing.
    std::string state_dir;
    /// The largest message a client may send (announced in every reply).
    std::size_t max_msg_size = 150000;
    /// The largest single item a client may send.
    std::size_t max_obj_size = 4000000;
    /// Sessions idle this long are dropped; a dropped session's last
    /// completed anchors stay in force, so its client's next incremental sync
    /// becomes a full one (508) and pairs up what the broken session stored.
    std::chrono::seconds session_timeout{600};
    /// More database names: alias -> "contacts", "calendar" or "tasks".
    std::map<std::string, std::string> aliases;
    /// The server's DevID in its DevInf.
    std::string server_id = "SyncMLKit";
    /// The conversion profile of a client, from its DevInf's Man, Mod and
    /// DevID; unset: pim::profile_for. A host overrides a client's quirks
    /// here (pim::profile_named gives the known ones).
    std::function<pim::Profile(std::string_view man, std::string_view mod, std::string_view dev_id)> client_profile;
    /// A user's time zone (IANA name), in which vCalendar items with
    /// floating times are placed; unset or empty: they stay floating.
    std::function<std::string(const std::string& user)> user_time_zone;
};

struct Request {
    std::string_view body;
    std::string content_type;
    std::string url;   ///< the URL the request was sent to (path and query at least)
    std::string peer;  ///< the client's address, for logs
};

struct Response {
    std::string body;
    std::string content_type;
    /// 200 whenever a SyncML reply exists; 4xx/5xx only when none can be
    /// formed (an undecodable body, say), with a short text body.
    int http_status = 200;
    /// The session is over: the host may drop anything it keeps for it.
    bool session_ended = false;
};

class SMK_API Server {
public:
    explicit Server(ServerConfig config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Handles one client message. Safe to call from many threads at once;
    /// messages of one session are handled one after the other.
    Response process(const Request& request);

    /// Drops sessions idle longer than the timeout (process() does this too).
    void expire_idle_sessions();

    /// Sessions currently open.
    std::size_t session_count() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace smk
