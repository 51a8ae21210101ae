// After some errors (an I/O error, a full disk while writing a page out of
// the cache) SQLite rolls the whole transaction back by itself and goes on
// in autocommit mode: every later statement of the caller's "transaction"
// would then commit on its own, and a message would land half. After
// others (a full disk in a statement with a statement journal) it undoes
// only the failed statement, and the caller's earlier statements for the
// same item would commit without it. So the store and the sync state, which
// share a connection, check each failed statement: when it cost the
// transaction, or was an I/O error or a full disk inside one, they mark the
// connection read-only (PRAGMA query_only) and note the cause. Nothing more
// is then written on it, the store's commit() refuses, and every later
// failure names the first, until the owner of the transaction rolls back
// and calls clear_lost(). Shared by lib/store and lib/state.
#pragma once

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include <mutex>
#include <string>
#include <unordered_map>

namespace smk::sqlite {

inline bool transaction_open(const SQLite::Database& db) { return sqlite3_get_autocommit(db.getHandle()) == 0; }

namespace detail {
// The cause of each marked connection. Read only while the connection is
// marked, so an entry left by a connection closed while marked is never
// taken for a new one at the same address (marking overwrites it).
struct LostCauses {
    std::mutex mutex;
    std::unordered_map<const sqlite3*, std::string> by_connection;
};
inline LostCauses& lost_causes() {
    static LostCauses causes;
    return causes;
}
}  // namespace detail

/// Marks the connection (every write on it then fails with
/// SQLITE_READONLY) and notes `cause`.
inline void mark_lost(const SQLite::Database& db, const std::string& cause) {
    sqlite3_exec(db.getHandle(), "PRAGMA query_only = 1", nullptr, nullptr, nullptr);
    detail::LostCauses& causes = detail::lost_causes();
    std::lock_guard<std::mutex> lock(causes.mutex);
    causes.by_connection[db.getHandle()] = cause;
}

/// Is the connection marked?
inline bool marked_lost(const SQLite::Database& db) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.getHandle(), "PRAGMA query_only", -1, &stmt, nullptr) != SQLITE_OK) return false;
    bool on = sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) != 0;
    sqlite3_finalize(stmt);
    return on;
}

/// The failure that cost the connection's transaction; "" when it is not marked.
inline std::string lost_cause(const SQLite::Database& db) {
    // Every marking notes a cause, so a connection without one is not
    // marked, and the common case asks SQLite nothing (this runs at every
    // commit). An entry may outlive a connection closed while marked; the
    // pragma then tells the new connection at that address apart.
    std::string cause;
    {
        detail::LostCauses& causes = detail::lost_causes();
        std::lock_guard<std::mutex> lock(causes.mutex);
        auto found = causes.by_connection.find(db.getHandle());
        if (found == causes.by_connection.end()) return "";
        cause = found->second;
    }
    return marked_lost(db) ? cause : "";
}

/// Unmarks the connection (after the rollback).
inline void clear_lost(const SQLite::Database& db) {
    // Only a connection with a noted cause can be marked. Setting the pragma
    // costs more than it seems: like every flag pragma it expires all of the
    // connection's prepared statements, so each would be compiled again at
    // its next step; run at every begin(), that was a tenth of a message.
    {
        detail::LostCauses& causes = detail::lost_causes();
        std::lock_guard<std::mutex> lock(causes.mutex);
        if (causes.by_connection.erase(db.getHandle()) == 0) return;
    }
    sqlite3_exec(db.getHandle(), "PRAGMA query_only = 0", nullptr, nullptr, nullptr);
}

/// For a statement that failed with `error` (what was being done and
/// SQLite's message), `was_open` whether a transaction was open before it:
/// what to add to the error's text. When SQLite rolled the transaction back,
/// or the failure was an I/O error or a full disk inside the transaction,
/// the connection is marked; when the statement was refused because of such
/// an earlier failure, that one is named.
inline std::string explain_failure(const SQLite::Database& db, bool was_open, int error_code,
                                   const std::string& error) {
    if (was_open && !transaction_open(db)) {
        mark_lost(db, error);
        return "; SQLite rolled the transaction back, nothing of it is kept";
    }
    int primary = error_code & 0xFF;
    if (was_open && (primary == SQLITE_IOERR || primary == SQLITE_FULL)) {
        mark_lost(db, error);
        return "; the transaction is not committed";
    }
    if ((error_code & 0xFF) == SQLITE_READONLY) {
        std::string cause = lost_cause(db);
        if (!cause.empty()) return " (not written: the transaction failed after " + cause + ")";
    }
    return "";
}

}  // namespace smk::sqlite
