#include "engine/sync_task.hpp"

#include <cstdio>
#include <ctime>

#include "engine/auth.hpp"
#include "engine/item_format.hpp"
#include "engine/item_identity.hpp"
#include "engine/item_text.hpp"
#include "engine/log_text.hpp"
#include "wire/text.hpp"

namespace smk::engine {
using namespace smk::wire;

bool client_sends(SyncMode m) {
    return m == SyncMode::two_way || m == SyncMode::slow || m == SyncMode::one_way_from_client ||
           m == SyncMode::refresh_from_client;
}

bool server_sends(SyncMode m) {
    return m == SyncMode::two_way || m == SyncMode::slow || m == SyncMode::one_way_from_server ||
           m == SyncMode::refresh_from_server;
}

void OpenDatabase::begin() {
    store->begin();
    if (state->has_own_transaction()) state->begin();
}

void OpenDatabase::commit() {
    if (state->has_own_transaction()) state->commit();
    try {
        store->commit();
    } catch (const std::exception&) {
        state_ahead = state->has_own_transaction();
        throw;
    }
}

void OpenDatabase::rollback() {
    if (state->has_own_transaction()) state->rollback();
    store->rollback();
}

namespace {

std::string hex_bytes(const std::string& bytes) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    return out;
}

// A new server anchor: the time, which only grows (clients compare anchors
// byte for byte, so any string that differs from the last one will do).
std::string new_anchor() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

// When an item was last changed, as it says itself (REV, LAST-MODIFIED), as
// "20240101T100000": compares as text. Empty when it does not say.
std::string stamp_text(const pim::DateTime& t) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d", t.year, t.month, t.day, t.hour, t.minute, t.second);
    return buf;
}

std::string modification_stamp(const std::optional<pim::Item>& item) {
    if (!item) return "";
    if (const auto* c = std::get_if<pim::Contact>(&*item)) {
        std::string digits;  // REV:2024-01-01T10:00:00Z and REV:20240101T100000Z alike
        for (char ch : c->revision)
            if (ch >= '0' && ch <= '9') digits += ch;
        return digits.size() >= 8 ? digits.substr(0, 8) + "T" + digits.substr(8) : "";
    }
    if (const auto* cal = std::get_if<pim::Calendar>(&*item)) {
        for (const pim::CalendarItem& e : cal->items)
            if (!e.recurrence_id && e.last_modified.valid()) return stamp_text(e.last_modified);
        return "";
    }
    const pim::Note& n = std::get<pim::Note>(*item);
    return n.last_modified.valid() ? stamp_text(n.last_modified) : "";
}

Command item_status(const Command& cmd, const Item& item, const std::string& msg_ref, int code) {
    Command s = Reply::status(cmd, msg_ref, code);
    if (!item.source.uri.empty()) s.source_refs = {item.source.uri};
    if (!item.target.uri.empty()) s.target_refs = {item.target.uri};
    return s;
}

}  // namespace

SyncTask::SyncTask(DatabaseName name, std::string server_uri, std::string client_uri, std::string device,
                   OpenDatabase db)
    : name_(std::move(name)),
      server_uri_(std::move(server_uri)),
      client_uri_(std::move(client_uri)),
      device_(std::move(device)),
      db_(std::move(db)) {}

SyncTask::Negotiation SyncTask::negotiate(int requested, const Anchor& client_anchor) {
    client_anchor_ = client_anchor;
    // Adds of a session that stopped before their Map (the server with it)
    // await their Map in rows of their own from now on.
    db_.state->sync().recover_sent_adds(device_);
    std::optional<state::Anchors> stored = db_.state->sync().anchors(device_);
    server_last_ = stored ? stored->server_next : "";
    server_next_ = new_anchor();
    if (server_next_ == server_last_) server_next_ += "-1";  // two sessions in one second
    bool anchors_match =
        stored && !client_anchor.last.empty() && client_anchor.last == stored->client_next;

    // A resume (225) carries on from where the client's suspended or
    // dropped session stopped (sync_task_resume.cpp); when none is known or
    // it does not fit, 509 "cannot resume" and a normal sync, as
    // libsynthesis answers; its client goes on with it. Any other alert
    // starts afresh: a resume point left from before is dropped.
    bool resume = requested == 225;
    requested_ = requested;
    if (resume) {
        if (std::optional<Negotiation> resumed = resume_session(client_anchor)) return *resumed;
    } else {
        db_.state->resume().erase(device_);
    }
    SyncMode asked;
    switch (requested) {
        case 200: case 225: asked = SyncMode::two_way; break;
        case 201: asked = SyncMode::slow; break;
        case 202: case 250: asked = SyncMode::one_way_from_client; break;  // 250: Funambol's smart one-way
        case 203: asked = SyncMode::refresh_from_client; break;
        case 204: case 251: asked = SyncMode::one_way_from_server; break;
        case 205: asked = SyncMode::refresh_from_server; break;
        default: return {406, SyncMode::two_way, std::nullopt};
    }
    if (db_.read_only) {
        // Server to client only: nothing the client sends is ever applied.
        if (!server_sends(asked)) return {403, asked, std::nullopt};
        if (asked == SyncMode::two_way) asked = SyncMode::one_way_from_server;
        if (asked == SyncMode::slow) asked = SyncMode::refresh_from_server;
    }
    int status = resume ? 509 : 200;
    // An incremental mode needs anchors that match the last completed
    // session; without them, the full variant in the same direction.
    if (!anchors_match) {
        if (asked == SyncMode::two_way) asked = SyncMode::slow, status = 508;
        else if (asked == SyncMode::one_way_from_client) {
            // The client sends everything, but only an explicit refresh
            // (the user's Recover) may delete what it did not send.
            asked = SyncMode::refresh_from_client, status = 508;
            fallback_refresh_ = true;
        }
        else if (asked == SyncMode::one_way_from_server) asked = SyncMode::refresh_from_server, status = 508;
    }
    mode_ = asked;
    if (mode_ == SyncMode::refresh_from_server) db_.state->sync().erase_all(device_);  // the client wipes its copy
    // The client's data is about to replace the server's: users were told
    // to back up first, so the server does it for them.
    std::optional<std::string> snapshot;
    if (mode_ == SyncMode::refresh_from_client && !fallback_refresh_)
        snapshot = db_.store->snapshot("refresh-from-client");
    if (full_exchange()) {
        db_.state->pairing().clear_claims(device_);  // claims of an exchange that broke off
        // Without rows now, every row at the exchange's end is one it made.
        auto rows = db_.state->sync().items(device_);
        state::ClientItem row;
        client_had_rows_ = rows->next(row);
    }
    return {status, mode_, snapshot};
}

Command SyncTask::server_alert(std::size_t max_obj_size) const {
    Command alert;
    alert.kind = CommandKind::Alert;
    alert.data = std::to_string(static_cast<int>(mode_));
    Item item;
    item.target.uri = client_uri_;
    item.source.uri = server_uri_;
    item.meta.anchor = Anchor{server_last_, server_next_};
    item.meta.max_obj_size = std::to_string(max_obj_size);
    alert.items.push_back(std::move(item));
    return alert;
}

Format SyncTask::item_format(const Command& cmd, const Item& item) const {
    const std::string& type = item.meta.type.empty() ? cmd.meta.type : item.meta.type;
    const std::string& version = item.meta.version.empty() ? cmd.meta.version : item.meta.version;
    if (type.empty()) return db_.store->native_format();
    return Format{type, version};
}

// What the client sent, in the store's format.
Converted SyncTask::for_store(const Command& cmd, const Item& item, const std::string& data) const {
    Converted c = engine::to_store(item_format(cmd, item), data, db_.store->native_format(), client_);
    report(c.warnings, item.source.uri);
    return c;
}

void SyncTask::report(const std::vector<pim::Warning>& warnings, const std::string& luid) const {
    if (!warn_) return;
    for (const pim::Warning& w : warnings)
        note("item " + luid + ": " +
              (w.line ? "line " + std::to_string(w.line) + ": " : "") + w.message);
}

// Brings the identity index up to date with the store, once an exchange:
// only items whose revision changed since they were indexed are read.
void SyncTask::refresh_pairing_index() {
    if (pairing_index_fresh_) return;
    pairing_index_fresh_ = true;
    auto cursor = db_.store->list();
    ItemVersion v;
    while (cursor->next(v)) {
        ++indexed_items_;
        if (db_.state->pairing().indexed_revision(v.guid) == v.revision) continue;
        std::optional<StoredItem> stored = db_.store->read(v.guid);
        if (!stored) continue;
        pim::Identity id = identity(name_.category, stored->format, stored->data);
        db_.state->pairing().put(stored->guid, stored->revision, id.key, id.details);
    }
}

// The server item a client's item (`data`, in `format`) is a copy of: one of
// the same identity that no other item of this client has claimed in this
// exchange, the best by e-mails and phones; nullopt when there is none.
std::optional<std::string> SyncTask::matching_server_item(const Format& format, const std::string& data) {
    refresh_pairing_index();
    if (!indexed_items_) return std::nullopt;  // a first upload to an empty store: nothing to pair with
    return best_pair(format, data, [&](const state::PairingIndex::Candidate& c) -> std::optional<Details> {
        std::optional<std::string> revision = db_.store->revision(c.guid);
        if (!revision) {  // deleted since it was indexed
            db_.state->pairing().erase(c.guid);
            return std::nullopt;
        }
        if (*revision != c.revision)  // changed during this session
            if (auto stored = db_.store->read(c.guid))
                return identity(name_.category, stored->format, stored->data).details;
        return c.details;
    });
}

// Of the indexed items of the same identity as `data` that `details_of`
// admits (it gives their e-mails and phones, or nullopt to pass one over),
// the one that pairs best; nullopt when none pairs at all.
std::optional<std::string> SyncTask::best_pair(
    const Format& format, const std::string& data,
    const std::function<std::optional<Details>(const state::PairingIndex::Candidate&)>& details_of) {
    pim::Identity id = identity(name_.category, format, data);
    if (id.key.empty()) return std::nullopt;
    std::optional<std::string> best;
    int best_score = 0;
    for (const state::PairingIndex::Candidate& c : db_.state->pairing().candidates(device_, id.key)) {
        std::optional<Details> details = details_of(c);
        if (!details) continue;
        int score = pim::pairing_score(id.details, *details);
        if (score > best_score) best = c.guid, best_score = score;
    }
    return best;
}

// A client that stored our Adds but vanished before its Map sends them back
// as its own new items at its next two-way sync: each is paired with the
// item we sent, not stored a second time (nor ours sent again).
std::optional<std::string> SyncTask::unmapped_copy(const Format& format, const std::string& data) {
    if (!has_unmapped_) has_unmapped_ = db_.state->sync().has_unmapped(device_);
    if (!*has_unmapped_) return std::nullopt;
    refresh_pairing_index();
    std::optional<std::string> best =
        best_pair(format, data, [&](const state::PairingIndex::Candidate& c) -> std::optional<Details> {
            std::optional<state::ClientItem> row = db_.state->sync().by_guid(device_, c.guid);
            if (!row || !row->luid.empty()) return std::nullopt;  // not one of ours awaiting its Map
            return c.details;
        });
    if (best && warn_)
        note("item " + *best +
              ": the device sent back as new an item it was sent without mapping it; paired, not added");
    return best;
}

void SyncTask::record(const std::string& guid, const std::string& luid, const std::string& revision, bool added) {
    db_.state->sync().put(device_, {guid, luid, revision});
    if (full_exchange()) db_.state->pairing().claim(device_, guid);
    if (!added) db_.state->bases().prune(guid);
}

void SyncTask::log_loser(const std::string& guid, const std::string& luid, const std::string& what,
                         const std::string& data) const {
    if (!warn_) return;
    constexpr std::size_t kShown = 4096;
    std::string shown = data.size() > kShown ? data.substr(0, kShown) : data;
    note("item " + guid + " (client " + for_log(luid) +
          "): conflict, " + what + "; the version that lost was:\n" + shown +
          (data.size() > kShown ? "\n[" + std::to_string(data.size() - kShown) + " bytes more]" : ""));
}

int SyncTask::add_item(const Command& cmd, const Item& item, const std::string& data) {
    // Known already (a resent Add, or a slow sync's Add of a mapped item).
    if (db_.state->sync().by_luid(device_, item.source.uri)) return replace_item(cmd, item, data);
    return store_unmapped(cmd, item, data);
}

int SyncTask::replace_item(const Command& cmd, const Item& item, const std::string& data) {
    const std::string& luid = item.source.uri;
    if (auto row = db_.state->sync().by_luid(device_, luid)) {
        if (std::optional<StoredItem> current = db_.store->read(row->guid)) {
            // Changed on the server too since this client last saw it. A
            // refresh from the client is the user's word: no conflict there.
            if (current->revision != row->revision && mode_ != SyncMode::refresh_from_client)
                return resolve_conflict(cmd, item, data, *row, *current);
            // What the client could not hold survives its Replace.
            Converted c = replace_in_store(*current, item_format(cmd, item), data, db_.store->native_format(), client_);
            report(c.warnings, luid);
            db_.state->bases().keep_if_held(device_, *current);
            if (auto rev = db_.store->replace(row->guid, c.format, c.data)) {
                record(row->guid, luid, *rev);
                ++from_client_.replaced;
                return 200;
            }
        }
        // Deleted on the server, changed on the client: the change is kept,
        // as a new item.
        if (warn_ && mode_ != SyncMode::slow)
            note("item " + row->guid + " (client " +
                  for_log(luid) + "): deleted on the server, changed on the client; the client's version is kept");
        db_.state->sync().erase(device_, row->guid);
    }
    // A Replace of an unknown item is an Add (Funambol sends a slow sync as
    // Replaces).
    return store_unmapped(cmd, item, data);
}

// An item whose LUID the server does not know: in a full exchange it may be
// one the server has already (paired by identity), else it is new.
int SyncTask::store_unmapped(const Command& cmd, const Item& item, const std::string& data) {
    const std::string& luid = item.source.uri;
    Converted c = for_store(cmd, item, data);
    std::optional<std::string> copy_of =
        full_exchange() ? matching_server_item(c.format, c.data) : unmapped_copy(c.format, c.data);
    if (copy_of) return pair(*copy_of, luid, c);
    ItemVersion added = db_.store->add(c.format, c.data);
    record(added.guid, luid, added.revision, true);
    ++from_client_.added;
    return 201;
}

// A client's item found to be a copy of server item `guid`: the two are
// merged (no version is known that both shared, so a field that differs
// keeps the server's value, logged); the store is written only when the
// client brought something new, so other clients are not sent the item
// again for nothing, and the client gets the server's version when it
// lacks something.
int SyncTask::pair(const std::string& guid, const std::string& luid, const Converted& incoming) {
    std::optional<StoredItem> current = db_.store->read(guid);
    if (!current) {
        ItemVersion added = db_.store->add(incoming.format, incoming.data);
        record(added.guid, luid, added.revision, true);
        ++from_client_.added;
        return 201;
    }
    std::optional<pim::Item> server = read_model(current->format, current->data);
    std::optional<pim::Item> client = read_model(incoming.format, incoming.data);
    if (!server || !client) {  // not readable: the server's copy stands, the client gets it
        record(guid, luid, current->data == incoming.data ? current->revision : std::string());
        return 200;
    }
    if (pim::same_content(*server, *client)) {  // the usual case: nothing to merge
        record(guid, luid, current->revision);
        return 200;
    }
    pim::MergeOutcome merged = pim::merge_three_way(nullptr, *server, *client);
    if (!merged.clashes.empty()) {
        std::string fields;
        for (const std::string& f : merged.clashes) fields += (fields.empty() ? "" : ", ") + f;
        log_loser(guid, luid, "paired by identity, the server's " + fields + " kept", incoming.data);
    }
    std::string revision = current->revision;
    if (!pim::same_content(merged.item, *server)) {
        std::vector<pim::Warning> losses;
        std::optional<pim::Format> native = pim::format_for_mime(current->format.type, current->format.version);
        std::string data = native ? pim::write(merged.item, *native, {}, &losses) : std::string();
        if (!data.empty()) {
            db_.state->bases().keep_if_held(device_, *current);
            if (auto rev = db_.store->replace(guid, current->format, data)) revision = *rev;
            ++from_client_.replaced;
        }
    }
    record(guid, luid, pim::same_content(merged.item, *client) ? revision : std::string());
    return 200;
}

// The client's version becomes an item of its own, mapped to the client's
// LUID; the server's stays and goes to the client as a new item.
int SyncTask::keep_both(const state::ClientItem& row, const Converted& client_version) {
    db_.state->sync().erase(device_, row.guid);
    ItemVersion added = db_.store->add(client_version.format, client_version.data);
    record(added.guid, row.luid, added.revision, true);
    ++from_client_.added;
    return 209;
}

int SyncTask::resolve_conflict(const Command& cmd, const Item& item, const std::string& data,
                               const state::ClientItem& row, const StoredItem& current) {
    ++from_client_.conflicts;
    const std::string& luid = row.luid;
    // The client's version, with what it cannot hold taken from the server's.
    Converted theirs = replace_in_store(current, item_format(cmd, item), data, db_.store->native_format(), client_);
    report(theirs.warnings, luid);
    auto client_wins = [&] {
        log_loser(current.guid, luid, "the client's version kept", current.data);
        db_.state->bases().keep_if_held(device_, current);
        if (auto rev = db_.store->replace(current.guid, theirs.format, theirs.data)) {
            record(current.guid, luid, *rev);
            ++from_client_.replaced;
        }
        return 208;
    };
    auto server_wins = [&] {
        log_loser(current.guid, luid, "the server's version kept", theirs.data);
        record(current.guid, luid, row.revision);  // still the old one: the server's goes to the client
        return 419;
    };
    std::optional<pim::Item> server = read_model(current.format, current.data);
    std::optional<pim::Item> client = read_model(theirs.format, theirs.data);
    // A slow sync resends every item the client holds, changed or not: only
    // a merge can tell its changes from its stale copies, whatever the policy.
    switch (mode_ == SyncMode::slow ? ConflictPolicy::merge : policy_) {
        case ConflictPolicy::client_wins: return client_wins();
        case ConflictPolicy::server_wins: return server_wins();
        case ConflictPolicy::keep_both:
            log_loser(current.guid, luid, "both kept, the client's as a new item", theirs.data);
            return keep_both(row, theirs);
        case ConflictPolicy::newer_wins: {
            std::string ours = modification_stamp(server), mine = modification_stamp(client);
            return !ours.empty() && !mine.empty() && mine > ours ? client_wins() : server_wins();
        }
        case ConflictPolicy::merge: break;
    }
    if (!server || !client) {
        log_loser(current.guid, luid, "not mergeable, both kept, the client's as a new item", theirs.data);
        return keep_both(row, theirs);
    }
    std::optional<StoredItem> base_item = db_.state->bases().find(current.guid, row.revision);
    std::optional<pim::Item> base = base_item ? read_model(base_item->format, base_item->data) : std::nullopt;
    pim::MergeOutcome merged = pim::merge_three_way(base ? &*base : nullptr, *server, *client);
    if (!merged.clashes.empty()) {
        std::string fields;
        for (const std::string& f : merged.clashes) fields += (fields.empty() ? "" : ", ") + f;
        if (mode_ == SyncMode::slow) {
            // A slow sync resends what the client holds, often stale: no
            // second copy, the server's fields win.
            log_loser(current.guid, luid, "in a slow sync, the server's " + fields + " kept", theirs.data);
        } else {
            log_loser(current.guid, luid, "both changed " + fields + "; both kept, the client's as a new item",
                      theirs.data);
            return keep_both(row, theirs);
        }
    }
    std::string revision = current.revision;
    if (!pim::same_content(merged.item, *server)) {
        std::vector<pim::Warning> losses;
        std::optional<pim::Format> native = pim::format_for_mime(current.format.type, current.format.version);
        std::string merged_data = native ? pim::write(merged.item, *native, {}, &losses) : std::string();
        if (merged_data.empty()) return keep_both(row, theirs);
        db_.state->bases().keep_if_held(device_, current);
        if (auto rev = db_.store->replace(current.guid, current.format, merged_data)) revision = *rev;
        ++from_client_.replaced;
    }
    // The client gets the merged version unless it holds it already.
    record(current.guid, luid, pim::same_content(merged.item, *client) ? revision : std::string());
    return merged.clashes.empty() ? 207 : 419;
}

int SyncTask::delete_item(const Item& item) {
    const std::string& luid = item.source.uri.empty() ? item.target.uri : item.source.uri;
    auto row = db_.state->sync().by_luid(device_, luid);
    if (!row) return 211;
    if (refusing_deletes_) {
        // The mass-delete guard: the item stays, and the client gets it
        // back. 419, "the server's data wins": clients take it as a
        // resolved conflict (libsynthesis aborts the sync on a 403).
        db_.state->sync().erase(device_, row->guid);
        ++from_client_.refused_deletes;
        return 419;
    }
    std::optional<std::string> revision = db_.store->revision(row->guid);
    if (revision && *revision != row->revision) {
        // Changed on the server since the client saw it: the change is kept,
        // and the client gets the item back.
        ++from_client_.conflicts;
        if (warn_)
            note("item " + row->guid + " (client " +
                  for_log(luid) + "): deleted on the client, changed on the server; the item is kept (419)");
        db_.state->sync().erase(device_, row->guid);
        return 419;
    }
    bool removed = db_.store->remove(row->guid);
    db_.state->sync().erase(device_, row->guid);
    db_.state->bases().prune(row->guid);
    if (!removed) return 211;
    ++from_client_.deleted;
    return 200;
}

void SyncTask::before_changes(const Command& sync) {
    std::size_t deletes = 0;
    std::function<void(const Command&)> count = [&](const Command& c) {
        if (c.kind == CommandKind::Delete) deletes += c.items.size();
        for (const Command& child : c.children) count(child);
    };
    for (const Command& child : sync.children) count(child);
    if (!deletes || refusing_deletes_ || !guard_.enabled || full_exchange() || !client_sends(mode_) || db_.read_only)
        return;
    if (!store_size_) {
        std::size_t n = 0;
        auto cursor = db_.store->list();
        ItemVersion v;
        while (cursor->next(v)) ++n;
        store_size_ = n;
    }
    deletes_asked_ += deletes;
    if (*store_size_ <= guard_.min_items || deletes_asked_ * 100 <= *store_size_ * guard_.max_percent) return;
    if (guard_.allow && guard_.allow(name_.owner, name_.category, device_)) return;
    refusing_deletes_ = true;
    if (warn_)
        warn_(name_.owner + "/" + category_name(name_.category) + ": device " + for_log(device_) + " deletes " +
              std::to_string(deletes_asked_) + " of " + std::to_string(*store_size_) +
              " items; more than " + std::to_string(guard_.max_percent) +
              "% is refused by the mass-delete guard (419), the items stay and go back to the device");
}

void SyncTask::apply(const Command& cmd, const std::string& msg_ref, Reply& reply) {
    for (const Item& item : cmd.items) {
        int code;
        if (db_.read_only) {
            code = 403;
        } else if (!client_sends(mode_)) {
            code = 403;  // the client's side is not the source in this mode
        } else {
            try {
                // After a resume, the item cut off may go on where it stopped
                // (sync_task_resume.cpp).
                if (int answered = continue_resumed_chunk(cmd, item)) {
                    reply.add_status(item_status(cmd, item, msg_ref, answered));
                    continue;
                }
                // A large object goes on only with the same command for the
                // same item; anything else breaks it off.
                if (!chunk_luid_.empty() &&
                    (chunk_luid_ != item.source.uri || (chunk_kind_ && *chunk_kind_ != cmd.kind)))
                    break_off_chunks(reply, (item.more_data ? "a chunk of item " : "item ") +
                                                repaired_utf8(item.source.uri) + " came before its last chunk");
                const std::string& format = item.meta.format.empty() ? cmd.meta.format : item.meta.format;
                // Sizes count the data as transmitted (the base64 text of a
                // b64 item), chunks included.
                if (int refused = check_object_size(cmd, item, item.data)) {
                    reply.add_status(item_status(cmd, item, msg_ref, refused));
                    continue;
                }
                std::string data;
                if (item.more_data || !chunk_luid_.empty()) {
                    // A large object in chunks: buffered until the last one.
                    if (chunk_luid_.empty()) chunk_luid_ = item.source.uri;
                    if (!chunk_kind_) chunk_kind_ = cmd.kind, chunk_target_ = item.target.uri;  // first, or resumed
                    chunk_data_ += item.data;
                    chunk_continued_ = true;
                    if (item.more_data) {
                        reply.add_status(item_status(cmd, item, msg_ref, 213));
                        continue;
                    }
                    data = std::move(chunk_data_);
                    bool whole = !chunk_declared_size_ || *chunk_declared_size_ == data.size();
                    std::optional<std::uint64_t> declared = chunk_declared_size_;
                    reset_chunks();
                    if (!whole) {
                        // 424: the chunks do not add up to the Size announced.
                        note("item " + repaired_utf8(item.source.uri) + ": " + std::to_string(data.size()) +
                             " bytes arrived, " + std::to_string(*declared) + " were announced; dropped (424)");
                        reply.add_status(item_status(cmd, item, msg_ref, 424));
                        continue;
                    }
                } else {
                    data = item.data;
                }
                if (format == "b64") {
                    auto decoded = base64_decode(data);
                    if (!decoded) {
                        reply.add_status(item_status(cmd, item, msg_ref, 415));
                        continue;
                    }
                    data = std::move(*decoded);
                }
                // Text that is not valid UTF-8 is repaired before it is read or stored (item_text.hpp).
                if (is_text_item(format, item_format(cmd, item).type))
                    if (std::size_t repairs = repair_item_text(data); repairs && warn_)
                        warn_("device " + device_ + ": " + name_.owner + "/" + category_name(name_.category) +
                              " item " + repaired_utf8(item.source.uri) + ": text not valid UTF-8, repaired (" +
                              std::to_string(repairs) + " repairs)");
                switch (cmd.kind) {
                    case CommandKind::Add: code = add_item(cmd, item, data); break;
                    case CommandKind::Replace: code = replace_item(cmd, item, data); break;
                    case CommandKind::Delete: code = delete_item(item); break;
                    default: code = 406; break;
                }
            } catch (const DatastoreError& e) {
                code = 510;
                if (warn_)
                    note("item " + item.source.uri + ": " +
                          e.what() + " (510)");
            }
        }
        reply.add_status(item_status(cmd, item, msg_ref, code));
    }
}

void SyncTask::note(const std::string& message) const {
    if (warn_) warn_(name_.owner + "/" + category_name(name_.category) + " " + message);
}

void SyncTask::break_off_chunks(Reply& reply, const std::string& why) {
    if (chunk_luid_.empty()) return;
    note("item " + repaired_utf8(chunk_luid_) + ": " + std::to_string(chunk_data_.size()) +
         " bytes of chunks dropped: " + why + " (Alert 223)");
    // SyncML's "no end of data": the Item names the broken item as its
    // sender does (Target = its Source, Source = its Target).
    Command alert;
    alert.kind = CommandKind::Alert;
    alert.data = "223";
    Item it;
    it.target.uri = chunk_luid_;
    it.source.uri = chunk_target_;
    alert.items.push_back(std::move(it));
    reply.add_command(std::move(alert));
    reset_chunks();
}

void SyncTask::end_of_client_message(bool package_ends, Reply& reply) {
    if (!chunk_luid_.empty() && (package_ends || !chunk_continued_))
        break_off_chunks(reply, package_ends ? "the client's package ended before its last chunk"
                                             : "the client's next message did not continue it");
    chunk_continued_ = false;
    if (package_ends) refused_luid_.clear();
}

void SyncTask::drop_chunks(const std::string& why) {
    if (!chunk_luid_.empty())
        note("item " + repaired_utf8(chunk_luid_) + ": " + std::to_string(chunk_data_.size()) +
             " bytes of chunks dropped: " + why);
    reset_chunks();
}

void SyncTask::reset_chunks() {
    chunk_luid_.clear();
    chunk_data_.clear();
    chunk_target_.clear();
    chunk_kind_.reset();
    chunk_declared_size_.reset();
}

// 0 when the item (or this chunk of it) may come in; else its status: 416
// when the Size it announces is above MaxObjSize, 413 when the data itself
// grows past it. A refused large object's remaining chunks are refused too,
// and what came of it is dropped, so it never takes more than MaxObjSize.
// An item that does not continue the open large object has broken it off
// already (apply).
int SyncTask::check_object_size(const Command& cmd, const Item& item, const std::string& data) {
    const std::string& luid = item.source.uri;
    if (!refused_luid_.empty()) {
        if (luid == refused_luid_) {
            if (!item.more_data) refused_luid_.clear();
            return 413;
        }
        refused_luid_.clear();
    }
    bool first_chunk = chunk_luid_.empty();
    int code = 0;
    std::size_t total = data.size();
    std::optional<std::uint64_t> declared;
    if (first_chunk) {
        const std::string& size = item.meta.size.empty() ? cmd.meta.size : item.meta.size;
        declared = to_number(size);
        if (declared && *declared > max_obj_size_) code = 416;
    } else {
        total += chunk_data_.size();
    }
    if (!code && total > max_obj_size_) code = 413;
    if (!code) {
        if (first_chunk && item.more_data) chunk_declared_size_ = declared;
        return 0;
    }
    note("item " + repaired_utf8(luid) + ": larger than MaxObjSize (" + std::to_string(max_obj_size_) +
         " bytes); refused (" + std::to_string(code) + ")");
    reset_chunks();  // this item's own chunks: the refusal says why
    if (item.more_data) refused_luid_ = luid;
    return code;
}

void SyncTask::end_of_client_changes() {
    if (resumed_client_done_) return;  // a resume after all had come: ended in the interrupted session
    if (!full_exchange()) return;
    // What the client did not send this time, it no longer holds (rows of
    // this exchange are all claimed: only older ones are looked at).
    if (client_had_rows_) {
        std::vector<std::string> stale;
        auto cursor = db_.state->sync().items(device_);
        state::ClientItem row;
        while (cursor->next(row))
            if (!db_.state->pairing().claimed(device_, row.guid)) stale.push_back(row.guid);
        cursor.reset();
        for (const std::string& guid : stale) db_.state->sync().erase(device_, guid);
    }
    if (mode_ == SyncMode::refresh_from_client && !fallback_refresh_) {
        // The client's data replaces the server's (a snapshot was taken).
        std::vector<std::string> gone;
        auto items = db_.store->list();
        ItemVersion v;
        while (items->next(v))
            if (!db_.state->pairing().claimed(device_, v.guid)) gone.push_back(v.guid);
        items.reset();
        for (const std::string& guid : gone)
            if (db_.store->remove(guid)) ++from_client_.deleted;
    }
    db_.state->pairing().clear_claims(device_);
}

namespace {

// Outbox entries per page (SyncState::queue_page): a page is what fill()
// holds in memory.
constexpr std::size_t kOutboxPage = 512;

}  // namespace

void SyncTask::prepare_outbox() {
    state::SyncState& st = db_.state->sync();
    st.clear_outbox(device_);
    last_sent_seq_ = 0;
    sent_sync_ = false;
    out_page_.clear();
    out_pos_ = 0;
    out_page_no_ = 0;
    out_pages_ = 0;
    out_count_ = 0;
    if (!server_sends(mode_)) return;
    // What the client holds, against what the store holds: both listed in
    // GUID order (bytewise, as SQLite's BINARY and std::string compare), one
    // pass over each. A store that does not list in that order is looked up
    // item by item instead.
    std::vector<state::ClientItem> gone;
    if (!merge_outbox(gone)) {
        out_page_.clear();
        out_pages_ = 0;
        out_count_ = 0;
        gone.clear();
        st.clear_outbox(device_);
        auto items = db_.store->list();
        ItemVersion v;
        while (items->next(v)) {
            auto row = st.by_guid(device_, v.guid);
            if (!row || row->luid.empty())
                queue_out({0, state::OutOp::add, v.guid, ""});
            else if (row->revision != v.revision)
                queue_out({0, state::OutOp::replace, v.guid, row->luid});
        }
        items.reset();
        auto rows = st.items(device_);
        state::ClientItem row;
        while (rows->next(row))
            if (!db_.store->revision(row.guid)) gone.push_back(row);
    }
    for (const state::ClientItem& r : gone) {
        if (r.luid.empty()) st.erase(device_, r.guid);  // never mapped: nothing to delete on the client
        else queue_out({0, state::OutOp::remove, r.guid, r.luid});
    }
    // One page stays in memory alone; of more, the last is written too and
    // fill() reads them back from the first.
    if (out_pages_ > 0) {
        if (!out_page_.empty()) st.queue_page(device_, out_pages_++, out_page_);
        out_page_.clear();
        out_page_no_ = -1;
    } else {
        out_pages_ = 1;
    }
}

// The outbox by one pass over the store's listing and the client's rows,
// both in GUID order; the rows whose item is gone into `gone`. False when
// the store's listing is not in that order (nothing is usable then).
bool SyncTask::merge_outbox(std::vector<state::ClientItem>& gone) {
    auto items = db_.store->list();
    auto rows = db_.state->sync().items(device_);
    ItemVersion v;
    state::ClientItem row;
    bool has_item = items->next(v), has_row = rows->next(row);
    std::string previous;
    bool first = true;
    while (has_item || has_row) {
        if (has_item && !first && v.guid <= previous) return false;
        if (has_item && (!has_row || v.guid < row.guid)) {
            queue_out({0, state::OutOp::add, v.guid, ""});  // the client does not hold it
        } else if (has_row && (!has_item || row.guid < v.guid)) {
            gone.push_back(std::move(row));
            has_row = rows->next(row);
            continue;
        } else {
            if (row.luid.empty())
                queue_out({0, state::OutOp::add, v.guid, ""});  // sent before, its Map never came
            else if (row.revision != v.revision)
                queue_out({0, state::OutOp::replace, v.guid, row.luid});
            has_row = rows->next(row);
        }
        previous.swap(v.guid);
        first = false;
        has_item = items->next(v);
    }
    return true;
}

void SyncTask::queue_out(state::OutboxEntry entry) {
    out_page_.push_back(std::move(entry));
    ++out_count_;
    if (out_page_.size() < kOutboxPage) return;
    db_.state->sync().queue_page(device_, out_pages_++, out_page_);
    out_page_.clear();
}

const state::OutboxEntry* SyncTask::next_out() {
    while (out_page_no_ < 0 || out_pos_ >= out_page_.size()) {
        if (out_page_no_ + 1 >= out_pages_) return nullptr;
        out_page_ = db_.state->sync().queued_page(device_, ++out_page_no_);
        out_pos_ = 0;
    }
    return &out_page_[out_pos_];
}

void SyncTask::advance_out() {
    ++out_pos_;
    last_sent_seq_ = out_page_no_ * static_cast<std::int64_t>(kOutboxPage) + static_cast<std::int64_t>(out_pos_);
}

namespace {

// Chunks are at least this long, so that a large object always moves on.
constexpr std::size_t kMinChunk = 256;

// How many bytes of `data` from `offset` the next chunk takes, at most
// `take`: the cut falls between UTF-8 characters (XML can carry only whole
// ones) and not between a CR and its LF (XML readers that normalise line
// ends would make two of them); the chunks still add up to the same bytes,
// binary data included.
std::size_t chunk_length(const std::string& data, std::size_t offset, std::size_t take) {
    if (offset + take >= data.size()) return data.size() - offset;
    std::size_t end = offset + take;
    for (int back = 0; back < 3 && end > offset + 1 && (static_cast<unsigned char>(data[end]) & 0xC0) == 0x80; ++back)
        --end;
    if (end > offset + 1 && data[end - 1] == '\r' && data[end] == '\n') --end;
    return end - offset;
}

}  // namespace

// Sends the next part of a large object that does not fit a message; true
// when its last part went. `alone`: the Sync is the only command of the
// message so far, so a part goes however little room is left.
bool SyncTask::send_chunk(Reply& reply, Command& sync, bool alone) {
    // The part: the command with its item's data cut out (not copied).
    std::string& whole = outgoing_chunks_->items.front().data;
    std::string data = std::move(whole);
    Command part = *outgoing_chunks_;
    whole = std::move(data);
    Item& item = part.items.front();
    if (outgoing_offset_ == 0) item.meta.size = std::to_string(whole.size());
    item.more_data = true;
    std::size_t overhead = reply.size_of(part);
    std::size_t room = reply.room();
    bool first_in_message = alone && sync.children.empty();
    if (room < overhead + kMinChunk && !first_in_message) return false;  // the next message
    std::size_t take = room > overhead + kMinChunk ? room - overhead : kMinChunk;
    std::size_t size = 0;
    for (int attempt = 0;; ++attempt) {
        take = chunk_length(whole, outgoing_offset_, take);
        item.data.assign(whole, outgoing_offset_, take);
        item.more_data = outgoing_offset_ + take < whole.size();
        size = reply.size_of(part);
        if (size <= room || take <= kMinChunk || attempt == 4) break;
        // Escaped characters made the part larger than its bytes: shorter.
        std::size_t excess = size - room + 16;
        take = take > excess + kMinChunk ? take - excess : kMinChunk;
    }
    outgoing_offset_ += take;
    reply.account(size);
    bool last = !item.more_data;
    if (last) chunked_done_ = item.source.uri;
    sync.children.push_back(std::move(part));
    // A resumed item's data position and Size go on its first chunk only.
    outgoing_chunks_->items.front().meta.emi.clear(), outgoing_chunks_->items.front().meta.size.clear();
    if (!last) return false;
    outgoing_chunks_.reset();
    outgoing_offset_ = 0;
    return true;
}

bool SyncTask::fill(Reply& reply, bool large_objects) {
    if (!server_sends(mode_)) return true;
    if (!next_out() && sent_sync_ && !outgoing_chunks_) return true;
    Command sync;
    sync.kind = CommandKind::Sync;
    sync.target.uri = client_uri_;
    sync.source.uri = server_uri_;
    if (!sent_sync_) sync.number_of_changes = std::to_string(out_count_);
    std::size_t sync_size = reply.size_of(sync);
    if (sync_size > reply.room() && reply.has_commands()) return false;
    reply.add_command(std::move(sync));
    sent_sync_ = true;
    Command& target = reply.last_command();
    // Only this Sync in the message so far: an item too large for the room
    // left goes now, in chunks or whole; otherwise it waits for the next
    // message.
    bool alone = reply.command_count() == 1;
    if (outgoing_chunks_ && !send_chunk(reply, target, alone)) return false;
    bool any = !target.children.empty();
    while (const state::OutboxEntry* next = next_out()) {
        if (!resumed_out_guid_.empty() && next->guid == resumed_out_guid_) {  // continued in chunks above
            advance_out();
            continue;
        }
        const state::OutOp out_op = next->op;
        const std::string guid = next->guid;
        Command op;
        std::string revision;
        std::size_t size = 0;
        if (held_ && held_->guid == guid) {
            // The item that did not fit the last message: built and sized then.
            op = std::move(held_->op);
            revision = std::move(held_->revision);
            size = held_->size;
            held_.reset();
        } else {
            held_.reset();
            Item item;
            if (out_op == state::OutOp::remove) {
                op.kind = CommandKind::Delete;
                item.target.uri = next->luid;
            } else {
                auto stored = db_.store->read(guid);
                if (!stored) {  // deleted since the outbox was made
                    advance_out();
                    continue;
                }
                op.kind = out_op == state::OutOp::add ? CommandKind::Add : CommandKind::Replace;
                // A refresh or slow sync gives the client every item anew: past alarms stay home.
                std::optional<std::int64_t> now;
                if (mode_ == SyncMode::refresh_from_server || mode_ == SyncMode::slow) now = std::time(nullptr);
                Outgoing out = engine::to_client(*stored, client_, now);
                report(out.warnings, stored->guid);
                item.data = std::move(out.data);
                op.meta.type = std::move(out.type);
                op.meta.format = std::move(out.encoding);
                item.source.uri = std::move(stored->guid);
                if (out_op == state::OutOp::replace) item.target.uri = next->luid;
                item.has_data = true;
                revision = std::move(stored->revision);
            }
            if (client_max_obj_size_ && item.data.size() > client_max_obj_size_) {
                // Never more than the client takes: this session leaves it out,
                // unrecorded, so a later one sends it (once the limit allows).
                note("item " + guid + ": " + std::to_string(item.data.size()) +
                     " bytes, more than the client's MaxObjSize of " + std::to_string(client_max_obj_size_) +
                     "; not sent (due again next session)");
                advance_out();
                continue;
            }
            op.items.push_back(std::move(item));
            size = reply.size_of(op);
        }
        bool too_big = size > reply.room();
        // Too large for the room left: it waits for a message of its own
        // when others share this one, or (without large objects) when a
        // fresh message would hold it whole; once, then it goes anyway.
        // Either way it is kept as it is, not read again.
        bool wait = too_big && (any || (!deferred_whole_ && (!alone || (!large_objects && size <= reply.room_when_empty()))));
        if (wait) {
            if (!any) deferred_whole_ = true;
            held_ = Held{guid, std::move(op), std::move(revision), size};
            break;
        }
        deferred_whole_ = false;
        // An Add is remembered as awaiting its Map (sent again until the Map
        // comes): its row is written once, when the Map comes, or at the end
        // of the client's next message without it (end_of_message()); a
        // Replace or Delete only once the client's status confirms it
        // (delivered()), so a reply lost with the connection or the process
        // is sent again next time.
        if (op.kind == CommandKind::Add)
            sent_adds_[guid] = revision;
        else if (op.kind == CommandKind::Delete)
            unconfirmed_["d\n" + op.items.front().target.uri] = Unconfirmed{guid, op.items.front().target.uri, ""};
        else
            unconfirmed_["r\n" + guid] = Unconfirmed{guid, op.items.front().target.uri, revision};
        (op.kind == CommandKind::Add ? to_client_.added
                                     : op.kind == CommandKind::Replace ? to_client_.replaced : to_client_.deleted)++;
        advance_out();
        any = true;
        if (too_big && large_objects && op.kind != CommandKind::Delete) {
            // Larger than the room left: in chunks, this message's room first.
            chunked_key_ = op.kind == CommandKind::Replace ? "r\n" + op.items.front().source.uri : "";
            outgoing_chunks_ = std::move(op);
            outgoing_restarts_ = 0;
            if (!send_chunk(reply, target, alone)) return false;
            continue;
        }
        if (too_big)
            note("item " + op.items.front().source.uri + ": " + std::to_string(size) +
                 " bytes, sent whole in a message of its own beyond the client's MaxMsgSize (it takes no large "
                 "objects)");
        reply.account(size);
        target.children.push_back(std::move(op));
    }
    return !next_out();
}

void SyncTask::set_client_max_obj_size(std::size_t bytes, bool from_alert) {
    if (client_max_obj_size_from_alert_ && !from_alert) return;
    client_max_obj_size_ = bytes;
    client_max_obj_size_from_alert_ = from_alert;
}

bool SyncTask::restart_chunks(const std::string& id) {
    bool going_out = outgoing_chunks_ && (outgoing_chunks_->items.front().source.uri == id ||
                                          (!outgoing_chunks_->items.front().target.uri.empty() &&
                                           outgoing_chunks_->items.front().target.uri == id));
    if (going_out && outgoing_restarts_ == 0) {
        ++outgoing_restarts_;
        note("item " + outgoing_chunks_->items.front().source.uri + ": the client dropped its chunks (223) after " +
             std::to_string(outgoing_offset_) + " bytes; sent again from its first chunk");
        outgoing_offset_ = 0;
        out_confirmed_ = 0;  // a resume point now starts it over too
        return true;
    }
    // An Alert 223 names no database, and GUIDs of two stores may be alike:
    // only the item going out in chunks, or the last one that did, is meant.
    if (!going_out && (chunked_done_.empty() || chunked_done_ != id)) return false;
    std::string guid = going_out ? outgoing_chunks_->items.front().source.uri : id;
    if (going_out) stop_chunks(guid);
    chunked_done_.clear();
    note("item " + guid + ": the client dropped its chunks (223); due again next session");
    unconfirmed_.erase("r\n" + guid);
    not_taken(guid);
    return true;
}

void SyncTask::stop_chunks(const std::string& guid) {
    if (!outgoing_chunks_ || outgoing_chunks_->items.front().source.uri != guid) return;
    outgoing_chunks_.reset();
    outgoing_offset_ = 0;
    chunked_key_.clear();
}

void SyncTask::not_taken(const std::string& guid) {
    // An Add of this session whose row is not written: nothing to write.
    sent_adds_.erase(guid);
    awaiting_map_.erase(guid);
    auto row = db_.state->sync().by_guid(device_, guid);
    if (!row) return;
    if (row->luid.empty()) {
        db_.state->sync().erase(device_, guid);  // an Add: the client has nothing
    } else {
        row->revision.clear();  // a Replace: the client keeps its older version
        db_.state->sync().put(device_, *row);
    }
}

void SyncTask::forget_unconfirmed() {
    if (!outgoing_chunks_) chunked_key_.clear();  // its last chunk went: its status has come, or never will
    if (chunked_key_.empty() || !unconfirmed_.count(chunked_key_)) {
        unconfirmed_.clear();
        return;
    }
    auto chunked = unconfirmed_.extract(chunked_key_);
    unconfirmed_.clear();
    unconfirmed_.insert(std::move(chunked));
}

void SyncTask::delivered(const std::string& id, bool is_delete) {
    auto it = unconfirmed_.find((is_delete ? "d\n" : "r\n") + id);
    if (it == unconfirmed_.end()) return;  // an Add: recorded when sent, completed by the Map
    const Unconfirmed& u = it->second;
    if (is_delete) db_.state->sync().erase(device_, u.guid);
    else db_.state->sync().put(device_, {u.guid, u.luid, u.revision});
    db_.state->bases().prune(u.guid);
    unconfirmed_.erase(it);
}

bool SyncTask::map(const std::string& guid, const std::string& luid) {
    // The Map of an Add of our last message: its row, written once.
    for (auto* adds : {&awaiting_map_, &sent_adds_}) {
        auto it = adds->find(guid);
        if (it == adds->end()) continue;
        db_.state->sync().put(device_, {guid, luid, it->second});
        adds->erase(it);
        return true;
    }
    return db_.state->sync().set_luid(device_, guid, luid);
}

void SyncTask::map_all(const std::vector<MapItem>& items) {
    // The rows of Adds awaiting their Map, written together.
    std::vector<state::ClientItem> rows;
    for (const MapItem& mi : items) {
        const std::string& guid = mi.target.uri;
        bool found = false;
        for (auto* adds : {&awaiting_map_, &sent_adds_}) {
            auto it = adds->find(guid);
            if (it == adds->end()) continue;
            rows.push_back({guid, mi.source.uri, std::move(it->second)});
            adds->erase(it);
            found = true;
            break;
        }
        if (!found) {
            db_.state->sync().put_all(device_, rows);  // in the order the Map gives
            rows.clear();
            db_.state->sync().set_luid(device_, guid, mi.source.uri);
        }
    }
    db_.state->sync().put_all(device_, rows);
}

void SyncTask::end_of_message() {
    // Adds of the message before whose Map did not come with this one
    // await it in rows of their own (sent again until it comes); those of
    // this message are noted in one row until the client's next message.
    if (awaiting_map_.empty() && sent_adds_.empty() && !sent_adds_saved_) return;
    for (const auto& [guid, revision] : awaiting_map_) db_.state->sync().put_unmapped(device_, guid, revision);
    awaiting_map_.clear();
    awaiting_map_.swap(sent_adds_);
    std::vector<state::SyncState::SentAdd> adds;
    adds.reserve(awaiting_map_.size());
    for (const auto& [guid, revision] : awaiting_map_) adds.push_back({guid, revision});
    if (sent_adds_key_.empty()) sent_adds_key_ = hex_bytes(random_bytes(8));
    db_.state->sync().save_sent_adds(device_, sent_adds_key_, adds);
    sent_adds_saved_ = !adds.empty();
}

std::optional<std::string> SyncTask::awaiting_revision(const std::string& guid) const {
    for (const auto* adds : {&awaiting_map_, &sent_adds_})
        if (auto it = adds->find(guid); it != adds->end()) return it->second;
    return std::nullopt;
}

void SyncTask::commit_anchors() {
    db_.state->sync().save_anchors(device_, {client_anchor_.next, server_next_});
    db_.state->resume().erase(device_);  // completed: nothing left to resume
}

}  // namespace smk::engine
