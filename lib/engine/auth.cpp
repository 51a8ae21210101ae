#include "engine/auth.hpp"

#include <random>

#include "engine/md5.hpp"
#include "wire/text.hpp"

namespace smk {

bool AuthProvider::check_password(const std::string& user, const std::string& pw) {
    std::optional<std::string> expected = password(user);
    return expected && *expected == pw;
}

std::optional<std::string> AuthProvider::md5_digest(const std::string& user) {
    std::optional<std::string> pw = password(user);
    if (!pw) return std::nullopt;
    return engine::md5_user_digest(user, *pw);
}

}  // namespace smk

namespace smk::engine {
using wire::base64_decode;
using wire::base64_encode;

std::string md5_user_digest(const std::string& user, const std::string& password) {
    return base64_encode(md5(user + ":" + password));
}

std::string random_bytes(std::size_t n) {
    // std::random_device reads the kernel's random source on Linux.
    static thread_local std::random_device rd;
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rd() & 0xFF);
    return out;
}

Authenticator::Authenticator(AuthProvider& provider, state::DeviceRegistry& devices)
    : provider_(provider), devices_(devices) {}

wire::Cred Authenticator::md5_challenge(const std::string& device) {
    // Letters and digits only: SyncEvolution keeps the nonce between sessions
    // as a C string, so a 0x00 byte (one nonce in twenty of 12 random bytes)
    // cut it short and cost a failed login the next session.
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string nonce = random_bytes(16);
    for (char& c : nonce) c = kAlphabet[static_cast<unsigned char>(c) % 62];
    devices_.set_nonce(device, nonce);
    wire::Cred chal;
    chal.meta.type = "syncml:auth-md5";
    chal.meta.format = "b64";
    chal.meta.next_nonce = base64_encode(nonce);
    return chal;
}

wire::Cred Authenticator::basic_challenge() {
    wire::Cred chal;
    chal.meta.type = "syncml:auth-basic";
    chal.meta.format = "b64";
    return chal;
}

AuthOutcome Authenticator::check(const wire::Header& header) {
    const std::string& device = header.source.uri;
    AuthOutcome out;
    if (!header.cred) {
        out.status = 407;
        out.chal = md5_challenge(device);
        return out;
    }
    const wire::Cred& cred = *header.cred;
    const std::string& type = cred.meta.type;
    if (type.empty() || type == "syncml:auth-basic") {
        out.scheme = "basic";
        auto decoded = base64_decode(cred.data);
        std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon != std::string::npos) {
            std::string user = decoded->substr(0, colon);
            if (provider_.check_password(user, decoded->substr(colon + 1))) {
                out.status = 212;
                out.user = user;
                out.chal = md5_challenge(device);  // offered for the next session
                return out;
            }
        }
        out.status = 401;
        out.chal = basic_challenge();
        return out;
    }
    if (type == "syncml:auth-md5") {
        out.scheme = "md5";
        const std::string& user = header.source.name;
        std::string nonce = devices_.nonce(device);
        // An empty nonce would let anyone replay a captured digest: the
        // client is challenged for one of ours first.
        std::optional<std::string> secret = user.empty() ? std::nullopt : provider_.md5_digest(user);
        if (secret && !nonce.empty()) {
            std::string expected = base64_encode(md5(*secret + ":" + nonce));
            if (cred.data == expected) {
                out.status = 212;
                out.user = user;
                out.chal = md5_challenge(device);
                return out;
            }
        }
        out.status = 401;
        out.chal = md5_challenge(device);
        return out;
    }
    out.status = 406;
    out.scheme = type;
    out.chal = md5_challenge(device);
    return out;
}

}  // namespace smk::engine
