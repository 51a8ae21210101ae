// The host's GET pages without the HTTP server: the public page, the Basic
// credentials of /devices, and what the devices page shows (a fake backend).
#include <catch2/catch.hpp>

#include "status_pages.hpp"

using namespace smk::httpd;

namespace {

std::string header(const HttpReply& r, const std::string& name) {
    for (const auto& [n, v] : r.headers)
        if (n == name) return v;
    return {};
}

struct Fake {
    int logins = 0;
    smk::LoginCheck answer{true, 0};
    DevicesBackend backend() {
        DevicesBackend b;
        b.check_login = [this](const std::string& user, const std::string& password, const std::string&) {
            ++logins;
            smk::LoginCheck r = answer;
            if (user != "alice" || password != "pw:with:colons") r.ok = false;
            return r;
        };
        b.devices = [](const std::string& user) {
            std::vector<smk::KnownDevice> out;
            if (user == "alice") {
                out.push_back({"phone\r\nX-Injected: 1", "Ma\xC3\xA7on", "", 86400});
                out.push_back({"laptop", "", "Mod", 0});
            }
            return out;
        };
        b.databases = [](const std::string&) {
            return std::vector<smk::Category>{smk::Category::contacts, smk::Category::notes};
        };
        b.states = [](const std::string&, smk::Category c) {
            std::vector<smk::ClientSyncState> out;
            if (c == smk::Category::contacts) {
                out.push_back({"laptop", true, 1700000000, 3});
                out.push_back({"someone-elses-device", true, 1700000000, 9});
            }
            if (c == smk::Category::notes) out.push_back({"laptop", false, std::nullopt, 1});
            return out;
        };
        return b;
    }
};

std::string basic(const std::string& credentials) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < credentials.size(); i += 3) {
        unsigned v = (unsigned char)credentials[i] << 16 | (unsigned char)credentials[i + 1] << 8 |
                     (unsigned char)credentials[i + 2];
        for (int k = 18; k >= 0; k -= 6) out += table[(v >> k) & 63];
    }
    if (i + 1 == credentials.size()) {
        unsigned v = (unsigned char)credentials[i] << 16;
        out += std::string{table[(v >> 18) & 63], table[(v >> 12) & 63]} + "==";
    } else if (i + 2 == credentials.size()) {
        unsigned v = (unsigned char)credentials[i] << 16 | (unsigned char)credentials[i + 1] << 8;
        out += std::string{table[(v >> 18) & 63], table[(v >> 12) & 63], table[(v >> 6) & 63]} + "=";
    }
    return "Basic " + out;
}

}  // namespace

TEST_CASE("the public page lists every database and its names, and the devices page") {
    std::string page = front_page("1.2.3", "https://sync.example.com/");
    CHECK(page.find("syncmlkit-httpd 1.2.3") == 0);
    CHECK(page.find("\n  https://sync.example.com/\n") != std::string::npos);
    for (const char* name : {"contacts", "calendar", "tasks", "notes", "card", "scard", "event", "sevent", "scal",
                             "cal", "task", "stask", "note", "snote", "OWNER/notes", "Global Address Book/contacts"})
        CHECK(page.find(name) != std::string::npos);
    CHECK(page.find("https://sync.example.com/devices\n") != std::string::npos);
}

TEST_CASE("Basic credentials are parsed strictly") {
    std::string user, password;
    CHECK(parse_basic_authorization(basic("alice:pw:with:colons"), user, password));
    CHECK(user == "alice");
    CHECK(password == "pw:with:colons");
    CHECK(parse_basic_authorization("bAsIc   " + basic("a:b").substr(6) + "  ", user, password));
    CHECK(user == "a");
    CHECK(password == "b");
    CHECK(parse_basic_authorization(basic("x:"), user, password));
    CHECK(password.empty());
    for (const std::string& bad : {std::string(), std::string("Basic"), std::string("Basic "),
                                   std::string("Bearer YTpi"), std::string("Basic YWJj"),  // "abc": no colon
                                   std::string("Basic YTpi!"), std::string("Basic Y"), std::string("Basic YTpi=x"),
                                   std::string("BasicYTpi")})
        CHECK_FALSE(parse_basic_authorization(bad, user, password));
}

TEST_CASE("the devices page: 401 without or with wrong credentials, 429 while throttled") {
    Fake fake;
    for (const std::string& auth : {std::string(), std::string("Basic !!"), basic("alice:wrong"), basic("bob:x")}) {
        HttpReply r = devices_page(fake.backend(), auth, "192.0.2.1");
        CHECK(r.status == 401);
        CHECK(header(r, "WWW-Authenticate") == "Basic realm=\"SyncMLKit\"");
        CHECK(r.body.find("laptop") == std::string::npos);
    }
    CHECK(fake.logins == 2);  // a header that is no Basic login is no guess
    fake.answer = smk::LoginCheck{false, 17};
    HttpReply r = devices_page(fake.backend(), basic("alice:pw:with:colons"), "192.0.2.1");
    CHECK(r.status == 429);
    CHECK(header(r, "Retry-After") == "17");
    CHECK(r.body.find("laptop") == std::string::npos);
}

TEST_CASE("the devices page shows the user's devices only, escaped") {
    Fake fake;
    HttpReply r = devices_page(fake.backend(), basic("alice:pw:with:colons"), "192.0.2.1");
    REQUIRE(r.status == 200);
    CHECK(header(r, "Cache-Control") == "no-store");
    const std::string& page = r.body;
    CHECK(page.find("the devices of alice\n") != std::string::npos);
    CHECK(page.find("\nphone\\x0D\\x0AX-Injected: 1\n  make: Ma\\xC3\\xA7on, model: unknown, last login: "
                    "1970-01-02 00:00:00 UTC\n  contacts: never synced\n  notes: never synced\n") !=
          std::string::npos);
    CHECK(page.find("\nlaptop\n  make: unknown, model: Mod, last login: 1970-01-01 00:00:00 UTC\n"
                    "  contacts: last sync 2023-11-14 22:13:20 UTC (3 items)\n"
                    "  notes: no completed sync (1 item)\n") != std::string::npos);
    CHECK(page.find("\r") == std::string::npos);
    CHECK(page.find("someone-elses-device") == std::string::npos);
}
