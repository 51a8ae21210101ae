// Values of MIME-DIR content lines (vCard, vCalendar, iCalendar, vNote):
// transfer encodings (quoted-printable, base64), charsets (through ICU),
// escaping per dialect, and writing a property back as folded lines. Shared
// by every reader and writer of the PIM layer so that each format's module
// only says which property means what.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pim/content_line.hpp"
#include "syncmlkit/pim.hpp"

namespace smk::pim::codec {

/// A content line's value with its ENCODING and CHARSET undone: UTF-8 text
/// (escapes still in place), or raw bytes when it was base64.
struct DecodedValue {
    std::string text;
    bool binary = false;
};

/// Undoes ENCODING (QUOTED-PRINTABLE, BASE64, B, also as nameless 2.1
/// parameters) and CHARSET. Broken base64 is kept as text with a warning;
/// an unknown charset is read as Windows-1252 with a warning.
DecodedValue decode_value(const ContentLine& line, std::vector<Warning>* warnings);

/// decode_value() without copying a value that needs no decoding (no
/// transfer encoding, UTF-8 and valid): `text` views the line's value then,
/// else `storage`. The same text, flag and warnings as decode_value().
struct DecodedView {
    std::string_view text;
    bool binary = false;
    std::string storage;
};
void decode_value(const ContentLine& line, std::vector<Warning>* warnings, DecodedView& out);

/// Nokia's N9 ends a quoted-printable line with "==0A=0D=": a stray '=' and
/// a line break written LF CR. The line with that read as one line break,
/// with a warning; other lines unchanged.
ContentLine without_nokia_junk(const ContentLine& line, std::vector<Warning>* warnings);
/// Whether without_nokia_junk() would change `line` (most lines: no, and
/// then no copy is needed).
bool has_nokia_junk(const ContentLine& line);

/// Bytes in `charset` (any name ICU knows; ISO-8859-1 is read as its
/// superset Windows-1252) to UTF-8. Invalid UTF-8 input is read as
/// Windows-1252 with a warning.
std::string to_utf8(std::string_view bytes, std::string_view charset, int line, std::vector<Warning>* warnings);

/// UTF-8 to `charset`; nullopt when a character has no mapping there.
std::optional<std::string> from_utf8(std::string_view text, std::string_view charset);

std::string decode_quoted_printable(std::string_view in);
/// Quoted-printable with soft breaks keeping lines within 76 characters;
/// `column` is where the value starts on its first line. A line break in
/// the text is written =0D=0A.
std::string encode_quoted_printable(std::string_view bytes, std::size_t column);

/// Splits on an unescaped `separator` ('\0': do not split) and undoes the
/// dialect's escapes: new: \\ \; \, \n \N (an unknown \x keeps its
/// backslash, with a warning when `warnings` is given); old: \\ and \;
/// only, the rest is text.
std::vector<std::string> split_unescape(std::string_view value, char separator, Dialect dialect,
                                        int line = 0, std::vector<Warning>* warnings = nullptr);
std::string unescape(std::string_view value, Dialect dialect);
/// split_unescape(value, '\0', ...).front() without the vector.
std::string unescape(std::string_view value, Dialect dialect, int line, std::vector<Warning>* warnings);

/// Escapes text for a value: new dialect \\ \, \n always and \; when
/// `compound` (the value has ';'-separated components); old dialect \\ and
/// (when compound) \; — a line break stays a line break, for QP to carry.
std::string escape(std::string_view text, Dialect dialect, bool compound);
/// escape() appended to `out`; `keep_commas`: ',' stays a separator (a
/// list of values escaped one by one and joined with ',').
void escape_append(std::string& out, std::string_view text, Dialect dialect, bool compound, bool keep_commas = false);

/// An ExtraProperty's value (3.0 escaped form) in the old dialect's form.
std::string escaped_new_to_old(std::string_view value);
/// An old-dialect raw value (after decoding) in the 3.0 escaped form.
std::string escaped_old_to_new(std::string_view value);

/// A parameter value, quoted when it holds ':' ';' ',' or a space.
std::string quote_param(std::string_view value);

/// How write_property() writes a line.
struct LineStyle {
    Dialect dialect = Dialect::new_mime_dir;
    std::string charset = "UTF-8";         ///< old dialect: the charset of non-ASCII text
    bool blank_line_after_base64 = false;  ///< old dialect (Outlook)
};

/// Appends one property: "group.NAME;P=V;...:value" + CRLF. `value` is
/// already escaped for the dialect. New dialect: folded at 75 octets, never
/// inside a UTF-8 sequence. Old dialect: text with line breaks or non-ASCII
/// characters goes out as QUOTED-PRINTABLE with CHARSET; `params` are
/// written as given (a Param with an empty name writes its values bare, as
/// 2.1 types).
void write_property(std::string& out, std::string_view group, std::string_view name, const std::vector<Param>& params,
                    std::string_view value, const LineStyle& style);
/// The same for bytes: ENCODING=b (new) or ENCODING=BASE64 (old).
void write_binary_property(std::string& out, std::string_view group, std::string_view name,
                           const std::vector<Param>& params, std::string_view bytes, const LineStyle& style);

/// An ExtraProperty written in the dialect (its escapes translated).
void write_extra(std::string& out, const ExtraProperty& p, const LineStyle& style);
/// A content line kept as an ExtraProperty (decoded, escapes in 3.0 form).
ExtraProperty to_extra(const ContentLine& line, Dialect dialect, std::vector<Warning>* warnings);
/// The same with the line's value already decoded (decode_value).
ExtraProperty to_extra(const ContentLine& line, Dialect dialect, std::string_view decoded, bool binary);

}  // namespace smk::pim::codec
