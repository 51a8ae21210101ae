// SyncState in SQLite: three tables (smk_anchors, smk_client_items,
// smk_outbox with smk_outbox_pages) and smk_sent_adds in the SQLite
// database it is given. For SyncMLKit's own store that is the store's file,
// so an item written from a client message and its mapping commit in one
// transaction (the caller's begin/commit on the store). For a host's store
// it is a file of its own under the state dir (state/sqlite/sqlite_state.hpp).
//
// Every statement is prepared once, in the constructor. SQLite failures are
// thrown as smk::DatastoreError. An I/O error or a full disk inside the
// caller's transaction (after which SQLite may have rolled it back by
// itself) marks the connection read-only, so that no later write of the
// message commits on its own or without the failed one; whoever owns the
// transaction rolls back and clears the mark (sqlite/lost_transaction.hpp;
// SqliteDatastore::rollback() and the state file's DatabaseState do).
#pragma once

#include <SQLiteCpp/Database.h>

#include <memory>

#include "state/sync_state.hpp"

namespace smk::state {

class SqliteSyncState final : public SyncState {
public:
    /// Creates its tables in `db` if missing. `db` must outlive this object
    /// and every cursor it hands out. Create it outside a transaction (or
    /// commit that transaction): tables created inside one that is rolled
    /// back are gone again.
    explicit SqliteSyncState(SQLite::Database& db);
    ~SqliteSyncState() override;

    std::optional<Anchors> anchors(const std::string& device) override;
    void save_anchors(const std::string& device, const Anchors& anchors) override;
    void forget(const std::string& device) override;
    void forget_anchors(const std::string& device) override;
    std::optional<ClientItem> by_guid(const std::string& device, const std::string& guid) override;
    std::optional<ClientItem> by_luid(const std::string& device, const std::string& luid) override;
    void put(const std::string& device, const ClientItem& item) override;
    void put_unmapped(const std::string& device, const std::string& guid, const std::string& revision) override;
    void put_all(const std::string& device, const std::vector<ClientItem>& items) override;
    bool set_luid(const std::string& device, const std::string& guid, const std::string& luid) override;
    void erase(const std::string& device, const std::string& guid) override;
    void erase_all(const std::string& device) override;
    std::unique_ptr<ClientItemCursor> items(const std::string& device) override;
    std::size_t item_count(const std::string& device) override;
    bool has_unmapped(const std::string& device) override;
    void clear_outbox(const std::string& device) override;
    void queue(const std::string& device, const OutboxEntry& entry) override;
    std::optional<OutboxEntry> next_queued(const std::string& device, std::int64_t after_seq) override;
    std::size_t queued_count(const std::string& device) override;
    void queue_page(const std::string& device, std::int64_t page, const std::vector<OutboxEntry>& entries) override;
    std::vector<OutboxEntry> queued_page(const std::string& device, std::int64_t page) override;
    void save_sent_adds(const std::string& device, const std::string& session,
                        const std::vector<SentAdd>& adds) override;
    void recover_sent_adds(const std::string& device) override;
    std::size_t queued_total() override;
    std::size_t sent_adds_total() override;
    std::vector<ClientSyncState> clients() override;

private:
    struct Statements;
    SQLite::Database& db_;
    std::unique_ptr<Statements> statements_;
};

}  // namespace smk::state
