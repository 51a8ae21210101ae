// lib/pg against a real PostgreSQL: values in binary both ways, prepared
// statements, transactions, the pool's bound and its handling of broken
// connections, schema migration.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "pg/connection.hpp"
#include "pg_test.hpp"

using namespace smk;

TEST_CASE("bytes and numbers round-trip in binary, invalid UTF-8 and NUL included") {
    pg::Connection c(test::pg_fresh_database());
    c.script("CREATE TABLE t (id bigint PRIMARY KEY, b bytea, s text, n integer, f boolean)");
    std::string raw("a\0b\xff\xfe\x80z", 7);
    c.run("ins", "INSERT INTO t (id, b, s, n, f) VALUES ($1, $2, $3, $4::bigint, true)",
          {pg::Param::int8(-5), pg::Param::bytes(raw), pg::Param::bytes("grüße"), pg::Param::int8(70000)});
    c.run("ins", "INSERT INTO t (id, b, s, n, f) VALUES ($1, $2, $3, $4::bigint, true)",
          {pg::Param::int8(1LL << 40), pg::Param::null(), pg::Param::bytes(""), pg::Param::int8(-3)});
    pg::Result r = c.exec("SELECT id, b, s, n, f FROM t ORDER BY id");
    REQUIRE(r.rows() == 2);
    CHECK(r.int8(0, 0) == -5);
    CHECK(r.str(0, 1) == raw);
    CHECK(r.str(0, 2) == "grüße");
    CHECK(r.int8(0, 3) == 70000);
    CHECK(r.boolean(0, 4));
    CHECK(r.int8(1, 0) == (1LL << 40));
    CHECK(r.null(1, 1));
    CHECK_FALSE(r.null(1, 2));
    CHECK(r.str(1, 2).empty());
    CHECK(r.int8(1, 3) == -3);
    // Invalid UTF-8 is refused in text, as the spec of the column rules says.
    CHECK_THROWS_AS(c.exec("INSERT INTO t (id, s) VALUES (9, $1)", {pg::Param::bytes("\xff")}), pg::Error);
}

TEST_CASE("a failure carries its SQLSTATE; a transaction rolls back; a name is one statement") {
    pg::Connection c(test::pg_fresh_database());
    c.script("CREATE TABLE t (k text PRIMARY KEY)");
    c.begin();
    c.exec("INSERT INTO t VALUES ('a')");
    CHECK(c.in_transaction());
    try {
        c.exec("INSERT INTO t VALUES ('a')");
        FAIL("a duplicate key was accepted");
    } catch (const pg::Error& e) {
        CHECK(e.sqlstate() == "23505");
    }
    CHECK_FALSE(c.healthy());  // in a failed transaction
    c.rollback();
    CHECK(c.healthy());
    CHECK(c.exec("SELECT count(*) FROM t").int8(0, 0) == 0);
    c.begin();
    c.exec("INSERT INTO t VALUES ('b')");
    c.commit();
    CHECK(c.run("count", "SELECT count(*) FROM t").int8(0, 0) == 1);
    CHECK(c.exec("UPDATE t SET k = k WHERE k = 'none'").affected() == 0);
    CHECK_THROWS_AS(c.run("count", "SELECT 1"), pg::Error);
    CHECK(c.exec("DELETE FROM t").affected() == 1);
}

TEST_CASE("the pool bounds its connections and drops broken ones") {
    std::string url = test::pg_fresh_database();
    pg::Pool pool(url, 2, std::chrono::milliseconds(300));
    {
        pg::Pool::Lease a = pool.acquire();
        pg::Pool::Lease b = pool.acquire();
        CHECK(pool.open_connections() == 2);
        CHECK_THROWS_AS(pool.acquire(), pg::Error);  // bounded wait, then a clear error
        a->begin();
        a->exec("CREATE TABLE t (k integer)");
        // A transaction left open goes back rolled back.
    }
    {
        pg::Pool::Lease a = pool.acquire();
        CHECK(a->exec("SELECT count(*) FROM pg_tables WHERE tablename = 't'").int8(0, 0) == 0);
        // The server ends the connection (as an administrator, or a restart, would).
        pg::Connection admin(url);
        admin.exec("SELECT pg_terminate_backend($1::integer)", {pg::Param::int8(a->backend_pid())});
        CHECK_THROWS_AS(a->exec("SELECT 1"), pg::Error);
        CHECK_FALSE(a->healthy());
    }
    CHECK(pool.open_connections() <= 1);  // the broken one was closed, not pooled
    pg::Pool::Lease c = pool.acquire();
    CHECK(c->exec("SELECT 41 + 1").int8(0, 0) == 42);

    // Threads wait their turn instead of failing.
    std::atomic<int> done{0};
    pg::Pool shared(url, 2, std::chrono::seconds(20));
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                pg::Pool::Lease l = shared.acquire();
                if (l->run("one", "SELECT 1").int8(0, 0) == 1) ++done;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(done == 60);
    CHECK(shared.open_connections() <= 2);
}

TEST_CASE("migration runs each step once, also from processes starting together, and refuses a newer schema") {
    std::string url = test::pg_fresh_database();
    std::vector<std::string> steps = {"CREATE TABLE m1 (k integer); INSERT INTO m1 VALUES (1)",
                                      "INSERT INTO m1 VALUES (2)"};
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            try {
                pg::Connection c(url);
                pg::migrate(c, "demo", steps);
            } catch (const std::exception&) {
                ++failures;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    pg::Connection c(url);
    CHECK(c.exec("SELECT count(*) FROM m1").int8(0, 0) == 2);
    steps.push_back("INSERT INTO m1 VALUES (3)");
    pg::migrate(c, "demo", steps);
    pg::migrate(c, "demo", steps);
    CHECK(c.exec("SELECT count(*) FROM m1").int8(0, 0) == 3);
    CHECK(c.exec("SELECT version FROM smk_schema WHERE component = 'demo'").int8(0, 0) == 3);
    steps.pop_back();
    CHECK_THROWS_AS(pg::migrate(c, "demo", steps), pg::Error);
    CHECK_FALSE(c.in_transaction());
}

TEST_CASE("a connection that cannot be made says so") {
    std::string url = test::pg_url_with_database(test::pg_server_url(), "no_such_database_here");
    try {
        pg::Connection c(url);
        FAIL("connected to a database that does not exist");
    } catch (const pg::Error& e) {
        CHECK(std::string(e.what()).find("cannot connect") != std::string::npos);
    }
    CHECK(pg::is_postgres_url("postgresql://x/y"));
    CHECK(pg::is_postgres_url("postgres://x"));
    CHECK_FALSE(pg::is_postgres_url("/var/lib/smk"));
}
