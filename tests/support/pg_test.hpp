// For tests that need a real PostgreSQL (label "postgres"): the server the
// ctest fixture `postgres` started (tests/support/pg_cluster.py), and a fresh
// database on it per test case, so cases never see each other's rows.
#pragma once

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "pg/connection.hpp"

namespace smk::test {

/// The test server's URL: $SMK_TEST_PG, else the first line of the file
/// $SMK_TEST_PG_FILE names (written by the fixture). Throws when neither.
inline std::string pg_server_url() {
    if (const char* url = std::getenv("SMK_TEST_PG"); url && *url) return url;
    if (const char* file = std::getenv("SMK_TEST_PG_FILE"); file && *file) {
        std::ifstream in(file);
        std::string url;
        if (std::getline(in, url) && !url.empty()) return url;
    }
    throw std::runtime_error("no test PostgreSQL: run through ctest (fixture postgres) or set SMK_TEST_PG "
                             "(tests/support/pg_cluster.py start DIR prints one)");
}

/// `url` with its database name replaced by `database`.
inline std::string pg_url_with_database(const std::string& url, const std::string& database) {
    std::string::size_type slash = url.rfind('/');
    std::string::size_type query = url.find('?', slash);
    return url.substr(0, slash + 1) + database + (query == std::string::npos ? "" : url.substr(query));
}

/// A new, empty database on the test server; returns its URL.
inline std::string pg_fresh_database() {
    static std::atomic<unsigned> counter{0};
    std::string server = pg_server_url();
    std::string name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                       std::to_string(std::random_device{}() % 100000);
    pg::Connection admin(server);
    admin.script("CREATE DATABASE " + name);
    return pg_url_with_database(server, name);
}

}  // namespace smk::test
