// Parameters $1 and $2 are always the database's owner and category, $3 the device.
#include "state/postgres/resume_state.hpp"

#include "pg/connection.hpp"
#include "state/postgres/database_connection.hpp"

namespace smk::state::postgres {
namespace {

using pg::Param;

constexpr const char* kPart = "resume state";

Param int8(std::uint64_t v) { return Param::int8(static_cast<std::int64_t>(v)); }

}  // namespace

std::optional<ResumePoint> PgResumeState::load(const std::string& device) {
    return guarded(db_, kPart, "reading a resume point", [&]() -> std::optional<ResumePoint> {
        pg::Result r = db_.connection().run(
            "state_resume_load",
            "SELECT mode, requested, client_last, client_next, server_last, server_next, saved_at, cause, "
            "client_done, sent_seq, in_luid, in_data, in_size, out_op, out_guid, out_luid, out_type, out_format, "
            "out_revision, out_data, out_offset FROM smk_resume_points "
            "WHERE owner = $1 AND category = $2 AND device = $3",
            db_.params({Param::bytes(device)}));
        if (r.rows() == 0) return std::nullopt;
        ResumePoint p;
        p.mode = static_cast<int>(r.int8(0, 0));
        p.requested = static_cast<int>(r.int8(0, 1));
        p.client_last = r.str(0, 2);
        p.client_next = r.str(0, 3);
        p.server_last = r.str(0, 4);
        p.server_next = r.str(0, 5);
        p.saved_at = r.int8(0, 6);
        p.cause = r.str(0, 7);
        p.client_done = r.boolean(0, 8);
        p.sent_seq = r.int8(0, 9);
        p.in_luid = r.str(0, 10);
        p.in_data = r.str(0, 11);
        if (!r.null(0, 12)) p.in_size = static_cast<std::uint64_t>(r.int8(0, 12));
        p.out_op = static_cast<int>(r.int8(0, 13));
        p.out_guid = r.str(0, 14);
        p.out_luid = r.str(0, 15);
        p.out_type = r.str(0, 16);
        p.out_format = r.str(0, 17);
        p.out_revision = r.str(0, 18);
        p.out_data = r.str(0, 19);
        p.out_offset = static_cast<std::uint64_t>(r.int8(0, 20));
        return p;
    });
}

void PgResumeState::save(const std::string& device, const ResumePoint& p) {
    guarded(db_, kPart, "saving a resume point", [&] {
        db_.connection().run(
            "state_resume_save",
            "INSERT INTO smk_resume_points(owner, category, device, mode, requested, client_last, client_next, "
            "server_last, server_next, saved_at, cause, client_done, sent_seq, in_luid, in_data, in_size, out_op, "
            "out_guid, out_luid, out_type, out_format, out_revision, out_data, out_offset) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::bigint <> 0, $13, $14, $15, $16, $17, $18, "
            "$19, $20, $21, $22, $23, $24) "
            "ON CONFLICT (owner, category, device) DO UPDATE SET mode = excluded.mode, "
            "requested = excluded.requested, client_last = excluded.client_last, "
            "client_next = excluded.client_next, server_last = excluded.server_last, "
            "server_next = excluded.server_next, saved_at = excluded.saved_at, cause = excluded.cause, "
            "client_done = excluded.client_done, sent_seq = excluded.sent_seq, in_luid = excluded.in_luid, "
            "in_data = excluded.in_data, in_size = excluded.in_size, out_op = excluded.out_op, "
            "out_guid = excluded.out_guid, out_luid = excluded.out_luid, out_type = excluded.out_type, "
            "out_format = excluded.out_format, out_revision = excluded.out_revision, "
            "out_data = excluded.out_data, out_offset = excluded.out_offset",
            db_.params({Param::bytes(device), Param::int8(p.mode), Param::int8(p.requested),
                        Param::bytes(p.client_last), Param::bytes(p.client_next), Param::bytes(p.server_last),
                        Param::bytes(p.server_next), Param::int8(p.saved_at), Param::bytes(p.cause),
                        Param::int8(p.client_done ? 1 : 0), Param::int8(p.sent_seq), Param::bytes(p.in_luid),
                        Param::bytes(p.in_data), p.in_size ? int8(*p.in_size) : Param::null(),
                        Param::int8(p.out_op), Param::bytes(p.out_guid), Param::bytes(p.out_luid),
                        Param::bytes(p.out_type), Param::bytes(p.out_format), Param::bytes(p.out_revision),
                        Param::bytes(p.out_data), int8(p.out_offset)}));
    });
}

bool PgResumeState::erase(const std::string& device) {
    return guarded(db_, kPart, "erasing a resume point", [&] {
        return db_.connection()
                   .run("state_resume_erase",
                        "DELETE FROM smk_resume_points WHERE owner = $1 AND category = $2 AND device = $3",
                        db_.params({Param::bytes(device)}))
                   .affected() > 0;
    });
}

}  // namespace smk::state::postgres
