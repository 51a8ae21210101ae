#include "exchange.hpp"

#include <exception>

namespace smk::httpd {

namespace {

// host, host:port, [v6]:port; nothing that could change the URL's shape.
bool plain_host(const std::string& host) {
    if (host.empty() || host.size() > 255) return false;
    for (char c : host) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::string request_url(const std::string& scheme, const std::string& host, const std::string& target) {
    if (!plain_host(host) || target.empty() || target[0] != '/') return target;
    return scheme + "://" + host + target;
}

HttpReply text_reply(int status, std::string text) {
    HttpReply r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(text);
    if (r.body.empty() || r.body.back() != '\n') r.body += '\n';
    return r;
}

HttpReply make_reply(smk::Response response, const std::string& accept_encoding,
                     const std::vector<Coding>& request_codings) {
    HttpReply r;
    r.status = response.http_status;
    r.content_type = std::move(response.content_type);
    r.body = std::move(response.body);
    if (response.retry_after > 0) r.headers.emplace_back("Retry-After", std::to_string(response.retry_after));
    if (r.body.empty()) return r;
    r.coding = choose_reply_coding(accept_encoding, request_codings);
    if (r.coding) {
        std::size_t plain_size = r.body.size();
        r.body = compress_body(r.body, *r.coding);
        r.headers.emplace_back("Content-Encoding", coding_name(*r.coding));
        if (*r.coding == Coding::deflate) {
            r.headers.emplace_back("Uncompressed-Content-Length", std::to_string(plain_size));
        }
    }
    return r;
}

HttpReply serve_post(HttpRequest request, const ProcessFn& process, std::size_t max_inflated) {
    std::vector<Coding> codings;
    std::string body;
    try {
        codings = parse_content_encoding(request.content_encoding);
        body = decode_body(std::move(request.body), codings, max_inflated);
    } catch (const CodingError& e) {
        return text_reply(e.http_status(), e.what());
    }

    smk::Request in;
    in.body = std::move(body);  // up to max_inflated bytes: not copied
    in.content_type = request.content_type;
    in.url = request_url(request.scheme, request.host, request.target);
    in.peer = request.peer;
    smk::Response out;
    try {
        out = process(in);
    } catch (const std::exception&) {
        // What went wrong is for the server's log (the caller's process
        // function writes it), not for the client.
        return text_reply(500, "internal server error");
    }
    return make_reply(std::move(out), request.accept_encoding, codings);
}

}  // namespace smk::httpd
