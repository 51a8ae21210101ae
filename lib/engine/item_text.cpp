#include "engine/item_text.hpp"

#include <optional>
#include <utility>

#include "pim/text_codec.hpp"
#include "wire/text.hpp"

namespace smk::engine {
namespace {

using wire::equals_ignore_case;

bool utf8_label(std::string_view charset) {
    return equals_ignore_case(charset, "UTF-8") || equals_ignore_case(charset, "UTF8") ||
           equals_ignore_case(charset, "US-ASCII") || equals_ignore_case(charset, "ASCII");
}

std::size_t count_8bit(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += static_cast<unsigned char>(c) >= 0x80;
    return n;
}

bool starts_with_ignore_case(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && equals_ignore_case(s.substr(0, prefix.size()), prefix);
}

// The data without a leading byte-order mark and white space.
std::string_view content_start(std::string_view s) {
    if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
    return wire::trim(s);
}

// Where a content line's value starts: after the first ':' outside double
// quotes (a quoted parameter value may hold one); npos when there is none.
std::size_t value_colon(std::string_view line) {
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '"') quoted = !quoted;
        else if (line[i] == ':' && !quoted) return i;
        else if (line[i] == '\n') break;
    }
    return std::string_view::npos;
}

struct LineParams {
    std::optional<std::pair<std::size_t, std::size_t>> charset;  // offset and length of its value
    bool transfer_encoded = false;                               // quoted-printable or base64
};

LineParams read_params(std::string_view params) {
    LineParams out;
    std::size_t begin = params.find(';');
    while (begin != std::string_view::npos) {
        ++begin;
        std::size_t end = begin;
        bool quoted = false;
        while (end < params.size() && (quoted || params[end] != ';')) {
            if (params[end] == '"') quoted = !quoted;
            ++end;
        }
        std::string_view param = params.substr(begin, end - begin);
        std::size_t eq = param.find('=');
        std::string_view name = eq == std::string_view::npos ? std::string_view() : wire::trim(param.substr(0, eq));
        std::string_view value = eq == std::string_view::npos ? param : param.substr(eq + 1);
        if (equals_ignore_case(name, "CHARSET")) {
            out.charset = std::pair{begin + eq + 1, value.size()};
        } else if (name.empty() || equals_ignore_case(name, "ENCODING")) {
            std::string_view v = wire::trim(value);
            out.transfer_encoded |= equals_ignore_case(v, "QUOTED-PRINTABLE") || equals_ignore_case(v, "BASE64") ||
                                    equals_ignore_case(v, "B");
        }
        begin = end < params.size() ? end : std::string_view::npos;
    }
    return out;
}

// vCard, vCalendar, iCalendar, vNote: each logical line (a physical line
// with its folded continuations, or quoted-printable soft breaks) whose
// CHARSET is another one, with 8-bit bytes and no transfer encoding, is
// transcoded to UTF-8 and labelled so. The rest is left for repair_utf8.
std::size_t transcode_declared_charsets(std::string& data) {
    std::string out;
    out.reserve(data.size() + data.size() / 4);
    std::size_t repairs = 0;
    std::string_view all = data;
    std::size_t pos = 0;
    while (pos < all.size()) {
        // One logical line: [pos, end).
        auto physical_end = [&](std::size_t from) {
            std::size_t nl = all.find('\n', from);
            return nl == std::string_view::npos ? all.size() : nl + 1;
        };
        std::size_t end = physical_end(pos);
        std::size_t colon = value_colon(all.substr(pos, end - pos));
        LineParams params = colon == std::string_view::npos ? LineParams{} : read_params(all.substr(pos, colon));
        for (;;) {
            if (end >= all.size()) break;
            char next = all[end];
            std::string_view prev = all.substr(pos, end - pos);
            while (!prev.empty() && (prev.back() == '\n' || prev.back() == '\r')) prev.remove_suffix(1);
            bool soft_break = params.transfer_encoded && !prev.empty() && prev.back() == '=';
            if (next != ' ' && next != '\t' && !soft_break) break;
            end = physical_end(end);
        }
        std::string_view line = all.substr(pos, end - pos);
        std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        std::string_view charset =
            params.charset ? line.substr(params.charset->first, params.charset->second) : std::string_view();
        std::string_view bare_charset = wire::trim(charset);
        if (!bare_charset.empty() && bare_charset.front() == '"' && bare_charset.size() >= 2)
            bare_charset = bare_charset.substr(1, bare_charset.size() - 2);
        if (params.charset && !utf8_label(bare_charset) && !params.transfer_encoded && count_8bit(value) > 0) {
            repairs += count_8bit(value);
            out.append(line.substr(0, params.charset->first));
            out += "UTF-8";
            out.append(line.substr(params.charset->first + params.charset->second,
                                   colon + 1 - params.charset->first - params.charset->second));
            out += pim::codec::to_utf8(value, bare_charset, 0, nullptr);
        } else {
            out.append(line);
        }
        pos = end;
    }
    if (repairs) data = std::move(out);
    return repairs;
}

// An XML document (SIF) whose declaration names an encoding other than
// UTF-8: transcoded, and the declaration says UTF-8.
std::size_t transcode_declared_encoding(std::string& data) {
    std::size_t decl_end = data.find("?>");
    if (decl_end == std::string::npos) return 0;
    std::size_t at = data.find("encoding", 0);
    if (at == std::string::npos || at > decl_end) return 0;
    std::size_t quote = data.find_first_of("\"'", at);
    if (quote == std::string::npos || quote > decl_end) return 0;
    std::size_t close = data.find(data[quote], quote + 1);
    if (close == std::string::npos || close > decl_end) return 0;
    std::string_view encoding = std::string_view(data).substr(quote + 1, close - quote - 1);
    std::size_t eight_bit = count_8bit(data);
    if (utf8_label(encoding) || eight_bit == 0) return 0;
    std::string out = data.substr(0, quote + 1) + "UTF-8";
    out += pim::codec::to_utf8(std::string_view(data).substr(close), encoding, 0, nullptr);
    data = std::move(out);
    return eight_bit;
}

}  // namespace

bool is_text_item(std::string_view format, std::string_view type) {
    if (!format.empty() && !equals_ignore_case(format, "chr")) return false;
    return type.empty() || starts_with_ignore_case(type, "text/");
}

std::size_t repair_item_text(std::string& data) {
    if (wire::is_xml_text(data)) return 0;
    std::size_t repairs = 0;
    std::string_view start = content_start(data);
    if (starts_with_ignore_case(start, "BEGIN:")) repairs += transcode_declared_charsets(data);
    else if (start.substr(0, 5) == "<?xml") repairs += transcode_declared_encoding(data);
    return repairs + wire::repair_utf8(data);
}

}  // namespace smk::engine
