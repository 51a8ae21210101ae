// Small text helpers the codecs share.
#pragma once

#include <cstddef>
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

/// True when `s` is valid UTF-8 (shortest forms, no encoded surrogates,
/// nothing above U+10FFFF) holding only characters XML 1.0 allows: TAB, LF,
/// CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF.
bool is_xml_text(std::string_view s);

/// Makes `s` valid UTF-8 holding only characters XML 1.0 allows (see
/// is_xml_text); returns the number of repairs, 0 when `s` was left as it
/// was. Valid text is never changed. The rule, read from the first byte on:
/// - a valid UTF-8 sequence is kept, unless its character is one XML
///   forbids (NUL and the other C0 controls but TAB, LF and CR; U+FFFE,
///   U+FFFF), which becomes U+FFFD;
/// - a sequence with the whole shape of UTF-8 (a lead byte C0-C1, E0-EF or
///   F0-F4 followed by all the continuation bytes it announces) that is still
///   not valid is broken UTF-8: an overlong form, a code point above
///   U+10FFFF or a lone encoded surrogate becomes one U+FFFD; an encoded high
///   surrogate followed by an encoded low one (CESU-8, Java's "modified
///   UTF-8") becomes the character the pair stands for;
/// - any other byte (a continuation byte on its own, a lead byte without
///   the continuation bytes it needs, F5-FF) is a character of
///   Windows-1252, what old clients send for Latin-1 text ("M\xFCller"); its
///   five undefined bytes (81 8D 8F 90 9D) become U+FFFD.
/// Each kept-but-changed unit (one byte read as Windows-1252, one U+FFFD,
/// one surrogate pair) counts as one repair.
std::size_t repair_utf8(std::string& s);
/// `s` as repair_utf8 leaves it.
std::string repaired_utf8(std::string_view s);

std::string base64_encode(std::string_view bytes);
/// Decodes base64, skipping white space; nullopt on any other stray byte.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace smk::wire
