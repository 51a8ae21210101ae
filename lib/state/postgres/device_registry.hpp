// The device registry in PostgreSQL (state/device_registry.hpp has the
// contract): table smk_user_devices of schema.hpp, keyed by (user_name,
// device). Each call leases a connection of the pool, so the registry is
// safe to use from many threads, and several processes share it.
#pragma once

#include "pg/connection.hpp"
#include "state/device_registry.hpp"

namespace smk::state::postgres {

class PgDeviceRegistry final : public DeviceRegistry {
public:
    /// `pool` must outlive this object; the tables exist (migrate_state_schema).
    explicit PgDeviceRegistry(pg::Pool& pool) : pool_(pool) {}

    std::optional<DeviceLogin> login(const std::string& user, const std::string& device) override;
    /// In a transaction that holds a lock on the user (an advisory lock on a
    /// hash of the name): two logins of one user, from two processes, count
    /// each other's devices, so the bound holds.
    void record_login(const std::string& user, const std::string& device, const DeviceLogin& next,
                      std::size_t max_devices) override;
    std::optional<std::string> devinf(const std::string& user, const std::string& device) override;
    void set_devinf(const std::string& user, const std::string& device, const std::string& devinf_xml) override;
    std::size_t device_count(const std::string& user) override;

    /// The devices of `user`, in device order (for the admin tool).
    std::vector<RegisteredDevice> devices_of(const std::string& user) override;

private:
    pg::Pool& pool_;
};

}  // namespace smk::state::postgres
