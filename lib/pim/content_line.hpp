// The content-line layer shared by vCard and vCalendar/iCalendar: physical
// lines to logical ones, and each logical line to group, name, parameters
// and raw value. Two dialects: "old" (vCard 2.1, vCalendar 1.0: folding keeps
// the whitespace, quoted-printable values continue after a soft break '=')
// and "new" (vCard 3.0/4.0, iCalendar: CRLF + one space or tab is removed).
#pragma once

#include <cstring>
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

/// physical_lines() one at a time, without the vector. Views into `text`,
/// which must outlive it.
class PhysicalLineCursor {
public:
    explicit PhysicalLineCursor(std::string_view text) : text_(text) {}
    bool at_end() const { return pos_ >= text_.size(); }
    /// The next line (not at_end()).
    std::string_view peek();
    /// The next line, consumed.
    std::string_view take() {
        std::string_view line = peek();
        pos_ = peeked_after_;
        ++taken_;
        return line;
    }
    int taken() const { return taken_; }  ///< lines taken so far

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    int taken_ = 0;
    std::size_t lf_ = 0;  ///< the first LF at or after `lf_from_`, or the size
    std::size_t lf_from_ = std::string_view::npos;
    std::size_t peeked_at_ = std::string_view::npos;  ///< where the line peek() found starts
    std::size_t peeked_end_ = 0, peeked_after_ = 0;   ///< its end, and where the one after starts
};

/// lex_content_lines one line at a time, for a reader that stops early
/// (the VERSION of a card is on its second line). Views into `text`, which
/// must outlive the lexer; a folded line is joined in a buffer it reuses.
class ContentLineLexer {
public:
    ContentLineLexer(std::string_view text, Dialect dialect, std::vector<Warning>* warnings);
    /// The next content line into `out` (overwritten); false at the end.
    bool next(ContentLine& out);

private:
    PhysicalLineCursor lines_;
    Dialect dialect_;
    std::vector<Warning>* warnings_;
    std::string folded_;  ///< a logical line of more than one physical line
};

/// ASCII case-insensitive equality, as wire::equals_ignore_case, inline for
/// the per-line paths.
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

/// Exact equality, inline: a property or parameter name against a literal,
/// many times a line (the size decides most comparisons).
inline bool same(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

/// ASCII upper case in place (wire::to_upper without the copy).
inline void upper_in_place(std::string& s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
}

}  // namespace smk::pim
