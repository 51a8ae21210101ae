// One database in one session: the sync mode agreed with the client, the
// client's changes applied to the store, and the server's changes sent back,
// all derived from the store's revisions and the per-client state.
#pragma once

#include "engine/item_format.hpp"

#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "engine/database_name.hpp"
#include "engine/reply.hpp"
#include "state/state_backend.hpp"
#include "syncmlkit/datastore.hpp"
#include "syncmlkit/message.hpp"
#include "syncmlkit/server.hpp"

namespace smk::engine {

/// The sync types of SyncML, by their alert codes.
enum class SyncMode {
    two_way = 200,
    slow = 201,
    one_way_from_client = 202,
    refresh_from_client = 203,
    one_way_from_server = 204,
    refresh_from_server = 205,
};

bool client_sends(SyncMode mode);
bool server_sends(SyncMode mode);

/// A store with the sync state that goes with it: in the store's own
/// database when the store offers it (one transaction covers both), else
/// where the server's StateBackend keeps it, in a transaction of its own.
struct OpenDatabase {
    std::shared_ptr<Datastore> store;
    /// The client's sync state, pairing index, base versions and where its
    /// unfinished session stopped (resume). Declared after `store`, so
    /// closed before it (it may use the store's connection).
    std::unique_ptr<state::DatabaseState> state;
    bool read_only = false;

    void begin();
    void commit();
    void rollback();
    /// commit() wrote the sync state but the store's own commit failed:
    /// the state records writes the store no longer holds.
    bool state_ahead = false;
};

/// Counts for the session's log line.
struct SyncCounts {
    std::size_t added = 0, replaced = 0, deleted = 0;
    std::size_t conflicts = 0, refused_deletes = 0;
};

class SyncTask {
public:
    SyncTask(DatabaseName name, std::string server_uri, std::string client_uri, std::string device,
             OpenDatabase db);

    const std::string& server_uri() const { return server_uri_; }
    const std::string& client_uri() const { return client_uri_; }
    const DatabaseName& name() const { return name_; }
    SyncMode mode() const { return mode_; }

    struct Negotiation {
        int status;     ///< for the client's Alert: 200, 508, 509 (resume refused, two-way instead), 403, 406
        SyncMode mode;  ///< the mode the server alerts
        /// A refresh from the client: the store's snapshot taken first, if
        /// the store keeps snapshots.
        std::optional<std::string> snapshot;
    };
    /// Agrees on the mode for the client's alert `requested` with its anchors.
    Negotiation negotiate(int requested, const wire::Anchor& client_anchor);
    /// The server's Alert for this database (package 2).
    wire::Command server_alert(std::size_t max_obj_size) const;

    /// Applies one Add, Replace or Delete of the client's Sync, adding a
    /// Status per item to `reply`.
    void apply(const wire::Command& cmd, const std::string& msg_ref, Reply& reply);
    /// The client's package 3 is complete: a slow sync forgets what the
    /// client no longer holds, a refresh from the client deletes what it did
    /// not send.
    void end_of_client_changes();
    /// What the client's DevInf says of this database: the format it
    /// receives best (items are converted to it), the properties its CTCap
    /// lists (a Replace keeps the stored item's others), its profile.
    void set_client(ClientView client) { client_ = std::move(client); }
    /// The largest item the client may send, whole or in chunks.
    void set_max_obj_size(std::size_t bytes) { max_obj_size_ = bytes; }
    /// How conflicts are resolved, and the mass-delete guard.
    void set_conflict_policy(ConflictPolicy policy) { policy_ = policy; }
    void set_delete_guard(ServerConfig::MassDeleteGuard guard) { guard_ = std::move(guard); }
    /// A Sync of the client is about to be applied: its Deletes are counted
    /// against the mass-delete guard before any of them is.
    void before_changes(const wire::Command& sync);
    /// The largest item the client takes (its MaxObjSize; 0: none known),
    /// from the Meta of its Alert for this database (`from_alert`, which
    /// stays) or of its SyncHdr. A larger item is not sent (logged) and
    /// stays due for a later session.
    void set_client_max_obj_size(std::size_t bytes, bool from_alert);
    /// A client message has been applied: a large object it left open is
    /// broken off (Alert 223 in `reply`, its chunks dropped and logged) when
    /// the message did not continue it or `package_ends`.
    void end_of_client_message(bool package_ends, Reply& reply);
    /// The client dropped the partial item `id` (our GUID, or its LUID) we
    /// were sending in chunks (its Alert or Status 223): it goes again from
    /// its first chunk, once a session; after that, and for the item whose
    /// last chunk went already, it is not taken and goes again in a later
    /// session. False when `id` is neither.
    bool restart_chunks(const std::string& id);
    /// The client refused a chunk of the item `guid` going out in chunks:
    /// its other chunks are not sent (the caller records it as not taken).
    void stop_chunks(const std::string& guid);
    /// Where conversion warnings go (the session's log).
    void set_warning_sink(std::function<void(const std::string&)> sink) { warn_ = std::move(sink); }
    /// Queues the server's changes for the client (package 4).
    void prepare_outbox();
    /// Adds this database's Sync to `reply`, filled with queued changes as far
    /// as they fit. An item larger than a whole message goes in chunks
    /// (MoreData) when `large_objects` (the client said SupportLargeObjs),
    /// else alone in a message of its own. Returns true when nothing is left.
    bool fill(Reply& reply, bool large_objects);
    /// A MapItem of the client: `luid` is its id for the server's `guid`.
    bool map(const std::string& guid, const std::string& luid);
    /// map() of each MapItem of a Map (Target: our GUID, Source: its LUID).
    void map_all(const std::vector<wire::MapItem>& items);
    /// The client refused an Add or Replace of ours: it does not hold that
    /// version, so the next sync sends it again.
    void not_taken(const std::string& guid);
    /// The client confirmed our Replace of `id` (a GUID) or our Delete of
    /// `id` (its LUID): now it holds that version, or no longer the item.
    void delivered(const std::string& id, bool is_delete);
    /// Replaces and Deletes sent but not confirmed are dropped from memory:
    /// the client's state still says it has the old version, so a later
    /// session sends them again.
    void forget_unconfirmed();
    /// The session completed its part: the anchors become the Last ones.
    void commit_anchors();
    /// The client's message has been handled, its reply is complete: what
    /// the reply's Adds await is noted (before the commit).
    void end_of_message();

    OpenDatabase& db() { return db_; }
    const SyncCounts& from_client() const { return from_client_; }
    const SyncCounts& to_client() const { return to_client_; }

private:
    int add_item(const wire::Command& cmd, const wire::Item& item, const std::string& data);
    int replace_item(const wire::Command& cmd, const wire::Item& item, const std::string& data);
    int store_unmapped(const wire::Command& cmd, const wire::Item& item, const std::string& data);
    int delete_item(const wire::Item& item);
    Format item_format(const wire::Command& cmd, const wire::Item& item) const;
    Converted for_store(const wire::Command& cmd, const wire::Item& item, const std::string& data) const;
    void report(const std::vector<pim::Warning>& warnings, const std::string& luid) const;
    std::optional<std::string> matching_server_item(const Format& format, const std::string& data);
    void refresh_pairing_index();
    using Details = std::vector<std::string>;
    std::optional<std::string> best_pair(
        const Format& format, const std::string& data,
        const std::function<std::optional<Details>(const state::PairingIndex::Candidate&)>& details_of);
    int pair(const std::string& guid, const std::string& luid, const Converted& incoming);
    int resolve_conflict(const wire::Command& cmd, const wire::Item& item, const std::string& data,
                         const state::ClientItem& row, const StoredItem& current);
    int keep_both(const state::ClientItem& row, const Converted& client_version);
    /// The client now holds `revision` of `guid` as `luid` ("" revision: it
    /// holds an older one and gets the server's next). `added`: the store
    /// has just added the item, so it has no base versions to prune.
    void record(const std::string& guid, const std::string& luid, const std::string& revision, bool added = false);
    bool full_exchange() const { return mode_ == SyncMode::slow || mode_ == SyncMode::refresh_from_client; }
    void log_loser(const std::string& guid, const std::string& luid, const std::string& what,
                   const std::string& data) const;

    DatabaseName name_;
    std::string server_uri_;  ///< the database name as the client addressed it
    std::string client_uri_;  ///< the client's own name for it
    std::string device_;
    OpenDatabase db_;
    SyncMode mode_ = SyncMode::two_way;
    wire::Anchor client_anchor_;
    std::string server_last_, server_next_;
    // A refresh from the client that only stands in for a one-way sync
    // without history: it adds and pairs, never deletes.
    bool fallback_refresh_ = false;
    bool pairing_index_fresh_ = false;
    bool client_had_rows_ = true;  ///< the client held rows when this full exchange began
    std::size_t indexed_items_ = 0;  ///< the store's items when the index was brought up to date
    std::optional<bool> has_unmapped_;  ///< server Adds of an earlier session await their Map
    std::optional<std::string> unmapped_copy(const Format& format, const std::string& data);
    ConflictPolicy policy_ = ConflictPolicy::merge;
    ServerConfig::MassDeleteGuard guard_;
    std::optional<std::size_t> store_size_;  ///< when the client's first Delete came
    std::size_t deletes_asked_ = 0;
    bool refusing_deletes_ = false;
    // A large object arriving in chunks (its data as transmitted, base64
    // text included), and one refused for its size.
    std::string chunk_luid_, chunk_data_;
    std::string chunk_target_;  ///< its Target LocURI, for an Alert 223
    std::optional<wire::CommandKind> chunk_kind_;  ///< none yet for a chunk carried over by a resume
    bool chunk_continued_ = false;  ///< a chunk came in the current message
    std::optional<std::uint64_t> chunk_declared_size_;
    std::string refused_luid_;
    std::size_t max_obj_size_ = 4000000;
    int check_object_size(const wire::Command& cmd, const wire::Item& item, const std::string& data);
    /// Drops the partial large object and asks the client, by Alert 223 in
    /// `reply`, to send it again; logged with `why`.
    void break_off_chunks(Reply& reply, const std::string& why);
    void drop_chunks(const std::string& why);  ///< logged, no Alert (a resumed item not continued)
    void reset_chunks();
    // A large object leaving in chunks: the command (its one item holding
    // the whole data) and how much of the data has gone.
    std::optional<wire::Command> outgoing_chunks_;
    std::size_t outgoing_offset_ = 0;
    unsigned outgoing_restarts_ = 0;  ///< after the client's Alert 223
    std::string chunked_done_;        ///< GUID of the last item whose last chunk went
    std::size_t client_max_obj_size_ = 0;
    bool client_max_obj_size_from_alert_ = false;
    bool deferred_whole_ = false;  ///< an item too large for the room left waited for the next message
    bool send_chunk(Reply& reply, wire::Command& sync, bool alone);
    void note(const std::string& message) const;  ///< to the warning sink, prefixed with the database
    ClientView client_;
    std::function<void(const std::string&)> warn_;
    std::int64_t last_sent_seq_ = 0;
    // The outbox (prepare_outbox, fill): changes in pages of entries, the
    // page being read in memory; when there are more than one, all are kept
    // in the sync state (SyncState::queue_page) and read back in turn.
    std::vector<state::OutboxEntry> out_page_;
    std::size_t out_pos_ = 0;
    std::int64_t out_page_no_ = 0, out_pages_ = 0;
    std::size_t out_count_ = 0;
    bool merge_outbox(std::vector<state::ClientItem>& gone);
    void queue_out(state::OutboxEntry entry);
    const state::OutboxEntry* next_out();  ///< nullptr when all are taken
    void advance_out();
    // The item that did not fit the last message, as built for it.
    struct Held {
        std::string guid;
        wire::Command op;
        std::string revision;
        std::size_t size;
    };
    std::optional<Held> held_;
    // Adds (GUID -> revision) of the reply being made, and of the last reply
    // whose Map has not come: their rows are written when it comes
    // (end_of_message(); SyncState::save_sent_adds keeps them meanwhile,
    // under `sent_adds_key_`, this session's).
    std::unordered_map<std::string, std::string> sent_adds_, awaiting_map_;
    std::string sent_adds_key_;
    bool sent_adds_saved_ = false;  ///< the sync state holds a list under that key
    /// The revision an Add of this session whose row is not written yet sent.
    std::optional<std::string> awaiting_revision(const std::string& guid) const;
    // Replaces (by GUID) and Deletes (by LUID) of our last message, until the
    // client's status for them arrives.
    struct Unconfirmed {
        std::string guid, luid, revision;
    };
    std::unordered_map<std::string, Unconfirmed> unconfirmed_;
    std::string chunked_key_;  ///< of a Replace going out in chunks: its status comes after the last
    bool sent_sync_ = false;
    SyncCounts from_client_, to_client_;

    // Suspend and resume (Alerts 224 and 225; sync_task_resume.cpp).
public:
    /// Records where this database's session stopped (the client suspended
    /// it, or it was dropped unfinished), for the client's resume.
    /// `client_done`: the client's package 3 was complete.
    void save_resume_point(const char* cause, bool client_done);
    /// The client confirmed (213) the chunk of our large object in our last message.
    void chunk_confirmed();
    bool resumed() const { return resumed_; }

private:
    /// A resume (225) honoured: the mode, anchors and chunks of the
    /// interrupted session; nullopt (the record dropped) when none fits.
    std::optional<Negotiation> resume_session(const wire::Anchor& client_anchor);
    /// For an item of the client in a resumed session: the data position a
    /// chunk continues at (EMI datapos); 0 to go on, else the item's status.
    int continue_resumed_chunk(const wire::Command& cmd, const wire::Item& item);
    bool resumed_ = false;
    int requested_ = 0;                 ///< the alert code the client sent (of the interrupted session, resumed)
    bool resumed_client_done_ = false;  ///< package 3 had been complete: not ended again
    bool resumed_in_chunk_ = false;     ///< the client's cut-off item awaits its continuation
    std::string resumed_out_guid_;      ///< our cut-off item, continued before the outbox
    std::string out_confirmed_guid_;    ///< the large object going out in chunks, and
    std::size_t out_confirmed_ = 0;     ///< how many of its bytes the client confirmed

    // Between two messages (session_archive.cpp).
public:
    /// Writes what this task carries to the session's next message.
    void archive(class ArchiveWriter& out) const;
    /// Reads what archive() wrote into a task just made for the same
    /// database (its callbacks and limits are the session's to set).
    void restore(class ArchiveReader& in);
};

}  // namespace smk::engine
