// One SyncML session with one client device: authentication, the packages
// of the sync protocol (1: client init, 2: server init, 3: client changes,
// 4: server changes, 5: map, 6: map acknowledgement), one SyncTask per
// database, and the reply to each client message.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/auth.hpp"
#include "engine/reply.hpp"
#include "engine/sync_task.hpp"
#include "state/state_backend.hpp"
#include "syncmlkit/server.hpp"
#include "syncmlkit/wire.hpp"

namespace smk::engine {

/// What every session shares.
struct ServerContext {
    ServerConfig config;
    /// Sync state and device registry (open_sqlite_state by default).
    std::unique_ptr<state::StateBackend> state;
    std::unique_ptr<Authenticator> auth;
    void log(LogLevel level, const std::string& message) const;
    /// Ends the other unfinished sessions of `newer`'s user and device (a
    /// client that resumes has left them): each keeps its resume point as
    /// it goes. Set by the Server.
    std::function<void(const class Session& newer)> supersede;
};

class Session {
public:
    Session(const ServerContext& ctx, std::string token);
    ~Session();

    /// Handles one decoded client message (`body` its bytes as received).
    /// The caller holds `mutex`.
    Response handle(const wire::Message& in, std::string_view body, wire::Encoding encoding, const std::string& peer);

    /// Answers a message that no session will take (too many commands, no
    /// session free, a device ID out of bounds) with `code` in the SyncHdr
    /// status alone; the session then ends, never having started.
    Response refuse_unread(const wire::Message& in, wire::Encoding encoding, const std::string& peer, int code,
                           unsigned retry_after = 0);

    const std::string& token() const { return token_; }
    /// Set by the first message's successful login, then never changed.
    bool authenticated() const { return authenticated_; }
    const std::string& user() const { return user_; }
    /// The client's device ID, set by the first message, then never changed.
    const std::string& device() const { return device_; }
    /// Does `in` come from the device and user that opened this session? A
    /// session token alone does not let another device in.
    bool accepts(const wire::Message& in) const;
    /// When the session began (its lifetime is bounded).
    std::chrono::steady_clock::time_point created() const { return created_; }
    /// Read without the session's mutex by the expiry sweep, hence atomic.
    bool ended() const { return ended_; }
    /// Is this the last message again, byte for byte (a client's retry)?
    bool is_resend(std::string_view body) const;

    std::mutex mutex;
    std::atomic<std::chrono::steady_clock::time_point> last_activity;

private:
    enum class Phase { init, client_changes, server_changes, map, done };

    void start(const wire::Message& in, wire::Encoding encoding, const std::string& peer);
    wire::Header reply_header(bool with_resp_uri) const;
    Response refuse(const wire::Message& in, int code, const wire::Cred* chal, Reply& reply,
                    bool status_per_command = true);
    Response handle_authenticated(const wire::Message& in, Reply& reply);
    void carry_over_statuses(Reply& reply);
    void dispatch(const wire::Command& cmd, const std::string& msg_ref, Reply& reply);
    void on_alert(const wire::Command& cmd, const std::string& msg_ref, Reply& reply);
    void on_sync(const wire::Command& cmd, const std::string& msg_ref, Reply& reply);
    void on_map(const wire::Command& cmd, const std::string& msg_ref, Reply& reply);
    void on_get(const wire::Command& cmd, const std::string& msg_ref, Reply& reply);
    void remember_devinf(const wire::Item& item);
    void remember_sent_items(const wire::Message& out);
    void on_status(const wire::Command& status);
    bool devinf_known();
    std::optional<wire::DevInf> client_devinf();
    void learn_client();
    std::optional<OpenDatabase> open_database(const DatabaseName& name);
    SyncTask* task_for(const std::string& server_uri);
    void after_commands(const wire::Message& in, Reply& reply);
    void fill_server_changes(Reply& reply);
    void finish(const char* how);

    const ServerContext& ctx_;
    std::string token_;
    Phase phase_ = Phase::init;
    bool started_ = false;
    bool authenticated_ = false;
    std::string user_;
    std::string device_;
    std::string peer_;
    std::string session_id_;
    std::string server_uri_;  ///< the URL the client addressed in its first message
    std::string resp_uri_;
    wire::Version version_ = wire::Version::v1_2;
    wire::Encoding encoding_ = wire::Encoding::xml;
    std::size_t client_max_msg_size_ = 1024 * 1024;
    unsigned out_msg_id_ = 0;
    std::uint64_t last_in_hash_ = 0;  ///< of the last message's bytes
    std::size_t last_in_size_ = 0;
    Response cached_;
    bool devinf_received_ = false;
    bool client_known_ = false;
    bool client_large_objects_ = false;
    std::vector<std::unique_ptr<SyncTask>> tasks_;
    struct SentItem {
        std::string server_uri;  ///< the database
        std::string id;          ///< our GUID (Add, Replace) or the client's LUID (Delete)
        bool is_delete = false;
        bool more_data = false;  ///< a chunk before the last of a large object
    };
    std::unordered_map<std::string, SentItem> sent_items_;  ///< by CmdID, of our last message
    /// Statuses that did not fit the client's MaxMsgSize, for the next reply.
    std::vector<wire::Command> pending_statuses_;
    /// Commands of package 2 (Results, our Alerts, our Get) that did not fit
    /// the client's MaxMsgSize, for the next reply.
    std::vector<wire::Command> pending_commands_;
    /// Package 2 went out in part: the client's messages ask for the rest.
    bool server_init_open_ = false;
    std::size_t client_max_obj_size_ = 0;  ///< from its SyncHdr; 0: none said
    void on_no_end_of_data(const wire::Command& cmd, const std::string& msg_ref, Reply& reply);
    std::atomic<bool> ended_{false};
    const std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();

    // Suspend and resume (Alerts 224 and 225).
    /// Each database's resume point, when the session stopped after its
    /// packages began (`cause`: "suspended" or "dropped"). `own_transaction`:
    /// outside a message (a dropped session), each in a transaction of its own.
    void save_resume_points(const char* cause, bool own_transaction);
    bool suspending_ = false;  ///< the client's Alert 224 came in this message

    // Between two messages, perhaps in another process (session_archive.cpp).
public:
    /// Everything the session carries to its next message, as a blob.
    std::string archive() const;
    /// The session archive() wrote, its databases open again. Throws
    /// SessionArchiveError for a blob this version did not write, and
    /// DatastoreError when a database no longer opens.
    static std::unique_ptr<Session> restore(const ServerContext& ctx, const std::string& token, std::string_view blob);
    /// The session is kept in a SessionStore: leaving memory does not end
    /// it (`kept` false: it does, as an in-memory session's end).
    void park(bool kept = true) { parked_ = kept; }

private:
    Session(const ServerContext& ctx, std::string token, std::chrono::steady_clock::time_point created);
    bool parked_ = false;
};

}  // namespace smk::engine
