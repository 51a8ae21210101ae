// What the parts of one PostgreSQL DatabaseState share: the connection they
// run on, the database their rows belong to (owner and category, the
// leading columns of every key), and whether a statement failed since the
// transaction began. PostgreSQL aborts a transaction at its first failed
// statement and answers a COMMIT of it with a rollback, not an error, so
// the owner of the transaction asks `failed` before committing.
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
    DatabaseConnection(pg::Connection& connection, const std::string& owner, Category category)
        : connection(connection), owner(owner), category(category_name(category)) {}

    pg::Connection& connection;
    const std::string owner;     ///< "" for the global address book
    const std::string category;  ///< category_name()
    bool failed = false;

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
/// the state and what it was doing, and noted in `db.failed`.
template <typename Body>
auto guarded(DatabaseConnection& db, const char* part, const char* what, Body&& body) {
    try {
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
