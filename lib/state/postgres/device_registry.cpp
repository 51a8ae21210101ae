#include "state/postgres/device_registry.hpp"

#include <algorithm>
#include <exception>

#include "syncmlkit/datastore.hpp"

namespace smk::state::postgres {
namespace {

using pg::Param;

// Runs `body` on a leased connection, its failures thrown as DatastoreError
// naming what it was doing. A connection found broken (PostgreSQL
// restarted, or ended it while it lay idle in the pool) is dropped and
// `body` runs once more on another.
template <typename Body>
auto on_connection(pg::Pool& pool, const char* what, Body&& body) {
    try {
        {
            pg::Pool::Lease db = pool.acquire();
            try {
                return body(*db);
            } catch (const std::exception&) {
                if (db->healthy()) throw;
            }
        }
        pg::Pool::Lease db = pool.acquire();
        return std::forward<Body>(body)(*db);
    } catch (const std::exception& e) {
        throw DatastoreError(std::string("device registry: ") + what + ": " + e.what());
    }
}

// The advisory lock key of a user's devices: FNV-1a (64 bits) of a prefix
// of our own and the name, so that it meets no other lock of SyncMLKit's.
std::int64_t user_lock_key(const std::string& user) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    auto mix = [&h](unsigned char c) {
        h ^= c;
        h *= 0x100000001b3ULL;
    };
    for (char c : std::string("smk_user_devices")) mix(static_cast<unsigned char>(c));
    mix(0);
    for (char c : user) mix(static_cast<unsigned char>(c));
    return static_cast<std::int64_t>(h);
}

}  // namespace

std::optional<DeviceLogin> PgDeviceRegistry::login(const std::string& user, const std::string& device) {
    return on_connection(pool_, "reading a device", [&](pg::Connection& db) -> std::optional<DeviceLogin> {
        pg::Result r = db.run("registry_login",
                               "SELECT nonce, nonce_floor FROM smk_user_devices WHERE user_name = $1 AND device = $2",
                               {Param::bytes(user), Param::bytes(device)});
        if (r.rows() == 0) return std::nullopt;
        DeviceLogin out;
        if (!r.null(0, 0)) out.nonce = r.str(0, 0);
        out.nonce_floor = r.int8(0, 1);
        return out;
    });
}

void PgDeviceRegistry::record_login(const std::string& user, const std::string& device, const DeviceLogin& next,
                                    std::size_t max_devices) {
    on_connection(pool_, "saving a login", [&](pg::Connection& db) {
        db.begin();
        try {
            db.run("registry_lock_user", "SELECT pg_advisory_xact_lock($1)", {Param::int8(user_lock_key(user))});
            db.run("registry_record_login",
                    "INSERT INTO smk_user_devices(user_name, device, nonce, nonce_floor, last_seen) "
                    "VALUES ($1, $2, $3, $4, floor(extract(epoch FROM now()))::bigint) "
                    "ON CONFLICT (user_name, device) DO UPDATE SET nonce = excluded.nonce, "
                    "nonce_floor = excluded.nonce_floor, last_seen = excluded.last_seen",
                    {Param::bytes(user), Param::bytes(device), Param::bytes(next.nonce), Param::int8(next.nonce_floor)});
            db.run("registry_forget_oldest",
                    "DELETE FROM smk_user_devices WHERE user_name = $1 AND device IN ("
                    "SELECT device FROM smk_user_devices WHERE user_name = $1 "
                    "ORDER BY last_seen DESC, device OFFSET $2)",
                    {Param::bytes(user), Param::int8(static_cast<std::int64_t>(std::max<std::size_t>(max_devices, 1)))});
            db.commit();
        } catch (...) {
            db.rollback();
            throw;
        }
    });
}

std::optional<std::string> PgDeviceRegistry::devinf(const std::string& user, const std::string& device) {
    return on_connection(pool_, "reading a DevInf", [&](pg::Connection& db) -> std::optional<std::string> {
        pg::Result r = db.run("registry_devinf",
                               "SELECT devinf FROM smk_user_devices WHERE user_name = $1 AND device = $2",
                               {Param::bytes(user), Param::bytes(device)});
        if (r.rows() == 0 || r.null(0, 0)) return std::nullopt;
        return r.str(0, 0);
    });
}

void PgDeviceRegistry::set_devinf(const std::string& user, const std::string& device, const std::string& devinf_xml) {
    on_connection(pool_, "saving a DevInf", [&](pg::Connection& db) {
        db.run("registry_set_devinf", "UPDATE smk_user_devices SET devinf = $3 WHERE user_name = $1 AND device = $2",
                {Param::bytes(user), Param::bytes(device), Param::bytes(devinf_xml)});
    });
}

std::size_t PgDeviceRegistry::device_count(const std::string& user) {
    return on_connection(pool_, "counting devices", [&](pg::Connection& db) {
        return static_cast<std::size_t>(
            db.run("registry_count", "SELECT count(*) FROM smk_user_devices WHERE user_name = $1", {Param::bytes(user)})
                .int8(0, 0));
    });
}

std::vector<RegisteredDevice> PgDeviceRegistry::devices_of(const std::string& user) {
    return on_connection(pool_, "listing devices", [&](pg::Connection& db) {
        pg::Result r = db.run("registry_devices_of",
                               "SELECT device, devinf, last_seen FROM smk_user_devices WHERE user_name = $1 "
                               "ORDER BY device",
                               {Param::bytes(user)});
        std::vector<RegisteredDevice> out;
        for (int i = 0; i < r.rows(); ++i) {
            RegisteredDevice d;
            d.device = r.str(i, 0);
            if (!r.null(i, 1)) d.devinf = r.str(i, 1);
            d.last_seen = r.int8(i, 2);
            out.push_back(std::move(d));
        }
        return out;
    });
}

}  // namespace smk::state::postgres
