// A thin layer over libpq, PostgreSQL's own client library: a connection
// with statements prepared once per connection, a bounded pool of them, and
// schema versions. libpq rather than libpqxx because the engine opens and
// closes a transaction across separate calls (Datastore::begin/commit), which
// libpqxx's scoped transaction objects do not model, and because every value
// here travels in binary form (bytea, raw text, bigint) with no conversions.
//
// Every parameter is sent in binary format and every result is asked for in
// binary format: a text or bytea column reads as its raw bytes, an integer
// column as a number. Client-supplied strings belong in bytea columns, since
// PostgreSQL rejects text that is not valid UTF-8.
//
// Every failure throws pg::Error, a smk::DatastoreError, so the engine treats
// it as any store failure (510, the message rolled back).
#pragma once

#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "syncmlkit/datastore.hpp"

struct pg_conn;
struct pg_result;

namespace smk::pg {

/// A failure of PostgreSQL or of the connection to it.
class Error : public DatastoreError {
public:
    Error(const std::string& message, std::string sqlstate)
        : DatastoreError(message), sqlstate_(std::move(sqlstate)) {}
    /// PostgreSQL's five-character error code ("23505" unique violation,
    /// "40001" serialization failure, ...); empty for a connection failure.
    const std::string& sqlstate() const { return sqlstate_; }

private:
    std::string sqlstate_;
};

/// One statement parameter, sent in binary format. A Param refers to the
/// bytes it was made from: keep them alive until the call returns.
class Param {
public:
    /// For bytea and text columns: the raw bytes.
    static Param bytes(std::string_view value);
    /// For bigint columns (write `$1::bigint` where PostgreSQL cannot infer it).
    static Param int8(std::int64_t value);
    static Param null();

private:
    friend class Connection;
    enum class Kind { bytes, int8, null } kind_ = Kind::null;
    std::string_view bytes_;
    char int8_[8] = {};
};

/// A statement's result, with every column in binary format.
class Result {
public:
    Result() = default;
    explicit Result(pg_result* result) : result_(result) {}
    Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
    Result& operator=(Result&& other) noexcept;
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    ~Result();

    int rows() const;
    int columns() const;
    bool null(int row, int col) const;
    /// A text, varchar or bytea column: its raw bytes (valid as long as the Result).
    std::string_view text(int row, int col) const;
    std::string str(int row, int col) const { return std::string(text(row, col)); }
    /// A smallint, integer or bigint column.
    std::int64_t int8(int row, int col) const;
    bool boolean(int row, int col) const;
    /// Rows changed by an INSERT, UPDATE or DELETE.
    std::int64_t affected() const;

private:
    pg_result* result_ = nullptr;
};

class Connection {
public:
    /// `conninfo`: a "postgresql://..." URL or "key=value ..." pairs, as libpq takes them.
    explicit Connection(const std::string& conninfo);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// One statement, not prepared.
    Result exec(const std::string& sql, const std::vector<Param>& params = {});
    /// Statements separated by semicolons, no parameters (schema steps).
    void script(const std::string& sql);
    /// The statement `sql`, prepared on this connection the first time under
    /// `name` (one name per SQL text), then run with `params`.
    Result run(const char* name, const char* sql, const std::vector<Param>& params = {});

    void begin();
    void commit();
    /// Never throws: a broken connection has no transaction left to roll back.
    void rollback() noexcept;
    bool in_transaction() const;
    /// Connected, and not in a failed transaction.
    bool healthy() const;
    /// The server process serving this connection (for tests that end it).
    int backend_pid() const;

private:
    Result check(pg_result* result, const char* what);
    static void fill(const std::vector<Param>& params, void* arrays);
    [[noreturn]] void fail(const char* what, pg_result* result);

    pg_conn* conn_ = nullptr;
    std::unordered_map<std::string, std::string> prepared_;  // name -> SQL
};

/// A bounded set of connections to one database, shared by threads.
class Pool {
public:
    Pool(std::string conninfo, std::size_t max_connections,
         std::chrono::milliseconds wait = std::chrono::seconds(10));
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// A connection for one user at a time, back in the pool when the lease
    /// ends: rolled back if a transaction was left open, closed if broken.
    class Lease {
    public:
        Lease() = default;
        Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) { other.pool_ = nullptr; }
        Lease& operator=(Lease&& other) noexcept;
        ~Lease();
        Connection& operator*() const { return *conn_; }
        Connection* operator->() const { return conn_.get(); }
        explicit operator bool() const { return conn_ != nullptr; }

    private:
        friend class Pool;
        Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
        void release();
        Pool* pool_ = nullptr;
        std::unique_ptr<Connection> conn_;
    };

    /// Waits (at most the pool's wait) for a free connection, opening one
    /// while fewer than max_connections exist; throws Error on timeout.
    Lease acquire();
    const std::string& conninfo() const { return conninfo_; }
    std::size_t max_connections() const { return max_; }
    /// Connections open now (idle and leased).
    std::size_t open_connections() const;

private:
    void give_back(std::unique_ptr<Connection> conn);

    const std::string conninfo_;
    const std::size_t max_;
    const std::chrono::milliseconds wait_;
    mutable std::mutex mutex_;
    std::condition_variable freed_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::size_t open_ = 0;
};

/// Brings `component`'s tables to the newest version: steps[i] is the SQL
/// (statements separated by semicolons) that takes the schema from version i
/// to i + 1. The table smk_schema records each component's version; the
/// whole runs in one transaction under an advisory lock, so processes that
/// start together migrate once. A database whose version is newer than the
/// steps know is refused (an older build must not write a newer schema).
void migrate(Connection& conn, const std::string& component, const std::vector<std::string>& steps);

/// Whether `text` names a PostgreSQL database ("postgresql://" or "postgres://").
bool is_postgres_url(std::string_view text);

}  // namespace smk::pg
