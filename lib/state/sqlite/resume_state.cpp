#include "state/sqlite/resume_state.hpp"

#include "sqlite/guarded.hpp"

#include <SQLiteCpp/Statement.h>

#include <utility>

#include "syncmlkit/datastore.hpp"

namespace smk::state {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS smk_resume_points(
  device TEXT PRIMARY KEY, mode INTEGER NOT NULL, requested INTEGER NOT NULL,
  client_last TEXT NOT NULL, client_next TEXT NOT NULL, server_last TEXT NOT NULL, server_next TEXT NOT NULL,
  saved_at INTEGER NOT NULL, cause TEXT NOT NULL, client_done INTEGER NOT NULL, sent_seq INTEGER NOT NULL,
  in_luid TEXT NOT NULL, in_data BLOB NOT NULL, in_size INTEGER,
  out_op INTEGER NOT NULL, out_guid TEXT NOT NULL, out_luid TEXT NOT NULL, out_type TEXT NOT NULL,
  out_format TEXT NOT NULL, out_revision TEXT NOT NULL, out_data BLOB NOT NULL, out_offset INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

template <typename Body>
auto guarded(const char* what, const SQLite::Database& db, Body&& body) {
    return sqlite::guarded("resume state", what, db, std::forward<Body>(body));
}

std::string blob(const SQLite::Column& column) {
    return std::string(static_cast<const char*>(column.getBlob()), static_cast<std::size_t>(column.getBytes()));
}

void bind_blob(SQLite::Statement& s, int index, const std::string& data) {
    s.bind(index, data.data(), static_cast<int>(data.size()));
}

}  // namespace

SqliteResumeState::SqliteResumeState(SQLite::Database& db) : db_(db) {
    guarded("creating tables", db_, [&] { db_.exec(kSchema); });
}

std::optional<ResumePoint> SqliteResumeState::load(const std::string& device) {
    return guarded("reading a resume point", db_, [&]() -> std::optional<ResumePoint> {
        SQLite::Statement s(db_,
                            "SELECT mode, requested, client_last, client_next, server_last, server_next, saved_at, "
                            "cause, client_done, sent_seq, in_luid, in_data, in_size, out_op, out_guid, out_luid, "
                            "out_type, out_format, out_revision, out_data, out_offset FROM smk_resume_points "
                            "WHERE device = ?");
        s.bind(1, device);
        if (!s.executeStep()) return std::nullopt;
        ResumePoint p;
        p.mode = s.getColumn(0).getInt();
        p.requested = s.getColumn(1).getInt();
        p.client_last = s.getColumn(2).getString();
        p.client_next = s.getColumn(3).getString();
        p.server_last = s.getColumn(4).getString();
        p.server_next = s.getColumn(5).getString();
        p.saved_at = s.getColumn(6).getInt64();
        p.cause = s.getColumn(7).getString();
        p.client_done = s.getColumn(8).getInt() != 0;
        p.sent_seq = s.getColumn(9).getInt64();
        p.in_luid = s.getColumn(10).getString();
        p.in_data = blob(s.getColumn(11));
        if (!s.getColumn(12).isNull()) p.in_size = static_cast<std::uint64_t>(s.getColumn(12).getInt64());
        p.out_op = s.getColumn(13).getInt();
        p.out_guid = s.getColumn(14).getString();
        p.out_luid = s.getColumn(15).getString();
        p.out_type = s.getColumn(16).getString();
        p.out_format = s.getColumn(17).getString();
        p.out_revision = s.getColumn(18).getString();
        p.out_data = blob(s.getColumn(19));
        p.out_offset = static_cast<std::uint64_t>(s.getColumn(20).getInt64());
        return p;
    });
}

void SqliteResumeState::save(const std::string& device, const ResumePoint& p) {
    guarded("saving a resume point", db_, [&] {
        SQLite::Statement s(db_,
                            "INSERT OR REPLACE INTO smk_resume_points(device, mode, requested, client_last, "
                            "client_next, server_last, server_next, saved_at, cause, client_done, sent_seq, in_luid, "
                            "in_data, in_size, out_op, out_guid, out_luid, out_type, out_format, out_revision, "
                            "out_data, out_offset) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        s.bind(1, device);
        s.bind(2, p.mode);
        s.bind(3, p.requested);
        s.bind(4, p.client_last);
        s.bind(5, p.client_next);
        s.bind(6, p.server_last);
        s.bind(7, p.server_next);
        s.bind(8, static_cast<std::int64_t>(p.saved_at));
        s.bind(9, p.cause);
        s.bind(10, p.client_done ? 1 : 0);
        s.bind(11, static_cast<std::int64_t>(p.sent_seq));
        s.bind(12, p.in_luid);
        bind_blob(s, 13, p.in_data);
        if (p.in_size) s.bind(14, static_cast<std::int64_t>(*p.in_size));
        else s.bind(14);
        s.bind(15, p.out_op);
        s.bind(16, p.out_guid);
        s.bind(17, p.out_luid);
        s.bind(18, p.out_type);
        s.bind(19, p.out_format);
        s.bind(20, p.out_revision);
        bind_blob(s, 21, p.out_data);
        s.bind(22, static_cast<std::int64_t>(p.out_offset));
        s.exec();
    });
}

bool SqliteResumeState::erase(const std::string& device) {
    return guarded("erasing a resume point", db_, [&] {
        SQLite::Statement s(db_, "DELETE FROM smk_resume_points WHERE device = ?");
        s.bind(1, device);
        return s.exec() > 0;
    });
}

}  // namespace smk::state
