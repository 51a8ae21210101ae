// syncmlkit-httpd's command line.
#include <catch2/catch.hpp>

#include "config_error.hpp"
#include "options.hpp"

using namespace smk::httpd;

namespace {

std::string error_of(const std::vector<std::string>& args) {
    try {
        parse_options(args);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("options: defaults") {
    Options o = parse_options({});
    CHECK(o.port == 7887);
    CHECK(o.bind == "127.0.0.1");
    CHECK(o.data_dir == "./syncmlkit-data");
    CHECK(o.users_file.empty());
    CHECK(o.grants_file.empty());
    CHECK(o.gab_file.empty());
    CHECK_FALSE(o.max_msg_size);
    CHECK_FALSE(o.session_timeout);
    CHECK(o.log_dir.empty());
    CHECK(o.tls_cert.empty());
    CHECK(o.tls_key.empty());
    CHECK_FALSE(o.help);
    CHECK_FALSE(o.verbose);
    CHECK(o.max_connections == 10000);
    CHECK(o.max_connections_per_address == 1000);
    CHECK(o.idle_timeout.count() == 15);
    CHECK(o.request_timeout.count() == 60);
}

TEST_CASE("options: connection limits and timeouts") {
    Options o = parse_options({"--max-connections", "5000", "--max-connections-per-address=0", "--idle-timeout", "5",
                               "--request-timeout=20"});
    CHECK(o.max_connections == 5000);
    CHECK(o.max_connections_per_address == 0);
    CHECK(o.idle_timeout.count() == 5);
    CHECK(o.request_timeout.count() == 20);
    CHECK(error_of({"--max-connections", "0"}).find("--max-connections: expected a whole number from 1") == 0);
    CHECK(error_of({"--idle-timeout", "0"}).find("--idle-timeout: expected a whole number from 1 to 3600") == 0);
    CHECK(error_of({"--request-timeout", "x"}).find("--request-timeout: expected a whole number from 1") == 0);
}

TEST_CASE("options: workers and the engine's per-user limits") {
    Options d = parse_options({});
    CHECK(d.workers == 0);
    CHECK_FALSE(d.max_sessions_per_user);
    CHECK_FALSE(d.max_devices_per_user);
    Options o = parse_options({"--workers", "32", "--max-sessions-per-user=200", "--max-devices-per-user", "300"});
    CHECK(o.workers == 32);
    CHECK(o.max_sessions_per_user == 200u);
    CHECK(o.max_devices_per_user == 300u);
    CHECK(error_of({"--workers", "0"}).find("--workers: expected a whole number from 1 to 1024") == 0);
    CHECK(error_of({"--max-sessions-per-user", "0"}).find("--max-sessions-per-user: expected a whole number from 1") == 0);
    CHECK(error_of({"--max-devices-per-user", "x"}).find("--max-devices-per-user: expected a whole number from 1") == 0);
}

TEST_CASE("options: --state, --store and --pg-pool") {
    Options d = parse_options({});
    CHECK(d.state.empty());
    CHECK(d.store == "sqlite");
    CHECK(d.pg_pool == 16u);
    Options o = parse_options({"--state", "postgresql://smk@127.0.0.1:5432/sync", "--store=postgresql", "--pg-pool", "4"});
    CHECK(o.state == "postgresql://smk@127.0.0.1:5432/sync");
    CHECK(o.store == "postgresql");
    CHECK(o.pg_pool == 4u);
    CHECK(parse_options({"--state", "postgres://h/db"}).store == "sqlite");  // state shared, items in SQLite
    CHECK(error_of({"--state", "/var/lib/state"}).find("--state: \"/var/lib/state\" is no postgresql:// URL") == 0);
    CHECK(error_of({"--store", "postgresql"}).find("--store postgresql: needs --state") == 0);
    CHECK(error_of({"--store", "mysql", "--state", "postgresql://h/db"}).find("--store: \"mysql\" is neither") == 0);
    CHECK(error_of({"--pg-pool", "0"}).find("--pg-pool: expected a whole number from 1") == 0);
}

TEST_CASE("options: every option, as --name value and --name=value") {
    Options o = parse_options({"--port", "8080", "--bind=0.0.0.0", "--data", "/srv/sync", "--users=u.txt", "--grants",
                               "g.txt", "--gab", "gab.vcf", "--max-msg-size=20000", "--session-timeout", "90",
                               "--time-zone", "W. Europe Standard Time", "--log-dir", "logs", "--tls-cert", "c.pem", "--tls-key=k.pem", "--verbose"});
    CHECK(o.port == 8080);
    CHECK(o.bind == "0.0.0.0");
    CHECK(o.data_dir == "/srv/sync");
    CHECK(o.users_file == "u.txt");
    CHECK(o.grants_file == "g.txt");
    CHECK(o.gab_file == "gab.vcf");
    REQUIRE(o.max_msg_size);
    CHECK(*o.max_msg_size == 20000);
    REQUIRE(o.session_timeout);
    CHECK(o.session_timeout->count() == 90);
    CHECK(o.time_zone == "W. Europe Standard Time");
    CHECK(o.log_dir == "logs");
    CHECK(o.tls_cert == "c.pem");
    CHECK(o.tls_key == "k.pem");
    CHECK(o.verbose);
}

TEST_CASE("options: --help, -h and --version") {
    CHECK(parse_options({"--help"}).help);
    CHECK(parse_options({"-h"}).help);
    CHECK(parse_options({"--version"}).version);
    CHECK(error_of({"--help=yes"}) == "--help: takes no value");
}

TEST_CASE("options: port 0 asks for any free port") { CHECK(parse_options({"--port", "0"}).port == 0); }

TEST_CASE("options: bad numbers name the option and the value") {
    CHECK(error_of({"--port", "65536"}) == "--port: expected a whole number from 0 to 65535, got \"65536\"");
    CHECK(error_of({"--port", "-1"}) == "--port: expected a whole number from 0 to 65535, got \"-1\"");
    CHECK(error_of({"--port", "80x"}) == "--port: expected a whole number from 0 to 65535, got \"80x\"");
    CHECK(error_of({"--port", " 80"}) == "--port: expected a whole number from 0 to 65535, got \" 80\"");
    CHECK(error_of({"--port="}) == "--port: expected a whole number from 0 to 65535, got \"\"");
    CHECK(error_of({"--port", "99999999999999999999999"}).find("--port: expected") == 0);
    CHECK(error_of({"--max-msg-size", "100"}).find("--max-msg-size: expected a whole number from 1024") == 0);
    CHECK(error_of({"--session-timeout", "0"}).find("--session-timeout: expected a whole number from 1") == 0);
    CHECK(error_of({"--time-zone", "Middle Earth/Shire"}) ==
          "--time-zone: unknown time zone \"Middle Earth/Shire\" (an IANA name such as Europe/Berlin)");
}

TEST_CASE("options: missing values and unknown arguments") {
    CHECK(error_of({"--port"}) == "--port: needs a value (see --help)");
    CHECK(error_of({"--data", ""}) == "--data: needs a value (see --help)");
    CHECK(error_of({"--users="}) == "--users: needs a value (see --help)");
    CHECK(error_of({"--frobnicate"}) == "unknown option --frobnicate (see --help)");
    CHECK(error_of({"-x"}) == "unknown option -x (see --help)");
    CHECK(error_of({"extra"}) == "unexpected argument \"extra\" (see --help)");
}

TEST_CASE("options: conflict policy and mass-delete guard") {
    Options d = parse_options({});
    CHECK(d.conflict_policy == "merge");
    CHECK(d.mass_delete_percent == 50);
    CHECK(d.mass_delete_min == 20);
    Options o = parse_options({"--conflict-policy", "keep-both", "--mass-delete", "30:100"});
    CHECK(o.conflict_policy == "keep-both");
    CHECK(o.mass_delete_percent == 30);
    CHECK(o.mass_delete_min == 100);
    CHECK(parse_options({"--mass-delete=off"}).mass_delete_percent == 0);
    CHECK(parse_options({"--mass-delete", "80"}).mass_delete_min == 20);
    CHECK(error_of({"--conflict-policy", "coin-toss"}).find("--conflict-policy: \"coin-toss\" is none of") == 0);
    CHECK(error_of({"--mass-delete", "150"}).find("--mass-delete") == 0);
}

TEST_CASE("options: TLS needs certificate and key together") {
    CHECK(error_of({"--tls-cert", "c.pem"}).find("--tls-cert and --tls-key go together") == 0);
    CHECK(error_of({"--tls-key", "k.pem"}).find("--tls-cert and --tls-key go together") == 0);
}

TEST_CASE("options: --help names every option") {
    std::string text = usage();
    for (const char* name : {"--port", "--bind", "--data", "--users", "--grants", "--gab", "--max-msg-size",
                             "--session-timeout", "--time-zone", "--log-dir", "--tls-cert", "--tls-key", "--verbose", "--help",
                             "--version", "--max-connections", "--max-connections-per-address", "--idle-timeout",
                             "--request-timeout", "--conflict-policy", "--mass-delete", "--workers",
                             "--max-sessions-per-user", "--max-devices-per-user", "--state", "--store", "--pg-pool"}) {
        INFO(name);
        CHECK(text.find(name) != std::string::npos);
    }
    CHECK(text.find("7887") != std::string::npos);
}
