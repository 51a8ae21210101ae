// One POST translated to the library's Request and back, with a fake engine.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <stdexcept>

#include "exchange.hpp"

using namespace smk::httpd;

namespace {

// What the fake engine saw, and what it answers.
struct FakeEngine {
    int calls = 0;
    std::string body, content_type, url, peer;
    smk::Response answer;

    ProcessFn fn() {
        return [this](const smk::Request& r) {
            ++calls;
            body = std::string(r.body);
            content_type = r.content_type;
            url = r.url;
            peer = r.peer;
            return answer;
        };
    }
};

std::string syncml_reply() {
    std::string s = "<SyncML><SyncHdr/><SyncBody>";
    for (int i = 0; i < 200; ++i) s += "<Status><CmdID>" + std::to_string(i) + "</CmdID><Data>200</Data></Status>";
    return s + "<Final/></SyncBody></SyncML>";
}

HttpRequest post(std::string body) {
    HttpRequest r;
    r.scheme = "http";
    r.host = "127.0.0.1:7887";
    r.target = "/sync?user=1";
    r.content_type = "application/vnd.syncml+xml";
    r.peer = "127.0.0.1";
    r.body = std::move(body);
    return r;
}

std::string header(const HttpReply& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
        if (n == name) return v;
    }
    return "(none)";
}

constexpr std::size_t mib = 1024 * 1024;

}  // namespace

TEST_CASE("request URL: scheme, Host and target") {
    CHECK(request_url("http", "127.0.0.1:7887", "/sync") == "http://127.0.0.1:7887/sync");
    CHECK(request_url("https", "sync.example.com", "/a/b?c=d&e") == "https://sync.example.com/a/b?c=d&e");
    CHECK(request_url("http", "[::1]:7887", "/") == "http://[::1]:7887/");
    // A Host header that is no plain host keeps the target alone.
    CHECK(request_url("http", "", "/sync") == "/sync");
    CHECK(request_url("http", "evil.com/x", "/sync") == "/sync");
    CHECK(request_url("http", "a b", "/sync") == "/sync");
    CHECK(request_url("http", "user@host", "/sync") == "/sync");
    CHECK(request_url("http", "host\r\nX: y", "/sync") == "/sync");
    CHECK(request_url("http", "host", "*") == "*");
}

TEST_CASE("a plain POST reaches the engine as sent and comes back as answered") {
    FakeEngine engine;
    engine.answer.body = syncml_reply();
    engine.answer.content_type = "application/vnd.syncml+xml";
    HttpReply reply = serve_post(post("<SyncML/>"), engine.fn(), 64 * mib);
    CHECK(engine.calls == 1);
    CHECK(engine.body == "<SyncML/>");
    CHECK(engine.content_type == "application/vnd.syncml+xml");
    CHECK(engine.url == "http://127.0.0.1:7887/sync?user=1");
    CHECK(engine.peer == "127.0.0.1");
    CHECK(reply.status == 200);
    CHECK(reply.content_type == "application/vnd.syncml+xml");
    CHECK(reply.body == syncml_reply());
    CHECK(reply.headers.empty());
    CHECK_FALSE(reply.coding);
}

TEST_CASE("a deflated POST is inflated; the reply deflated when allowed") {
    FakeEngine engine;
    engine.answer.body = syncml_reply();
    engine.answer.content_type = "application/vnd.syncml+wbxml";
    std::string plain = "<SyncML>" + std::string(5000, 'x') + "</SyncML>";
    HttpRequest request = post(std::string());
    request.body.resize(compressBound(plain.size()));
    uLongf size = request.body.size();
    REQUIRE(compress(reinterpret_cast<Bytef*>(request.body.data()), &size,
                     reinterpret_cast<const Bytef*>(plain.data()), plain.size()) == Z_OK);
    request.body.resize(size);
    request.content_encoding = "deflate";
    request.accept_encoding = "gzip, deflate";

    HttpReply reply = serve_post(request, engine.fn(), 64 * mib);
    CHECK(engine.body == plain);
    CHECK(reply.status == 200);
    CHECK(reply.content_type == "application/vnd.syncml+wbxml");
    REQUIRE(reply.coding == Coding::deflate);
    CHECK(header(reply, "Content-Encoding") == "deflate");
    CHECK(header(reply, "Uncompressed-Content-Length") == std::to_string(syncml_reply().size()));
    CHECK(inflate_body(reply.body, Coding::deflate, mib) == syncml_reply());
}

TEST_CASE("a gzip reply carries no Uncompressed-Content-Length") {
    FakeEngine engine;
    engine.answer.body = syncml_reply();
    engine.answer.content_type = "application/vnd.syncml+xml";
    HttpRequest request = post("<SyncML/>");
    request.accept_encoding = "gzip";
    HttpReply reply = serve_post(request, engine.fn(), mib);
    REQUIRE(reply.coding == Coding::gzip);
    CHECK(header(reply, "Content-Encoding") == "gzip");
    CHECK(header(reply, "Uncompressed-Content-Length") == "(none)");
    CHECK(inflate_body(reply.body, Coding::gzip, mib) == syncml_reply());
}

TEST_CASE("make_reply: status and type pass through; empty bodies stay uncompressed") {
    smk::Response r;
    r.http_status = 503;
    r.content_type = "text/plain";
    r.body = "busy\n";
    HttpReply reply = make_reply(r, "", {});
    CHECK(reply.status == 503);
    CHECK(reply.content_type == "text/plain");
    CHECK(reply.body == "busy\n");

    smk::Response empty;
    empty.content_type = "application/vnd.syncml+xml";
    HttpReply none = make_reply(empty, "deflate", {});
    CHECK(none.body.empty());
    CHECK(none.headers.empty());
    CHECK_FALSE(none.coding);
}

TEST_CASE("make_reply: retry_after becomes a Retry-After header") {
    smk::Response r;
    r.content_type = "application/vnd.syncml+xml";
    r.body = syncml_reply();
    HttpReply plain = make_reply(r, "deflate", {});
    for (const auto& h : plain.headers) CHECK(h.first != "Retry-After");

    r.retry_after = 37;
    HttpReply throttled = make_reply(r, "deflate", {});
    int found = 0;
    for (const auto& h : throttled.headers) {
        if (h.first == "Retry-After") {
            ++found;
            CHECK(h.second == "37");
        }
    }
    CHECK(found == 1);
    CHECK(throttled.coding);  // the body is compressed as ever

    smk::Response busy;
    busy.http_status = 503;
    busy.retry_after = 5;
    HttpReply empty = make_reply(busy, "", {});
    REQUIRE(empty.headers.size() == 1);
    CHECK(empty.headers[0] == std::make_pair(std::string("Retry-After"), std::string("5")));
}

TEST_CASE("bodies that cannot be decoded never reach the engine") {
    FakeEngine engine;
    HttpRequest unknown = post("<SyncML/>");
    unknown.content_encoding = "br";
    HttpReply r415 = serve_post(unknown, engine.fn(), mib);
    CHECK(r415.status == 415);
    CHECK(r415.content_type.find("text/plain") == 0);
    CHECK(r415.body.find("unsupported Content-Encoding \"br\"") == 0);

    HttpRequest corrupt = post("not deflate");
    corrupt.content_encoding = "deflate";
    CHECK(serve_post(corrupt, engine.fn(), mib).status == 400);

    HttpRequest big = post(compress_body(std::string(2 * mib, 'a'), Coding::gzip));
    big.content_encoding = "gzip";
    HttpReply r413 = serve_post(big, engine.fn(), mib);
    CHECK(r413.status == 413);
    CHECK(engine.calls == 0);
}

TEST_CASE("an exception in the engine is a 500 that tells the client nothing") {
    ProcessFn failing = [](const smk::Request&) -> smk::Response {
        throw std::runtime_error("disk /var/secret full");
    };
    HttpReply reply = serve_post(post("<SyncML/>"), failing, mib);
    CHECK(reply.status == 500);
    CHECK(reply.body == "internal server error\n");
}

TEST_CASE("text replies end with a line break") {
    CHECK(text_reply(404, "gone").body == "gone\n");
    CHECK(text_reply(404, "gone\n").body == "gone\n");
    CHECK(text_reply(200, "").body == "\n");
    CHECK(text_reply(200, "x").content_type == "text/plain; charset=utf-8");
}
