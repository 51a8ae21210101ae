// The content-line layer shared by vCard and vCalendar/iCalendar: physical
// lines to logical ones, and each logical line to group, name, parameters
// and raw value. Two dialects: "old" (vCard 2.1, vCalendar 1.0: folding keeps
// the whitespace, quoted-printable values continue after a soft break '=')
// and "new" (vCard 3.0/4.0, iCalendar: CRLF + one space or tab is removed).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "syncmlkit/vcard.hpp"

namespace smk::pim {

enum class Dialect { old_mime_dir, new_mime_dir };

struct RawParam {
    std::string name;   ///< upper case; empty for a nameless 2.1 parameter
    std::string value;  ///< as written, quotes removed
};

struct ContentLine {
    std::string group;  ///< "item1" of "item1.TEL"
    std::string name;   ///< upper case
    std::vector<RawParam> params;
    std::string value;  ///< raw: no unescaping or decoding yet
    int line = 0;       ///< physical line it starts on
};

/// The physical lines of `text`: CRLF, a bare LF and a lone CR all end one.
std::vector<std::string_view> physical_lines(std::string_view text);

/// Splits `text` into content lines. A quoted-printable value's soft breaks
/// are joined (old dialect); lines without a ':' are reported and skipped.
std::vector<ContentLine> lex_content_lines(std::string_view text, Dialect dialect, std::vector<Warning>* warnings);

}  // namespace smk::pim
