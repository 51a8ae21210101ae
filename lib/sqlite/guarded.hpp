// Runs a piece of SQLite work, turning SQLiteCpp's exceptions into
// smk::DatastoreError (the engine answers 510 and rolls the message back)
// and marking the connection when the failure cost the caller's transaction
// (lost_transaction.hpp).
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>

#include <string>

#include "sqlite/lost_transaction.hpp"
#include "syncmlkit/datastore.hpp"

namespace smk::sqlite {

template <typename Body>
auto guarded(const char* what, const SQLite::Database& db, Body&& body) {
    bool was_open = transaction_open(db);
    try {
        return body();
    } catch (const SQLite::Exception& e) {
        std::string message = std::string(what) + ": " + e.what();
        throw DatastoreError(message + " (" + db.getFilename() + ")" +
                             explain_failure(db, was_open, e.getErrorCode(), message));
    }
}

}  // namespace smk::sqlite
