#include "engine/auth.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>

#include "engine/md5.hpp"
#include "syncmlkit/datastore.hpp"
#include "wire/text.hpp"

namespace smk {

bool AuthProvider::check_password(const std::string& user, const std::string& pw) {
    std::optional<std::string> expected = password(user);
    return expected && engine::same_secret(*expected, pw);
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

namespace {

// A stateless nonce is valid in the epoch it was made and the next one:
// ten to twenty minutes, time for a client to answer its challenge.
constexpr std::int64_t kEpochSeconds = 600;

std::int64_t current_epoch() {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::seconds>(now).count() / kEpochSeconds;
}

// Letters and digits only: SyncEvolution keeps the nonce between sessions as
// a C string, so a 0x00 byte (one nonce in twenty of 12 random bytes) cut it
// short and cost a failed login the next session.
std::string printable(const std::string& bytes) {
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out = bytes;
    for (char& c : out) c = kAlphabet[static_cast<unsigned char>(c) % 62];
    return out;
}

wire::Cred md5_cred(const std::string& nonce) {
    wire::Cred chal;
    chal.meta.type = "syncml:auth-md5";
    chal.meta.format = "b64";
    chal.meta.next_nonce = base64_encode(nonce);
    return chal;
}

wire::Cred basic_cred() {
    wire::Cred chal;
    chal.meta.type = "syncml:auth-basic";
    chal.meta.format = "b64";
    return chal;
}

}  // namespace

bool same_secret(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

std::string md5_user_digest(const std::string& user, const std::string& password) {
    return base64_encode(md5(user + ":" + password));
}

std::string hmac_md5(const std::string& key, const std::string& message) {
    constexpr std::size_t kBlock = 64;
    std::string k = key.size() > kBlock ? md5(key) : key;
    k.resize(kBlock, '\0');
    std::string inner(kBlock, '\0'), outer(kBlock, '\0');
    for (std::size_t i = 0; i < kBlock; ++i) {
        inner[i] = static_cast<char>(k[i] ^ 0x36);
        outer[i] = static_cast<char>(k[i] ^ 0x5c);
    }
    return md5(outer + md5(inner + message));
}

std::string random_bytes(std::size_t n) {
    // std::random_device reads the kernel's random source on Linux.
    static thread_local std::random_device rd;
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(rd() & 0xFF);
    return out;
}

std::string server_secret(const std::string& path) {
    {
        std::ifstream in(path, std::ios::binary);
        std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (key.size() >= 16) return key;
    }
    std::string key = random_bytes(32);
    // Readable by the owner only from its first byte, under a name no other
    // process uses.
    std::string tmp = path + ".new." + std::to_string(::getpid()) + "." + printable(random_bytes(8));
    int fd = ::open(tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) throw DatastoreError("cannot write the server key " + tmp);
    bool written = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) {
        ::unlink(tmp.c_str());
        throw DatastoreError("cannot write the server key " + tmp);
    }
    // Another process may have made one meanwhile: whichever rename lands
    // last wins, and both read it back.
    if (std::rename(tmp.c_str(), path.c_str()) != 0) throw DatastoreError("cannot write the server key " + path);
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Authenticator::Authenticator(AuthProvider& provider, state::DeviceRegistry& devices, const ServerConfig& config,
                             std::string secret)
    : provider_(provider),
      devices_(devices),
      config_(config),
      secret_(std::move(secret)),
      throttle_(config.login_throttle) {}

// A challenge nobody can tell from random: an HMAC of the user named (""
// when none), the device, the nonce stored at their last login ("" when
// none) and the epoch. It changes with every login, so a digest over it is
// spent once the login it opened is done, and it shows nobody whether the
// user or the device is known.
std::string Authenticator::stateless_nonce(const std::string& user, const std::string& device,
                                           const std::string& stored, std::int64_t epoch) const {
    return printable(hmac_md5(secret_, "nonce\n" + std::to_string(epoch) + "\n" + std::to_string(user.size()) +
                                           "\n" + user + "\n" + std::to_string(device.size()) + "\n" + device +
                                           "\n" + stored));
}

wire::Cred Authenticator::challenge_for(const std::string& user, const std::string& device, bool md5) {
    if (!md5 || user.empty()) return challenge(user, device, std::nullopt, md5);
    return challenge(user, device, devices_.login(user, device), md5);
}

wire::Cred Authenticator::challenge(const std::string& user, const std::string& device,
                                    const std::optional<state::DeviceLogin>& known, bool md5) const {
    if (!md5) return basic_cred();
    return md5_cred(stateless_nonce(user, device, known ? known->nonce : "", current_epoch()));
}

bool Authenticator::md5_matches(const std::string& cred, const std::string& secret, const std::string& user,
                                const std::string& device, const std::optional<state::DeviceLogin>& known) const {
    auto digest = [&](const std::string& nonce) { return base64_encode(md5(secret + ":" + nonce)); };
    std::string stored = known ? known->nonce : "";
    // The nonce given with the last login's 212 (an empty one would let
    // anyone replay a captured digest).
    if (!stored.empty() && same_secret(cred, digest(stored))) return true;
    std::int64_t floor = known ? known->nonce_floor : 0;
    std::int64_t now = current_epoch();
    for (std::int64_t epoch : {now, now - 1}) {
        if (same_secret(cred, digest(stateless_nonce(user, device, stored, epoch)))) return true;
        // A challenge made before the user was named (407 to a message
        // without credentials), until a login spends its epoch.
        if (epoch >= floor && same_secret(cred, digest(stateless_nonce("", device, "", epoch)))) return true;
    }
    return false;
}

// A good login: a fresh nonce for the next session, the stateless nonces of
// this epoch spent, the device remembered for the user.
void Authenticator::accept(AuthOutcome& out, const std::string& device, const std::string& peer) {
    throttle_.succeeded(out.user, peer, device);
    std::string nonce = printable(random_bytes(16));
    devices_.record_login(out.user, device, state::DeviceLogin{nonce, current_epoch() + 1},
                          config_.max_devices_per_user);
    out.status = 212;
    out.chal = md5_cred(nonce);
}

AuthOutcome Authenticator::check(const wire::Header& header, const std::string& peer) {
    const std::string& device = header.source.uri;
    AuthOutcome out;
    if (!header.cred) {
        out.status = 407;
        out.chal = challenge_for(header.source.name, device, true);
        return out;
    }
    const wire::Cred& cred = *header.cred;
    const std::string& type = cred.meta.type;
    bool basic = type.empty() || type == "syncml:auth-basic";
    if (!basic && type != "syncml:auth-md5") {
        out.status = 406;
        out.scheme = type;
        out.chal = challenge_for(header.source.name, device, true);
        return out;
    }
    out.scheme = basic ? "basic" : "md5";
    std::optional<std::string> password;
    if (basic) {
        auto decoded = base64_decode(cred.data);
        std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon != std::string::npos) {
            out.user = decoded->substr(0, colon);
            password = decoded->substr(colon + 1);
        }
    } else {
        out.user = header.source.name;
    }

    // No user name is that long; such a name is neither looked up, kept nor logged.
    if (out.user.size() > kMaxUserBytes) {
        out.user.clear();
        throttle_.failed("", peer, device);
        out.status = 401;
        out.chal = challenge_for("", device, !basic);
        return out;
    }
    // One login of a user and device at a time: two copies of one captured
    // digest cannot both pass before the first spends its nonce.
    std::lock_guard<std::mutex> serial(stripes_[std::hash<std::string>{}(out.user + "\n" + device) % stripes_.size()]);
    std::optional<state::DeviceLogin> known;
    if (!out.user.empty()) known = devices_.login(out.user, device);
    if (auto wait = throttle_.blocked(out.user, peer, device, known.has_value())) {
        out.status = 503;
        out.retry_after = static_cast<unsigned>(wait->count());
        return out;
    }
    // The MD5 secret is asked of the host once: for the check, and to tell a
    // first try over an empty nonce from a guess.
    std::optional<std::string> secret;
    if (!basic && !out.user.empty()) secret = provider_.md5_digest(out.user);
    bool good = !out.user.empty() && (basic ? password && provider_.check_password(out.user, *password)
                                            : secret && md5_matches(cred.data, *secret, out.user, device, known));
    if (good) {
        accept(out, device, peer);
        return out;
    }
    // A digest over an empty nonce is how SyncEvolution opens its very first
    // session: the right password without a nonce yet, answered with a
    // challenge but not counted as a guess.
    bool first_try = secret && same_secret(cred.data, base64_encode(md5(*secret + ":")));
    if (!first_try) throttle_.failed(out.user, peer, device);
    out.status = 401;
    out.chal = challenge(out.user, device, known, !basic);
    return out;
}

LoginCheck Authenticator::check_password(const std::string& user, const std::string& password,
                                         const std::string& peer) {
    LoginCheck out;
    if (user.empty() || user.size() > kMaxUserBytes) {
        throttle_.failed("", peer, "");
        return out;
    }
    if (auto wait = throttle_.blocked(user, peer, "", false)) {
        out.retry_after = static_cast<unsigned>(wait->count());
        return out;
    }
    out.ok = provider_.check_password(user, password);
    if (out.ok)
        throttle_.succeeded(user, peer, "");
    else
        throttle_.failed(user, peer, "");
    return out;
}

}  // namespace smk::engine
