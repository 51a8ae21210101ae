// The SyncML server: one message in, the reply out. No I/O of its own, so a
// host embeds it in any HTTP server or event loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// Thrown by an AuthProvider whose user database cannot answer (down, timed
/// out): not a wrong password. The login is answered 503 (try again later)
/// and logged, and the login throttle does not count it.
class SMK_API AuthUnavailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class LogLevel { debug, info, warning, error };

/// Receives the server's log lines. Sessions run in parallel, so log() may be
/// called from several threads at once.
class SMK_API Logger {
public:
    virtual ~Logger() = default;
    virtual void log(LogLevel level, std::string_view message) = 0;
    /// The same line with the session it was written in: the first 8
    /// characters of the session's token (the "s" parameter of its RespURI,
    /// as the lines name it; Response::session), or "" for a line of no
    /// session (a message refused unread, an unknown session's token). The
    /// server calls this one; by default it passes the line to log().
    virtual void log_in_session(LogLevel level, std::string_view session, std::string_view message) {
        (void)session;
        log(level, message);
    }
};

/// How an item changed on both sides since the client's last sync is
/// resolved.
enum class ConflictPolicy {
    /// Field by field through the PIM model, knowing which side changed
    /// what when the version both last shared is known; when both changed
    /// one field differently, the server's copy wins and the client's is
    /// kept as a second item (209). The default.
    merge,
    server_wins,  ///< the client's version is logged and replaced by the server's (419)
    client_wins,  ///< the server's version is logged and replaced by the client's (208)
    newer_wins,   ///< by the items' REV / LAST-MODIFIED; the server's when unknown
    keep_both,    ///< the client's version becomes a second item (209)
};

struct ServerConfig {
    std::shared_ptr<AuthProvider> auth;
    std::shared_ptr<DatastoreProvider> datastores;
    std::shared_ptr<Logger> logger;  ///< optional
    /// Where the server keeps what it must remember across sessions: nonces,
    /// devices' DevInf, and sync state for stores other than its own SQLite
    /// store. Created if missing.
    std::string state_dir;
    /// Sync state shared by several server processes: a "postgresql://..."
    /// URL (libpq's form) keeps every client's sync state, the device
    /// registry (nonces, DevInf) and each session between its messages in
    /// that PostgreSQL database, its tables created and migrated at start, so
    /// a load balancer may send any message to any process configured alike
    /// (docs/SCALING.md). With PostgresStoreProvider on the same database an
    /// item and its mapping commit together. Empty (the default): SQLite
    /// files under state_dir (or in SyncMLKit's SQLite store), sessions in
    /// this process's memory.
    std::string state;
    /// Connections the server's PostgreSQL pool opens at most (with `state`).
    std::size_t state_pool = 16;
    /// The largest message a client should send, announced in every reply.
    std::size_t max_msg_size = 150000;
    /// The largest message accepted, after any HTTP content coding is
    /// undone: clients size their messages loosely (Funambol overshot 15000
    /// by 7%, and a first message comes before the client knows the limit),
    /// so the default, 0, means twice max_msg_size, at least 64 KiB. Larger messages
    /// are refused unread (HTTP 413 from the host, or a 400 reply here).
    std::size_t max_request_size = 0;
    /// The largest single item a client may send, also when it arrives in
    /// chunks (larger: 413, and the chunks received are dropped).
    std::size_t max_obj_size = 4000000;
    /// Commands plus items in one client message (larger: the message is
    /// refused with 413, nothing of it applied).
    std::size_t max_commands_per_message = 5000;
    /// Element nesting of one message (XML and WBXML).
    unsigned max_xml_depth = 64;
    /// Sessions idle this long are dropped; a dropped session's last
    /// completed anchors stay in force, so its client's next incremental sync
    /// becomes a full one (508) and pairs up what the broken session stored.
    std::chrono::seconds session_timeout{600};
    /// A session older than this is dropped whatever it does.
    std::chrono::seconds max_session_lifetime{4 * 3600};
    /// Open sessions in all; a new one beyond this is answered 503.
    std::size_t max_sessions = 2000;
    /// Open sessions of one user; a new one beyond this ends the user's
    /// least recently active session (a client that vanished, most likely).
    std::size_t max_sessions_per_user = 8;
    /// Devices remembered per user (nonce, DevInf); the least recently seen
    /// is forgotten beyond this. Only a successful login adds one.
    std::size_t max_devices_per_user = 32;
    /// Wrong passwords: after `free_failures` failed logins for one user or
    /// from one address, further attempts are refused at once (SyncML 503,
    /// Response::retry_after) for a delay that starts at `first_delay` and
    /// doubles with each failure up to `max_delay`; a success clears the
    /// count. The password is not even checked while blocked, so guessing
    /// costs the attacker time and the server nothing (no thread waits).
    /// A user's own devices (those that logged in successfully before) are
    /// blocked by address only, so an attacker elsewhere cannot lock the
    /// real user out. free_failures = 0 turns throttling off.
    struct LoginThrottle {
        unsigned free_failures = 5;
        std::chrono::seconds first_delay{2};
        std::chrono::seconds max_delay{300};
        std::size_t max_tracked = 100000;  ///< users plus addresses remembered
    } login_throttle;
    /// More database names: alias -> "contacts", "calendar", "tasks" or "notes".
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
    /// An item changed on the server and on the client since that client's
    /// last sync: how it is resolved (docs/DATA-SAFETY.md). The client gets
    /// 207 (merged), 208 (its version won), 209 (kept as a second item) or
    /// 419 (the server's won), the losing version is logged, and a delete
    /// on one side against a change on the other keeps the changed item.
    /// Unset: ConflictPolicy::merge for every database.
    std::function<ConflictPolicy(const std::string& owner, Category category)> conflict_policy;
    /// A two-way or one-way sync in which the client deletes more than
    /// `max_percent` of a store of more than `min_items` items has its
    /// deletes refused (SyncML 419 each, "the server's data wins", and a
    /// warning in the log): the store
    /// keeps the items and the client gets them back in the same session.
    /// An explicit refresh from the client is not limited (a snapshot is
    /// taken before it). `allow` may let a database through (the host's
    /// "yes, I meant it"); enabled = false turns the guard off.
    struct MassDeleteGuard {
        bool enabled = true;
        std::size_t min_items = 20;
        unsigned max_percent = 50;
        std::function<bool(const std::string& owner, Category category, const std::string& device)> allow;
    } mass_delete_guard;
};

/// The largest message `config` accepts (max_request_size, or twice
/// max_msg_size and at least 64 KiB when that is 0): what a host should read of a request body,
/// on the wire and once inflated.
SMK_API std::size_t effective_max_request_size(const ServerConfig& config);

struct Request {
    std::string_view body;
    std::string content_type;
    std::string url;   ///< the URL the request was sent to (path and query at least)
    /// The client's address (IP, no port): for logs, and login throttling
    /// counts failures per address.
    std::string peer;
};

struct Response {
    std::string body;
    std::string content_type;
    /// 200 whenever a SyncML reply exists; 4xx/5xx only when none can be
    /// formed (an undecodable body, say), with a short text body.
    int http_status = 200;
    /// The session is over: the host may drop anything it keeps for it.
    bool session_ended = false;
    /// Seconds the client should wait before trying again (a throttled
    /// login, no free session); 0 when not set. A host may send it as an
    /// HTTP Retry-After header.
    unsigned retry_after = 0;
    /// The session that answered, as Logger::log_in_session names it; empty
    /// when none did (a message refused unread, an undecodable one).
    std::string session;
};

/// What Server::check_login found.
struct LoginCheck {
    bool ok = false;
    /// Not checked: too many failed logins for this user or from this
    /// address; try again after this many seconds. 0 otherwise.
    unsigned retry_after = 0;
};

/// A device that logged in as a user, as the server remembers it.
struct KnownDevice {
    std::string device;          ///< its device ID (the SyncHdr's Source LocURI)
    std::string make, model;     ///< its DevInf's Man and Mod; empty when unknown
    std::int64_t last_seen = 0;  ///< its last login, Unix seconds
};

/// The devices that logged in as `user`, in device order, as a server with
/// this `state_dir` (ServerConfig::state_dir) keeps them. Reads and writes
/// nothing else: usable while a Server runs on the directory, and by tools
/// without one. None when the directory holds no device registry yet.
/// Throws DatastoreError when the registry cannot be read.
SMK_API std::vector<KnownDevice> known_devices(const std::string& state_dir, const std::string& user);

class SMK_API Server {
public:
    explicit Server(ServerConfig config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Handles one client message. Safe to call from many threads at once;
    /// messages of one session are handled one after the other.
    Response process(const Request& request);

    /// Checks a user's password for the host's own pages (a status page
    /// behind HTTP Basic, say) through the SyncML logins' throttle: failures
    /// here and in SyncML count together, per user and per `peer` address
    /// (as Request::peer), and while either is held back the password is not
    /// checked. No device is remembered. Throws what the AuthProvider throws.
    LoginCheck check_login(const std::string& user, const std::string& password, const std::string& peer);

    /// The devices that logged in as `user`, in device order, from this
    /// server's device registry (SQLite under state_dir, or PostgreSQL with
    /// ServerConfig::state: then every process's devices). Throws
    /// DatastoreError when the registry cannot be read.
    std::vector<KnownDevice> known_devices(const std::string& user);

    /// Drops sessions idle longer than the timeout (process() does this too).
    void expire_idle_sessions();

    /// Sessions currently open.
    std::size_t session_count() const;

private:
    Response process_message(const Request& request);
    struct SMK_HIDDEN Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace smk
