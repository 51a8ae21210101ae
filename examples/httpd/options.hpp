// The command line of syncmlkit-httpd.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace smk::httpd {

struct Options {
    int port = 7887;  ///< 0: any free port (the start-up line names it)
    std::string bind = "127.0.0.1";
    std::string data_dir = "./syncmlkit-data";
    /// ServerConfig::state: "" keeps sync state in SQLite under data_dir;
    /// a postgresql:// URL keeps it, the device registry and the sessions in
    /// PostgreSQL, shared with other processes.
    std::string state;
    /// Where the items live: "sqlite" (under data_dir) or "postgresql" (the
    /// --state database; needs --state).
    std::string store = "sqlite";
    /// Connections each PostgreSQL pool of this process may open.
    std::size_t pg_pool = 16;
    std::string users_file;   ///< empty: one demo user with a random password
    std::string grants_file;  ///< empty: no grants
    std::string gab_file;     ///< empty: the Global Address Book stays as it is
    std::optional<std::size_t> max_msg_size;               ///< ServerConfig::max_msg_size
    std::optional<std::chrono::seconds> session_timeout;   ///< ServerConfig::session_timeout
    std::string time_zone;  ///< ServerConfig::user_time_zone for every user; empty: none
    std::string log_dir;  ///< empty: messages are not kept
    std::string conflict_policy = "merge";  ///< ServerConfig::conflict_policy for every database
    /// ServerConfig::mass_delete_guard: refuse deletes of more than this
    /// percent of a store of more than mass_delete_min items; 0: off.
    unsigned mass_delete_percent = 50;
    std::size_t mass_delete_min = 20;
    std::string tls_cert;
    std::string tls_key;
    /// Open connections in all; more are accepted and closed at once.
    std::size_t max_connections = 10000;
    /// Open connections from one IP address; 0: no limit. Generous, since
    /// a company's users may all come through one NAT address.
    std::size_t max_connections_per_address = 1000;
    /// A connection on which nothing moves this long is closed.
    std::chrono::seconds idle_timeout{15};
    /// A request must have arrived whole (headers and body) this long after
    /// the connection opened or the previous reply on it was sent.
    std::chrono::seconds request_timeout{60};
    /// Threads that run SyncML messages; 0: max(8, 2 x cores).
    unsigned workers = 0;
    /// ServerConfig::max_sessions_per_user and max_devices_per_user; unset: the engine's.
    std::optional<std::size_t> max_sessions_per_user;
    std::optional<std::size_t> max_devices_per_user;
    bool verbose = false;  ///< the engine's info and debug messages too
    bool help = false;
    bool version = false;
};

/// Parses the arguments after the program name. Accepts "--name value" and
/// "--name=value". Throws ConfigError naming the bad argument.
Options parse_options(const std::vector<std::string>& args);

/// The --help text.
std::string usage();

}  // namespace smk::httpd
