// The SyncML message codec: bytes on the wire (XML or WBXML) to and from the
// message model of message.hpp. It performs no I/O and keeps no state, so any
// number of threads may use it at once.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "syncmlkit/export.hpp"
#include "syncmlkit/message.hpp"

namespace smk::wire {

enum class Encoding { xml, wbxml };

/// "application/vnd.syncml+xml" or "application/vnd.syncml+wbxml".
SMK_API const char* content_type(Encoding enc);

/// The encoding a Content-Type header names (parameters such as
/// "; charset=UTF-8" and letter case are ignored); nullopt for anything else.
SMK_API std::optional<Encoding> encoding_from_content_type(std::string_view content_type);

/// Guesses the encoding from the first bytes: WBXML starts with a version byte
/// 0x00..0x03, XML with '<', a byte-order mark or white space.
SMK_API std::optional<Encoding> sniff_encoding(std::string_view bytes);

/// Bounds on what a decoder accepts, so that hostile input costs little.
struct DecodeLimits {
    std::size_t max_bytes = 10u * 1024 * 1024;  ///< larger input is refused unread
    unsigned max_depth = 64;  ///< element nesting; real messages stay below 20
};

/// A message that cannot be decoded. what() says what is wrong and where.
class SMK_API DecodeError : public std::runtime_error {
public:
    DecodeError(const std::string& what, std::size_t offset)
        : std::runtime_error(what), offset_(offset) {}
    /// Byte offset into the input where the problem was found.
    std::size_t offset() const { return offset_; }

private:
    std::size_t offset_;
};

/// A message that cannot be encoded (an unknown version, say).
class SMK_API EncodeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Decodes one SyncML message (1.0, 1.1 or 1.2). Throws DecodeError.
SMK_API Message decode(std::string_view bytes, Encoding enc, const DecodeLimits& limits = {});

/// Encodes one message in the version its header names. `out` is replaced,
/// and its capacity reused. Throws EncodeError.
///
/// XML: item data is written as CDATA; data containing "]]>" is written
/// escaped with &amp; &lt; &gt; only. Line ends are written as they are.
/// WBXML: version 1.2 header, numeric public id, UTF-8, no string table; item
/// data as OPAQUE, byte for byte (no LF to CRLF rewriting); a DevInf as a
/// nested WBXML document inside OPAQUE Data.
SMK_API void encode(const Message& msg, Encoding enc, std::string& out);
SMK_API std::string encode(const Message& msg, Encoding enc);

/// Renders a message of either encoding as indented XML text, element for
/// element as it was sent (unknown elements included), with a nested WBXML
/// DevInf decoded in place. For logs and the syncmlkit-dump tool. Throws
/// DecodeError when the input is not a well-formed message.
SMK_API std::string render_xml(std::string_view bytes, Encoding enc, const DecodeLimits& limits = {});

}  // namespace smk::wire
