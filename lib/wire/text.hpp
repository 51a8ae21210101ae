// Small text helpers the codecs share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smk::wire {

bool equals_ignore_case(std::string_view a, std::string_view b);
/// ASCII letters in upper case, the rest as it is.
std::string to_upper(std::string_view s);
/// Leading and trailing ASCII white space removed.
std::string_view trim(std::string_view s);
/// "0x1F"
std::string hex_byte(std::uint8_t b);
/// One code point as UTF-8; invalid code points become U+FFFD.
std::string utf8_encode(std::uint32_t code_point);
void append_latin1_as_utf8(std::string& out, std::string_view latin1);
/// True when `s` is valid UTF-8 without control characters other than
/// tab, CR and LF.
bool is_printable_text(std::string_view s);
std::string base64_encode(std::string_view bytes);
/// Decodes base64, skipping white space; nullopt on any other stray byte.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace smk::wire
