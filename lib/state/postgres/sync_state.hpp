// The sync state of one database in PostgreSQL (state/sync_state.hpp has the
// contract). Rows of every database share the tables of schema.hpp, told
// apart by owner and category; each statement is prepared once per
// connection. Several processes may serve devices of one database at once,
// so every write is one statement on the rows it names (an upsert, never a
// read followed by a write): two sessions of one device still leave a
// mapped LUID alone (put_unmapped), and recovering noted Adds takes them
// with the DELETE that removes them, so two sessions never both record them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "state/sync_state.hpp"

namespace smk::state::postgres {

struct DatabaseConnection;

class PgSyncState final : public SyncState {
public:
    /// `db` must outlive this object and every cursor it hands out.
    explicit PgSyncState(DatabaseConnection& db) : db_(db) {}

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
    /// Read a page of rows at a time (by GUID, after the last one read), so
    /// any number of cursors may walk at once on the one connection.
    std::unique_ptr<ClientItemCursor> items(const std::string& device) override;
    std::size_t item_count(const std::string& device) override;
    bool has_unmapped(const std::string& device) override;

    void clear_outbox(const std::string& device) override;
    void queue(const std::string& device, const OutboxEntry& entry) override;
    std::optional<OutboxEntry> next_queued(const std::string& device, std::int64_t after_seq) override;
    std::size_t queued_count(const std::string& device) override;
    void queue_page(const std::string& device, std::int64_t page, const std::vector<OutboxEntry>& entries) override;
    std::vector<OutboxEntry> queued_page(const std::string& device, std::int64_t page) override;

    void save_sent_adds(const std::string& device, const std::string& session, const std::vector<SentAdd>& adds) override;
    void recover_sent_adds(const std::string& device) override;

    std::size_t queued_total() override;
    std::size_t sent_adds_total() override;
    std::vector<ClientSyncState> clients() override;

private:
    void upsert_rows(const std::string& device, const ClientItem* const* rows, std::size_t n);

    DatabaseConnection& db_;
};

}  // namespace smk::state::postgres
