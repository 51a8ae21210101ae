// The C ABI: statuses, ownership, error messages.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "syncmlkit.h"

TEST_CASE("smk_version names the library version") {
    CHECK(std::string(smk_version()) == SMK_TEST_VERSION);
}

TEST_CASE("smk_render_xml renders WBXML and XML") {
    std::string wbxml = smk::test::read_fixture("captures/syncevolution/first-message/contacts-two-way-wbxml-md5.wbxml");
    char* out = nullptr;
    size_t len = 0;
    char* error = nullptr;
    REQUIRE(smk_render_xml(wbxml.data(), wbxml.size(), "application/vnd.syncml+wbxml", &out, &len, &error) == SMK_OK);
    REQUIRE(out);
    CHECK(error == nullptr);
    CHECK(std::strlen(out) == len);
    CHECK(std::string(out).find("<DevID>syncevo-ci-client</DevID>") != std::string::npos);
    smk_free(out);

    // No content type: the encoding is told from the first bytes.
    REQUIRE(smk_render_xml(wbxml.data(), wbxml.size(), nullptr, &out, nullptr, nullptr) == SMK_OK);
    smk_free(out);
}

TEST_CASE("smk_render_xml reports errors with a message") {
    char* out = nullptr;
    char* error = nullptr;
    const char bad[] = "<SyncML><SyncHdr>";
    CHECK(smk_render_xml(bad, sizeof bad - 1, "application/vnd.syncml+xml", &out, nullptr, &error) == SMK_ERR_DECODE);
    CHECK(out == nullptr);
    REQUIRE(error);
    CHECK(std::string(error).find("XML:") == 0);
    smk_free(error);

    CHECK(smk_render_xml(bad, sizeof bad - 1, "text/html", &out, nullptr, &error) == SMK_ERR_ARGUMENT);
    REQUIRE(error);
    CHECK(std::string(error) == "not a SyncML content type: text/html");
    smk_free(error);

    CHECK(smk_render_xml("x", 1, nullptr, &out, nullptr, &error) == SMK_ERR_ARGUMENT);
    smk_free(error);
    CHECK(smk_render_xml(bad, sizeof bad - 1, nullptr, nullptr, nullptr, nullptr) == SMK_ERR_ARGUMENT);
    smk_free(nullptr);
}

namespace {

int test_password(void* user_data, const char* username, char* buf, size_t size) {
    ++*static_cast<int*>(user_data);
    if (std::string(username) != "alice") return -1;
    const char* pw = "secret";
    if (std::strlen(pw) < size) std::strcpy(buf, pw);
    return static_cast<int>(std::strlen(pw));
}

void test_log(void* user_data, int, const char*) { ++*static_cast<int*>(user_data); }

}  // namespace

TEST_CASE("the server through the C ABI answers a Funambol first message") {
    auto dir = std::filesystem::temp_directory_path() / ("smk-capi-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    int calls = 0;
    smk_server_config config{};
    config.size = sizeof config;
    std::string data_dir = dir.string();
    config.data_dir = data_dir.c_str();
    config.password = test_password;
    config.log = test_log;
    config.user_data = &calls;
    smk_server* server = nullptr;
    char* error = nullptr;
    REQUIRE(smk_server_new(&config, &server, &error) == SMK_OK);
    REQUIRE(server);

    std::string msg = smk::test::read_fixture("captures/funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml");
    smk_response r{};
    REQUIRE(smk_server_process(server, msg.data(), msg.size(), "application/vnd.syncml+xml", "/sync", "127.0.0.1", &r) ==
            SMK_OK);
    CHECK(r.http_status == 200);
    CHECK(std::string(r.content_type) == "application/vnd.syncml+xml");
    std::string body(r.body, r.body_len);
    CHECK(body.find("<Data>212</Data>") != std::string::npos);
    CHECK(body.find("<Data>508</Data>") != std::string::npos);  // Funambol's first sync: 200 with Last 0
    CHECK(r.session_ended == 0);
    CHECK(calls >= 1);
    smk_response_free(&r);
    CHECK(r.body == nullptr);

    CHECK(smk_server_grant(server, "bob", "contacts", "alice", 1) == SMK_OK);
    CHECK(smk_server_grant(server, "bob", "notes", "alice", 1) == SMK_OK);
    CHECK(smk_server_grant(server, "bob", "journal", "alice", 1) == SMK_ERR_ARGUMENT);
    size_t count = 0;
    CHECK(smk_server_import_gab(server, "/nonexistent/gab.vcf", &count, &error) == SMK_ERR_ARGUMENT);
    REQUIRE(error);
    smk_free(error);

    // A garbled body: HTTP 400 with a text, still no crash across the ABI.
    REQUIRE(smk_server_process(server, "<SyncML>", 8, "application/vnd.syncml+xml", "/sync", nullptr, &r) == SMK_OK);
    CHECK(r.http_status == 400);
    smk_response_free(&r);
    smk_server_free(server);

    // A config without a password callback is refused with a message.
    config.password = nullptr;
    CHECK(smk_server_new(&config, &server, &error) == SMK_ERR_ARGUMENT);
    REQUIRE(error);
    CHECK(std::string(error).find("password") != std::string::npos);
    smk_free(error);
    std::filesystem::remove_all(dir);
}

TEST_CASE("smk_pim_convert: a vCard 2.1 as vCard 3.0 and as the model, with warnings and errors") {
    const std::string card =
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg;;;\r\n"
        "broken\r\nEND:VCARD\r\n";
    char* out = nullptr;
    size_t out_len = 0;
    char* warnings = nullptr;
    REQUIRE(smk_pim_convert(card.data(), card.size(), nullptr, "vcard30", nullptr, &out, &out_len, &warnings) == SMK_OK);
    std::string text(out, out_len);
    CHECK(text.find("N:M\xC3\xBCller;J\xC3\xB6rg;;;\r\n") != std::string::npos);
    REQUIRE(warnings != nullptr);
    CHECK(std::string(warnings).find("line 4:") != std::string::npos);
    smk_free(out);
    smk_free(warnings);

    REQUIRE(smk_pim_convert(card.data(), card.size(), "vcard21", "json", "generic", &out, nullptr, nullptr) == SMK_OK);
    CHECK(std::string(out).find("\"family\":\"M\xC3\xBCller\"") != std::string::npos);
    smk_free(out);

    CHECK(smk_pim_convert(card.data(), card.size(), "vcard21", "nonsense", nullptr, &out, nullptr, nullptr) ==
          SMK_ERR_ARGUMENT);
    CHECK(smk_pim_convert(card.data(), card.size(), "vcard21", "vcard30", "no-such", &out, nullptr, nullptr) ==
          SMK_ERR_ARGUMENT);
    const std::string bad = "<contact><broken";
    CHECK(smk_pim_convert(bad.data(), bad.size(), "sifc", "vcard30", nullptr, &out, nullptr, &warnings) ==
          SMK_ERR_DECODE);
    smk_free(warnings);
    CHECK(smk_pim_convert(nullptr, 3, "sifc", "vcard30", nullptr, &out, nullptr, nullptr) == SMK_ERR_ARGUMENT);
}

TEST_CASE("the C ABI's limits reach the server, and an older, smaller config still works") {
    auto dir = std::filesystem::temp_directory_path() / ("smk-capi-limits-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::string data_dir = dir.string();
    std::string msg = smk::test::read_fixture("captures/funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml");

    int calls = 0;
    smk_server_config config{};
    config.size = sizeof config;
    config.data_dir = data_dir.c_str();
    config.password = test_password;
    config.user_data = &calls;
    config.max_commands_per_message = 1;  // the Funambol message has more
    smk_server* server = nullptr;
    REQUIRE(smk_server_new(&config, &server, nullptr) == SMK_OK);
    smk_response r{};
    REQUIRE(smk_server_process(server, msg.data(), msg.size(), "application/vnd.syncml+xml", "/sync", "127.0.0.1", &r) ==
            SMK_OK);
    CHECK(std::string(r.body, r.body_len).find("<Data>413</Data>") != std::string::npos);
    smk_response_free(&r);
    smk_server_free(server);

    // A caller compiled before the limits existed: its size ends at user_data.
    config.size = offsetof(smk_server_config, user_data) + sizeof(void*);
    REQUIRE(smk_server_new(&config, &server, nullptr) == SMK_OK);
    REQUIRE(smk_server_process(server, msg.data(), msg.size(), "application/vnd.syncml+xml", "/sync", "127.0.0.1", &r) ==
            SMK_OK);
    CHECK(std::string(r.body, r.body_len).find("<Data>212</Data>") != std::string::npos);
    smk_response_free(&r);
    smk_server_free(server);
    std::filesystem::remove_all(dir);
}

namespace {

struct PolicyCalls {
    int password_calls = 0;
    std::vector<std::string> asked;  // "owner/category"
};

int policy_password(void* user_data, const char* username, char* buf, size_t size) {
    return test_password(&static_cast<PolicyCalls*>(user_data)->password_calls, username, buf, size);
}

int policy_for(void* user_data, const char* owner, const char* category) {
    static_cast<PolicyCalls*>(user_data)->asked.push_back(std::string(owner) + "/" + category);
    return SMK_CONFLICT_SERVER_WINS;
}

}  // namespace

TEST_CASE("the C ABI's conflict policy callback is asked per database a session opens") {
    auto dir = std::filesystem::temp_directory_path() / ("smk-capi-policy-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::string data_dir = dir.string();
    PolicyCalls calls;
    smk_server_config config{};
    config.size = sizeof config;
    config.data_dir = data_dir.c_str();
    config.password = policy_password;
    config.user_data = &calls;
    config.conflict_policy_for = policy_for;
    config.mass_delete_min_items = -1;
    config.mass_delete_max_percent = 10;
    smk_server* server = nullptr;
    REQUIRE(smk_server_new(&config, &server, nullptr) == SMK_OK);
    std::string msg = smk::test::read_fixture("captures/funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml");
    smk_response r{};
    REQUIRE(smk_server_process(server, msg.data(), msg.size(), "application/vnd.syncml+xml", "/sync", "127.0.0.1", &r) ==
            SMK_OK);
    CHECK(std::string(r.body, r.body_len).find("<Data>212</Data>") != std::string::npos);
    smk_response_free(&r);
    CHECK(calls.asked == std::vector<std::string>{"alice/contacts"});
    smk_server_free(server);
    std::filesystem::remove_all(dir);
}
