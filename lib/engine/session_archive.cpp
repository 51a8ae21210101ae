// A Session and its SyncTasks written into a blob after a message and
// rebuilt from it before the next (session_archive.hpp for the format).
//
// What is not in the blob, and why:
//  Session
//   ctx_            the server's, shared by every session; the rebuilt one
//                   gets the ServerContext of the process that rebuilds it.
//   token_          the key the blob is kept under.
//   mutex           guards one process's object; across processes the
//                   SessionStore's lock does.
//   last_activity   the store notes when it saved the blob (SessionInfo::
//                   updated); a rebuilt session is active now.
//   parked_         says what becomes of this object, not of the session.
//  SyncTask
//   db_             the store and its sync state: reopened by name through
//                   Session::open_database (no transaction is open between
//                   two messages: each commits on its own).
//   policy_, guard_, max_obj_size_, warn_
//                   set from the configuration and the session again, as
//                   Session::on_alert set them: callbacks cannot be written.
// Everything else is, field by field, in the order the declarations give.
#include "engine/session_archive.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "engine/session.hpp"
#include "state/session_store.hpp"
#include "syncmlkit/wire.hpp"

namespace smk::engine {
using namespace smk::wire;

namespace {

const char kMagic[4] = {'S', 'M', 'K', 'S'};

// Made on first use: the tests set it from their own static initializers.
struct TestStoreHook {
    std::mutex mutex;
    std::function<std::unique_ptr<state::SessionStore>()> make;
};
TestStoreHook& test_store_hook() {
    static TestStoreHook hook;
    return hook;
}

// The time points of one process's steady clock as wall-clock time, which
// another process can read (nanoseconds since the Unix epoch).
std::int64_t to_wall(std::chrono::steady_clock::time_point t) {
    auto age = std::chrono::steady_clock::now() - t;
    auto wall = std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(age);
    return std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count();
}

std::chrono::steady_clock::time_point from_wall(std::int64_t ns) {
    auto wall = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(ns)));
    auto age = std::chrono::system_clock::now() - wall;
    return std::chrono::steady_clock::now() - std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
}

template <typename Map>
std::vector<typename Map::const_iterator> sorted(const Map& map) {
    std::vector<typename Map::const_iterator> out;
    for (auto it = map.begin(); it != map.end(); ++it) out.push_back(it);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->first < b->first; });
    return out;
}

void write_anchor(ArchiveWriter& w, const Anchor& a) {
    w.str(a.last);
    w.str(a.next);
}

Anchor read_anchor(ArchiveReader& r) {
    Anchor a;
    a.last = r.str();
    a.next = r.str();
    return a;
}

void write_counts(ArchiveWriter& w, const SyncCounts& c) {
    for (std::size_t n : {c.added, c.replaced, c.deleted, c.conflicts, c.refused_deletes}) w.u64(n);
}

SyncCounts read_counts(ArchiveReader& r) {
    SyncCounts c;
    for (std::size_t* n : {&c.added, &c.replaced, &c.deleted, &c.conflicts, &c.refused_deletes}) *n = r.u64();
    return c;
}

// A number read back into an enum of `count` values.
template <typename Enum>
Enum read_enum(ArchiveReader& r, std::uint64_t count, const char* what) {
    std::uint64_t v = r.u64();
    if (v >= count) throw SessionArchiveError(std::string("session blob: ") + what + " out of range");
    return static_cast<Enum>(v);
}

}  // namespace

// ---- the format ----

ArchiveWriter::ArchiveWriter(Version version) : version_(version) {
    out_.append(kMagic, sizeof kMagic);
    out_ += static_cast<char>(kSessionArchiveVersion);
}

void ArchiveWriter::u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void ArchiveWriter::flag(bool v) { out_ += v ? '\1' : '\0'; }

void ArchiveWriter::str(std::string_view v) {
    u64(v.size());
    out_.append(v.data(), v.size());
}

void ArchiveWriter::commands(const std::vector<Command>& cmds) {
    u64(cmds.size());
    if (cmds.empty()) return;
    Message holder;
    holder.header.ver_dtd = version_string(version_);
    holder.header.ver_proto = std::string("SyncML/") + version_string(version_);
    holder.body = cmds;
    str(encode(holder, Encoding::wbxml));
}

ArchiveReader::ArchiveReader(std::string_view blob) : in_(blob) {
    if (in_.size() < sizeof kMagic + 1 || in_.compare(0, sizeof kMagic, std::string_view(kMagic, sizeof kMagic)) != 0)
        throw SessionArchiveError("not a session blob");
    auto version = static_cast<unsigned char>(in_[sizeof kMagic]);
    if (version != kSessionArchiveVersion)
        throw SessionArchiveError("a session blob of version " + std::to_string(version) + ", not " +
                                  std::to_string(kSessionArchiveVersion));
    pos_ = sizeof kMagic + 1;
}

std::string_view ArchiveReader::take(std::size_t n) {
    if (n > in_.size() - pos_) throw SessionArchiveError("session blob cut short");
    std::string_view out = in_.substr(pos_, n);
    pos_ += n;
    return out;
}

std::uint64_t ArchiveReader::u64() {
    std::string_view b = take(8);
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<std::size_t>(i)]);
    return v;
}

bool ArchiveReader::flag() {
    char c = take(1)[0];
    if (c != '\0' && c != '\1') throw SessionArchiveError("session blob: a flag neither 0 nor 1");
    return c == '\1';
}

std::string ArchiveReader::str() {
    std::uint64_t n = u64();
    if (n > in_.size() - pos_) throw SessionArchiveError("session blob cut short");
    return std::string(take(static_cast<std::size_t>(n)));
}

std::vector<Command> ArchiveReader::commands() {
    std::uint64_t n = u64();
    if (n == 0) return {};
    std::string bytes = str();
    DecodeLimits limits;
    limits.max_bytes = bytes.size();
    Message holder;
    try {
        holder = decode(bytes, Encoding::wbxml, limits);
    } catch (const DecodeError& e) {
        throw SessionArchiveError(std::string("session blob: commands not readable: ") + e.what());
    }
    if (holder.body.size() != n || holder.version() != version_)
        throw SessionArchiveError("session blob: commands not as written");
    return std::move(holder.body);
}

void ArchiveReader::end() const {
    if (pos_ != in_.size()) throw SessionArchiveError("session blob: " + std::to_string(in_.size() - pos_) +
                                                      " bytes more than a session");
}

std::function<std::unique_ptr<state::SessionStore>()> set_session_store_for_tests(
    std::function<std::unique_ptr<state::SessionStore>()> make) {
    TestStoreHook& hook = test_store_hook();
    std::lock_guard<std::mutex> lock(hook.mutex);
    std::swap(hook.make, make);
    return make;
}

std::unique_ptr<state::SessionStore> session_store_for_tests() {
    TestStoreHook& hook = test_store_hook();
    std::lock_guard<std::mutex> lock(hook.mutex);
    return hook.make ? hook.make() : nullptr;
}

// ---- Session ----

Session::Session(const ServerContext& ctx, std::string token, std::chrono::steady_clock::time_point created)
    : last_activity(std::chrono::steady_clock::now()), ctx_(ctx), token_(std::move(token)), created_(created) {}

std::string Session::archive() const {
    ArchiveWriter w(version_);
    w.u64(static_cast<std::uint64_t>(version_));  // first: the Commands below are in it
    w.i64(to_wall(created_));
    w.u64(static_cast<std::uint64_t>(phase_));
    w.flag(started_);
    w.flag(authenticated_);
    w.str(user_);
    w.str(device_);
    w.str(peer_);
    w.str(session_id_);
    w.str(server_uri_);
    w.str(resp_uri_);
    w.u64(static_cast<std::uint64_t>(encoding_));
    w.u64(client_max_msg_size_);
    w.u64(out_msg_id_);
    w.u64(last_in_hash_);
    w.u64(last_in_size_);
    w.str(cached_.body);
    w.str(cached_.content_type);
    w.i64(cached_.http_status);
    w.flag(cached_.session_ended);
    w.u64(cached_.retry_after);
    w.str(cached_.session);
    w.flag(devinf_received_);
    w.flag(client_known_);
    w.flag(client_large_objects_);
    w.u64(tasks_.size());
    for (const auto& task : tasks_) {
        const DatabaseName& name = task->name();
        w.str(name.owner);
        w.u64(static_cast<std::uint64_t>(name.category));
        w.flag(name.global_address_book);
        w.str(task->server_uri());
        w.str(task->client_uri());
        task->archive(w);
    }
    w.u64(sent_items_.size());
    for (const auto& it : sorted(sent_items_)) {
        w.str(it->first);
        w.str(it->second.server_uri);
        w.str(it->second.id);
        w.flag(it->second.is_delete);
        w.flag(it->second.more_data);
    }
    w.commands(pending_statuses_);
    w.commands(pending_commands_);
    w.flag(server_init_open_);
    w.u64(client_max_obj_size_);
    w.flag(ended_);
    w.flag(suspending_);
    return w.take();
}

std::unique_ptr<Session> Session::restore(const ServerContext& ctx, const std::string& token, std::string_view blob) {
    ArchiveReader r(blob);
    auto version = read_enum<Version>(r, 3, "SyncML version");
    r.set_version(version);
    std::int64_t created = r.i64();
    std::unique_ptr<Session> s(new Session(ctx, token, from_wall(created)));
    // Until it is whole, the half-read session is no session to end.
    s->parked_ = true;
    s->version_ = version;
    s->phase_ = read_enum<Phase>(r, 5, "phase");
    s->started_ = r.flag();
    s->authenticated_ = r.flag();
    s->user_ = r.str();
    s->device_ = r.str();
    s->peer_ = r.str();
    s->session_id_ = r.str();
    s->server_uri_ = r.str();
    s->resp_uri_ = r.str();
    s->encoding_ = read_enum<Encoding>(r, 2, "encoding");
    s->client_max_msg_size_ = r.u64();
    s->out_msg_id_ = static_cast<unsigned>(r.u64());
    s->last_in_hash_ = r.u64();
    s->last_in_size_ = r.u64();
    s->cached_.body = r.str();
    s->cached_.content_type = r.str();
    s->cached_.http_status = static_cast<int>(r.i64());
    s->cached_.session_ended = r.flag();
    s->cached_.retry_after = static_cast<unsigned>(r.u64());
    s->cached_.session = r.str();
    s->devinf_received_ = r.flag();
    s->client_known_ = r.flag();
    s->client_large_objects_ = r.flag();
    std::uint64_t tasks = r.u64();
    if (tasks > 64) throw SessionArchiveError("session blob: " + std::to_string(tasks) + " databases");
    for (std::uint64_t i = 0; i < tasks; ++i) {
        DatabaseName name;
        name.owner = r.str();
        name.category = read_enum<Category>(r, 4, "category");
        name.global_address_book = r.flag();
        std::string server_uri = r.str();
        std::string client_uri = r.str();
        std::optional<OpenDatabase> db = s->open_database(name);
        if (!db)
            throw DatastoreError("session " + token.substr(0, 8) + ": database \"" + server_uri +
                                 "\" no longer opens for user " + s->user_);
        auto task = std::make_unique<SyncTask>(name, server_uri, client_uri, s->device_, std::move(*db));
        task->restore(r);
        // As Session::on_alert set them.
        task->set_max_obj_size(ctx.config.max_obj_size);
        task->set_conflict_policy(ctx.config.conflict_policy ? ctx.config.conflict_policy(name.owner, name.category)
                                                             : ConflictPolicy::merge);
        task->set_delete_guard(ctx.config.mass_delete_guard);
        Session* self = s.get();
        task->set_warning_sink([self](const std::string& m) {
            self->ctx_.log(LogLevel::warning, "user " + self->user_ + ": " + m);
        });
        s->tasks_.push_back(std::move(task));
    }
    std::uint64_t sent = r.u64();
    for (std::uint64_t i = 0; i < sent; ++i) {
        std::string cmd_id = r.str();
        SentItem item;
        item.server_uri = r.str();
        item.id = r.str();
        item.is_delete = r.flag();
        item.more_data = r.flag();
        s->sent_items_.emplace(std::move(cmd_id), std::move(item));
    }
    s->pending_statuses_ = r.commands();
    s->pending_commands_ = r.commands();
    s->server_init_open_ = r.flag();
    s->client_max_obj_size_ = r.u64();
    s->ended_ = r.flag();
    s->suspending_ = r.flag();
    r.end();
    s->parked_ = false;
    return s;
}

// ---- SyncTask ----

void SyncTask::archive(ArchiveWriter& w) const {
    w.str(device_);
    w.u64(static_cast<std::uint64_t>(mode_));
    write_anchor(w, client_anchor_);
    w.str(server_last_);
    w.str(server_next_);
    w.flag(fallback_refresh_);
    w.flag(pairing_index_fresh_);
    w.flag(client_had_rows_);
    w.u64(indexed_items_);
    w.flag(has_unmapped_.has_value());
    w.flag(has_unmapped_.value_or(false));
    w.flag(store_size_.has_value());
    w.u64(store_size_.value_or(0));
    w.u64(deletes_asked_);
    w.flag(refusing_deletes_);
    w.str(chunk_luid_);
    w.str(chunk_data_);
    w.str(chunk_target_);
    w.flag(chunk_kind_.has_value());
    w.u64(chunk_kind_ ? static_cast<std::uint64_t>(*chunk_kind_) : 0);
    w.flag(chunk_continued_);
    w.flag(chunk_declared_size_.has_value());
    w.u64(chunk_declared_size_.value_or(0));
    w.str(refused_luid_);
    w.flag(outgoing_chunks_.has_value());
    if (outgoing_chunks_) w.commands({*outgoing_chunks_});
    w.u64(outgoing_offset_);
    w.u64(outgoing_restarts_);
    w.str(chunked_done_);
    w.u64(client_max_obj_size_);
    w.flag(client_max_obj_size_from_alert_);
    w.flag(deferred_whole_);
    w.flag(client_.rx.has_value());
    if (client_.rx) {
        w.str(client_.rx->type);
        w.str(client_.rx->version);
    }
    w.u64(client_.knows.size());
    for (const std::string& k : client_.knows) w.str(k);
    const pim::Profile& p = client_.profile;
    w.str(p.name);
    w.flag(p.vcal_count_is_intervals);
    w.flag(p.last_week_is_5_plus);
    w.flag(p.times_in_utc);
    w.str(p.charset);
    w.flag(p.blank_line_after_base64);
    w.flag(p.funambol_extensions);
    w.flag(p.vcard21_folds_like_30);
    w.str(p.time_zone);
    w.i64(last_sent_seq_);
    w.u64(out_page_.size());
    for (const state::OutboxEntry& e : out_page_) {
        w.i64(e.seq);
        w.u64(static_cast<std::uint64_t>(e.op));
        w.str(e.guid);
        w.str(e.luid);
    }
    w.u64(out_pos_);
    w.i64(out_page_no_);
    w.i64(out_pages_);
    w.u64(out_count_);
    w.flag(held_.has_value());
    if (held_) {
        w.str(held_->guid);
        w.commands({held_->op});
        w.str(held_->revision);
        w.u64(held_->size);
    }
    for (const auto* adds : {&sent_adds_, &awaiting_map_}) {
        w.u64(adds->size());
        for (const auto& it : sorted(*adds)) {
            w.str(it->first);
            w.str(it->second);
        }
    }
    w.str(sent_adds_key_);
    w.flag(sent_adds_saved_);
    w.u64(unconfirmed_.size());
    for (const auto& it : sorted(unconfirmed_)) {
        w.str(it->first);
        w.str(it->second.guid);
        w.str(it->second.luid);
        w.str(it->second.revision);
    }
    w.str(chunked_key_);
    w.flag(sent_sync_);
    write_counts(w, from_client_);
    write_counts(w, to_client_);
    w.flag(resumed_);
    w.i64(requested_);
    w.flag(resumed_client_done_);
    w.flag(resumed_in_chunk_);
    w.str(resumed_out_guid_);
    w.str(out_confirmed_guid_);
    w.u64(out_confirmed_);
}

void SyncTask::restore(ArchiveReader& r) {
    if (r.str() != device_) throw SessionArchiveError("session blob: a database of another device");
    std::uint64_t mode = r.u64();
    if (mode < 200 || mode > 205) throw SessionArchiveError("session blob: sync mode out of range");
    mode_ = static_cast<SyncMode>(mode);
    client_anchor_ = read_anchor(r);
    server_last_ = r.str();
    server_next_ = r.str();
    fallback_refresh_ = r.flag();
    pairing_index_fresh_ = r.flag();
    client_had_rows_ = r.flag();
    indexed_items_ = r.u64();
    bool has = r.flag();
    bool value = r.flag();
    has_unmapped_ = has ? std::optional<bool>(value) : std::nullopt;
    has = r.flag();
    std::size_t size = r.u64();
    store_size_ = has ? std::optional<std::size_t>(size) : std::nullopt;
    deletes_asked_ = r.u64();
    refusing_deletes_ = r.flag();
    chunk_luid_ = r.str();
    chunk_data_ = r.str();
    chunk_target_ = r.str();
    has = r.flag();
    auto kind = read_enum<CommandKind>(r, static_cast<std::uint64_t>(CommandKind::Sync) + 1, "command");
    chunk_kind_ = has ? std::optional<CommandKind>(kind) : std::nullopt;
    chunk_continued_ = r.flag();
    has = r.flag();
    std::uint64_t declared = r.u64();
    chunk_declared_size_ = has ? std::optional<std::uint64_t>(declared) : std::nullopt;
    refused_luid_ = r.str();
    outgoing_chunks_.reset();
    if (r.flag()) {
        std::vector<Command> cmds = r.commands();
        if (cmds.size() != 1 || cmds.front().items.size() != 1)
            throw SessionArchiveError("session blob: a large object going out is not one item");
        outgoing_chunks_ = std::move(cmds.front());
    }
    outgoing_offset_ = r.u64();
    outgoing_restarts_ = static_cast<unsigned>(r.u64());
    chunked_done_ = r.str();
    client_max_obj_size_ = r.u64();
    client_max_obj_size_from_alert_ = r.flag();
    deferred_whole_ = r.flag();
    client_ = ClientView{};
    if (r.flag()) {
        ContentType rx;
        rx.type = r.str();
        rx.version = r.str();
        client_.rx = std::move(rx);
    }
    std::uint64_t knows = r.u64();
    for (std::uint64_t i = 0; i < knows; ++i) client_.knows.push_back(r.str());
    pim::Profile& p = client_.profile;
    p.name = r.str();
    p.vcal_count_is_intervals = r.flag();
    p.last_week_is_5_plus = r.flag();
    p.times_in_utc = r.flag();
    p.charset = r.str();
    p.blank_line_after_base64 = r.flag();
    p.funambol_extensions = r.flag();
    p.vcard21_folds_like_30 = r.flag();
    p.time_zone = r.str();
    last_sent_seq_ = r.i64();
    std::uint64_t entries = r.u64();
    out_page_.clear();
    for (std::uint64_t i = 0; i < entries; ++i) {
        state::OutboxEntry e;
        e.seq = r.i64();
        e.op = read_enum<state::OutOp>(r, 3, "outbox operation");
        e.guid = r.str();
        e.luid = r.str();
        out_page_.push_back(std::move(e));
    }
    out_pos_ = r.u64();
    out_page_no_ = r.i64();
    out_pages_ = r.i64();
    out_count_ = r.u64();
    held_.reset();
    if (r.flag()) {
        Held h;
        h.guid = r.str();
        std::vector<Command> cmds = r.commands();
        if (cmds.size() != 1) throw SessionArchiveError("session blob: the held item is not one command");
        h.op = std::move(cmds.front());
        h.revision = r.str();
        h.size = r.u64();
        held_ = std::move(h);
    }
    for (auto* adds : {&sent_adds_, &awaiting_map_}) {
        adds->clear();
        std::uint64_t n = r.u64();
        for (std::uint64_t i = 0; i < n; ++i) {
            std::string guid = r.str();
            (*adds)[guid] = r.str();
        }
    }
    sent_adds_key_ = r.str();
    sent_adds_saved_ = r.flag();
    unconfirmed_.clear();
    std::uint64_t unconfirmed = r.u64();
    for (std::uint64_t i = 0; i < unconfirmed; ++i) {
        std::string key = r.str();
        Unconfirmed u;
        u.guid = r.str();
        u.luid = r.str();
        u.revision = r.str();
        unconfirmed_.emplace(std::move(key), std::move(u));
    }
    chunked_key_ = r.str();
    sent_sync_ = r.flag();
    from_client_ = read_counts(r);
    to_client_ = read_counts(r);
    resumed_ = r.flag();
    requested_ = static_cast<int>(r.i64());
    resumed_client_done_ = r.flag();
    resumed_in_chunk_ = r.flag();
    resumed_out_guid_ = r.str();
    out_confirmed_guid_ = r.str();
    out_confirmed_ = r.u64();
}

}  // namespace smk::engine
