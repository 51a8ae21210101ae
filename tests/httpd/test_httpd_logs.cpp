// The access-log line and the message log (--log-dir): escaping, file
// names from client-controlled strings, one group of files a session.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "access_log.hpp"
#include "message_log.hpp"
#include "timestamp.hpp"

using namespace smk::httpd;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& relative) {
    std::ifstream in(std::string(SMK_FIXTURES_DIR) + "/" + relative, std::ios::binary);
    REQUIRE(in);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// 2026-11-25T10:15:02.123Z
std::chrono::system_clock::time_point sample_time() {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(1795601702123LL));
}

// A fresh directory under the build tree, removed afterwards.
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& name) : path(fs::current_path() / ("httpd-test-" + name)) {
        fs::remove_all(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

const char* const xml_fixture = "captures/syncevolution/first-message/contacts-two-way-xml-md5.xml";
const char* const wbxml_fixture = "captures/syncevolution/first-message/contacts-two-way-wbxml-md5.wbxml";

smk::Request request_of(const std::string& body, const std::string& type, const std::string& peer = "127.0.0.1") {
    smk::Request r;
    r.body = body;
    r.content_type = type;
    r.url = "/sync";
    r.peer = peer;
    return r;
}

smk::Response text_response(const std::string& text, bool ended = false) {
    smk::Response r;
    r.http_status = 503;
    r.content_type = "text/plain";
    r.body = text;
    r.session_ended = ended;
    return r;
}

}  // namespace

TEST_CASE("time stamps") {
    CHECK(iso_utc(sample_time()) == "2026-11-25T10:15:02.123Z");
    CHECK(compact_utc(sample_time()) == "20261125T101502.123Z");
    CHECK(compact_utc(std::chrono::system_clock::time_point{}) == "19700101T000000.000Z");
}

TEST_CASE("access line: every field, one line") {
    AccessRecord r;
    r.when = sample_time();
    r.peer = "127.0.0.1";
    r.method = "POST";
    r.target = "/sync?x=1";
    r.content_type = "application/vnd.syncml+xml; charset=UTF-8";
    r.request_bytes = 812;
    r.request_coding = "deflate";
    r.status = 200;
    r.reply_bytes = 1400;
    r.reply_coding = "deflate";
    r.milliseconds = 12.4;
    CHECK(format_access_line(r) ==
          "2026-11-25T10:15:02.123Z 127.0.0.1 POST /sync?x=1 \"application/vnd.syncml+xml; charset=UTF-8\" "
          "812/deflate 200 1400/deflate 12ms");

    AccessRecord bare;
    bare.when = sample_time();
    bare.status = 400;
    CHECK(format_access_line(bare) == "2026-11-25T10:15:02.123Z - - - \"\" - 400 0 -");

    bare.milliseconds = 0.25;
    CHECK(format_access_line(bare).substr(format_access_line(bare).size() - 5) == "0.2ms");
}

TEST_CASE("access line: what the client controls is escaped") {
    CHECK(escape_for_log("/a b\r\n\"x\"\\") == "/a\\x20b\\x0D\\x0A\\x22x\\x22\\x5C");
    CHECK(escape_for_log("type; a=b", 100, true) == "type; a=b");
    CHECK(escape_for_log("caf\xc3\xa9") == "caf\\xC3\\xA9");
    CHECK(escape_for_log(std::string(300, 'a')) == std::string(200, 'a') + "...");
    AccessRecord r;
    r.when = sample_time();
    r.target = "/x\nFAKE LINE";
    r.content_type = "a\"b";
    std::string line = format_access_line(r);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find("/x\\x0AFAKE\\x20LINE \"a\\x22b\"") != std::string::npos);
}

TEST_CASE("access line: a session token shows only its first 8 characters") {
    const std::string token = "1a2b3c4d5e6f708192a3b4c5d6e7f809";
    CHECK(redact_session_token("/sync?s=" + token) == "/sync?s=1a2b3c4d...");
    CHECK(redact_session_token("/sync?a=1&s=" + token + "&b=2") == "/sync?a=1&s=1a2b3c4d...&b=2");
    CHECK(redact_session_token("/sync?s=" + token + "&s=" + token) == "/sync?s=1a2b3c4d...&s=1a2b3c4d...");
    CHECK(redact_session_token("/sync?s=short") == "/sync?s=short");
    CHECK(redact_session_token("/sync?ss=" + token) == "/sync?ss=" + token);  // another parameter
    CHECK(redact_session_token("/sync/s=" + token) == "/sync/s=" + token);    // not in the query
    CHECK(redact_session_token("/sync") == "/sync");
    CHECK(redact_session_token("/sync?") == "/sync?");
    CHECK(redact_session_token("/sync?&") == "/sync?&");

    AccessRecord r;
    r.when = sample_time();
    r.target = "/sync?s=" + token;
    r.status = 200;
    std::string line = format_access_line(r);
    CHECK(line.find(" /sync?s=1a2b3c4d... ") != std::string::npos);
    CHECK(line.find(token) == std::string::npos);
    CHECK(line.find(token.substr(8)) == std::string::npos);
}

TEST_CASE("file name parts from client strings") {
    CHECK(file_name_part("syncevo-ci-client") == "syncevo-ci-client");
    CHECK(file_name_part("IMEI:123456789012345") == "IMEI_123456789012345");
    CHECK(file_name_part("127.0.0.1") == "127.0.0.1");
    CHECK(file_name_part("::1") == "__1");
    CHECK(file_name_part("") == "unknown");
    CHECK(file_name_part(".") == "_");
    CHECK(file_name_part("..") == "_.");
    CHECK(file_name_part("../../etc/passwd") == "_._.._etc_passwd");
    CHECK(file_name_part("a/b\\c") == "a_b_c");
    CHECK(file_name_part(std::string("a\0b", 3)) == "a_b");
    CHECK(file_name_part("caf\xc3\xa9") == "caf__");
    CHECK(file_name_part(std::string(100, 'x')).size() == 48);
    CHECK(file_name_part("abcdef", 3) == "abc");
    for (std::string hostile : {"/", "//", "..", "../", "./.", "\\..\\", "a/../../b", "~root", "$(rm -rf)"}) {
        std::string part = file_name_part(hostile);
        INFO(hostile << " -> " << part);
        CHECK(part.find('/') == std::string::npos);
        CHECK(part != ".");
        CHECK(part != "..");
        CHECK(part[0] != '.');
    }
}

TEST_CASE("message file stems sort by session start, then message") {
    CHECK(message_file_stem(sample_time(), "127.0.0.1", "syncevo-ci-client", 1) ==
          "20261125T101502.123Z-127.0.0.1-syncevo-ci-client-0001");
    CHECK(message_file_stem(sample_time(), "::1", "../x", 12) == "20261125T101502.123Z-__1-_._x-0012");
    CHECK(message_file_stem(sample_time(), "", "", 2) == "20261125T101502.123Z-unknown-unknown-0002");
}

TEST_CASE("message log: XML and WBXML requests are kept as XML, a text reply as text") {
    TempDir tmp("msglog-basic");
    MessageLog log(tmp.path.string(), std::chrono::seconds(600), nullptr);
    REQUIRE(fs::is_directory(tmp.path));

    std::string xml = fixture(xml_fixture);
    auto t1 = log.record_request(request_of(xml, "application/vnd.syncml+xml"));
    log.record_reply(t1, text_response("engine busy"));
    auto t2 = log.record_request(request_of(xml, "application/vnd.syncml+xml"));
    log.record_reply(t2, text_response("engine busy"));

    std::string stem = t1.stem;
    CHECK(stem.size() > 20);
    CHECK(stem.find("-127.0.0.1-syncevo-ci-client-0001") != std::string::npos);
    CHECK(t2.stem == stem.substr(0, stem.size() - 4) + "0002");  // same session: same group
    CHECK(names_in(tmp.path) == std::vector<std::string>{stem + "-in.xml", stem + "-out.txt", t2.stem + "-in.xml",
                                                         t2.stem + "-out.txt"});
    std::string in = slurp(tmp.path / (stem + "-in.xml"));
    CHECK(in.find("<SyncML") != std::string::npos);
    CHECK(in.find("<LocURI>syncevo-ci-client</LocURI>") != std::string::npos);
    CHECK(slurp(tmp.path / (stem + "-out.txt")) == "engine busy");

    std::string wbxml = fixture(wbxml_fixture);
    auto t3 = log.record_request(request_of(wbxml, "application/vnd.syncml+wbxml", "10.0.0.7"));
    smk::Response wb;
    wb.body = wbxml;  // a WBXML reply renders as XML too
    wb.content_type = "application/vnd.syncml+wbxml";
    log.record_reply(t3, wb);
    CHECK(t3.stem.find("-10.0.0.7-syncevo-ci-client-0001") != std::string::npos);
    CHECK(slurp(tmp.path / (t3.stem + "-in.xml")).find("<DevID>syncevo-ci-client</DevID>") != std::string::npos);
    CHECK(slurp(tmp.path / (t3.stem + "-out.xml")).find("<SyncML") != std::string::npos);
}

TEST_CASE("message log: a reply that ends the session starts a new group") {
    TempDir tmp("msglog-ended");
    MessageLog log(tmp.path.string(), std::chrono::seconds(600), nullptr);
    std::string xml = fixture(xml_fixture);
    auto t1 = log.record_request(request_of(xml, "application/vnd.syncml+xml"));
    log.record_reply(t1, text_response("bye", true));
    auto t2 = log.record_request(request_of(xml, "application/vnd.syncml+xml"));
    log.record_reply(t2, text_response("bye", true));
    CHECK(t1.stem.substr(t1.stem.size() - 4) == "0001");
    CHECK(t2.stem.substr(t2.stem.size() - 4) == "0001");
    CHECK(t1.stem < t2.stem);  // distinct, and in order, even within one millisecond
    CHECK(names_in(tmp.path).size() == 4);
}

TEST_CASE("message log: undecodable bodies are kept as they came") {
    TempDir tmp("msglog-raw");
    MessageLog log(tmp.path.string(), std::chrono::seconds(600), nullptr);
    auto t = log.record_request(request_of(std::string("\x01\x02garbage", 9), "application/octet-stream", "::1"));
    log.record_reply(t, text_response("bad request"));
    CHECK(t.stem.find("-__1-unknown-0001") != std::string::npos);
    CHECK(names_in(tmp.path) == std::vector<std::string>{t.stem + "-in.bin", t.stem + "-out.txt"});
    CHECK(slurp(tmp.path / (t.stem + "-in.bin")) == std::string("\x01\x02garbage", 9));
}

TEST_CASE("message log: a hostile device id stays a file name in the log directory") {
    TempDir tmp("msglog-hostile");
    fs::path dir = tmp.path / "logs";
    MessageLog log(dir.string(), std::chrono::seconds(600), nullptr);
    std::string xml = fixture(xml_fixture);
    const std::string device = "<LocURI>syncevo-ci-client</LocURI>";
    auto at = xml.find(device);
    REQUIRE(at != std::string::npos);
    for (std::string hostile : {"../../escaped", "/tmp/absolute", "..", "a/../../b\\c"}) {
        std::string evil = xml;
        evil.replace(at, device.size(), "<LocURI>" + hostile + "</LocURI>");
        auto t = log.record_request(request_of(evil, "application/vnd.syncml+xml", "../peer"));
        log.record_reply(t, text_response("no"));
        CHECK(t.stem.find('/') == std::string::npos);
    }
    // Everything landed in the log directory itself, nothing beside or above it.
    std::vector<std::string> all;
    for (const auto& e : fs::recursive_directory_iterator(tmp.path)) all.push_back(e.path().string());
    CHECK(all.size() == 1 + 8);  // the directory and two files a message
    for (const auto& name : names_in(dir)) {
        INFO(name);
        CHECK(fs::is_regular_file(dir / name));
        CHECK(name.find("-_._peer-") != std::string::npos);
    }
}

TEST_CASE("message log: a directory that cannot be made is an error at start") {
    TempDir tmp("msglog-blocked");
    fs::create_directories(tmp.path);
    std::ofstream(tmp.path / "file") << "x";
    CHECK_THROWS_AS(MessageLog((tmp.path / "file" / "logs").string(), std::chrono::seconds(1), nullptr),
                    std::runtime_error);
}

TEST_CASE("message log: a failed write warns once and goes on") {
    TempDir tmp("msglog-warn");
    std::vector<std::string> warnings;
    MessageLog log(tmp.path.string(), std::chrono::seconds(600),
                   [&](const std::string& w) { warnings.push_back(w); });
    fs::remove_all(tmp.path);  // the directory is gone: writes fail
    std::string xml = fixture(xml_fixture);
    for (int i = 0; i < 3; ++i) {
        auto t = log.record_request(request_of(xml, "application/vnd.syncml+xml"));
        log.record_reply(t, text_response("x"));
    }
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("cannot write the message log") != std::string::npos);
}
