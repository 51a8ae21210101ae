#include "pim/content_line.hpp"

#include <cctype>

#include "wire/text.hpp"

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
        if ((p.name.empty() || p.name == "ENCODING") && wire::to_upper(p.value) == encoding) return true;
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

// A quoted-printable value that ends in '=' goes on after a soft break: the
// next line belongs to it even when indented (Android, ez-vcard), and the QP
// loop below, not folding, has to join it so that the indent before an
// "=XX" run is dropped and any other indent kept.
bool ends_in_qp_soft_break(const std::string& logical) {
    if (logical.empty() || logical.back() != '=') return false;
    std::size_t colon = logical.find(':');
    return colon != std::string::npos &&
           wire::to_upper(logical.substr(0, colon)).find("QUOTED-PRINTABLE") != std::string::npos;
}

// "NAME;P1=V1;P2:value" -> parts; ':' inside quoted parameter values is not the end.
bool split_line(const std::string& logical, ContentLine& out) {
    std::size_t colon = std::string::npos;
    bool quoted = false;
    for (std::size_t i = 0; i < logical.size(); ++i) {
        char c = logical[i];
        if (c == '"') quoted = !quoted;
        else if (c == ':' && !quoted) {
            colon = i;
            break;
        }
    }
    if (colon == std::string::npos) return false;
    std::string head = logical.substr(0, colon);
    out.value = logical.substr(colon + 1);
    std::vector<std::string> parts;
    std::string current;
    quoted = false;
    for (char c : head) {
        if (c == '"') {
            quoted = !quoted;
            continue;
        }
        if (c == ';' && !quoted) {
            parts.push_back(current);
            current.clear();
        } else {
            current += c;
        }
    }
    parts.push_back(current);
    std::string name = parts.front();
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (std::size_t dot = name.find('.'); dot != std::string::npos) {
        out.group = name.substr(0, dot);
        name = name.substr(dot + 1);
    }
    out.name = wire::to_upper(name);
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p.empty()) continue;
        std::size_t eq = p.find('=');
        if (eq == std::string::npos) out.params.push_back({"", p});
        else out.params.push_back({wire::to_upper(p.substr(0, eq)), p.substr(eq + 1)});
    }
    return !out.name.empty();
}

}  // namespace

std::vector<ContentLine> lex_content_lines(std::string_view text, Dialect dialect, std::vector<Warning>* warnings) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a BOM
    std::vector<std::string_view> lines = physical_lines(text);
    std::vector<ContentLine> out;
    std::size_t i = 0;
    while (i < lines.size()) {
        int first_line = static_cast<int>(i) + 1;
        std::string logical(lines[i++]);
        if (logical.empty()) continue;
        // Folded continuations: new dialect drops the one whitespace, old keeps it.
        auto fold_continues = [&] {
            return i < lines.size() && !lines[i].empty() && (lines[i][0] == ' ' || lines[i][0] == '\t') &&
                   !(dialect == Dialect::old_mime_dir && ends_in_qp_soft_break(logical));
        };
        while (fold_continues()) {
            logical.append(dialect == Dialect::new_mime_dir ? lines[i].substr(1) : lines[i]);
            ++i;
        }
        ContentLine cl;
        cl.line = first_line;
        if (!split_line(logical, cl)) {
            if (warnings) warnings->push_back({first_line, "no ':' in \"" + logical.substr(0, 40) + "\": line skipped"});
            continue;
        }
        if (dialect == Dialect::old_mime_dir && has_encoding(cl, "BASE64")) {
            while (i < lines.size() && base64_only(lines[i])) cl.value.append(lines[i++]);
            if (i < lines.size() && lines[i].empty()) ++i;  // the blank line that ends it
        }
        if (dialect == Dialect::old_mime_dir && has_encoding(cl, "QUOTED-PRINTABLE")) {
            // A soft break: the value goes on, on the next physical line.
            while (!cl.value.empty() && cl.value.back() == '=' && i < lines.size()) {
                cl.value.pop_back();
                std::string_view next = lines[i++];
                // An indented continuation that resumes a "=XX" run was folded
                // by a writer, not part of the value.
                if (next.size() >= 3 && (next[0] == ' ' || next[0] == '\t') && next[1] == '=') next.remove_prefix(1);
                cl.value.append(next);
            }
        }
        out.push_back(std::move(cl));
    }
    return out;
}

}  // namespace smk::pim
