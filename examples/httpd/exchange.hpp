// One HTTP exchange translated to and from the library's Request and
// Response, with the content codings of both bodies. Knows nothing of the
// HTTP server (libmicrohttpd) the host runs on, so it is tested on its own.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "content_coding.hpp"
#include "syncmlkit/server.hpp"

namespace smk::httpd {

/// What the HTTP layer received with a POST.
struct HttpRequest {
    std::string scheme;  ///< "http" or "https"
    std::string host;    ///< the Host header; may be empty
    std::string target;  ///< path and query as the request line had them
    std::string content_type;
    std::string content_encoding;  ///< every Content-Encoding value, comma-joined
    std::string accept_encoding;   ///< every Accept-Encoding value, comma-joined
    std::string peer;              ///< the client's IP address, no port
    std::string body;              ///< as received, still encoded
};

/// What the host sends back. Content-Length is the body's size, always.
struct HttpReply {
    int status = 200;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  ///< Content-Encoding and the like
    std::optional<Coding> coding;                               ///< how the body was compressed
};

/// The library, as the exchange sees it: Server::process, or a test's fake.
using ProcessFn = std::function<smk::Response(const smk::Request&)>;

/// "scheme://host/target" when the Host header is a plain host[:port],
/// else the target alone (the engine reads the session's URL from the
/// SyncML header; this URL is for its logs and RespURI base).
std::string request_url(const std::string& scheme, const std::string& host, const std::string& target);

/// A short text/plain reply.
HttpReply text_reply(int status, std::string text);

/// The reply for the library's answer, compressed when `accept_encoding`
/// allows (see choose_reply_coding); a deflated body carries
/// Uncompressed-Content-Length, which the Funambol Windows client reads.
/// Response::retry_after, when set, becomes a Retry-After header.
HttpReply make_reply(smk::Response response, const std::string& accept_encoding,
                     const std::vector<Coding>& request_codings);

/// Serves one POST: decodes the body (415 for an unknown coding, 400 when
/// corrupt, 413 above `max_inflated` bytes), hands it to `process`, and
/// builds the reply. An exception from `process` becomes a 500 that
/// says no more (`process` should log it).
HttpReply serve_post(HttpRequest request, const ProcessFn& process, std::size_t max_inflated);

}  // namespace smk::httpd
