#include "options.hpp"

#include <charconv>
#include <limits>

#include "config_error.hpp"
#include "syncmlkit/pim.hpp"

namespace smk::httpd {

namespace {

// A whole decimal number in [min, max], nothing around it.
unsigned long long parse_number(const std::string& option, const std::string& text, unsigned long long min,
                                unsigned long long max) {
    unsigned long long value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < min || value > max) {
        throw ConfigError(option + ": expected a whole number from " + std::to_string(min) + " to " +
                          std::to_string(max) + ", got \"" + text + "\"");
    }
    return value;
}

}  // namespace

Options parse_options(const std::vector<std::string>& args) {
    Options o;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i];
        std::optional<std::string> inline_value;
        if (auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
            inline_value = name.substr(eq + 1);
            name.erase(eq);
        }
        auto value = [&]() -> std::string {
            if (inline_value) return *inline_value;
            if (i + 1 >= args.size()) throw ConfigError(name + ": needs a value (see --help)");
            return args[++i];
        };
        auto flag = [&] {
            if (inline_value) throw ConfigError(name + ": takes no value");
        };
        auto nonempty = [&](std::string v) {
            if (v.empty()) throw ConfigError(name + ": needs a value (see --help)");
            return v;
        };

        if (name == "--help" || name == "-h") {
            flag();
            o.help = true;
        } else if (name == "--version") {
            flag();
            o.version = true;
        } else if (name == "--verbose" || name == "-v") {
            flag();
            o.verbose = true;
        } else if (name == "--port") {
            o.port = static_cast<int>(parse_number(name, value(), 0, 65535));
        } else if (name == "--bind") {
            o.bind = nonempty(value());
        } else if (name == "--data") {
            o.data_dir = nonempty(value());
        } else if (name == "--state") {
            o.state = nonempty(value());
            if (o.state.rfind("postgresql://", 0) != 0 && o.state.rfind("postgres://", 0) != 0)
                throw ConfigError("--state: \"" + o.state + "\" is no postgresql:// URL (without --state, sync state stays "
                                  "in SQLite under --data)");
        } else if (name == "--store") {
            o.store = nonempty(value());
            if (o.store != "sqlite" && o.store != "postgresql")
                throw ConfigError("--store: \"" + o.store + "\" is neither sqlite nor postgresql");
        } else if (name == "--pg-pool") {
            o.pg_pool = static_cast<std::size_t>(parse_number(name, value(), 1, 1000));
        } else if (name == "--users") {
            o.users_file = nonempty(value());
        } else if (name == "--grants") {
            o.grants_file = nonempty(value());
        } else if (name == "--gab") {
            o.gab_file = nonempty(value());
        } else if (name == "--max-msg-size") {
            // Below a few kB not even the server's own status replies fit.
            o.max_msg_size = static_cast<std::size_t>(parse_number(name, value(), 1024, 64ull * 1024 * 1024));
        } else if (name == "--session-timeout") {
            o.session_timeout = std::chrono::seconds(parse_number(name, value(), 1, 7 * 24 * 3600));
        } else if (name == "--time-zone") {
            o.time_zone = nonempty(value());
            if (smk::pim::canonical_time_zone(o.time_zone).empty())
                throw ConfigError("--time-zone: unknown time zone \"" + o.time_zone + "\" (an IANA name such as Europe/Berlin)");
        } else if (name == "--log-dir") {
            o.log_dir = nonempty(value());
        } else if (name == "--conflict-policy") {
            o.conflict_policy = value();
            if (o.conflict_policy != "merge" && o.conflict_policy != "server-wins" && o.conflict_policy != "client-wins" &&
                o.conflict_policy != "newer-wins" && o.conflict_policy != "keep-both")
                throw ConfigError("--conflict-policy: \"" + o.conflict_policy +
                                  "\" is none of merge, server-wins, client-wins, newer-wins, keep-both");
        } else if (name == "--mass-delete") {
            // PERCENT or PERCENT:MIN_ITEMS; "off" (or 0) turns the guard off.
            std::string v = value();
            if (v == "off") {
                o.mass_delete_percent = 0;
            } else {
                std::size_t colon = v.find(':');
                o.mass_delete_percent = static_cast<unsigned>(parse_number(name, v.substr(0, colon), 0, 100));
                if (colon != std::string::npos)
                    o.mass_delete_min = static_cast<std::size_t>(parse_number(name, v.substr(colon + 1), 0, 100000000));
            }
        } else if (name == "--tls-cert") {
            o.tls_cert = nonempty(value());
        } else if (name == "--tls-key") {
            o.tls_key = nonempty(value());
        } else if (name == "--max-connections") {
            o.max_connections = static_cast<std::size_t>(parse_number(name, value(), 1, 1000000));
        } else if (name == "--max-connections-per-address") {
            o.max_connections_per_address = static_cast<std::size_t>(parse_number(name, value(), 0, 1000000));
        } else if (name == "--idle-timeout") {
            o.idle_timeout = std::chrono::seconds(parse_number(name, value(), 1, 3600));
        } else if (name == "--request-timeout") {
            o.request_timeout = std::chrono::seconds(parse_number(name, value(), 1, 3600));
        } else if (name == "--workers") {
            o.workers = static_cast<unsigned>(parse_number(name, value(), 1, 1024));
        } else if (name == "--max-sessions-per-user") {
            o.max_sessions_per_user = static_cast<std::size_t>(parse_number(name, value(), 1, 100000));
        } else if (name == "--max-devices-per-user") {
            o.max_devices_per_user = static_cast<std::size_t>(parse_number(name, value(), 1, 100000));
        } else if (name.rfind("-", 0) == 0) {
            throw ConfigError("unknown option " + name + " (see --help)");
        } else {
            throw ConfigError("unexpected argument \"" + name + "\" (see --help)");
        }
    }
    if (o.store == "postgresql" && o.state.empty())
        throw ConfigError("--store postgresql: needs --state postgresql://... (the items live in that database)");
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        throw ConfigError("--tls-cert and --tls-key go together: give both to serve HTTPS");
    }
    return o;
}

std::string usage() {
    return R"(Usage: syncmlkit-httpd [OPTION]...
A SyncML server over HTTP: POST SyncML messages (XML or WBXML) to any path.

  --port N               port to listen on (default 7887; 0 picks a free one)
  --bind ADDR            address to listen on (default 127.0.0.1;
                         0.0.0.0 or :: for every interface)
  --data DIR             where the SQLite stores and the server's state live,
                         created if missing (default ./syncmlkit-data)
  --state URL            keep clients' sync state, devices and sessions in
                         PostgreSQL (postgresql://user@host:port/db), shared
                         by every process given the same URL, so a balancer
                         may send any message to any of them (docs/SCALING.md)
  --store S              where the items live: sqlite (default, under --data)
                         or postgresql (the --state database)
  --pg-pool N            connections each PostgreSQL pool of this process
                         opens at most (default 16)
  --users FILE           users, one "user:password" a line; # comments.
                         Without it one demo user, "demo", with a random
                         password made at the first start, kept in
                         DIR/demo-password and printed at every start
  --grants FILE          who may sync whose databases, lines like
                           alice/contacts: bob carol:ro
  --gab FILE.vcf         fill the Global Address Book from these vCards at start
  --max-msg-size N       largest message a client may send, in bytes
                         (default 150000)
  --session-timeout S    drop sessions idle for S seconds (default 600)
  --time-zone ZONE       the users' time zone (IANA name, e.g. Europe/Berlin):
                         vCalendar times without a zone are placed in it
  --log-dir DIR          keep every message, request and reply, as XML files
  --conflict-policy P    an item changed on the server and on a client since
                         its last sync: merge (default: field by field, else
                         both kept), server-wins, client-wins, newer-wins,
                         keep-both (docs/DATA-SAFETY.md)
  --mass-delete P[:N]    refuse a client's deletes of more than P percent of a
                         store of more than N items (default 50:20; "off")
  --tls-cert FILE        serve HTTPS with this certificate (PEM) ...
  --tls-key FILE         ... and this private key (PEM)
  --max-connections N    open connections in all (default 10000)
  --max-connections-per-address N
                         open connections from one IP address (default
                         1000; 0: no limit); the users behind a NAT share
                         its address
  --idle-timeout S       close a connection silent for S seconds (default 15)
  --request-timeout S    a request must arrive whole within S seconds of the
                         connection's start or the previous reply (default 60)
  --workers N            threads that run SyncML messages (default
                         max(8, 2 x cores)); a message waiting for a
                         database another session of its user is writing
                         holds one
  --max-sessions-per-user N
                         sessions of one user open at once (default 8); a
                         new one beyond ends the user's least recently
                         active session
  --max-devices-per-user N
                         devices remembered per user (default 32): nonce
                         and DevInf of the least recently seen are
                         forgotten beyond
  -v, --verbose          print the engine's informational messages too
  -h, --help             print this help and exit
      --version          print the version and exit

Options take their value as "--port 8080" or "--port=8080".
SIGINT or SIGTERM stops the server.
)";
}

}  // namespace smk::httpd
