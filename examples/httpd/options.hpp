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
    std::string users_file;   ///< empty: one demo user with a random password
    std::string grants_file;  ///< empty: no grants
    std::string gab_file;     ///< empty: the Global Address Book stays as it is
    std::optional<std::size_t> max_msg_size;               ///< ServerConfig::max_msg_size
    std::optional<std::chrono::seconds> session_timeout;   ///< ServerConfig::session_timeout
    std::string time_zone;  ///< ServerConfig::user_time_zone for every user; empty: none
    std::string log_dir;  ///< empty: messages are not kept
    std::string tls_cert;
    std::string tls_key;
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
