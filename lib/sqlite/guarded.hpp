// Runs a piece of SQLite work for one part of the state ("sync state",
// "resume state", ...), turning SQLiteCpp's exceptions into
// smk::DatastoreError (the engine answers 510 and rolls the message back)
// and marking the connection when the failure cost the caller's transaction
// (lost_transaction.hpp), so that no later write commits on its own.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>

#include <stdexcept>
#include <string>

#include "sqlite/lost_transaction.hpp"
#include "syncmlkit/datastore.hpp"

namespace smk::sqlite {

/// "<part>: <what> (<file>): <SQLite's message>", and what the failure did
/// to the caller's transaction (`was_open`: one was open before it).
inline DatastoreError failure(const std::string& part, const std::string& what, const SQLite::Database& db,
                              const SQLite::Exception& e, bool was_open) {
    std::string more = explain_failure(db, was_open, e.getErrorCode(), part + ": " + what + ": " + e.what());
    return DatastoreError(part + ": " + what + " (" + db.getFilename() + "): " + e.what() + more);
}

template <typename Body>
auto guarded(const std::string& part, const std::string& what, const SQLite::Database& db, Body&& body) {
    bool was_open = transaction_open(db);
    try {
        return body();
    } catch (const SQLite::Exception& e) {
        throw failure(part, what, db, e, was_open);
    } catch (const DatastoreError&) {
        throw;
    } catch (const std::runtime_error& e) {  // a row this code did not write
        throw DatastoreError(part + ": " + what + " (" + db.getFilename() + "): " + e.what());
    }
}

}  // namespace smk::sqlite
