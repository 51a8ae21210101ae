#include "engine/session.hpp"

#include <algorithm>
#include <functional>

#include "engine/item_format.hpp"
#include "engine/log_text.hpp"
#include "engine/server_devinf.hpp"

namespace smk::engine {
using namespace smk::wire;

namespace {

const char* kDevInfXml = "application/vnd.syncml-devinf+xml";
const char* kDevInfWbxml = "application/vnd.syncml-devinf+wbxml";

bool is_devinf_uri(const std::string& uri) { return uri.rfind("./devinf1", 0) == 0 || uri.rfind("devinf1", 0) == 0; }

// The session URL: the URL the client addressed, with our token as the
// query parameter "s" (replacing one already there).
std::string with_token(const std::string& url, const std::string& token) {
    std::string base = url;
    std::size_t q = base.find('?');
    std::string query;
    if (q != std::string::npos) {
        std::string rest = base.substr(q + 1);
        base.resize(q);
        std::size_t pos = 0;
        while (pos <= rest.size()) {
            std::size_t amp = rest.find('&', pos);
            std::string param = rest.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
            if (!param.empty() && param.rfind("s=", 0) != 0) query += (query.empty() ? "" : "&") + param;
            if (amp == std::string::npos) break;
            pos = amp + 1;
        }
    }
    query += (query.empty() ? "" : "&") + std::string("s=") + token;
    return base + "?" + query;
}

std::string hex(const std::string& bytes) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    return out;
}

}  // namespace

namespace {

// The session whose message (or end) this thread handles: its log lines
// name it to Logger::log_in_session.
thread_local const std::string* t_log_session = nullptr;

class LogSessionScope {
public:
    explicit LogSessionScope(const std::string& id) : saved_(t_log_session) { t_log_session = &id; }
    ~LogSessionScope() { t_log_session = saved_; }
    LogSessionScope(const LogSessionScope&) = delete;
    LogSessionScope& operator=(const LogSessionScope&) = delete;

private:
    const std::string* saved_;
};

}  // namespace

void ServerContext::log(LogLevel level, const std::string& message) const {
    if (config.logger) config.logger->log_in_session(level, t_log_session ? *t_log_session : std::string(), message);
}

Session::Session(const ServerContext& ctx, std::string token)
    : last_activity(std::chrono::steady_clock::now()),
      ctx_(ctx),
      token_(std::move(token)) {}

Session::~Session() {
    std::string log_id = token_.substr(0, 8);
    LogSessionScope scope(log_id);
    if (started_ && phase_ != Phase::done && !parked_) {
        ctx_.log(LogLevel::warning, "session " + token_.substr(0, 8) + " of " + device_ +
                                        " dropped unfinished; the last completed anchors stay in force");
        // The client may resume it (225) at its next sync.
        save_resume_points("dropped", true);
    }
}

void Session::save_resume_points(const char* cause, bool own_transaction) {
    if (phase_ != Phase::client_changes && phase_ != Phase::server_changes && phase_ != Phase::map) return;
    bool client_done = phase_ != Phase::client_changes;
    for (auto& task : tasks_) {
        if (!own_transaction) {
            task->save_resume_point(cause, client_done);
            continue;
        }
        try {
            task->db().begin();
            task->save_resume_point(cause, client_done);
            task->db().commit();
        } catch (const std::exception& e) {
            try {
                task->db().rollback();
            } catch (const std::exception&) {
            }
            ctx_.log(LogLevel::error, "session " + token_.substr(0, 8) + ": \"" + task->server_uri() +
                                          "\": its resume point is not kept: " + e.what());
        }
    }
}

namespace {
std::uint64_t fnv1a(std::string_view bytes) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    return h;
}
}  // namespace

bool Session::is_resend(std::string_view body) const {
    return started_ && !cached_.body.empty() && body.size() == last_in_size_ && fnv1a(body) == last_in_hash_;
}

void Session::start(const Message& in, Encoding encoding, const std::string& peer) {
    started_ = true;
    device_ = in.header.source.uri;
    session_id_ = in.header.session_id;
    server_uri_ = in.header.target.uri;
    resp_uri_ = with_token(server_uri_, token_);
    version_ = in.version().value_or(Version::v1_2);
    encoding_ = encoding;
    peer_ = peer;
}

Header Session::reply_header(bool with_resp_uri) const {
    Header h;
    h.ver_dtd = version_string(version_);
    h.ver_proto = std::string("SyncML/") + version_string(version_);
    h.session_id = session_id_;
    h.msg_id = std::to_string(out_msg_id_);
    h.target.uri = device_;
    h.source.uri = server_uri_;
    if (with_resp_uri) h.resp_uri = resp_uri_;
    h.meta.max_msg_size = std::to_string(ctx_.config.max_msg_size);
    h.meta.max_obj_size = std::to_string(ctx_.config.max_obj_size);
    return h;
}

bool Session::accepts(const Message& in) const {
    if (!started_ || in.header.source.uri != device_) return false;
    // A later message need not name its user; one that does must name ours.
    return in.header.source.name.empty() || in.header.source.name == user_;
}

Response Session::refuse_unread(const Message& in, Encoding encoding, const std::string& peer, int code,
                                unsigned retry_after) {
    start(in, encoding, peer);
    ++out_msg_id_;
    Reply reply(reply_header(false), version_, encoding_, client_max_msg_size_);
    Response response = refuse(in, code, nullptr, reply, false);
    response.retry_after = retry_after;
    return response;
}

Response Session::handle(const Message& in, std::string_view body, Encoding encoding, const std::string& peer) {
    std::string log_id = token_.substr(0, 8);
    LogSessionScope scope(log_id);
    last_activity = std::chrono::steady_clock::now();
    if (is_resend(body)) {
        ctx_.log(LogLevel::info, "session " + token_.substr(0, 8) + ": message " + in.header.msg_id +
                                     " resent; answering with the reply already sent");
        return cached_;
    }
    if (!started_) start(in, encoding, peer);
    last_in_hash_ = fnv1a(body);
    last_in_size_ = body.size();
    // Below 1024 bytes no reply can be formed at all; clients announce more.
    if (auto size = to_number(in.header.meta.max_msg_size))
        client_max_msg_size_ = static_cast<std::size_t>(std::max<std::uint64_t>(*size, 1024));
    if (auto size = to_number(in.header.meta.max_obj_size)) {
        client_max_obj_size_ = static_cast<std::size_t>(*size);
        for (auto& task : tasks_) task->set_client_max_obj_size(client_max_obj_size_, false);
    }
    ++out_msg_id_;

    std::optional<Version> version = in.version();
    if (!version || *version == Version::v1_0 || in.header.ver_proto != std::string("SyncML/") + in.header.ver_dtd) {
        Reply reply(reply_header(false), Version::v1_1, encoding_, client_max_msg_size_);
        ctx_.log(LogLevel::warning, "device " + for_log(device_) + " speaks " + for_log(in.header.ver_proto) +
                                        "; only SyncML/1.1 and SyncML/1.2 are served (513)");
        return refuse(in, 513, nullptr, reply);
    }

    Reply reply(reply_header(true), version_, encoding_, client_max_msg_size_);
    if (authenticated_) return handle_authenticated(in, reply);
    AuthOutcome auth;
    try {
        auth = ctx_.auth->check(in.header, peer_);
    } catch (const AuthUnavailable& e) {
        // The host's user database is down: not a wrong password, so not
        // counted as one; the client may try again later.
        ctx_.log(LogLevel::error, "device " + for_log(device_) + " from " + peer_ + ": login not checked: " + e.what() +
                                      " (503)");
        Reply failure(reply_header(false), version_, encoding_, client_max_msg_size_);
        Response response = refuse(in, 503, nullptr, failure);
        response.retry_after = 30;
        return response;
    } catch (const std::exception& e) {
        // The device registry failed (a full disk, say): no login without it.
        ctx_.log(LogLevel::error, "device " + for_log(device_) + " from " + peer_ + ": login failed: " + e.what() + " (500)");
        Reply failure(reply_header(false), version_, encoding_, client_max_msg_size_);
        return refuse(in, 500, nullptr, failure);
    }
    if (auth.status != 212) {
        std::string who = auth.user.empty() ? "" : " as " + for_log(auth.user);
        if (auth.status == 503)
            ctx_.log(LogLevel::warning, "device " + for_log(device_) + " from " + peer_ + ": login" + who +
                                            " refused unchecked after repeated failures; try again in " +
                                            std::to_string(auth.retry_after) + " s (503)");
        else
            ctx_.log(LogLevel::warning, "device " + for_log(device_) + " from " + peer_ + ": authentication" + who + " " +
                                            (auth.scheme.empty() ? "missing" : auth.scheme + " refused") + " (" +
                                            std::to_string(auth.status) + ")");
        Reply refusal(reply_header(false), version_, encoding_, client_max_msg_size_);
        Response response = refuse(in, auth.status, auth.chal ? &*auth.chal : nullptr, refusal);
        response.retry_after = auth.retry_after;
        return response;
    }
    authenticated_ = true;
    user_ = auth.user;
    ctx_.log(LogLevel::info, "session " + token_.substr(0, 8) + ": user " + user_ + " on device " + device_ +
                                 " from " + peer_ + " (" + auth.scheme + ", SyncML " + version_string(version_) +
                                 ", " + (encoding_ == Encoding::wbxml ? "WBXML" : "XML") + ")");
    Command header_status = Reply::header_status(in.header, 212);
    if (auth.chal) header_status.chal = *auth.chal;
    reply.add_status(std::move(header_status));
    return handle_authenticated(in, reply);
}

// The commands of a message from a logged-in client, in one transaction
// over every database of the session.
Response Session::handle_authenticated(const Message& in, Reply& reply) {
    if (!reply.has_statuses()) reply.add_status(Reply::header_status(in.header, 200));
    for (Command& s : pending_statuses_) reply.add_status(std::move(s));
    pending_statuses_.clear();
    // The first held command goes whatever room is left, so that every
    // message moves the package on (the estimate of a fresh message's room
    // may be high).
    for (Command& c : pending_commands_) {
        if (reply.has_commands()) reply.add_or_hold(std::move(c));
        else reply.add_command(std::move(c));
    }
    pending_commands_.clear();

    std::size_t open_before = tasks_.size();
    try {
        // Inside the try: a store that cannot begin (busy, an I/O error)
        // fails the message like any other store failure.
        for (std::size_t i = 0; i < open_before; ++i) tasks_[i]->db().begin();
        for (const Command& cmd : in.body) {
            dispatch(cmd, in.header.msg_id, reply);
            // Databases opened by an Alert of this message join its transaction.
            for (; open_before < tasks_.size(); ++open_before) tasks_[open_before]->db().begin();
        }
        after_commands(in, reply);
        for (auto& task : tasks_) task->end_of_message();
        for (auto& task : tasks_) task->db().commit();
    } catch (const std::exception& e) {
        for (auto& task : tasks_) {
            try {
                task->db().rollback();
            } catch (const std::exception& again) {
                ctx_.log(LogLevel::error, "session " + token_.substr(0, 8) + ": rollback failed too: " + again.what());
            }
            // The store undid a message whose sync state is committed: the
            // client's next sync is a slow one, which pairs up what each side holds.
            if (task->db().state_ahead) try {
                    task->db().state->sync().forget_anchors(device_);
                } catch (const std::exception& again) {
                    ctx_.log(LogLevel::error, "session " + token_.substr(0, 8) + ": anchors not reset: " + again.what());
                }
        }
        ctx_.log(LogLevel::error, "session " + token_.substr(0, 8) + ": " + e.what() + "; session aborted (500)");
        Reply failure(reply_header(false), version_, encoding_, client_max_msg_size_);
        return refuse(in, 500, nullptr, failure);
    }
    carry_over_statuses(reply);
    // A client that keeps sending more than its own MaxMsgSize lets the
    // server answer would pile statuses up without end.
    if (pending_statuses_.size() > 4 * std::max<std::size_t>(ctx_.config.max_commands_per_message, 1)) {
        ctx_.log(LogLevel::warning, "session " + token_.substr(0, 8) + " of " + user_ + "@" + device_ + ": " +
                                        std::to_string(pending_statuses_.size()) +
                                        " statuses wait for room in the client's small messages; session ended (413)");
        Reply failure(reply_header(false), version_, encoding_, client_max_msg_size_);
        return refuse(in, 413, nullptr, failure, false);
    }

    // An ended session only answers resends from its cache: its databases
    // (connections, transactions' state) go now, not when it expires.
    if (phase_ == Phase::done) tasks_.clear();

    Response response;
    Message out = reply.finish();
    remember_sent_items(out);
    response.body = encode(out, encoding_);
    response.content_type = content_type(encoding_);
    response.session_ended = phase_ == Phase::done;
    cached_ = response;
    return response;
}

// Statuses beyond the client's MaxMsgSize go in the next reply, while the
// client's package or ours goes on; the reply is then not final, so the
// client asks for more.
void Session::carry_over_statuses(Reply& reply) {
    // Package 2's commands likewise (after_commands kept the package open).
    pending_commands_ = reply.take_held();
    if (!pending_commands_.empty()) reply.set_final(false);
    std::vector<Command> overflow = reply.take_overflow();
    if (overflow.empty()) return;
    if (phase_ != Phase::client_changes && phase_ != Phase::server_changes && !server_init_open_) {
        ctx_.log(LogLevel::warning, "session " + token_.substr(0, 8) + ": " + std::to_string(overflow.size()) +
                                        " statuses do not fit the client's MaxMsgSize of " +
                                        std::to_string(client_max_msg_size_) + " bytes and are left out");
        return;
    }
    reply.set_final(false);
    pending_statuses_ = std::move(overflow);
}

// The item commands of our last message, by CmdID, so that the client's
// statuses can be matched to them by CmdRef alone (the Funambol client sends
// some statuses with MsgRef 0).
void Session::remember_sent_items(const Message& out) {
    sent_items_.clear();
    for (const Command& cmd : out.body) {
        if (cmd.kind != CommandKind::Sync) continue;
        for (const Command& op : cmd.children) {
            if (op.items.empty()) continue;
            const Item& item = op.items.front();
            // A Delete names the client's LUID; an Add or Replace our GUID.
            bool is_delete = op.kind == CommandKind::Delete;
            sent_items_[op.cmd_id] =
                SentItem{cmd.source.uri, is_delete ? item.target.uri : item.source.uri, is_delete, item.more_data};
        }
    }
}

void Session::on_status(const Command& status) {
    std::optional<std::uint64_t> code = to_number(status.data);
    if (!code) return;
    if (*code == 223) {  // a chunk of ours that did not continue what the client holds
        auto sent = sent_items_.find(status.cmd_ref);
        if (sent == sent_items_.end() || sent->second.is_delete) return;
        SyncTask* task = task_for(sent->second.server_uri);
        if (!task || task->restart_chunks(sent->second.id)) return;
        // Not an item in chunks: the client did not take it.
        ctx_.log(LogLevel::warning, "device " + device_ + " answered 223 to our " + status.cmd + " (command " +
                                        status.cmd_ref + ")");
        task->not_taken(sent->second.id);
        return;
    }
    if (*code < 300 || *code == 418) {  // 418 "already exists" is a success for the client
        // The client holds our Replace or has done our Delete: only now is
        // it recorded, so a reply lost on the way is sent again next time.
        auto sent = sent_items_.find(status.cmd_ref);
        if (sent != sent_items_.end())
            if (SyncTask* task = task_for(sent->second.server_uri)) {
                if (!sent->second.more_data) task->delivered(sent->second.id, sent->second.is_delete);
                else task->chunk_confirmed();  // 213: a resume goes on after this chunk
            }
        return;
    }
    if (*code != 508)
        ctx_.log(LogLevel::warning, "device " + device_ + " answered " + status.data + " to our " + status.cmd +
                                        " (command " + status.cmd_ref + ")");
    auto sent = sent_items_.find(status.cmd_ref);
    if (sent == sent_items_.end() || sent->second.is_delete) return;  // a refused Delete is sent again next time
    // The client did not take the item: forget that it holds it, so that
    // the next sync offers it again rather than losing it silently (and
    // send no more chunks of it).
    if (SyncTask* task = task_for(sent->second.server_uri)) {
        task->stop_chunks(sent->second.id);
        task->not_taken(sent->second.id);
    }
}

// A reply that refuses the whole message: the SyncHdr status and the same
// code for every command, and the session ends.
Response Session::refuse(const Message& in, int code, const Cred* chal, Reply& reply, bool status_per_command) {
    Command hs = Reply::header_status(in.header, code);
    if (chal) hs.chal = *chal;
    reply.add_status(std::move(hs));
    if (status_per_command)
        for (const Command& cmd : in.body)
            if (cmd.kind != CommandKind::Status) reply.add_status(Reply::status(cmd, in.header.msg_id, code));
    reply.take_overflow();  // what does not fit the client's MaxMsgSize is left out
    reply.set_final(true);
    phase_ = Phase::done;
    ended_ = true;
    Response response;
    response.body = encode(reply.finish(), encoding_);
    response.content_type = content_type(encoding_);
    response.session_ended = true;
    cached_ = response;
    return response;
}

void Session::dispatch(const Command& cmd, const std::string& msg_ref, Reply& reply) {
    switch (cmd.kind) {
        case CommandKind::Status: on_status(cmd); return;
        case CommandKind::Results:
            for (const Item& item : cmd.items) remember_devinf(item);
            return;
        case CommandKind::Put: {
            Command s = Reply::status(cmd, msg_ref, 200);
            for (const Item& item : cmd.items) {
                remember_devinf(item);
                if (!item.source.uri.empty()) s.source_refs.push_back(item.source.uri);
            }
            reply.add_status(std::move(s));
            return;
        }
        case CommandKind::Get: on_get(cmd, msg_ref, reply); return;
        case CommandKind::Alert: on_alert(cmd, msg_ref, reply); return;
        case CommandKind::Sync: on_sync(cmd, msg_ref, reply); return;
        case CommandKind::Map: on_map(cmd, msg_ref, reply); return;
        case CommandKind::Sequence:
            reply.add_status(Reply::status(cmd, msg_ref, 200));
            for (const Command& child : cmd.children) dispatch(child, msg_ref, reply);
            return;
        case CommandKind::Add:
        case CommandKind::Replace:
        case CommandKind::Delete:
            reply.add_status(Reply::status(cmd, msg_ref, 403));  // data changes belong inside a Sync
            return;
        case CommandKind::Atomic:
        case CommandKind::Copy:
        case CommandKind::Move:
        case CommandKind::Exec:
        case CommandKind::Search:
            reply.add_status(Reply::status(cmd, msg_ref, 406));
            return;
    }
}

void Session::remember_devinf(const Item& item) {
    if (!item.devinf) return;
    // Kept as a one-command XML message: the codec reads it back.
    Message holder;
    holder.header.ver_dtd = version_string(version_);
    holder.header.ver_proto = std::string("SyncML/") + version_string(version_);
    Command put;
    put.kind = CommandKind::Put;
    put.cmd_id = "1";
    Item copy;
    copy.devinf = *item.devinf;
    copy.has_data = true;
    put.items.push_back(std::move(copy));
    holder.body.push_back(std::move(put));
    ctx_.state->devices().set_devinf(user_, device_, encode(holder, Encoding::xml));
    devinf_received_ = true;
}

// The device's DevInf as the registry keeps it (sent in this session or an
// earlier one); nullopt when the device never sent one.
std::optional<DevInf> Session::client_devinf() {
    std::optional<std::string> xml = ctx_.state->devices().devinf(user_, device_);
    if (!xml) return std::nullopt;
    try {
        Message holder = decode(*xml, Encoding::xml);
        for (const Command& c : holder.body)
            for (const Item& item : c.items)
                if (item.devinf) return *item.devinf;
    } catch (const DecodeError&) {
    }
    return std::nullopt;
}

bool Session::devinf_known() { return devinf_received_ || ctx_.state->devices().devinf(user_, device_).has_value(); }

void Session::on_get(const Command& cmd, const std::string& msg_ref, Reply& reply) {
    const Item* item = cmd.items.empty() ? nullptr : &cmd.items.front();
    if (!item || !is_devinf_uri(item->target.uri)) {
        Command s = Reply::status(cmd, msg_ref, 404);
        if (item) s.target_refs = {item->target.uri};
        reply.add_status(std::move(s));
        return;
    }
    Command s = Reply::status(cmd, msg_ref, 200);
    s.target_refs = {item->target.uri};
    reply.add_status(std::move(s));
    Command results;
    results.kind = CommandKind::Results;
    results.msg_ref = msg_ref;
    results.cmd_ref = cmd.cmd_id;
    results.meta.type = encoding_ == Encoding::wbxml ? kDevInfWbxml : kDevInfXml;
    results.target_refs = {item->target.uri};
    Item out;
    out.source.uri = devinf_uri(version_);
    out.devinf = server_devinf(version_, ctx_.config.server_id);
    out.has_data = true;
    results.items.push_back(std::move(out));
    reply.add_or_hold(std::move(results));  // in a later message of the package when it does not fit
}

std::optional<OpenDatabase> Session::open_database(const DatabaseName& name) {
    OpenDatabase db;
    DatastoreProvider& provider = *ctx_.config.datastores;
    if (name.global_address_book) {
        db.store = provider.open_global_address_book();
        db.read_only = true;
    } else if (name.owner == user_) {
        db.store = provider.open(user_, name.category);
    } else {
        std::optional<Access> access = provider.grant(name.owner, name.category, user_);
        if (!access) return std::nullopt;
        db.store = provider.open(name.owner, name.category);
        db.read_only = *access == Access::read_only;
    }
    if (!db.store) return std::nullopt;
    db.state = ctx_.state->open(name.global_address_book ? std::string() : name.owner, name.category, *db.store);
    return db;
}

SyncTask* Session::task_for(const std::string& server_uri) {
    for (auto& task : tasks_)
        if (task->server_uri() == server_uri) return task.get();
    return nullptr;
}

void Session::on_alert(const Command& cmd, const std::string& msg_ref, Reply& reply) {
    std::optional<std::uint64_t> code = to_number(cmd.data);
    if (code == 222u) {  // "send the next message": answered by the reply itself
        reply.add_status(Reply::status(cmd, msg_ref, 200));
        return;
    }
    if (code == 223u) {
        on_no_end_of_data(cmd, msg_ref, reply);
        return;
    }
    if (code == 224u && version_ == Version::v1_2) {
        // Suspend (libsynthesis names the session, not a database): the
        // session ends with this message, its databases resumable (225).
        Command s = Reply::status(cmd, msg_ref, 200);
        if (!cmd.items.empty()) {
            s.target_refs = {cmd.items.front().target.uri};
            s.source_refs = {cmd.items.front().source.uri};
        }
        reply.add_status(std::move(s));
        suspending_ = true;
        return;
    }
    // 225 (resume) exists from SyncML 1.2 on. The session it resumes may
    // still be open here (SyncEvolution stops without a word when the user
    // suspends it): it ends now and leaves its resume point, before any of
    // this session's databases is opened.
    if (code == 225u && version_ == Version::v1_2 && tasks_.empty() && ctx_.supersede) ctx_.supersede(*this);
    bool sync_alert = code && ((*code >= 200 && *code <= 205) || *code == 250 || *code == 251 ||
                               (*code == 225 && version_ == Version::v1_2));
    for (const Item& item : cmd.items) {
        const std::string& target = item.target.uri.empty() ? item.source.uri : item.target.uri;
        Command s = Reply::status(cmd, msg_ref, 200);
        s.target_refs = {item.target.uri};
        s.source_refs = {item.source.uri};
        auto answer = [&](int status) {
            s.data = std::to_string(status);
            reply.add_status(std::move(s));
        };
        if (!sync_alert) {
            ctx_.log(LogLevel::warning, "device " + device_ + ": alert " + cmd.data + " for " + target +
                                            " is not supported (406)");
            answer(406);
            continue;
        }
        if (phase_ != Phase::init) {
            answer(403);  // a sync starts in the client's first package only
            continue;
        }
        std::optional<DatabaseName> name = parse_database_name(target, user_, ctx_.config.aliases);
        // One sync stream per database and session, whatever name it goes by
        // ("contacts", "card", "contacts?x"): checked before the store opens.
        bool taken = name && std::any_of(tasks_.begin(), tasks_.end(), [&](const auto& t) {
                         return t->name() == *name;
                     });
        if (taken) {
            answer(403);
            continue;
        }
        std::optional<OpenDatabase> db = name ? open_database(*name) : std::nullopt;
        if (!db) {
            // Unknown and not shared look the same, so nothing leaks.
            ctx_.log(LogLevel::info, "user " + user_ + ": no database \"" + for_log(target) + "\" (404)");
            answer(404);
            continue;
        }
        auto task = std::make_unique<SyncTask>(*name, target, item.source.uri, device_, std::move(*db));
        task->set_max_obj_size(ctx_.config.max_obj_size);
        task->set_conflict_policy(ctx_.config.conflict_policy ? ctx_.config.conflict_policy(name->owner, name->category)
                                                              : ConflictPolicy::merge);
        task->set_delete_guard(ctx_.config.mass_delete_guard);
        if (auto size = to_number(item.meta.max_obj_size))
            task->set_client_max_obj_size(static_cast<std::size_t>(*size), true);
        else if (client_max_obj_size_)
            task->set_client_max_obj_size(client_max_obj_size_, false);
        task->set_warning_sink([this](const std::string& m) { ctx_.log(LogLevel::warning, "user " + user_ + ": " + m); });
        Anchor client_anchor = item.meta.anchor.value_or(Anchor{});
        SyncTask::Negotiation n = task->negotiate(static_cast<int>(*code), client_anchor);
        ctx_.log(LogLevel::info, "user " + user_ + ": \"" + target + "\" alert " + cmd.data + " -> " +
                                     std::to_string(n.status) + ", mode " +
                                     std::to_string(static_cast<int>(n.mode)));
        if (n.snapshot)  // a warning, so that it shows without --verbose: it is how the data comes back
            ctx_.log(LogLevel::warning, "user " + user_ + ": \"" + target + "\" is refreshed from device " + device_ +
                                         "; its data as it was is kept in " + *n.snapshot);
        if (n.status >= 300 && n.status != 508 && n.status != 509) {
            answer(n.status);
            continue;
        }
        Item echo;
        echo.data_anchor = Anchor{"", client_anchor.next};
        echo.has_data = true;
        s.items.push_back(std::move(echo));
        answer(n.status);
        reply.add_or_hold(task->server_alert(ctx_.config.max_obj_size));
        tasks_.push_back(std::move(task));
    }
}

// Alert 223, "no end of data": the client dropped the large object we were
// sending in chunks (its Item's Target names our item as we sent it).
void Session::on_no_end_of_data(const Command& cmd, const std::string& msg_ref, Reply& reply) {
    Command s = Reply::status(cmd, msg_ref, 200);
    for (const Item& item : cmd.items) {
        const std::string& id = item.target.uri.empty() ? item.source.uri : item.target.uri;
        bool ours = false;
        for (auto& task : tasks_) ours = task->restart_chunks(id) || ours;
        if (!ours)
            ctx_.log(LogLevel::warning, "device " + for_log(device_) + ": alert 223 (no end of data) for " +
                                            for_log(id) + ", which is not an item we sent in chunks");
    }
    reply.add_status(std::move(s));
}

// What the client takes, from its DevInf (sent in package 1 or as Results to
// our Get, which come before its Sync): large objects, and for each database
// its format and the properties it can hold. Once a session.
void Session::learn_client() {
    if (client_known_) return;
    client_known_ = true;
    std::optional<DevInf> devinf = client_devinf();
    if (!devinf) return;
    client_large_objects_ = devinf->support_large_objs;
    const ServerConfig& config = ctx_.config;
    pim::Profile profile = config.client_profile ? config.client_profile(devinf->man, devinf->mod, devinf->dev_id)
                                                 : pim::profile_for(devinf->man, devinf->mod, devinf->dev_id);
    if (profile.time_zone.empty() && config.user_time_zone) profile.time_zone = config.user_time_zone(user_);
    ctx_.log(LogLevel::debug, "device " + device_ + ": conversion profile " + profile.name);
    for (auto& task : tasks_) {
        Category category = task->name().category;
        task->set_client({preferred_rx(*devinf, task->client_uri(), category),
                          ctcap_properties(*devinf, task->client_uri(), category), profile});
    }
}

void Session::on_sync(const Command& cmd, const std::string& msg_ref, Reply& reply) {
    learn_client();
    Command s = Reply::status_with_refs(cmd, msg_ref, 200);
    SyncTask* task = task_for(cmd.target.uri);
    if (!task) {
        s.data = "404";
        reply.add_status(std::move(s));
        for (const Command& child : cmd.children) reply.add_status(Reply::status(child, msg_ref, 404));
        return;
    }
    reply.add_status(std::move(s));
    task->before_changes(cmd);
    std::function<void(const Command&)> run = [&](const Command& child) {
        switch (child.kind) {
            case CommandKind::Add:
            case CommandKind::Replace:
            case CommandKind::Delete: task->apply(child, msg_ref, reply); break;
            case CommandKind::Sequence:
                reply.add_status(Reply::status(child, msg_ref, 200));
                for (const Command& c : child.children) run(c);
                break;
            default: reply.add_status(Reply::status(child, msg_ref, 406)); break;
        }
    };
    for (const Command& child : cmd.children) run(child);
}

void Session::on_map(const Command& cmd, const std::string& msg_ref, Reply& reply) {
    Command s = Reply::status_with_refs(cmd, msg_ref, 200);
    SyncTask* task = task_for(cmd.target.uri);
    if (!task) {
        s.data = "404";
    } else {
        // Idempotent: Funambol repeats MapItems it already had acknowledged.
        task->map_all(cmd.map_items);
    }
    reply.add_status(std::move(s));
}

void Session::after_commands(const Message& in, Reply& reply) {
    // The client's statuses for our last message are in: what they did not
    // confirm is sent again in a later session.
    for (auto& task : tasks_) task->forget_unconfirmed();
    if (suspending_ && phase_ != Phase::done) {
        // After the message's other commands: what they brought is kept too.
        save_resume_points("suspended", false);
        reply.set_final(true);
        finish("suspended by the client");
        return;
    }
    // A large object the client left open in its package 3 (not continued
    // by this message, or the package ended) is broken off with Alert 223.
    // (One carried over by a resume waits through package 1.)
    if (phase_ == Phase::client_changes)
        for (auto& task : tasks_) task->end_of_client_message(in.final, reply);
    switch (phase_) {
        case Phase::init:
            if (!in.final && !server_init_open_) break;
            // Package 2: statuses, Results and our Alerts are in; ask for the
            // device's DevInf when we have none.
            if (!server_init_open_ && !devinf_known()) {
                Command get;
                get.kind = CommandKind::Get;
                get.meta.type = encoding_ == Encoding::wbxml ? kDevInfWbxml : kDevInfXml;
                Item item;
                item.target.uri = devinf_uri(version_);
                get.items.push_back(std::move(item));
                reply.add_or_hold(std::move(get));
            }
            // More than the client's MaxMsgSize: package 2 goes on in the
            // next message, which the client asks for (Alert 222).
            server_init_open_ = reply.holding() || reply.overflowing();
            if (server_init_open_) {
                reply.set_final(false);
                return;
            }
            reply.set_final(true);
            phase_ = tasks_.empty() ? Phase::done : Phase::client_changes;
            if (tasks_.empty()) finish("no database to sync");
            return;
        case Phase::client_changes:
            if (!in.final) break;
            for (auto& task : tasks_) {
                task->end_of_client_changes();
                task->prepare_outbox();
            }
            phase_ = Phase::server_changes;
            fill_server_changes(reply);
            return;
        case Phase::server_changes:
            fill_server_changes(reply);
            return;
        case Phase::map:
            if (!in.final) break;
            for (auto& task : tasks_) task->commit_anchors();
            reply.set_final(true);
            finish("completed");
            return;
        case Phase::done:
            reply.set_final(true);
            return;
    }
    // A message inside a client package: our statuses keep the client going;
    // with nothing else to say, ask for its next message.
    if (reply.only_header_status()) {
        Command next;
        next.kind = CommandKind::Alert;
        next.data = "222";
        Item item;
        item.target.uri = device_;
        item.source.uri = server_uri_;
        next.items.push_back(std::move(item));
        reply.add_command(std::move(next));
    }
}

void Session::fill_server_changes(Reply& reply) {
    // Statuses and held commands first; the client asks for the next message.
    if (reply.overflowing() || reply.holding()) return;
    bool all_sent = true;
    learn_client();
    for (auto& task : tasks_)
        if (!task->fill(reply, client_large_objects_)) {
            all_sent = false;
            break;  // the message is full
        }
    if (!all_sent) return;
    reply.set_final(true);
    bool expects_map = false;
    for (auto& task : tasks_) expects_map = expects_map || server_sends(task->mode());
    if (expects_map) {
        phase_ = Phase::map;
        return;
    }
    // From-client modes have no package 5: the session ends here.
    for (auto& task : tasks_) task->commit_anchors();
    finish("completed");
}

void Session::finish(const char* how) {
    phase_ = Phase::done;
    ended_ = true;
    std::string summary;
    for (auto& task : tasks_) {
        const SyncCounts& in = task->from_client();
        const SyncCounts& out = task->to_client();
        summary += " \"" + task->server_uri() + "\" mode " + std::to_string(static_cast<int>(task->mode())) +
                   ": from client +" + std::to_string(in.added) + " ~" + std::to_string(in.replaced) + " -" +
                   std::to_string(in.deleted) + ", to client +" + std::to_string(out.added) + " ~" +
                   std::to_string(out.replaced) + " -" + std::to_string(out.deleted) +
                   (in.conflicts ? ", " + std::to_string(in.conflicts) + " conflicts" : "") +
                   (in.refused_deletes ? ", " + std::to_string(in.refused_deletes) + " deletes refused" : "") + ";";
    }
    ctx_.log(LogLevel::info, "session " + token_.substr(0, 8) + " of " + user_ + "@" + device_ + " " + how + "." +
                                 summary);
}

std::string new_session_token() { return hex(random_bytes(16)); }

}  // namespace smk::engine
