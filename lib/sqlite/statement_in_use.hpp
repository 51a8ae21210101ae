// A cached SQLite statement in use. It is reset and unbound when this goes
// out of scope: an unreset SELECT would pin the connection to an old snapshot
// (it would not see other connections' commits and would stall checkpoints),
// and unbound parameters cannot point at data that is gone. Shared by the
// store (lib/store) and the sync state (lib/state), which keep their
// statements prepared.
#pragma once

#include <SQLiteCpp/Statement.h>

namespace smk::sqlite {

class StatementInUse {
public:
    explicit StatementInUse(SQLite::Statement& statement) : statement_(statement) {}
    ~StatementInUse() {
        statement_.tryReset();
        try {
            statement_.clearBindings();
        } catch (...) {  // sqlite3_clear_bindings cannot fail; SQLiteCpp still checks
        }
    }
    StatementInUse(const StatementInUse&) = delete;
    StatementInUse& operator=(const StatementInUse&) = delete;
    SQLite::Statement* operator->() { return &statement_; }

private:
    SQLite::Statement& statement_;
};

}  // namespace smk::sqlite
