// Per-client sync state of one database, in SQLite: for each client device
// the anchors of its last completed session and, for each item the client
// holds, its LUID and the item's revision as the client last saw it. A
// client's changes are derived from these and the store's revisions, so no
// store needs a change log.
//
// The state lives in the SQLite database it is given: for SyncMLKit's own
// store that is the store's file, so an item written from a client message
// and its mapping commit in one transaction (the caller's begin/commit on the
// store). For a host's store it is a file of its own under the state dir.
//
// Every statement is prepared once, in the constructor. SQLite failures are
// thrown as smk::DatastoreError (the engine treats them like the store's:
// 510 and a rollback of the message). An I/O error or a full disk inside
// the caller's transaction (after which SQLite may have rolled it back by
// itself) marks the connection read-only, so that no later write of the
// message commits on its own or without the failed one; whoever owns the
// transaction rolls back and clears the mark (sqlite/lost_transaction.hpp;
// SqliteDatastore::rollback() does).
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "syncmlkit/sqlite_store.hpp"

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
    /// Creates its tables in `db` if missing. `db` must outlive this object
    /// and every cursor it hands out. Create it outside a transaction (or
    /// commit that transaction): tables created inside one that is rolled
    /// back are gone again.
    explicit SyncState(SQLite::Database& db);
    ~SyncState();

    std::optional<Anchors> anchors(const std::string& device);
    /// Also notes when (smk_anchors.completed, Unix seconds), for the admin tool.
    void save_anchors(const std::string& device, const Anchors& anchors);
    /// Forgets all the device knows of this database (anchors, items,
    /// outbox): its next sync is a slow sync. No item is deleted.
    void forget(const std::string& device);
    /// Forgets the device's anchors alone: its next sync is a slow sync,
    /// which pairs what it holds with the items this state maps.
    void forget_anchors(const std::string& device);

    std::optional<ClientItem> by_guid(const std::string& device, const std::string& guid);
    /// The item the client knows as `luid`; nullopt for "" (items awaiting
    /// a Map have no LUID yet). Should two rows hold one LUID, the lowest
    /// GUID wins.
    std::optional<ClientItem> by_luid(const std::string& device, const std::string& luid);
    /// Inserts or updates the row of `guid`.
    void put(const std::string& device, const ClientItem& item);
    /// A row awaiting its Map for `guid` at `revision`, unless the device
    /// holds the GUID mapped already (by another session of the device):
    /// a mapping is never overwritten by the lack of one.
    void put_unmapped(const std::string& device, const std::string& guid, const std::string& revision);
    /// put() of each of `items`, several rows a statement.
    void put_all(const std::string& device, const std::vector<ClientItem>& items);
    /// Sets the LUID of a GUID (from a Map); false when the client holds no such GUID.
    bool set_luid(const std::string& device, const std::string& guid, const std::string& luid);
    void erase(const std::string& device, const std::string& guid);
    /// Forgets every item of the device (before a slow sync or a refresh);
    /// anchors stay until save_anchors.
    void erase_all(const std::string& device);
    /// Every item the device holds, in GUID order.
    std::unique_ptr<ClientItemCursor> items(const std::string& device);
    std::size_t item_count(const std::string& device);
    /// Whether the device has items sent as Adds whose Map never came.
    bool has_unmapped(const std::string& device);

    /// The outbox: changes computed for the client at the start of the
    /// server's package 4, taken in order as messages fill, so memory stays
    /// bounded by the message size, not the store size.
    void clear_outbox(const std::string& device);
    void queue(const std::string& device, const OutboxEntry& entry);  ///< seq is assigned
    /// The first entry after `after_seq`, or nullopt when none is left.
    std::optional<OutboxEntry> next_queued(const std::string& device, std::int64_t after_seq);
    std::size_t queued_count(const std::string& device);
    /// The outbox in pages: a page of entries is one row (`page` numbers
    /// them from 0), so queueing and taking cost a statement a page, not
    /// one an entry. clear_outbox() drops them too.
    void queue_page(const std::string& device, std::int64_t page, const std::vector<OutboxEntry>& entries);
    /// The page's entries (seq left 0); empty when there is no such page.
    std::vector<OutboxEntry> queued_page(const std::string& device, std::int64_t page);

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
    void save_sent_adds(const std::string& device, const std::string& session, const std::vector<SentAdd>& adds);
    void recover_sent_adds(const std::string& device);

    /// For an administrator's check, over every device: the entries of the
    /// outbox (rows and pages), and the Adds noted by save_sent_adds().
    std::size_t queued_total();
    std::size_t sent_adds_total();

    /// Every device with any state here (anchors, items or outbox), in device order.
    std::vector<ClientSyncState> clients();

private:
    struct Statements;
    SQLite::Database& db_;
    std::unique_ptr<Statements> statements_;
};

}  // namespace smk::state
