// SyncML authentication: syncml:auth-basic and syncml:auth-md5, with login
// throttling. Nothing is written for a message without valid credentials,
// and nothing it can read tells whether a user or device is known: every MD5
// challenge is an HMAC, under the server's key, of the user named, the
// device, the nonce stored at their last login and the time, recomputed
// rather than stored. A successful login stores a fresh nonce for the
// device's next session (sent with the 212), which also changes every
// challenge of that user and device, so a captured digest cannot be
// replayed.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>

#include "engine/login_throttle.hpp"
#include "state/device_registry.hpp"
#include "syncmlkit/message.hpp"
#include "syncmlkit/server.hpp"

namespace smk::engine {

struct AuthOutcome {
    /// 212 accepted; 401 wrong; 407 missing; 406 unknown scheme; 503 too
    /// many failures, try again after `retry_after` seconds.
    int status = 401;
    std::string user;    ///< the authenticated user (or the one claimed, on failure)
    std::string scheme;  ///< "basic" or "md5", for logs
    /// The challenge to send with the status: on failure, and with a fresh
    /// nonce on success too, for the client's next session. Empty for 503.
    std::optional<wire::Cred> chal;
    unsigned retry_after = 0;
};

class Authenticator {
public:
    /// `secret`: the server's key for stateless nonces (server_secret()).
    Authenticator(AuthProvider& provider, state::DeviceRegistry& devices, const ServerConfig& config,
                  std::string secret);
    /// Checks the credentials of a session's first message from `peer`.
    /// Throws DatastoreError when the registry cannot be read or written.
    AuthOutcome check(const wire::Header& header, const std::string& peer);
    /// A password given to the host's own pages (Server::check_login),
    /// counted by the same throttle, as a device of its own ("").
    LoginCheck check_password(const std::string& user, const std::string& password, const std::string& peer);

private:
    /// `secret` is base64(md5("user:password")); `known` the device's login record.
    bool md5_matches(const std::string& cred, const std::string& secret, const std::string& user,
                     const std::string& device, const std::optional<state::DeviceLogin>& known) const;
    /// The challenge for `user` on `device`, reading its login record.
    wire::Cred challenge_for(const std::string& user, const std::string& device, bool md5);
    wire::Cred challenge(const std::string& user, const std::string& device,
                         const std::optional<state::DeviceLogin>& known, bool md5) const;
    std::string stateless_nonce(const std::string& user, const std::string& device, const std::string& stored,
                                std::int64_t epoch) const;
    void accept(AuthOutcome& out, const std::string& device, const std::string& peer);

    AuthProvider& provider_;
    state::DeviceRegistry& devices_;
    const ServerConfig& config_;
    std::string secret_;
    LoginThrottle throttle_;
    std::array<std::mutex, 64> stripes_;
};

/// User names longer than this are refused unread (401).
constexpr std::size_t kMaxUserBytes = 256;

/// Are `a` and `b` equal? Without an early exit, so the time taken tells
/// nothing of a password or digest.
bool same_secret(const std::string& a, const std::string& b);
/// base64(md5("user:password")), the secret MD5 authentication is built on.
std::string md5_user_digest(const std::string& user, const std::string& password);
/// HMAC-MD5 (RFC 2104) of `message` under `key`, 16 raw bytes.
std::string hmac_md5(const std::string& key, const std::string& message);
/// Random bytes for nonces and session tokens.
std::string random_bytes(std::size_t n);
/// The server's key in `path` (32 random bytes, made on first use, readable
/// by the owner only). Throws DatastoreError when it can be neither read nor made.
std::string server_secret(const std::string& path);

}  // namespace smk::engine
