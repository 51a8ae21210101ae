#include "state/postgres/shared_secret.hpp"

#include <random>

#include "pg/connection.hpp"

namespace smk::state::postgres {

std::string shared_secret(pg::Connection& connection) {
    pg::migrate(connection, "secret",
                {"CREATE TABLE smk_server_secret (id integer PRIMARY KEY CHECK (id = 1), secret bytea NOT NULL)"});
    std::random_device rd;  // the kernel's random source on Linux
    std::string key(32, '\0');
    for (char& c : key) c = static_cast<char>(rd() & 0xFF);
    // Two processes starting at once: the first insert wins, both read it.
    connection.exec("INSERT INTO smk_server_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                    {pg::Param::bytes(key)});
    pg::Result r = connection.exec("SELECT secret FROM smk_server_secret WHERE id = 1");
    if (r.rows() != 1 || r.text(0, 0).size() < 16) throw pg::Error("PostgreSQL: the server secret is missing", "");
    return r.str(0, 0);
}

}  // namespace smk::state::postgres
