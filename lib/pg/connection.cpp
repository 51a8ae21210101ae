#include "pg/connection.hpp"

#include <libpq-fe.h>

#include <cstring>

namespace smk::pg {
namespace {

// Type OIDs of the binary formats read here (PostgreSQL's catalog, stable).
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23;

std::string trimmed(const char* message) {
    std::string s = message ? message : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::uint64_t big_endian(const char* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

void ignore_notice(void*, const char*) {}  // "relation already exists, skipping" and the like

}  // namespace

Param Param::bytes(std::string_view value) {
    Param p;
    p.kind_ = Kind::bytes;
    p.bytes_ = value;
    return p;
}

Param Param::int8(std::int64_t value) {
    Param p;
    p.kind_ = Kind::int8;
    auto u = static_cast<std::uint64_t>(value);
    for (int i = 7; i >= 0; --i) {
        p.int8_[i] = static_cast<char>(u & 0xFF);
        u >>= 8;
    }
    return p;
}

Param Param::null() { return Param(); }

Result& Result::operator=(Result&& other) noexcept {
    if (this != &other) {
        if (result_) PQclear(result_);
        result_ = other.result_;
        other.result_ = nullptr;
    }
    return *this;
}

Result::~Result() {
    if (result_) PQclear(result_);
}

int Result::rows() const { return result_ ? PQntuples(result_) : 0; }
int Result::columns() const { return result_ ? PQnfields(result_) : 0; }
bool Result::null(int row, int col) const { return PQgetisnull(result_, row, col) != 0; }

std::string_view Result::text(int row, int col) const {
    return {PQgetvalue(result_, row, col), static_cast<std::size_t>(PQgetlength(result_, row, col))};
}

std::int64_t Result::int8(int row, int col) const {
    const char* p = PQgetvalue(result_, row, col);
    int n = PQgetlength(result_, row, col);
    if (PQfformat(result_, col) == 0) return std::stoll(std::string(p, static_cast<std::size_t>(n)));
    Oid type = PQftype(result_, col);
    if (!(type == kInt8Oid && n == 8) && !(type == kInt4Oid && n == 4) && !(type == kInt2Oid && n == 2))
        throw Error("PostgreSQL: column " + std::to_string(col) + " is not an integer", "");
    std::uint64_t u = big_endian(p, n);
    // Sign-extend the narrower types.
    if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(u));
    if (n == 2) return static_cast<std::int16_t>(static_cast<std::uint16_t>(u));
    return static_cast<std::int64_t>(u);
}

bool Result::boolean(int row, int col) const {
    const char* p = PQgetvalue(result_, row, col);
    if (PQfformat(result_, col) == 0) return p[0] == 't';
    if (PQftype(result_, col) != kBoolOid) throw Error("PostgreSQL: column " + std::to_string(col) + " is not a boolean", "");
    return p[0] != 0;
}

std::int64_t Result::affected() const {
    const char* n = result_ ? PQcmdTuples(result_) : "";
    return *n ? std::stoll(n) : 0;
}

Connection::Connection(const std::string& conninfo) {
    conn_ = PQconnectdb(conninfo.c_str());
    if (!conn_) throw Error("PostgreSQL: out of memory connecting", "");
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string message = "PostgreSQL: cannot connect: " + trimmed(PQerrorMessage(conn_));
        PQfinish(conn_);
        conn_ = nullptr;
        throw Error(message, "");
    }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
}

Connection::~Connection() {
    if (conn_) PQfinish(conn_);
}

void Connection::fail(const char* what, pg_result* result) {
    std::string sqlstate;
    std::string message;
    if (result) {
        if (const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE)) sqlstate = s;
        message = trimmed(PQresultErrorMessage(result));
        PQclear(result);
    }
    if (message.empty()) message = trimmed(PQerrorMessage(conn_));
    if (PQstatus(conn_) != CONNECTION_OK) prepared_.clear();  // a new session would need them again
    throw Error(std::string("PostgreSQL (") + what + "): " + message, sqlstate);
}

Result Connection::check(pg_result* result, const char* what) {
    ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(what, result);
    return Result(result);
}

namespace {

// libpq's parallel arrays for a statement's parameters, all binary.
struct Arrays {
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    std::vector<Oid> types;
};

}  // namespace

void Connection::fill(const std::vector<Param>& params, void* out) {
    Arrays& a = *static_cast<Arrays*>(out);
    for (const Param& p : params) {
        a.formats.push_back(1);
        switch (p.kind_) {
            case Param::Kind::bytes:
                a.values.push_back(p.bytes_.data() ? p.bytes_.data() : "");
                a.lengths.push_back(static_cast<int>(p.bytes_.size()));
                a.types.push_back(0);  // as the statement's context says (text or bytea)
                break;
            case Param::Kind::int8:
                a.values.push_back(p.int8_);
                a.lengths.push_back(8);
                a.types.push_back(kInt8Oid);
                break;
            case Param::Kind::null:
                a.values.push_back(nullptr);
                a.lengths.push_back(0);
                a.types.push_back(0);
                break;
        }
    }
}

Result Connection::exec(const std::string& sql, const std::vector<Param>& params) {
    Arrays a;
    fill(params, &a);
    return check(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), a.types.data(), a.values.data(),
                              a.lengths.data(), a.formats.data(), 1),
                 "statement");
}

void Connection::script(const std::string& sql) { check(PQexec(conn_, sql.c_str()), "script"); }

Result Connection::run(const char* name, const char* sql, const std::vector<Param>& params) {
    Arrays a;
    fill(params, &a);
    auto it = prepared_.find(name);
    if (it == prepared_.end()) {
        check(PQprepare(conn_, name, sql, static_cast<int>(params.size()), a.types.data()), name);
        prepared_.emplace(name, sql);
    } else if (it->second != sql) {
        throw Error(std::string("PostgreSQL: statement name ") + name + " used for two statements", "");
    }
    return check(PQexecPrepared(conn_, name, static_cast<int>(params.size()), a.values.data(), a.lengths.data(),
                                a.formats.data(), 1),
                 name);
}

void Connection::begin() { check(PQexec(conn_, "BEGIN"), "begin"); }
void Connection::commit() { check(PQexec(conn_, "COMMIT"), "commit"); }

void Connection::rollback() noexcept {
    if (PQstatus(conn_) != CONNECTION_OK) return;
    if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
    if (pg_result* r = PQexec(conn_, "ROLLBACK")) PQclear(r);
}

bool Connection::in_transaction() const {
    PGTransactionStatusType s = PQtransactionStatus(conn_);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

bool Connection::healthy() const {
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_INERROR &&
           PQtransactionStatus(conn_) != PQTRANS_UNKNOWN;
}

int Connection::backend_pid() const { return PQbackendPID(conn_); }

Pool::Pool(std::string conninfo, std::size_t max_connections, std::chrono::milliseconds wait)
    : conninfo_(std::move(conninfo)), max_(max_connections ? max_connections : 1), wait_(wait) {}

Pool::~Pool() = default;

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        pool_ = other.pool_;
        conn_ = std::move(other.conn_);
        other.pool_ = nullptr;
    }
    return *this;
}

Pool::Lease::~Lease() { release(); }

void Pool::Lease::release() {
    if (pool_ && conn_) pool_->give_back(std::move(conn_));
    pool_ = nullptr;
    conn_.reset();
}

Pool::Lease Pool::acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!freed_.wait_for(lock, wait_, [&] { return !idle_.empty() || open_ < max_; }))
        throw Error("PostgreSQL: no connection free in the pool (" + std::to_string(max_) + " in use for " +
                        std::to_string(wait_.count()) + " ms)",
                    "");
    if (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
    }
    ++open_;
    lock.unlock();
    try {
        return Lease(this, std::make_unique<Connection>(conninfo_));
    } catch (...) {
        lock.lock();
        --open_;
        freed_.notify_one();
        throw;
    }
}

void Pool::give_back(std::unique_ptr<Connection> conn) {
    conn->rollback();  // a transaction left open by a failure is not the next user's
    bool keep = conn->healthy() && !conn->in_transaction();
    if (!keep) conn.reset();  // closed outside the lock
    std::lock_guard<std::mutex> lock(mutex_);
    if (keep)
        idle_.push_back(std::move(conn));
    else
        --open_;
    freed_.notify_one();
}

std::size_t Pool::open_connections() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return open_;
}

void migrate(Connection& conn, const std::string& component, const std::vector<std::string>& steps) {
    conn.begin();
    try {
        // One lock for every component: tables of several components may
        // refer to each other, and starting up is rare.
        conn.exec("SELECT pg_advisory_xact_lock(7887001)");
        conn.script("CREATE TABLE IF NOT EXISTS smk_schema (component text PRIMARY KEY, version integer NOT NULL)");
        Result r = conn.exec("SELECT version FROM smk_schema WHERE component = $1", {Param::bytes(component)});
        std::int64_t version = r.rows() ? r.int8(0, 0) : 0;
        if (version > static_cast<std::int64_t>(steps.size()))
            throw Error("PostgreSQL: the " + component + " schema is at version " + std::to_string(version) +
                            ", newer than this build knows (" + std::to_string(steps.size()) + ")",
                        "");
        for (std::size_t i = static_cast<std::size_t>(version); i < steps.size(); ++i) conn.script(steps[i]);
        if (version < static_cast<std::int64_t>(steps.size()))
            conn.exec("INSERT INTO smk_schema (component, version) VALUES ($1, $2) "
                      "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                      {Param::bytes(component), Param::int8(static_cast<std::int64_t>(steps.size()))});
        conn.commit();
    } catch (...) {
        conn.rollback();
        throw;
    }
}

bool is_postgres_url(std::string_view text) {
    return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

}  // namespace smk::pg
