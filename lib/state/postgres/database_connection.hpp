// What the parts of one PostgreSQL DatabaseState share: the connection they
// run on, the database their rows belong to (owner and category, the
// leading columns of every key), and whether a statement failed since the
// transaction began. PostgreSQL aborts a transaction at its first failed
// statement and answers a COMMIT of it with a rollback, not an error, so
// the owner of the transaction asks `failed` before committing.
//
// The connection is the store's (fixed), or one leased from a pool from
// begin() to commit() or rollback(), and for a single statement outside a
// transaction: a state kept open between a session's messages holds no
// connection meanwhile.
#pragma once

#include <exception>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "pg/connection.hpp"
#include "syncmlkit/datastore.hpp"

namespace smk::state::postgres {

struct DatabaseConnection {
    DatabaseConnection(pg::Connection& fixed, const std::string& owner, Category category)
        : fixed(&fixed), owner(owner), category(category_name(category)) {}
    DatabaseConnection(pg::Pool& pool, const std::string& owner, Category category)
        : pool(&pool), owner(owner), category(category_name(category)) {}

    pg::Connection* const fixed = nullptr;
    pg::Pool* const pool = nullptr;
    pg::Pool::Lease lease;       ///< with `pool`: the connection in use
    const std::string owner;     ///< "" for the global address book
    const std::string category;  ///< category_name()
    bool failed = false;
    bool in_transaction = false;  ///< with `pool`: between the state's begin() and its commit() or rollback()

    /// The connection to run on: the fixed one, or the leased one (leased now if none is).
    pg::Connection& connection() {
        if (fixed) return *fixed;
        if (!lease) {
            if (in_transaction) throw DatastoreError("the transaction's connection is gone");
            lease = pool->acquire();
        }
        return *lease;
    }
    /// A leased connection goes back to the pool unless a transaction is
    /// open on it: the state's (even when the connection broke inside it,
    /// so that nothing after the break commits on a connection of its own),
    /// or one a statement began.
    void settle() noexcept {
        if (lease && !in_transaction && !lease->in_transaction()) lease = pg::Pool::Lease();
    }

    /// The parameters $1 (owner) and $2 (category) followed by `more`.
    std::vector<pg::Param> params(std::initializer_list<pg::Param> more) const {
        std::vector<pg::Param> out;
        out.reserve(2 + more.size());
        out.push_back(pg::Param::bytes(owner));
        out.push_back(pg::Param::bytes(category));
        out.insert(out.end(), more.begin(), more.end());
        return out;
    }
};

/// Runs `body`, its failures thrown as DatastoreError naming the part of
/// the state and what it was doing, and noted in `db.failed`; then settles
/// the connection. Outside the state's transaction, a leased connection
/// found broken (PostgreSQL restarted, or ended it while it lay idle in the
/// pool) is dropped and `body` runs once more on another. Never nested:
/// `body` may hold the connection throughout.
template <typename Body>
auto guarded(DatabaseConnection& db, const char* part, const char* what, Body&& body) {
    struct Settle {
        DatabaseConnection& db;
        ~Settle() { db.settle(); }
    } settle{db};
    try {
        try {
            return body();
        } catch (const std::exception&) {
            if (!db.pool || db.in_transaction || !db.lease || db.lease->healthy()) throw;
            db.lease = pg::Pool::Lease();
        }
        return std::forward<Body>(body)();
    } catch (const std::exception& e) {
        db.failed = true;
        throw DatastoreError(std::string(part) + ": " + what + ": " + e.what());
    }
}

/// Runs `body` in a transaction: the caller's when one is open, else one
/// of its own, so that statements that belong together commit together.
template <typename Body>
void in_transaction(pg::Connection& connection, Body&& body) {
    if (connection.in_transaction()) {
        std::forward<Body>(body)();
        return;
    }
    connection.begin();
    try {
        std::forward<Body>(body)();
        connection.commit();
    } catch (...) {
        connection.rollback();
        throw;
    }
}

}  // namespace smk::state::postgres
