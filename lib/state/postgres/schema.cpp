#include "state/postgres/schema.hpp"

#include "pg/connection.hpp"

namespace smk::state::postgres {
namespace {

// Version 1. Keys lead with (owner, category, device): every statement of
// a session names one device of one database. The LUID index leaves out
// the rows awaiting a Map (LUID ''), and lookups by LUID say so: statistics
// taken while a device's rows all await their Map (a first download) would
// otherwise make a prepared lookup's generic plan walk all the device's rows
// instead of the index (3 ms a lookup at 4,000 rows). The outbox's seq comes from
// an identity column, so a seq is never handed out twice, not even after
// clear_outbox(). Outbox pages and noted Adds carry the number of entries
// in their blob, so an administrator's totals need not decode them.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE smk_anchors(
    owner       bytea NOT NULL,
    category    text NOT NULL,
    device      bytea NOT NULL,
    client_next bytea NOT NULL,
    server_next bytea NOT NULL,
    completed   bigint,
    PRIMARY KEY (owner, category, device));
CREATE TABLE smk_client_items(
    owner    bytea NOT NULL,
    category text NOT NULL,
    device   bytea NOT NULL,
    guid     bytea NOT NULL,
    luid     bytea NOT NULL,
    revision bytea NOT NULL,
    PRIMARY KEY (owner, category, device, guid));
CREATE INDEX smk_client_items_by_luid ON smk_client_items(owner, category, device, luid, guid) WHERE luid <> '';
CREATE INDEX smk_client_items_unmapped ON smk_client_items(owner, category, device) WHERE luid = '';
CREATE INDEX smk_client_items_by_guid ON smk_client_items(owner, category, guid, revision);
CREATE TABLE smk_outbox(
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner    bytea NOT NULL,
    category text NOT NULL,
    device   bytea NOT NULL,
    op       text NOT NULL,
    guid     bytea NOT NULL,
    luid     bytea NOT NULL);
CREATE INDEX smk_outbox_by_device ON smk_outbox(owner, category, device, seq);
CREATE TABLE smk_outbox_pages(
    owner    bytea NOT NULL,
    category text NOT NULL,
    device   bytea NOT NULL,
    page     bigint NOT NULL,
    entries  bytea NOT NULL,
    count    integer NOT NULL,
    PRIMARY KEY (owner, category, device, page));
CREATE TABLE smk_sent_adds(
    owner    bytea NOT NULL,
    category text NOT NULL,
    device   bytea NOT NULL,
    session  bytea NOT NULL,
    adds     bytea NOT NULL,
    count    integer NOT NULL,
    PRIMARY KEY (owner, category, device, session));
CREATE TABLE smk_identity(
    owner    bytea NOT NULL,
    category text NOT NULL,
    guid     bytea NOT NULL,
    revision bytea NOT NULL,
    key      bytea NOT NULL,
    details  bytea NOT NULL,
    PRIMARY KEY (owner, category, guid));
CREATE INDEX smk_identity_by_key ON smk_identity(owner, category, key, guid);
CREATE TABLE smk_claims(
    owner    bytea NOT NULL,
    category text NOT NULL,
    device   bytea NOT NULL,
    guid     bytea NOT NULL,
    PRIMARY KEY (owner, category, device, guid));
CREATE TABLE smk_bases(
    owner    bytea NOT NULL,
    category text NOT NULL,
    guid     bytea NOT NULL,
    revision bytea NOT NULL,
    type     bytea NOT NULL,
    version  bytea NOT NULL,
    data     bytea NOT NULL,
    PRIMARY KEY (owner, category, guid, revision));
CREATE TABLE smk_resume_points(
    owner        bytea NOT NULL,
    category     text NOT NULL,
    device       bytea NOT NULL,
    mode         bigint NOT NULL,
    requested    bigint NOT NULL,
    client_last  bytea NOT NULL,
    client_next  bytea NOT NULL,
    server_last  bytea NOT NULL,
    server_next  bytea NOT NULL,
    saved_at     bigint NOT NULL,
    cause        bytea NOT NULL,
    client_done  boolean NOT NULL,
    sent_seq     bigint NOT NULL,
    in_luid      bytea NOT NULL,
    in_data      bytea NOT NULL,
    in_size      bigint,
    out_op       bigint NOT NULL,
    out_guid     bytea NOT NULL,
    out_luid     bytea NOT NULL,
    out_type     bytea NOT NULL,
    out_format   bytea NOT NULL,
    out_revision bytea NOT NULL,
    out_data     bytea NOT NULL,
    out_offset   bigint NOT NULL,
    PRIMARY KEY (owner, category, device));
CREATE TABLE smk_user_devices(
    user_name   bytea NOT NULL,
    device      bytea NOT NULL,
    nonce       bytea,
    nonce_floor bigint NOT NULL DEFAULT 0,
    devinf      bytea,
    last_seen   bigint NOT NULL,
    PRIMARY KEY (user_name, device));
)sql";

}  // namespace

const std::vector<std::string>& schema_steps() {
    static const std::vector<std::string> steps{kVersion1};
    return steps;
}

void migrate_state_schema(pg::Connection& connection) { pg::migrate(connection, "state", schema_steps()); }

}  // namespace smk::state::postgres
