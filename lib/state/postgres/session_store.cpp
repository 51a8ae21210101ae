#include "state/postgres/session_store.hpp"

#include <cstdint>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "pg/connection.hpp"

namespace smk::state {
namespace {

// Version 1. Client-supplied strings (user, device) and the blob are bytea;
// the token is ours (hex), so text. The row is rewritten after every
// message: room on its page for the new version (docs/SCALING.md).
constexpr const char* kVersion1 = R"sql(
CREATE TABLE smk_sessions(
    token    text PRIMARY KEY,
    "user"   bytea NOT NULL,
    device   bytea NOT NULL,
    finished boolean NOT NULL,
    blob     bytea NOT NULL,
    updated  bigint NOT NULL) WITH (fillfactor = 70);
CREATE INDEX smk_sessions_by_user ON smk_sessions("user", device);
CREATE INDEX smk_sessions_by_updated ON smk_sessions(updated);
)sql";

std::int64_t clamp(std::size_t n) {
    return n > static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())
               ? std::numeric_limits<std::int64_t>::max()
               : static_cast<std::int64_t>(n);
}

class PgSessionStore final : public SessionStore {
public:
    PgSessionStore(const std::string& url, std::size_t pool_size, std::chrono::milliseconds lock_wait)
        : pool_(url, pool_size), lock_wait_(lock_wait) {
        pg::Pool::Lease connection = pool_.acquire();
        pg::migrate(*connection, "sessions", {kVersion1});
    }

    class PgLease final : public Lease {
    public:
        PgLease(PgSessionStore& store, pg::Pool::Lease connection, std::string token)
            : store_(store), connection_(std::move(connection)), token_(std::move(token)) {
            std::lock_guard<std::mutex> lock(store_.held_mutex_);
            store_.held_[token_] = &*connection_;
        }
        ~PgLease() override {
            {
                std::lock_guard<std::mutex> lock(store_.held_mutex_);
                store_.held_.erase(token_);
            }
            try {
                connection_->run("smk_session_unlock", "SELECT pg_advisory_unlock(hashtextextended($1::text, 0))",
                                 {pg::Param::bytes(token_)});
            } catch (const std::exception&) {
                // A broken connection holds no lock any more; the pool closes it.
            }
        }
        PgLease(const PgLease&) = delete;
        PgLease& operator=(const PgLease&) = delete;

    private:
        PgSessionStore& store_;
        pg::Pool::Lease connection_;
        std::string token_;
    };

    std::unique_ptr<Lease> lock(const std::string& token) override {
        pg::Pool::Lease connection = pool_.acquire();
        // lock_timeout bounds the wait for the advisory lock too.
        connection->run("smk_session_lock_timeout", "SELECT set_config('lock_timeout', $1::text, false)",
                        {pg::Param::bytes(std::to_string(lock_wait_.count()))});
        try {
            connection->run("smk_session_lock", "SELECT pg_advisory_lock(hashtextextended($1::text, 0))",
                            {pg::Param::bytes(token)});
        } catch (const pg::Error& e) {
            if (e.sqlstate() == "55P03")  // lock_not_available
                throw DatastoreError("session " + token.substr(0, 8) + ": still locked after " +
                                     std::to_string(lock_wait_.count()) + " ms");
            throw;
        }
        return std::make_unique<PgLease>(*this, std::move(connection), token);
    }

    std::optional<std::string> load(const std::string& token) override {
        Use c = use(token);
        pg::Result r = c->run("smk_session_load", "SELECT blob FROM smk_sessions WHERE token = $1",
                              {pg::Param::bytes(token)});
        if (r.rows() == 0) return std::nullopt;
        return r.str(0, 0);
    }

    std::optional<SessionInfo> info(const std::string& token) override {
        Use c = use(token);
        pg::Result r = c->run("smk_session_info",
                              "SELECT \"user\", device, finished, updated FROM smk_sessions WHERE token = $1",
                              {pg::Param::bytes(token)});
        if (r.rows() == 0) return std::nullopt;
        return SessionInfo{token, r.str(0, 0), r.str(0, 1), r.boolean(0, 2), r.int8(0, 3)};
    }

    void save(const std::string& token, const std::string& user, const std::string& device, bool finished,
              std::string_view blob) override {
        Use c = use(token);
        c->run("smk_session_save",
               "INSERT INTO smk_sessions(token, \"user\", device, finished, blob, updated) "
               "VALUES ($1, $2, $3, $4::bigint <> 0, $5, $6::bigint) "
               "ON CONFLICT (token) DO UPDATE SET \"user\" = EXCLUDED.\"user\", device = EXCLUDED.device, "
               "finished = EXCLUDED.finished, blob = EXCLUDED.blob, updated = EXCLUDED.updated",
               {pg::Param::bytes(token), pg::Param::bytes(user), pg::Param::bytes(device),
                pg::Param::int8(finished ? 1 : 0), pg::Param::bytes(blob), pg::Param::int8(unix_millis())});
    }

    void erase(const std::string& token) override {
        Use c = use(token);
        c->run("smk_session_erase", "DELETE FROM smk_sessions WHERE token = $1", {pg::Param::bytes(token)});
    }

    std::vector<std::string> idle(std::int64_t unfinished_before, std::int64_t finished_before,
                                  std::size_t limit) override {
        pg::Pool::Lease c = pool_.acquire();
        pg::Result r = c->run("smk_session_idle",
                              "SELECT token FROM smk_sessions WHERE (NOT finished AND updated <= $1::bigint) "
                              "OR (finished AND updated <= $2::bigint) ORDER BY updated, token LIMIT $3::bigint",
                              {pg::Param::int8(unfinished_before), pg::Param::int8(finished_before),
                               pg::Param::int8(clamp(limit))});
        std::vector<std::string> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
        return out;
    }

    std::vector<std::string> of_device(const std::string& user, const std::string& device) override {
        pg::Pool::Lease c = pool_.acquire();
        pg::Result r = c->run("smk_session_of_device",
                              "SELECT token FROM smk_sessions WHERE \"user\" = $1 AND device = $2 AND NOT finished "
                              "ORDER BY updated, token",
                              {pg::Param::bytes(user), pg::Param::bytes(device)});
        std::vector<std::string> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
        return out;
    }

    std::vector<SessionInfo> of_user(const std::string& user) override {
        pg::Pool::Lease c = pool_.acquire();
        pg::Result r = c->run("smk_session_of_user",
                              "SELECT token, device, finished, updated FROM smk_sessions WHERE \"user\" = $1 "
                              "ORDER BY updated, token",
                              {pg::Param::bytes(user)});
        std::vector<SessionInfo> out;
        for (int i = 0; i < r.rows(); ++i)
            out.push_back(SessionInfo{r.str(i, 0), user, r.str(i, 1), r.boolean(i, 2), r.int8(i, 3)});
        return out;
    }

    std::size_t count_open() override {
        pg::Pool::Lease c = pool_.acquire();
        pg::Result r = c->run("smk_session_count_open", "SELECT count(*) FROM smk_sessions WHERE NOT finished");
        return static_cast<std::size_t>(r.int8(0, 0));
    }

private:
    // The connection for a statement on `token`: the one that holds its lock
    // in this process (the caller holds the lock: a message's load and save
    // need no second connection, so messages that hold every connection of
    // the pool for their locks never wait on one another), else the pool's.
    class Use {
    public:
        Use(PgSessionStore& store, const std::string& token) {
            {
                std::lock_guard<std::mutex> lock(store.held_mutex_);
                auto it = store.held_.find(token);
                if (it != store.held_.end()) held_ = it->second;
            }
            if (!held_) leased_ = store.pool_.acquire();
        }
        pg::Connection* operator->() { return held_ ? held_ : &*leased_; }

    private:
        pg::Connection* held_ = nullptr;
        pg::Pool::Lease leased_;
    };
    Use use(const std::string& token) { return Use(*this, token); }

    pg::Pool pool_;
    std::chrono::milliseconds lock_wait_;
    std::mutex held_mutex_;
    std::unordered_map<std::string, pg::Connection*> held_;  ///< by token, the connections holding its lock
};

}  // namespace

std::unique_ptr<SessionStore> open_postgres_sessions(const std::string& url, std::size_t pool_size,
                                                     std::chrono::milliseconds lock_wait) {
    return std::make_unique<PgSessionStore>(url, pool_size, lock_wait);
}

}  // namespace smk::state
