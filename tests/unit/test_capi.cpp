// The C ABI: statuses, ownership, error messages.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

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
