// Switches a connection to WAL. Switching needs a moment of exclusive access,
// and SQLite answers SQLITE_BUSY at once, without its busy handler, when
// another connection holds the file then (two sessions opening a new user's
// store together, say). A short retry, done only when a file is opened,
// covers that.
#pragma once

#include <SQLiteCpp/Database.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

namespace smk::sqlite {

inline void enable_wal(SQLite::Database& db) {
    for (int attempt = 0;; ++attempt) {
        try {
            db.exec("PRAGMA journal_mode=WAL");
            return;
        } catch (const SQLite::Exception& e) {
            int code = e.getErrorCode() & 0xFF;
            if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || attempt >= 200) throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(10 + attempt % 10));
        }
    }
}

}  // namespace smk::sqlite
