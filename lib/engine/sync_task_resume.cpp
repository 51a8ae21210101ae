// Suspend and resume (OMA DS 1.2, Alerts 224 and 225) for one database.
//
// Every client message commits on its own, so what an interrupted session
// exchanged is in the sync state already: the client's items with their
// revisions, the server's Adds awaiting their Map, the Replaces and Deletes
// the client confirmed. What a resume needs beyond that is kept in a
// resume point (state/resume_state.hpp): the mode and anchors of the
// session, the alert code the client sent (a fallback keeps its limits),
// whether the client's package 3 was complete (so it is not ended twice),
// and a large object cut off in either direction. The items a slow sync or
// a refresh from the client paired before the interruption stay claimed in
// the pairing index (state/pairing_index.hpp), which a resumed session
// keeps: its end forgets only what the client sent in neither session.
//
// A resumed session runs the usual packages: the client sends its pending
// Maps and the changes it had not sent (libsynthesis marks them for resume),
// the outbox is built anew from the state, so nothing the client confirmed
// is sent again, and a large object continues where it stopped. Its data
// position travels as libsynthesis writes it, <EMI>datapos=N</EMI> in the
// item's Meta.
#include "engine/sync_task.hpp"

#include <chrono>

namespace smk::engine {
using namespace smk::wire;

namespace {

// A resume point older than this is not honoured (a day: a suspended sync
// resumed the next morning still carries on).
constexpr std::int64_t kResumeLifetime = 24 * 3600;

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The data position libsynthesis gives a chunk: <EMI>datapos=N</EMI>.
std::optional<std::uint64_t> data_position(const Meta& meta) {
    for (const std::string& emi : meta.emi)
        if (emi.rfind("datapos=", 0) == 0) return to_number(std::string_view(emi).substr(8));
    return std::nullopt;
}

bool valid_mode(int code) { return code >= 200 && code <= 205; }

}  // namespace

std::optional<SyncTask::Negotiation> SyncTask::resume_session(const Anchor& client_anchor) {
    auto say = [&](const std::string& m) {
        if (warn_) warn_(name_.owner + "/" + category_name(name_.category) + ": device " + device_ + ": " + m);
    };
    std::optional<state::ResumePoint> p = db_.state->resume().load(device_);
    if (!p) {
        say("resume asked, but no interrupted session is known (509, a normal sync instead)");
        return std::nullopt;
    }
    std::optional<state::Anchors> stored = db_.state->sync().anchors(device_);
    std::string why;
    std::int64_t age = unix_now() - p->saved_at;
    if (age > kResumeLifetime || age < -60)
        why = "it was interrupted " + std::to_string(age / 3600) + " h ago";
    else if (p->server_last != (stored ? stored->server_next : std::string()))
        why = "a session completed since";
    else if (!client_anchor.last.empty() && client_anchor.last != p->client_last)
        why = "its Last anchor \"" + client_anchor.last + "\" is not that of the interrupted session (\"" +
              p->client_last + "\")";
    else if (!valid_mode(p->mode) || (db_.read_only && client_sends(static_cast<SyncMode>(p->mode))))
        why = "its mode " + std::to_string(p->mode) + " is not allowed";
    if (!why.empty()) {
        db_.state->resume().erase(device_);
        say("resume refused: " + why + " (509, a normal sync instead)");
        return std::nullopt;
    }
    resumed_ = true;
    resumed_client_done_ = p->client_done;
    mode_ = static_cast<SyncMode>(p->mode);
    requested_ = p->requested;
    client_anchor_ = client_anchor;
    if (client_anchor_.last.empty()) client_anchor_.last = p->client_last;
    server_last_ = p->server_last;
    server_next_ = p->server_next;
    // A refresh from the client that stood in for a one-way sync without
    // history still only adds and pairs.
    fallback_refresh_ = mode_ == SyncMode::refresh_from_client && requested_ != 203;
    db_.state->resume().erase(device_);  // taken now; a new interruption records anew
    std::string chunks;
    if (!p->in_luid.empty()) {
        chunk_luid_ = p->in_luid;
        chunk_data_ = std::move(p->in_data);
        chunk_declared_size_ = p->in_size;
        resumed_in_chunk_ = true;
        chunks += "; item " + chunk_luid_ + " from the client continues after " + std::to_string(chunk_data_.size()) +
                  " bytes";
    }
    if ((p->out_op == 1 || p->out_op == 2) && p->out_offset < p->out_data.size()) {
        Command op;
        op.kind = p->out_op == 1 ? CommandKind::Add : CommandKind::Replace;
        op.meta.type = p->out_type;
        op.meta.format = p->out_format;
        Item item;
        item.source.uri = p->out_guid;
        if (op.kind == CommandKind::Replace) item.target.uri = p->out_luid;
        item.has_data = true;
        // Its first chunk now says where it continues, and the whole size;
        // send_chunk() leaves both off the chunks after it.
        item.meta.size = std::to_string(p->out_data.size());
        item.meta.emi = {"datapos=" + std::to_string(p->out_offset)};
        item.data = std::move(p->out_data);
        op.items.push_back(std::move(item));
        outgoing_chunks_ = std::move(op);
        outgoing_offset_ = p->out_offset;
        out_confirmed_guid_ = p->out_guid;
        out_confirmed_ = p->out_offset;
        resumed_out_guid_ = p->out_guid;
        if (p->out_op == 1) {
            // The Add awaits its Map, as when it was first sent (a refusal
            // since, 514 on suspend, may have dropped that).
            if (!db_.state->sync().by_guid(device_, p->out_guid)) db_.state->sync().put(device_, {p->out_guid, "", p->out_revision});
            ++to_client_.added;
        } else {
            chunked_key_ = "r\n" + p->out_guid;
            unconfirmed_[chunked_key_] = Unconfirmed{p->out_guid, p->out_luid, p->out_revision};
            ++to_client_.replaced;
        }
        chunks += "; item " + p->out_guid + " to the client continues at byte " + std::to_string(p->out_offset);
    }
    say("resumes the session " + p->cause + " " + std::to_string(age) + " s ago, mode " + std::to_string(p->mode) +
        (p->client_done ? ", its changes all received" : ", its changes go on") +
        chunks);
    return Negotiation{200, mode_, std::nullopt};
}

void SyncTask::save_resume_point(const char* cause, bool client_done) {
    // A session of this device completed since this one began: nothing of
    // it is left to resume.
    std::optional<state::Anchors> stored = db_.state->sync().anchors(device_);
    if ((stored ? stored->server_next : std::string()) != server_last_) return;
    state::ResumePoint p;
    p.mode = static_cast<int>(mode_);
    p.requested = requested_;
    p.client_last = client_anchor_.last;
    p.client_next = client_anchor_.next;
    p.server_last = server_last_;
    p.server_next = server_next_;
    p.saved_at = unix_now();
    p.cause = cause;
    p.client_done = client_done;
    p.sent_seq = last_sent_seq_;
    if (!chunk_luid_.empty()) {
        p.in_luid = chunk_luid_;
        p.in_data = chunk_data_;
        p.in_size = chunk_declared_size_;
    }
    if (outgoing_chunks_ && outgoing_chunks_->items.size() == 1) {
        const Command& op = *outgoing_chunks_;
        const Item& item = op.items.front();
        p.out_op = op.kind == CommandKind::Add ? 1 : 2;
        p.out_guid = item.source.uri;
        p.out_luid = item.target.uri;
        p.out_type = op.meta.type;
        p.out_format = op.meta.format;
        p.out_data = item.data;
        p.out_offset = out_confirmed_guid_ == item.source.uri ? out_confirmed_ : 0;
        if (op.kind == CommandKind::Add) {
            if (auto revision = awaiting_revision(p.out_guid)) p.out_revision = *revision;
            else if (auto row = db_.state->sync().by_guid(device_, p.out_guid)) p.out_revision = row->revision;
        } else if (auto u = unconfirmed_.find("r\n" + p.out_guid); u != unconfirmed_.end()) {
            p.out_revision = u->second.revision;
        }
    }
    db_.state->resume().save(device_, p);
}

void SyncTask::chunk_confirmed() {
    if (!outgoing_chunks_ || outgoing_chunks_->items.empty()) return;
    out_confirmed_guid_ = outgoing_chunks_->items.front().source.uri;
    out_confirmed_ = outgoing_offset_;
}

int SyncTask::continue_resumed_chunk(const Command& cmd, const Item& item) {
    if (!resumed_) return 0;
    const std::string& luid = item.source.uri;
    bool first = resumed_in_chunk_;
    resumed_in_chunk_ = false;
    std::optional<std::uint64_t> pos = data_position(item.meta);
    if (!pos) pos = data_position(cmd.meta);
    const std::string& size = item.meta.size.empty() ? cmd.meta.size : item.meta.size;
    std::string what = name_.owner + "/" + category_name(name_.category) + " item " + luid + ": ";
    if (!chunk_luid_.empty() && chunk_luid_ == luid) {
        if (pos) {
            if (*pos == 0) {  // sent again from its start
                reset_chunks();
                return 0;
            }
            if (*pos > chunk_data_.size()) {
                if (warn_)
                    warn_(what + "continues at byte " + std::to_string(*pos) + ", but " +
                          std::to_string(chunk_data_.size()) + " had arrived; dropped (412)");
                reset_chunks();
                if (item.more_data) refused_luid_ = luid;
                return 412;
            }
            chunk_data_.resize(static_cast<std::size_t>(*pos));
            return 0;
        }
        // Without a position: a chunk with a Size starts the item over, one
        // without continues where the data received ends.
        if (first && !size.empty()) reset_chunks();
        return 0;
    }
    if (first && !chunk_luid_.empty()) drop_chunks("not continued after the resume");
    if (pos && *pos > 0) {
        // The rest of an item of which nothing is kept: it arrived whole
        // before (our status was lost), or its start is gone.
        if (!item.more_data && db_.state->sync().by_luid(device_, luid)) {
            if (warn_) warn_(what + "its last chunk again, after the resume: it arrived whole before; kept as it is");
            return 200;
        }
        if (warn_) warn_(what + "continues at byte " + std::to_string(*pos) + ", but nothing of it is kept (412)");
        if (item.more_data) refused_luid_ = luid;
        return 412;
    }
    return 0;
}

}  // namespace smk::engine
