// The one line syncmlkit-httpd prints for every request:
//
//   2026-11-25T10:15:02.123Z 127.0.0.1 POST /sync "application/vnd.syncml+xml" 812/deflate 200 1400/deflate 12ms
//
// time, peer, method, path and query, content type, request bytes on the
// wire (/coding when compressed), HTTP status, reply bytes on the wire
// (/coding), milliseconds. What the client controls is escaped, so a line
// is always one line. A session token in the query (`s=`, the engine's
// RespURI) shows only its first 8 characters: the log is no way into a
// session.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace smk::httpd {

struct AccessRecord {
    std::chrono::system_clock::time_point when;
    std::string peer;
    std::string method;
    std::string target;
    std::string content_type;
    std::optional<std::size_t> request_bytes;  ///< nullopt when the body was not read
    std::string request_coding;                ///< "deflate", "gzip", or empty
    int status = 0;
    std::size_t reply_bytes = 0;
    std::string reply_coding;
    std::optional<double> milliseconds;  ///< nullopt when not measured
};

std::string format_access_line(const AccessRecord& r);

/// `target` with the value of every `s=` query parameter longer than 8
/// characters cut to its first 8 and "...": "/sync?s=1a2b3c4d...".
std::string redact_session_token(std::string_view target);

/// `s` with bytes outside printable ASCII, spaces (unless `keep_spaces`),
/// " and \ written as \xNN; longer than `max` bytes it is cut and ends in
/// "...".
std::string escape_for_log(std::string_view s, std::size_t max = 200, bool keep_spaces = false);

}  // namespace smk::httpd
