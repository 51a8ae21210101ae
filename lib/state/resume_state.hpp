// Where an unfinished session of a client stopped, per database, so that the
// client's resume (Alert 225, SyncML 1.2) can carry on from there: the sync
// mode and anchors of that session, whether the client's changes had all
// come, and a large object cut off in the middle, in either direction. One
// record per device, kept with the device's sync state (state/sync_state.hpp)
// in the same transaction, so a record commits with the message that made
// it. An interface: state/sqlite/resume_state.hpp implements it in SQLite.
//
// A record is written when the client suspends (Alert 224) or its session
// is dropped unfinished after its changes began (engine/session.cpp), and
// erased when a session of the device completes, starts afresh, or is
// refused a resume. Everything else a resumed session needs is in the sync
// state already: each message commits on its own.
//
// Failures are thrown as smk::DatastoreError, as SyncState does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace smk::state {

struct ResumePoint {
    int mode = 0;  ///< the sync mode of the interrupted session, as its alert code (200..205)
    int requested = 0;  ///< the alert code the client sent for it (a fallback keeps its limits)
    /// The anchors of the interrupted session: the client's Last and Next,
    /// the server's Last (its Next of the last completed session) and Next.
    std::string client_last, client_next, server_last, server_next;
    std::int64_t saved_at = 0;  ///< Unix seconds
    std::string cause;          ///< "suspended" or "dropped"
    bool client_done = false;   ///< the client's changes (package 3) had all come
    /// What the server had sent and seen confirmed: the outbox entries up to
    /// this seq (for the log; the state holds the confirmations themselves).
    std::int64_t sent_seq = 0;
    /// A large object from the client, cut off: its LUID, the data received
    /// (never more than MaxObjSize), the Size its first chunk announced.
    std::string in_luid, in_data;
    std::optional<std::uint64_t> in_size;
    /// A large object to the client, cut off: the command (1 add, 2 replace),
    /// the item (our GUID, the client's LUID for a replace), its type and
    /// encoding, the revision it was read at, the whole data as sent, and how
    /// much of it the client confirmed (213).
    int out_op = 0;
    std::string out_guid, out_luid, out_type, out_format, out_revision, out_data;
    std::uint64_t out_offset = 0;
};

class ResumeState {
public:
    virtual ~ResumeState() = default;

    virtual std::optional<ResumePoint> load(const std::string& device) = 0;
    /// Replaces the device's record.
    virtual void save(const std::string& device, const ResumePoint& point) = 0;
    /// Forgets the device's record; true when there was one.
    virtual bool erase(const std::string& device) = 0;
};

}  // namespace smk::state
