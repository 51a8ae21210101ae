#include "pim/content_line.hpp"

#include <cctype>
#include <cstring>


namespace smk::pim {

std::vector<std::string_view> physical_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\r' && text[i] != '\n') continue;
        lines.push_back(text.substr(start, i - start));
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        start = i + 1;
    }
    if (start < text.size()) lines.push_back(text.substr(start));
    return lines;
}

namespace {

bool has_encoding(const ContentLine& cl, std::string_view encoding) {
    for (const RawParam& p : cl.params)
        if ((p.name.empty() || same(p.name, "ENCODING")) && iequals(p.value, encoding)) return true;
    return false;
}

// A line of base64 text (and white space) only: in vCard 2.1 a base64 value
// runs over such lines, unindented, up to a blank line.
bool base64_only(std::string_view line) {
    if (line.empty()) return false;
    for (char c : line)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=' || c == ' ' || c == '\t'))
            return false;
    return true;
}

// Whether `upper` (upper case) occurs in `s`, ignoring ASCII case.
bool contains_ignore_case(std::string_view s, std::string_view upper) {
    if (upper.size() > s.size()) return false;
    for (std::size_t i = 0; i + upper.size() <= s.size(); ++i)
        if (iequals(s.substr(i, upper.size()), upper)) return true;
    return false;
}

// A quoted-printable value that ends in '=' goes on after a soft break: the
// next line belongs to it even when indented (Android, ez-vcard), and the QP
// loop below, not folding, has to join it so that the indent before an
// "=XX" run is dropped and any other indent kept.
bool ends_in_qp_soft_break(std::string_view logical) {
    if (logical.empty() || logical.back() != '=') return false;
    std::size_t colon = logical.find(':');
    return colon != std::string_view::npos && contains_ignore_case(logical.substr(0, colon), "QUOTED-PRINTABLE");
}

// The first part of a line's head: "item1.TEL" -> group and upper-case name.
void set_name(std::string_view part, ContentLine& out) {
    while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
    if (std::size_t dot = part.find('.'); dot != std::string_view::npos) {
        out.group.assign(part.substr(0, dot));
        part.remove_prefix(dot + 1);
    }
    out.name.assign(part);
    upper_in_place(out.name);
}

// A later part: "TYPE=WORK" -> {"TYPE", "WORK"}, "WORK" -> {"", "WORK"}.
void add_param(std::string_view part, ContentLine& out) {
    if (part.empty()) return;
    RawParam& p = out.params.emplace_back();
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
        p.value.assign(part);
        return;
    }
    p.name.assign(part.substr(0, eq));
    upper_in_place(p.name);
    p.value.assign(part.substr(eq + 1));
}

// "NAME;P1=V1;P2:value" -> parts; ':' inside quoted parameter values is not
// the end. Quotes are dropped from the head; ';' inside them splits nothing.
bool split_line(std::string_view logical, ContentLine& out) {
    std::size_t colon = std::string_view::npos;
    bool quoted = false;
    for (std::size_t i = 0; i < logical.size(); ++i) {
        char c = logical[i];
        if (c == '"') quoted = !quoted;
        else if (c == ':' && !quoted) {
            colon = i;
            break;
        }
    }
    if (colon == std::string_view::npos) return false;
    std::string_view head = logical.substr(0, colon);
    out.value.assign(logical.substr(colon + 1));
    out.group.clear();
    out.params.clear();
    if (head.find('"') == std::string_view::npos) {
        // The common case: every part is a piece of the head as it stands.
        std::size_t semi = head.find(';');
        set_name(head.substr(0, semi), out);
        while (semi != std::string_view::npos) {
            std::size_t start = semi + 1;
            semi = head.find(';', start);
            add_param(head.substr(start, semi == std::string_view::npos ? semi : semi - start), out);
        }
        return !out.name.empty();
    }
    std::string current;
    bool first = true;
    quoted = false;
    for (char c : head) {
        if (c == '"') {
            quoted = !quoted;
            continue;
        }
        if (c == ';' && !quoted) {
            if (first) set_name(current, out);
            else add_param(current, out);
            first = false;
            current.clear();
        } else {
            current += c;
        }
    }
    if (first) set_name(current, out);
    else add_param(current, out);
    return !out.name.empty();
}

}  // namespace

std::string_view PhysicalLineCursor::peek() {
    if (peeked_at_ != pos_) {
        // A line ends at the first CR or LF. memchr finds each fast; the next
        // LF is remembered so that text of lone CRs is not searched again
        // to its end for every line.
        const char* d = text_.data();
        const std::size_t n = text_.size();
        if (lf_from_ == std::string_view::npos || lf_ < pos_) {
            const void* lf = std::memchr(d + pos_, '\n', n - pos_);
            lf_ = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - d) : n;
            lf_from_ = pos_;
        }
        std::size_t end = lf_;
        if (const void* cr = std::memchr(d + pos_, '\r', end - pos_))
            end = static_cast<std::size_t>(static_cast<const char*>(cr) - d);
        peeked_at_ = pos_;
        peeked_end_ = end;
        peeked_after_ = end == n ? n : d[end] == '\r' && end + 1 < n && d[end + 1] == '\n' ? end + 2 : end + 1;
    }
    return text_.substr(pos_, peeked_end_ - pos_);
}

ContentLineLexer::ContentLineLexer(std::string_view text, Dialect dialect, std::vector<Warning>* warnings)
    : lines_(text.substr(0, 3) == "\xEF\xBB\xBF" ? text.substr(3) : text),  // without a BOM
      dialect_(dialect),
      warnings_(warnings) {}

bool ContentLineLexer::next(ContentLine& cl) {
    while (!lines_.at_end()) {
        const int first_line = lines_.taken() + 1;
        std::string_view logical = lines_.take();
        if (logical.empty()) continue;
        // Folded continuations: new dialect drops the one whitespace, old keeps it.
        auto fold_continues = [&] {
            if (lines_.at_end()) return false;
            std::string_view next = lines_.peek();
            return !next.empty() && (next[0] == ' ' || next[0] == '\t') &&
                   !(dialect_ == Dialect::old_mime_dir && ends_in_qp_soft_break(logical));
        };
        bool joined = false;
        while (fold_continues()) {
            if (!joined) folded_.assign(logical), joined = true;
            std::string_view next = lines_.take();
            folded_.append(dialect_ == Dialect::new_mime_dir ? next.substr(1) : next);
            logical = folded_;
        }
        cl.line = first_line;
        if (!split_line(logical, cl)) {
            if (warnings_)
                warnings_->push_back(
                    {first_line, "no ':' in \"" + std::string(logical.substr(0, 40)) + "\": line skipped"});
            continue;
        }
        if (dialect_ == Dialect::old_mime_dir && has_encoding(cl, "BASE64")) {
            while (!lines_.at_end() && base64_only(lines_.peek())) cl.value.append(lines_.take());
            if (!lines_.at_end() && lines_.peek().empty()) lines_.take();  // the blank line that ends it
        }
        if (dialect_ == Dialect::old_mime_dir && has_encoding(cl, "QUOTED-PRINTABLE")) {
            // A soft break: the value goes on, on the next physical line.
            while (!cl.value.empty() && cl.value.back() == '=' && !lines_.at_end()) {
                cl.value.pop_back();
                std::string_view next = lines_.take();
                // An indented continuation that resumes a "=XX" run was folded
                // by a writer, not part of the value.
                if (next.size() >= 3 && (next[0] == ' ' || next[0] == '\t') && next[1] == '=') next.remove_prefix(1);
                cl.value.append(next);
            }
        }
        return true;
    }
    return false;
}

std::vector<ContentLine> lex_content_lines(std::string_view text, Dialect dialect, std::vector<Warning>* warnings) {
    std::vector<ContentLine> out;
    out.reserve(32);  // a card's or an event's lines, mostly
    ContentLineLexer lexer(text, dialect, warnings);
    ContentLine cl;
    while (lexer.next(cl)) out.push_back(std::move(cl));
    return out;
}

}  // namespace smk::pim
