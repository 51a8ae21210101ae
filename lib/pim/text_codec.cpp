#include "pim/text_codec.hpp"

#include <unicode/ucnv.h>
#include <unicode/unistr.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>

#include "wire/text.hpp"

namespace smk::pim::codec {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        if (i + 8 <= s.size()) {  // eight ASCII bytes at once
            std::uint64_t word;
            std::memcpy(&word, s.data() + i, 8);
            if (!(word & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t continuation = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
        if (continuation == 4 || i + continuation >= s.size() + (continuation ? 0 : 1)) return false;
        for (std::size_t k = 1; k <= continuation; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += continuation + 1;
    }
    return true;
}

struct ConverterCloser {
    void operator()(UConverter* c) const { ucnv_close(c); }
};
using Converter = std::unique_ptr<UConverter, ConverterCloser>;

Converter open_converter(std::string_view charset) {
    std::string name(charset);
    // Browsers, and we, read ISO-8859-1 labels as their superset Windows-1252.
    if (wire::equals_ignore_case(name, "ISO-8859-1") || wire::equals_ignore_case(name, "LATIN1"))
        name = "windows-1252";
    UErrorCode status = U_ZERO_ERROR;
    UConverter* c = ucnv_open(name.c_str(), &status);
    if (U_FAILURE(status)) return nullptr;
    return Converter(c);
}

bool is_utf8_name(std::string_view charset) {
    return charset.empty() || wire::equals_ignore_case(charset, "UTF-8") || wire::equals_ignore_case(charset, "UTF8") ||
           wire::equals_ignore_case(charset, "US-ASCII") || wire::equals_ignore_case(charset, "ASCII");
}

std::string convert_to_utf8(std::string_view bytes, UConverter* from) {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString u(bytes.data(), static_cast<int32_t>(bytes.size()), from, status);
    std::string out;
    u.toUTF8String(out);
    return out;
}

}  // namespace

std::string to_utf8(std::string_view bytes, std::string_view charset, int line, std::vector<Warning>* warnings) {
    if (is_utf8_name(charset)) {
        if (valid_utf8(bytes)) return std::string(bytes);
        if (warnings) warnings->push_back({line, "text is not valid UTF-8: read as Windows-1252"});
        return to_utf8(bytes, "windows-1252", line, nullptr);
    }
    Converter c = open_converter(charset);
    if (!c) {
        if (warnings) warnings->push_back({line, "unknown charset " + std::string(charset) + ": read as Windows-1252"});
        c = open_converter("windows-1252");
    }
    return convert_to_utf8(bytes, c.get());
}

std::optional<std::string> from_utf8(std::string_view text, std::string_view charset) {
    if (is_utf8_name(charset) && !wire::equals_ignore_case(charset, "US-ASCII") &&
        !wire::equals_ignore_case(charset, "ASCII"))
        return std::string(text);
    Converter c = open_converter(charset);
    if (!c) return std::nullopt;
    UErrorCode status = U_ZERO_ERROR;
    ucnv_setFromUCallBack(c.get(), UCNV_FROM_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &status);
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
    std::string out(static_cast<std::size_t>(u.length()) * 4 + 8, '\0');
    status = U_ZERO_ERROR;
    int32_t n = u.extract(out.data(), static_cast<int32_t>(out.size()), c.get(), status);
    if (U_FAILURE(status)) return std::nullopt;
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string decode_quoted_printable(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '=' && i + 2 < in.size()) {
            int hi = hex_value(in[i + 1]);
            int lo = hex_value(in[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += in[i];
    }
    // Line breaks of any kind inside a value are one LF.
    std::string norm;
    norm.reserve(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\r') {
            norm += '\n';
            if (i + 1 < out.size() && out[i + 1] == '\n') ++i;
        } else {
            norm += out[i];
        }
    }
    return norm;
}

std::string encode_quoted_printable(std::string_view bytes, std::size_t column) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    auto put = [&](std::string_view token) {
        if (column + token.size() > 75) {  // the soft break '=' keeps lines within 76
            out += "=\r\n";
            column = 0;
        }
        out += token;
        column += token.size();
    };
    for (unsigned char c : bytes) {
        if (c == '\n') {
            put("=0D=0A");
        } else if (c >= 0x80 || c == '=' || c < 0x20) {
            const char token[3] = {'=', kHex[c >> 4], kHex[c & 0xF]};
            put(std::string_view(token, 3));
        } else {
            const char ch = static_cast<char>(c);
            put(std::string_view(&ch, 1));
        }
    }
    return out;
}

bool has_nokia_junk(const ContentLine& cl) {
    bool qp = false;
    for (const RawParam& p : cl.params)
        qp |= (p.name.empty() || same(p.name, "ENCODING")) && iequals(p.value, "QUOTED-PRINTABLE");
    return qp && cl.value.find("==0A=0D") != std::string::npos;
}

ContentLine without_nokia_junk(const ContentLine& cl, std::vector<Warning>* warnings) {
    ContentLine fixed = cl;
    if (!has_nokia_junk(cl)) return fixed;
    std::size_t at = fixed.value.find("==0A=0D");
    for (; at != std::string::npos; at = fixed.value.find("==0A=0D", at)) fixed.value.replace(at, 7, "=0D=0A");
    if (warnings) warnings->push_back({cl.line, cl.name + ": \"==0A=0D\" (Nokia) read as a line break"});
    return fixed;
}

namespace {

// A line's transfer encoding and charset as written; the last of each wins.
void encoding_and_charset(const ContentLine& cl, std::string_view& encoding, std::string_view& charset) {
    for (const RawParam& p : cl.params) {
        std::string_view v = p.value;
        if (p.name.empty() && (iequals(v, "QUOTED-PRINTABLE") || iequals(v, "BASE64") || iequals(v, "B") ||
                               iequals(v, "8BIT") || iequals(v, "7BIT")))
            encoding = v;
        else if (same(p.name, "ENCODING"))
            encoding = v;
        else if (same(p.name, "CHARSET"))
            charset = v;
    }
}

}  // namespace

void decode_value(const ContentLine& cl, std::vector<Warning>* warnings, DecodedView& out) {
    std::string_view encoding, charset;
    encoding_and_charset(cl, encoding, charset);
    if (!iequals(encoding, "BASE64") && !iequals(encoding, "B") && !iequals(encoding, "QUOTED-PRINTABLE") &&
        is_utf8_name(charset) && valid_utf8(cl.value)) {
        out.text = cl.value;  // what decode_value would copy
        out.binary = false;
        return;
    }
    DecodedValue v = decode_value(cl, warnings);
    out.storage = std::move(v.text);
    out.text = out.storage;
    out.binary = v.binary;
}

DecodedValue decode_value(const ContentLine& cl, std::vector<Warning>* warnings) {
    std::string_view encoding, charset;
    encoding_and_charset(cl, encoding, charset);
    DecodedValue out;
    if (iequals(encoding, "BASE64") || iequals(encoding, "B")) {
        std::string compact;
        for (char c : cl.value)
            if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
        if (auto bytes = wire::base64_decode(compact)) {
            out.text = std::move(*bytes);
            out.binary = true;
            return out;
        }
        if (warnings) warnings->push_back({cl.line, cl.name + ": broken base64, kept as text"});
        out.text = compact;
        return out;
    }
    if (!iequals(encoding, "QUOTED-PRINTABLE")) {
        out.text = to_utf8(cl.value, charset, cl.line, warnings);
        return out;
    }
    std::string bytes = decode_quoted_printable(cl.value);
    if (is_utf8_name(charset) && valid_utf8(bytes)) out.text = std::move(bytes);  // what to_utf8 would copy
    else out.text = to_utf8(bytes, charset, cl.line, warnings);
    return out;
}

namespace {

// split_unescape's loop: calls `part(text)` for each piece of a part's text
// and `next()` at each unescaped separator.
template <typename Piece, typename Next>
void unescape_pieces(std::string_view value, char separator, Dialect dialect, int line,
                     std::vector<Warning>* warnings, Piece&& piece, Next&& next) {
    const bool new_dialect = dialect == Dialect::new_mime_dir;
    std::size_t run = 0;  // start of the plain text not yet handed on
    for (std::size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (c != '\\' && c != '\r' && (separator == '\0' || c != separator)) continue;
        piece(value.substr(run, i - run));
        run = i + 1;
        if (c == '\\' && i + 1 < value.size()) {
            char n = value[++i];
            run = i + 1;
            if (new_dialect) {
                if (n == 'n' || n == 'N') {
                    piece("\n");
                } else if (n == '\\' || n == ';' || n == ',') {
                    piece(std::string_view(&value[i], 1));
                } else if (n == ':') {
                    piece(std::string_view(&value[i], 1));  // Google's "http\://": harmless, read as ':'
                } else {
                    if (warnings) warnings->push_back({line, std::string("unknown escape \\") + n + ": kept"});
                    piece(value.substr(i - 1, 2));
                }
            } else if (n == '\\' || n == ';') {
                piece(std::string_view(&value[i], 1));
            } else {
                piece(value.substr(i - 1, 2));  // 2.1 escapes only \\ and \;: "C:\new" is text
            }
            continue;
        }
        if (c == '\\') {
            piece(std::string_view(&value[i], 1));  // a backslash at the very end
            continue;
        }
        if (separator != '\0' && c == separator) next();
        // '\r' is dropped
    }
    piece(value.substr(run));
}

}  // namespace

std::vector<std::string> split_unescape(std::string_view value, char separator, Dialect dialect, int line,
                                        std::vector<Warning>* warnings) {
    std::vector<std::string> parts(1);
    unescape_pieces(
        value, separator, dialect, line, warnings, [&](std::string_view s) { parts.back().append(s); },
        [&] { parts.emplace_back(); });
    return parts;
}

std::string unescape(std::string_view value, Dialect dialect, int line, std::vector<Warning>* warnings) {
    std::string out;
    out.reserve(value.size());
    unescape_pieces(
        value, '\0', dialect, line, warnings, [&](std::string_view s) { out.append(s); }, [] {});
    return out;
}

std::string unescape(std::string_view value, Dialect dialect) { return unescape(value, dialect, 0, nullptr); }

void escape_append(std::string& out, std::string_view text, Dialect dialect, bool compound, bool keep_commas) {
    const bool new_dialect = dialect == Dialect::new_mime_dir;
    std::size_t run = 0;  // start of the text not yet appended
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '\\' && c != ';' && c != '\r' && c != ',' && c != '\n') continue;
        if (c == ';' && !compound) continue;
        if (c == ',' && (keep_commas || !new_dialect)) continue;
        if (c == '\n' && !new_dialect) continue;
        out.append(text.substr(run, i - run));
        run = i + 1;
        if (c == '\r') continue;
        if (c == '\n') out += "\\n";
        else out += '\\', out += c;
    }
    out.append(text.substr(run));
}

std::string escape(std::string_view text, Dialect dialect, bool compound) {
    std::string out;
    out.reserve(text.size() + 8);
    escape_append(out, text, dialect, compound);
    return out;
}

std::string escaped_new_to_old(std::string_view value) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) {
            char n = value[++i];
            if (n == 'n' || n == 'N') out += '\n';
            else if (n == ',') out += ',';
            else out += '\\', out += n;  // \\ and \; mean the same in 2.1
            continue;
        }
        out += value[i];
    }
    return out;
}

std::string escaped_old_to_new(std::string_view value) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (c == '\\' && i + 1 < value.size() && (value[i + 1] == '\\' || value[i + 1] == ';')) {
            out += c;
            out += value[++i];
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c == ',') {
            out += "\\,";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c != '\r') {
            out += c;
        }
    }
    return out;
}

std::string quote_param(std::string_view value) {
    if (value.find_first_of(":;, ") == std::string_view::npos) return std::string(value);
    std::string out = "\"";
    for (char c : value)
        if (c != '"') out += c;
    return out + "\"";
}

namespace {

void append_head(std::string& line, std::string_view group, std::string_view name, const std::vector<Param>& params,
                 Dialect dialect) {
    if (!group.empty()) line.append(group).append(".");
    line.append(name);
    for (const Param& p : params) {
        if (p.name.empty()) {
            for (const std::string& v : p.values) line.append(";").append(v);
            continue;
        }
        line.append(";").append(p.name).append("=");
        for (std::size_t i = 0; i < p.values.size(); ++i) {
            if (i) line += ',';
            line += dialect == Dialect::new_mime_dir ? quote_param(p.values[i]) : p.values[i];
        }
    }
}

std::string head(std::string_view group, std::string_view name, const std::vector<Param>& params, Dialect dialect) {
    std::string line;
    append_head(line, group, name, params, dialect);
    return line;
}

void fold_75(std::string& out, std::string_view line) {
    std::size_t start = 0, limit = 75;
    while (line.size() - start > limit) {
        std::size_t cut = start + limit;
        while (cut > start && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
        if (cut == start) cut = start + limit;  // no character start at all (not UTF-8): cut anyway
        // Never between a backslash and what it escapes.
        if (cut > start + 1 && line[cut - 1] == '\\') {
            std::size_t backslashes = 0;
            for (std::size_t k = cut; k > start && line[k - 1] == '\\'; --k) ++backslashes;
            if (backslashes % 2 == 1) --cut;
        }
        out.append(line.substr(start, cut - start));
        out += "\r\n ";
        start = cut;
        limit = 74;  // the leading space counts
    }
    out.append(line.substr(start));
    out += "\r\n";
}

bool needs_quoted_printable(std::string_view s) {
    for (unsigned char c : s)
        if (c >= 0x80 || c < 0x20) return true;
    return false;
}

}  // namespace

void write_property(std::string& out, std::string_view group, std::string_view name, const std::vector<Param>& params,
                    std::string_view value, const LineStyle& style) {
    if (style.dialect == Dialect::new_mime_dir || !needs_quoted_printable(value)) {
        // Straight into `out`; only a line too long to stand is taken back and folded.
        const std::size_t start = out.size();
        append_head(out, group, name, params, style.dialect);
        out += ':';
        out.append(value);
        if (style.dialect == Dialect::new_mime_dir && out.size() - start > 75) {
            std::string line = out.substr(start);
            out.resize(start);
            fold_75(out, line);
            return;
        }
        out += "\r\n";
        return;
    }
    std::string line = head(group, name, params, style.dialect);
    std::string bytes(value);
    std::string charset = style.charset.empty() ? "UTF-8" : style.charset;
    bool has_8bit = false;
    for (unsigned char c : value) has_8bit |= c >= 0x80;
    if (has_8bit && !wire::equals_ignore_case(charset, "UTF-8")) {
        if (auto converted = from_utf8(value, charset)) bytes = *converted;
        else charset = "UTF-8";  // a character the client's charset lacks: UTF-8 rather than loss
    }
    if (has_8bit) line += ";CHARSET=" + charset;
    line += ";ENCODING=QUOTED-PRINTABLE:";
    out.append(line).append(encode_quoted_printable(bytes, line.size())).append("\r\n");
}

void write_binary_property(std::string& out, std::string_view group, std::string_view name,
                           const std::vector<Param>& params, std::string_view bytes, const LineStyle& style) {
    std::string line = head(group, name, params, style.dialect);
    std::string b64 = wire::base64_encode(bytes);
    if (style.dialect == Dialect::new_mime_dir) {
        line += ";ENCODING=b:" + b64;
        fold_75(out, line);
        if (style.blank_line_after_base64) out += "\r\n";
        return;
    }
    // vCard 2.1: base64 lines indented, the value ended by a blank line.
    out += line + ";ENCODING=BASE64:\r\n";
    for (std::size_t i = 0; i < b64.size(); i += 72) out += " " + b64.substr(i, 72) + "\r\n";
    out += "\r\n";
}

void write_extra(std::string& out, const ExtraProperty& p, const LineStyle& style) {
    if (p.binary) {
        write_binary_property(out, p.group, p.name, p.params, p.value, style);
        return;
    }
    std::string value = style.dialect == Dialect::new_mime_dir ? p.value : escaped_new_to_old(p.value);
    write_property(out, p.group, p.name, p.params, value, style);
}

ExtraProperty to_extra(const ContentLine& cl, Dialect dialect, std::string_view text, bool binary) {
    ExtraProperty p;
    for (char c : cl.group) p.group += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    p.name = cl.name;
    for (const RawParam& raw : cl.params) {
        std::string_view name = raw.name;
        if (name.empty()) {
            std::string_view v = raw.value;
            if (iequals(v, "QUOTED-PRINTABLE") || iequals(v, "BASE64") || iequals(v, "B") || iequals(v, "8BIT") ||
                iequals(v, "7BIT"))
                continue;
            name = "TYPE";
        }
        if (same(name, "ENCODING") || same(name, "CHARSET")) continue;  // undone by decoding
        Param* existing = nullptr;
        for (Param& q : p.params)
            if (q.name == name) existing = &q;
        if (!existing) {
            p.params.push_back({std::string(name), {}});
            existing = &p.params.back();
        }
        existing->values.push_back(raw.value);
    }
    p.binary = binary;
    p.value = binary || dialect == Dialect::new_mime_dir ? std::string(text) : escaped_old_to_new(text);
    return p;
}

ExtraProperty to_extra(const ContentLine& cl, Dialect dialect, std::vector<Warning>* warnings) {
    // The value decoded first: its warnings come before any of the caller's next ones either way.
    DecodedValue v = decode_value(cl, warnings);
    return to_extra(cl, dialect, v.text, v.binary);
}

}  // namespace smk::pim::codec
