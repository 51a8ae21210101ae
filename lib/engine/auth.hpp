// SyncML authentication: syncml:auth-basic and syncml:auth-md5 with a nonce
// per device that persists across sessions.
#pragma once

#include <optional>
#include <string>

#include "state/device_registry.hpp"
#include "syncmlkit/message.hpp"
#include "syncmlkit/server.hpp"

namespace smk::engine {

struct AuthOutcome {
    int status = 401;  ///< 212 accepted; 401 wrong; 407 missing; 406 unknown scheme
    std::string user;  ///< the authenticated user
    std::string scheme;  ///< "basic" or "md5", for logs
    /// The challenge to send with the status: always on failure, and with a
    /// fresh nonce on success too, for the client's next session.
    wire::Cred chal;
};

class Authenticator {
public:
    Authenticator(AuthProvider& provider, state::DeviceRegistry& devices);
    AuthOutcome check(const wire::Header& header);

private:
    wire::Cred md5_challenge(const std::string& device);
    static wire::Cred basic_challenge();

    AuthProvider& provider_;
    state::DeviceRegistry& devices_;
};

/// base64(md5("user:password")), the secret MD5 authentication is built on.
std::string md5_user_digest(const std::string& user, const std::string& password);
/// Random bytes for nonces and session tokens.
std::string random_bytes(std::size_t n);

}  // namespace smk::engine
