// Parameters $1 and $2 are always the database's owner and category.
#include "state/postgres/pairing_index.hpp"

#include "pg/connection.hpp"
#include "state/postgres/database_connection.hpp"

namespace smk::state::postgres {
namespace {

using pg::Param;

constexpr const char* kPart = "pairing index";

// A candidate's details, one a line (as the SQLite index keeps them).
std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) out += p + '\n';
    return out;
}

std::vector<std::string> split(std::string_view text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        out.emplace_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

}  // namespace

std::optional<std::string> PgPairingIndex::indexed_revision(const std::string& guid) {
    return guarded(db_, kPart, "reading", [&]() -> std::optional<std::string> {
        pg::Result r = db_.connection().run(
            "state_identity_revision", "SELECT revision FROM smk_identity WHERE owner = $1 AND category = $2 AND guid = $3",
            db_.params({Param::bytes(guid)}));
        if (r.rows() == 0) return std::nullopt;
        return r.str(0, 0);
    });
}

void PgPairingIndex::put(const std::string& guid, const std::string& revision, const std::string& key,
                         const std::vector<std::string>& details) {
    guarded(db_, kPart, "writing", [&] {
        db_.connection().run("state_identity_put",
                           "INSERT INTO smk_identity(owner, category, guid, revision, key, details) "
                           "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (owner, category, guid) DO UPDATE SET "
                           "revision = excluded.revision, key = excluded.key, details = excluded.details",
                           db_.params({Param::bytes(guid), Param::bytes(revision), Param::bytes(key),
                                       Param::bytes(joined(details))}));
    });
}

void PgPairingIndex::erase(const std::string& guid) {
    guarded(db_, kPart, "erasing", [&] {
        db_.connection().run("state_identity_erase",
                           "DELETE FROM smk_identity WHERE owner = $1 AND category = $2 AND guid = $3",
                           db_.params({Param::bytes(guid)}));
    });
}

std::vector<PairingIndex::Candidate> PgPairingIndex::candidates(const std::string& device, const std::string& key) {
    return guarded(db_, kPart, "looking up", [&] {
        pg::Result r = db_.connection().run(
            "state_identity_candidates",
            "SELECT i.guid, i.revision, i.details FROM smk_identity i "
            "WHERE i.owner = $1 AND i.category = $2 AND i.key = $3 AND NOT EXISTS (SELECT 1 FROM smk_claims c "
            "WHERE c.owner = $1 AND c.category = $2 AND c.device = $4 AND c.guid = i.guid) ORDER BY i.guid LIMIT 64",
            db_.params({Param::bytes(key), Param::bytes(device)}));
        std::vector<Candidate> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back({r.str(i, 0), r.str(i, 1), split(r.text(i, 2))});
        return out;
    });
}

void PgPairingIndex::claim(const std::string& device, const std::string& guid) {
    guarded(db_, kPart, "claiming", [&] {
        db_.connection().run("state_claim",
                           "INSERT INTO smk_claims(owner, category, device, guid) VALUES ($1, $2, $3, $4) "
                           "ON CONFLICT DO NOTHING",
                           db_.params({Param::bytes(device), Param::bytes(guid)}));
    });
}

bool PgPairingIndex::claimed(const std::string& device, const std::string& guid) {
    return guarded(db_, kPart, "reading claims", [&] {
        return db_.connection()
                   .run("state_claimed",
                        "SELECT 1 FROM smk_claims WHERE owner = $1 AND category = $2 AND device = $3 AND guid = $4",
                        db_.params({Param::bytes(device), Param::bytes(guid)}))
                   .rows() > 0;
    });
}

void PgPairingIndex::clear_claims(const std::string& device) {
    guarded(db_, kPart, "clearing claims", [&] {
        db_.connection().run("state_clear_claims",
                           "DELETE FROM smk_claims WHERE owner = $1 AND category = $2 AND device = $3",
                           db_.params({Param::bytes(device)}));
    });
}

}  // namespace smk::state::postgres
