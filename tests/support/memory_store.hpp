// A host's own datastores kept in memory, for the session fuzzer and the
// concurrency tests: a map per (owner, category), created on first use.
//
// The engine promises that calls for one store come from one session at a
// time. MemoryStore checks that promise: a call that starts while another
// call on the same store is still running is counted in `overlaps` (a mutex
// keeps the map itself consistent either way, so a broken promise shows up
// as a count, not as memory corruption).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "syncmlkit/datastore.hpp"

namespace smk::test {

class MemoryStore : public Datastore {
public:
    struct Entry {
        std::string revision;
        Format format;
        std::string data;
    };

    explicit MemoryStore(Format native = {"text/vcard", "3.0"}) : native_(std::move(native)) {}

    /// Calls that overlapped another call on this store (should stay 0).
    std::atomic<int> overlaps{0};
    /// begin() calls: one per message that touches the store.
    std::atomic<int> transactions{0};

    Format native_format() const override { return native_; }

    std::unique_ptr<ItemCursor> list() override {
        Guard g(*this);
        // A snapshot, so that the cursor stays valid whatever happens next.
        struct Cursor : ItemCursor {
            std::vector<ItemVersion> items;
            std::size_t pos = 0;
            bool next(ItemVersion& out) override {
                if (pos == items.size()) return false;
                out = items[pos++];
                return true;
            }
        };
        auto c = std::make_unique<Cursor>();
        for (const auto& [guid, e] : items_) c->items.push_back({guid, e.revision});
        return c;
    }
    std::optional<StoredItem> read(const std::string& guid) override {
        Guard g(*this);
        auto it = items_.find(guid);
        if (it == items_.end()) return std::nullopt;
        return StoredItem{guid, it->second.revision, it->second.format, it->second.data};
    }
    std::optional<std::string> revision(const std::string& guid) override {
        Guard g(*this);
        auto it = items_.find(guid);
        if (it == items_.end()) return std::nullopt;
        return it->second.revision;
    }
    ItemVersion add(const Format& format, std::string_view data) override {
        Guard g(*this);
        std::string guid = "m" + std::to_string(next_id_++);
        std::string rev = std::to_string(next_rev_++);
        items_[guid] = {rev, format, std::string(data)};
        return {guid, rev};
    }
    std::optional<std::string> replace(const std::string& guid, const Format& format, std::string_view data) override {
        Guard g(*this);
        auto it = items_.find(guid);
        if (it == items_.end()) return std::nullopt;
        it->second = {std::to_string(next_rev_++), format, std::string(data)};
        return it->second.revision;
    }
    bool remove(const std::string& guid) override {
        Guard g(*this);
        return items_.erase(guid) > 0;
    }
    void begin() override {
        Guard g(*this);
        ++transactions;
    }

    /// Every item's data, in GUID order.
    std::vector<std::string> data() {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> out;
        for (const auto& [guid, e] : items_) out.push_back(e.data);
        return out;
    }
    std::size_t size() {
        std::lock_guard<std::mutex> lock(mutex_);
        return items_.size();
    }

private:
    struct Guard {
        explicit Guard(MemoryStore& s) : store(s) {
            if (store.active_.fetch_add(1) != 0) ++store.overlaps;
            lock = std::unique_lock<std::mutex>(store.mutex_);
        }
        ~Guard() {
            lock.unlock();
            --store.active_;
        }
        MemoryStore& store;
        std::unique_lock<std::mutex> lock;
    };

    Format native_;
    std::mutex mutex_;
    std::atomic<int> active_{0};
    std::map<std::string, Entry> items_;
    int next_id_ = 1, next_rev_ = 1;
};

/// The native format a store of `category` keeps (as SyncMLKit's SQLite store does).
inline Format memory_native_format(Category category) {
    switch (category) {
        case Category::contacts: return {"text/vcard", "3.0"};
        case Category::notes: return {"text/x-vnote", "1.1"};
        default: return {"text/calendar", "2.0"};
    }
}

/// Stores made on first use for any owner; grants and a global address book
/// as set up before the server starts.
class MemoryProvider : public DatastoreProvider {
public:
    /// owner, category, user -> access.
    std::map<std::tuple<std::string, Category, std::string>, Access> grants;
    /// The organisation's directory; nullptr: none.
    std::shared_ptr<MemoryStore> global_address_book;

    std::shared_ptr<Datastore> open(const std::string& owner, Category category) override { return store(owner, category); }
    std::optional<Access> grant(const std::string& owner, Category category, const std::string& user) override {
        auto it = grants.find({owner, category, user});
        if (it == grants.end()) return std::nullopt;
        return it->second;
    }
    std::shared_ptr<Datastore> open_global_address_book() override { return global_address_book; }

    /// The store of `owner`'s `category`, made empty when new.
    std::shared_ptr<MemoryStore> store(const std::string& owner, Category category) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto& s = stores_[{owner, category}];
        if (!s) s = std::make_shared<MemoryStore>(memory_native_format(category));
        return s;
    }
    /// Every store made so far.
    std::vector<std::pair<std::pair<std::string, Category>, std::shared_ptr<MemoryStore>>> all() {
        std::lock_guard<std::mutex> lock(mutex_);
        return {stores_.begin(), stores_.end()};
    }

private:
    std::mutex mutex_;
    std::map<std::pair<std::string, Category>, std::shared_ptr<MemoryStore>> stores_;
};

}  // namespace smk::test
