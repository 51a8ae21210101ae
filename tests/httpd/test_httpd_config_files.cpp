// syncmlkit-httpd's users and grants files.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "config_error.hpp"
#include "grants_file.hpp"
#include "users_file.hpp"

using namespace smk::httpd;

namespace {

Users users_from(const std::string& text) {
    std::istringstream in(text);
    return parse_users(in, "users.txt");
}

std::vector<std::string> users_problems(const std::string& text) {
    try {
        users_from(text);
    } catch (const ConfigError& e) {
        return e.problems();
    }
    return {};
}

std::vector<Grant> grants_from(const std::string& text, const UserExists& exists = {}) {
    std::istringstream in(text);
    return parse_grants(in, "grants.txt", exists);
}

std::vector<std::string> grants_problems(const std::string& text, const UserExists& exists = {}) {
    try {
        grants_from(text, exists);
    } catch (const ConfigError& e) {
        return e.problems();
    }
    return {};
}

using Problems = std::vector<std::string>;

}  // namespace

TEST_CASE("users file: users, comments, blank lines, CRLF") {
    Users u = users_from(
        "# the users\n"
        "\n"
        "alice:secret\n"
        "   # indented comment\n"
        "bob:pass:with:colons\r\n"
        "carol@example.com: spaces and # are part of it \n"
        "\t\n");
    CHECK(u.size() == 3);
    CHECK(u.at("alice") == "secret");
    CHECK(u.at("bob") == "pass:with:colons");
    CHECK(u.at("carol@example.com") == " spaces and # are part of it ");
}

TEST_CASE("users file: every bad line is reported with file and line") {
    Problems p = users_problems(
        "alice:one\n"
        "no colon here\n"
        ":nouser\n"
        "bob:\n"
        "alice:two\n"
        "bad name:x\n"
        "../etc:x\n"
        "_global:x\n");
    REQUIRE(p.size() == 7);
    CHECK(p[0] == "users.txt:2: expected user:password");
    CHECK(p[1] == "users.txt:3: no user name before the colon");
    CHECK(p[2] == "users.txt:4: user \"bob\" has an empty password");
    CHECK(p[3] == "users.txt:5: user \"alice\" is already defined on line 1");
    CHECK(p[4].find("users.txt:6: bad user name \"bad name\"") == 0);
    CHECK(p[5].find("users.txt:7: bad user name \"../etc\"") == 0);
    CHECK(p[6].find("users.txt:8: bad user name \"_global\"") == 0);
}

TEST_CASE("users file: what() lists the problems one a line") {
    try {
        users_from("x\ny\n");
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == "users.txt:1: expected user:password\nusers.txt:2: expected user:password");
    }
}

TEST_CASE("users file: an empty file is an error") {
    CHECK(users_problems("# nobody\n\n") == Problems{"users.txt: no users (one \"user:password\" a line)"});
    CHECK(users_problems("") == Problems{"users.txt: no users (one \"user:password\" a line)"});
}

TEST_CASE("users file: a file of garbage stops after 20 problems") {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "garbage\n";
    Problems p = users_problems(text);
    REQUIRE(p.size() == 21);
    CHECK(p.back() == "users.txt: giving up after 20 bad lines");
}

TEST_CASE("users file: a missing file says so") {
    try {
        read_users_file("/nonexistent/users.txt");
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()).find("/nonexistent/users.txt: cannot open: ") == 0);
    }
}

TEST_CASE("user names are safe as file names") {
    CHECK(valid_user_name("alice"));
    CHECK(valid_user_name("alice.smith@example.com"));
    CHECK(valid_user_name("a+b-c_d"));
    CHECK(valid_user_name(std::string(64, 'a')));
    CHECK_FALSE(valid_user_name(std::string(65, 'a')));
    CHECK_FALSE(valid_user_name(""));
    CHECK_FALSE(valid_user_name("."));
    CHECK_FALSE(valid_user_name(".."));
    CHECK_FALSE(valid_user_name(".hidden"));
    CHECK_FALSE(valid_user_name("_global"));
    CHECK_FALSE(valid_user_name("a/b"));
    CHECK_FALSE(valid_user_name("a\\b"));
    CHECK_FALSE(valid_user_name("a b"));
    CHECK_FALSE(valid_user_name("a:b"));
    CHECK_FALSE(valid_user_name("caf\xc3\xa9"));
}

TEST_CASE("UsersAuth answers the clear password") {
    UsersAuth auth(Users{{"alice", "secret"}});
    CHECK(auth.password("alice") == std::optional<std::string>("secret"));
    CHECK_FALSE(auth.password("bob"));
    CHECK(auth.check_password("alice", "secret"));
    CHECK_FALSE(auth.check_password("alice", "Secret"));
    CHECK_FALSE(auth.check_password("bob", "secret"));
}

TEST_CASE("random passwords: letters and digits, different each time") {
    std::string a = random_password(), b = random_password();
    CHECK(a.size() == 16);
    CHECK(a != b);
    CHECK(random_password(40).size() == 40);
    for (char c : a) {
        CHECK(((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '9')));
    }
}

TEST_CASE("grants file: databases, users, read-only and read-write") {
    auto g = grants_from(
        "# who may sync what\n"
        "alice/contacts: bob carol:ro   # bob read-write, carol read-only\n"
        "\n"
        "alice/calendar:bob:rw\r\n"
        "  bob/tasks :\talice:ro\n");
    REQUIRE(g.size() == 4);
    CHECK(g[0].owner == "alice");
    CHECK(g[0].category == smk::Category::contacts);
    CHECK(g[0].user == "bob");
    CHECK(g[0].access == smk::Access::read_write);
    CHECK(g[1].user == "carol");
    CHECK(g[1].access == smk::Access::read_only);
    CHECK(g[2].category == smk::Category::calendar);
    CHECK(g[2].user == "bob");
    CHECK(g[2].access == smk::Access::read_write);
    CHECK(g[3].owner == "bob");
    CHECK(g[3].category == smk::Category::tasks);
    CHECK(g[3].user == "alice");
    CHECK(g[3].access == smk::Access::read_only);
    CHECK(grants_from("").empty());
    CHECK(std::string(smk::category_name(smk::Category::calendar)) == "calendar");
    CHECK(grants_from("bob/notes: alice\n").at(0).category == smk::Category::notes);
}

TEST_CASE("grants file: every problem is reported with file and line") {
    Problems p = grants_problems(
        "alice/contacts bob\n"
        "alice: bob\n"
        "alice/journal: bob\n"
        "alice/contacts:\n"
        "alice/contacts: bob:rx\n"
        "alice/contacts: alice\n"
        "alice/contacts: bob\n"
        "alice/contacts: bob:ro\n"
        "../x/contacts: bob\n"
        "alice/tasks: b/c\n");
    REQUIRE(p.size() == 10);
    CHECK(p[0] == "grants.txt:1: expected owner/category: user user:ro ...");
    CHECK(p[1] == "grants.txt:2: expected owner/category before the colon, got \"alice\"");
    CHECK(p[2] == "grants.txt:3: unknown category \"journal\" (contacts, calendar, tasks or notes)");
    CHECK(p[3] == "grants.txt:4: no users after the colon");
    CHECK(p[4] == "grants.txt:5: \"bob:rx\": the access after the colon is ro or rw");
    CHECK(p[5] == "grants.txt:6: \"alice\" owns the database already");
    CHECK(p[6] == "grants.txt:8: \"bob\" has a grant for alice/contacts already (line 7)");
    CHECK(p[7] == "grants.txt:9: bad owner name \"..\"");
    CHECK(p[8] == "grants.txt:9: unknown category \"x/contacts\" (contacts, calendar, tasks or notes)");
    CHECK(p[9] == "grants.txt:10: bad user name \"b/c\"");
}

TEST_CASE("grants file: names are checked against the users") {
    std::set<std::string> known{"alice", "bob"};
    auto exists = [&](const std::string& u) { return known.count(u) > 0; };
    CHECK(grants_from("alice/contacts: bob\n", exists).size() == 1);
    CHECK(grants_problems("alice/contacts: bob dave:ro\nzoe/tasks: alice\n", exists) ==
          Problems{"grants.txt:1: unknown user \"dave\"", "grants.txt:2: unknown user \"zoe\""});
}

TEST_CASE("grants file: a missing file says so") {
    try {
        read_grants_file("/nonexistent/grants.txt");
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()).find("/nonexistent/grants.txt: cannot open: ") == 0);
    }
}
