// Per-client sync state of one database: for each client device the
// anchors of its last completed session and, for each item the client
// holds, its LUID and the item's revision as the client last saw it. A
// client's changes are derived from these and the store's revisions, so no
// store needs a change log.
//
// An interface: SQLite implements it (state/sqlite/sync_state.hpp), in the
// store's own file for SyncMLKit's SQLite store or in a file of its own for
// a host's store; the DatabaseState that hands it out (state_backend.hpp)
// says which transaction it writes in. Failures are thrown as
// smk::DatastoreError (the engine treats them like the store's: 510 and a
// rollback of the message). A write that fails inside the message's
// transaction leaves that transaction uncommittable: no later write of the
// message commits without the failed one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "syncmlkit/builtin_store.hpp"

namespace smk::state {

struct Anchors {
    std::string client_next;  ///< the client's Next anchor of the last completed session
    std::string server_next;  ///< the server's Next anchor of that session
};

/// One item the client holds.
struct ClientItem {
    std::string guid;
    std::string luid;      ///< empty while a server Add awaits the client's Map
    std::string revision;  ///< the store's revision the client last saw
};

/// Walks the items a client holds.
class ClientItemCursor {
public:
    virtual ~ClientItemCursor() = default;
    virtual bool next(ClientItem& out) = 0;
};

/// What the server still has to send to a client in this session.
enum class OutOp { add, replace, remove };
struct OutboxEntry {
    std::int64_t seq = 0;
    OutOp op = OutOp::add;
    std::string guid;
    std::string luid;  ///< for replace and remove: the client's id
};

class SyncState {
public:
    virtual ~SyncState() = default;

    virtual std::optional<Anchors> anchors(const std::string& device) = 0;
    /// Also notes when (Unix seconds: ClientSyncState::when), for the admin tool.
    virtual void save_anchors(const std::string& device, const Anchors& anchors) = 0;
    /// Forgets all the device knows of this database (anchors, items,
    /// outbox): its next sync is a slow sync. No item is deleted.
    virtual void forget(const std::string& device) = 0;
    /// Forgets the device's anchors alone: its next sync is a slow sync,
    /// which pairs what it holds with the items this state maps.
    virtual void forget_anchors(const std::string& device) = 0;

    virtual std::optional<ClientItem> by_guid(const std::string& device, const std::string& guid) = 0;
    /// The item the client knows as `luid`; nullopt for "" (items awaiting
    /// a Map have no LUID yet). Should two rows hold one LUID, the lowest
    /// GUID wins.
    virtual std::optional<ClientItem> by_luid(const std::string& device, const std::string& luid) = 0;
    /// Inserts or updates the row of `guid`.
    virtual void put(const std::string& device, const ClientItem& item) = 0;
    /// A row awaiting its Map for `guid` at `revision`, unless the device
    /// holds the GUID mapped already (by another session of the device):
    /// a mapping is never overwritten by the lack of one.
    virtual void put_unmapped(const std::string& device, const std::string& guid, const std::string& revision) = 0;
    /// put() of each of `items`, several rows a statement.
    virtual void put_all(const std::string& device, const std::vector<ClientItem>& items) = 0;
    /// Sets the LUID of a GUID (from a Map); false when the client holds no such GUID.
    virtual bool set_luid(const std::string& device, const std::string& guid, const std::string& luid) = 0;
    virtual void erase(const std::string& device, const std::string& guid) = 0;
    /// Forgets every item of the device (before a slow sync or a refresh);
    /// anchors stay until save_anchors.
    virtual void erase_all(const std::string& device) = 0;
    /// Every item the device holds, in GUID order (bytewise, as std::string compares).
    virtual std::unique_ptr<ClientItemCursor> items(const std::string& device) = 0;
    virtual std::size_t item_count(const std::string& device) = 0;
    /// Whether the device has items sent as Adds whose Map never came.
    virtual bool has_unmapped(const std::string& device) = 0;

    /// The outbox: changes computed for the client at the start of the
    /// server's package 4, taken in order as messages fill, so memory stays
    /// bounded by the message size, not the store size.
    virtual void clear_outbox(const std::string& device) = 0;
    virtual void queue(const std::string& device, const OutboxEntry& entry) = 0;  ///< seq is assigned
    /// The first entry after `after_seq`, or nullopt when none is left.
    virtual std::optional<OutboxEntry> next_queued(const std::string& device, std::int64_t after_seq) = 0;
    virtual std::size_t queued_count(const std::string& device) = 0;
    /// The outbox in pages: a page of entries is one row (`page` numbers
    /// them from 0), so queueing and taking cost a statement a page, not
    /// one an entry. clear_outbox() drops them too.
    virtual void queue_page(const std::string& device, std::int64_t page, const std::vector<OutboxEntry>& entries) = 0;
    /// The page's entries (seq left 0); empty when there is no such page.
    virtual std::vector<OutboxEntry> queued_page(const std::string& device, std::int64_t page) = 0;

    /// Server Adds of a session's last message, not yet recorded as rows:
    /// their rows are written once, with the LUID, when the client's Map
    /// comes. Kept meanwhile as one row per session (`session` tells
    /// sessions of one device apart), so that a session that stops before
    /// the Map (dropped, or the server with it) loses nothing:
    /// recover_sent_adds(), at the device's next session, records them as
    /// awaiting their Map (rows with an empty LUID). save_sent_adds()
    /// replaces the session's list (an empty list removes it).
    struct SentAdd {
        std::string guid, revision;
    };
    virtual void save_sent_adds(const std::string& device, const std::string& session, const std::vector<SentAdd>& adds) = 0;
    virtual void recover_sent_adds(const std::string& device) = 0;

    /// For an administrator's check, over every device: the entries of the
    /// outbox (rows and pages), and the Adds noted by save_sent_adds().
    virtual std::size_t queued_total() = 0;
    virtual std::size_t sent_adds_total() = 0;

    /// Every device with any state here (anchors, items or outbox), in device order.
    virtual std::vector<ClientSyncState> clients() = 0;

};

}  // namespace smk::state
