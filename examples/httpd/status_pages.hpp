// The two pages syncmlkit-httpd answers GET with. `GET /` is public (the
// server may face the internet): the version, the URL for clients, the
// database names a user can give, and where to see her devices; it names no
// user and no device. `GET /devices` asks for HTTP Basic credentials,
// checks them through the engine's login throttle (Server::check_login),
// and shows the signed-in user's own devices and their last syncs, read as
// syncmlkit-admin's `devices` reads them (smk::known_devices,
// SqliteStoreProvider::client_states). Plain text; what comes from clients
// (device IDs, make, model) is escaped.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "exchange.hpp"
#include "syncmlkit/server.hpp"
#include "syncmlkit/sqlite_store.hpp"

namespace smk::httpd {

/// The path of the devices page.
inline constexpr const char* kDevicesPath = "/devices";

/// The public page: `url` is where clients point (ends in "/").
std::string front_page(const std::string& version, const std::string& url);

/// What the devices page reads. Each call may throw; the page then answers 500.
struct DevicesBackend {
    std::function<smk::LoginCheck(const std::string& user, const std::string& password, const std::string& peer)>
        check_login;
    std::function<std::vector<smk::KnownDevice>(const std::string& user)> devices;
    /// The user's own databases that exist.
    std::function<std::vector<smk::Category>(const std::string& user)> databases;
    std::function<std::vector<smk::ClientSyncState>(const std::string& user, smk::Category)> states;
};

/// The reply to GET /devices with this Authorization header from `peer`:
/// 401 with a Basic challenge when the credentials are missing or wrong,
/// 429 with Retry-After while the throttle holds logins back, else the page.
HttpReply devices_page(const DevicesBackend& backend, const std::string& authorization, const std::string& peer);

/// User and password of an "Authorization: Basic ..." header; false when it
/// is not one (another scheme, bad base64, no colon).
bool parse_basic_authorization(const std::string& header, std::string& user, std::string& password);

/// The handler the frontend calls for GET /devices.
using DevicesFn = std::function<HttpReply(const std::string& authorization, const std::string& peer)>;

}  // namespace smk::httpd
