#include "http_frontend.hpp"

#include <httplib.h>

#include <chrono>
#include <optional>

#include "access_log.hpp"
#include "syncmlkit/version.hpp"

namespace smk::httpd {

namespace {

// What one request's handlers tell the access log. httplib reads, routes,
// answers and logs a request on one thread, so a thread_local carries it
// from the pre-routing handler through the handler to the logger.
struct Notes {
    bool active = false;  ///< set by the pre-routing handler for this request
    std::chrono::steady_clock::time_point start;
    std::string content_encoding;
    std::string accept_encoding;
    std::optional<std::size_t> request_bytes;
    std::string request_coding;
    std::string reply_coding;
};
thread_local Notes notes;

// Removes every `name` header and returns their values, comma-joined.
std::string take_header(httplib::Headers& headers, const char* name) {
    std::string joined;
    auto range = headers.equal_range(name);
    for (auto it = range.first; it != range.second; ++it) {
        if (!joined.empty()) joined += ", ";
        joined += it->second;
    }
    headers.erase(range.first, range.second);
    return joined;
}

// The request's codings as the access log shows them: "deflate", "gzip+deflate".
std::string coding_label(const std::string& content_encoding) {
    try {
        std::string label;
        for (Coding c : parse_content_encoding(content_encoding)) {
            if (!label.empty()) label += '+';
            label += coding_name(c);
        }
        return label;
    } catch (const CodingError&) {
        return escape_for_log(content_encoding, 40);  // answered with 415
    }
}

void set_reply(httplib::Response& res, HttpReply reply) {
    res.status = reply.status;
    res.body = std::move(reply.body);
    res.set_header("Content-Type", reply.content_type.empty() ? "application/octet-stream" : reply.content_type);
    for (const auto& [name, value] : reply.headers) res.set_header(name, value);
    if (reply.coding) notes.reply_coding = coding_name(*reply.coding);
}

void method_not_allowed(httplib::Response& res) {
    set_reply(res, text_reply(405, "this is a SyncML server: POST SyncML messages, or GET this page"));
    res.set_header("Allow", "GET, HEAD, POST");
}

// Reads the body, at most `max` bytes; sets `too_large` when it was more.
bool read_body(const httplib::Request& req, const httplib::ContentReader& reader, std::size_t max, std::string& body,
               bool& too_large) {
    too_large = false;
    bool ok = reader([&](const char* data, std::size_t n) {
        if (n > max - body.size()) {  // a chunked body growing past the bound
            too_large = true;
            return false;
        }
        body.append(data, n);
        return true;
    });
    // A Content-Length above the bound (payload_max_length): httplib skips
    // the body unstored and fails the read.
    if (!ok && req.get_header_value<uint64_t>("Content-Length") > max) too_large = true;
    return ok;
}

}  // namespace

void install_frontend(httplib::Server& http, const ProcessFn& process, Console& console,
                      const FrontendSettings& settings) {
    const std::size_t max_body = settings.max_body_bytes;
    http.set_payload_max_length(max_body);

    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
        notes = Notes{};
        notes.active = true;
        notes.start = std::chrono::steady_clock::now();
        // httplib 0.11 would inflate request bodies itself (no raw deflate,
        // and no bound on the inflated size), gzip some replies on its own,
        // and cut replies to a Range. This host does its own content codings
        // (content_coding.cpp), so it takes those headers away before httplib
        // reads the body. `req` is the non-const Request object that
        // httplib's process_request() owns and passes on as const, so the
        // const_cast is well defined.
        auto& request = const_cast<httplib::Request&>(req);
        notes.content_encoding = take_header(request.headers, "Content-Encoding");
        notes.accept_encoding = take_header(request.headers, "Accept-Encoding");
        request.headers.erase("Range");
        request.ranges.clear();

        static const char* const served[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
        for (const char* m : served) {
            if (req.method == m) return httplib::Server::HandlerResponse::Unhandled;
        }
        method_not_allowed(res);  // OPTIONS, TRACE, CONNECT, PRI: bodiless or not for us
        return httplib::Server::HandlerResponse::Handled;
    });

    http.Post(".*", [&process, settings, max_body](const httplib::Request& req, httplib::Response& res,
                                                    const httplib::ContentReader& reader) {
        std::string body;
        bool too_large = false;
        if (!read_body(req, reader, max_body, body, too_large)) {
            set_reply(res, too_large ? text_reply(413, "request body larger than " + std::to_string(max_body) +
                                                           " bytes")
                                     : text_reply(400, "could not read the request body"));
            return;
        }
        notes.request_bytes = body.size();
        HttpRequest request;
        request.scheme = settings.scheme;
        request.host = req.get_header_value("Host");
        request.target = req.target;
        request.content_type = req.get_header_value("Content-Type");
        request.content_encoding = notes.content_encoding;
        request.accept_encoding = notes.accept_encoding;
        request.peer = req.remote_addr;
        request.body = std::move(body);
        notes.request_coding = coding_label(notes.content_encoding);
        set_reply(res, serve_post(std::move(request), process, max_body));
    });

    // Other methods with a body: read it (bounded) so the connection stays
    // usable, then refuse.
    auto refuse = [max_body](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
        std::string body;
        bool too_large = false;
        read_body(req, reader, max_body, body, too_large);
        notes.request_bytes = body.size();
        method_not_allowed(res);
    };
    http.Put(".*", refuse);
    http.Patch(".*", refuse);
    http.Delete(".*", refuse);

    http.Get(".*", [settings](const httplib::Request& req, httplib::Response& res) {
        std::string url = request_url(settings.scheme, req.get_header_value("Host"), "/");
        if (url == "/") url = settings.listening_url;
        set_reply(res, text_reply(200, std::string("syncmlkit-httpd ") + smk::version() +
                                           ": this is a SyncML server (OMA DS 1.1 and 1.2).\n"
                                           "Point a SyncML client at " + url +
                                           " (any path) with your user name and password;\n"
                                           "databases: contacts, calendar, tasks.\n"));
        res.set_header("Accept-Ranges", "none");  // Range headers are dropped above
    });

    http.set_exception_handler([&console](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        console.err("error: " + escape_for_log(req.target) + ": " + what);
        set_reply(res, text_reply(500, "internal server error"));
    });

    http.set_logger([&console](const httplib::Request& req, const httplib::Response& res) {
        AccessRecord r;
        r.when = std::chrono::system_clock::now();
        r.peer = req.remote_addr;
        r.method = req.method;
        r.target = req.target;
        r.content_type = req.get_header_value("Content-Type");
        r.status = res.status;
        r.reply_bytes = req.method == "HEAD" ? 0 : res.body.size();
        if (notes.active) {
            r.request_bytes = notes.request_bytes;
            r.request_coding = notes.request_coding;
            r.reply_coding = notes.reply_coding;
            r.milliseconds =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - notes.start).count();
        }
        notes = Notes{};
        console.out(format_access_line(r));
    });
}

}  // namespace smk::httpd
