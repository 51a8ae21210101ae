// HTTP content codings of request and reply bodies: gzip and deflate, with
// zlib. Inflating is bounded, so a small "zip bomb" costs a bounded amount of
// memory and time.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace smk::httpd {

enum class Coding { deflate, gzip };

/// "deflate" or "gzip".
const char* coding_name(Coding c);

/// A body that cannot be decoded; http_status says how to answer: 415 for a
/// coding this host does not know, 400 for corrupt data, 413 for data that
/// inflates beyond the bound.
class CodingError : public std::runtime_error {
public:
    CodingError(int http_status, const std::string& what) : std::runtime_error(what), http_status_(http_status) {}
    int http_status() const { return http_status_; }

private:
    int http_status_;
};

/// The codings a Content-Encoding header lists, in the order they were
/// applied. Case is ignored, "identity" dropped, "x-gzip" read as gzip.
/// Throws CodingError(415) for any other coding.
std::vector<Coding> parse_content_encoding(std::string_view header);

/// Inflates one layer. deflate means a zlib stream (RFC 1950); a raw deflate
/// stream (RFC 1951), as some clients send, is accepted too. gzip may hold
/// several members. Throws CodingError: 400 when corrupt, truncated or
/// followed by other data, 413 when the result would exceed `max_size`.
std::string inflate_body(std::string_view data, Coding c, std::size_t max_size);

/// Undoes every coding of `codings` (the last applied first), each layer
/// bounded by `max_size`.
std::string decode_body(std::string data, const std::vector<Coding>& codings, std::size_t max_size);

/// Compresses with zlib's default level: a zlib stream for deflate, a gzip
/// member for gzip.
std::string compress_body(std::string_view data, Coding c);

/// Whether an Accept-Encoding header allows the coding: listed (or covered
/// by *) with a q-value above zero. "x-gzip" counts as gzip.
bool accepts(std::string_view accept_encoding, Coding c);

/// The coding of a reply: none unless the request's Accept-Encoding allows
/// one; then the coding the request's own body used, else deflate, else gzip.
std::optional<Coding> choose_reply_coding(std::string_view accept_encoding, const std::vector<Coding>& request_codings);

}  // namespace smk::httpd
