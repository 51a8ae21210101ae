// vCard 2.1 <-> 3.0. Each property is decoded to what it says (components of
// UTF-8 text, or binary data), then written in the other version's syntax.
#include "syncmlkit/vcard.hpp"

#include <algorithm>
#include <cctype>

#include "pim/content_line.hpp"
#include "wire/text.hpp"

namespace smk::pim {
namespace {

// Properties whose value is a ';'-separated list of components.
bool is_compound(const std::string& name) { return name == "N" || name == "ADR" || name == "ORG" || name == "GEO"; }
// Properties whose value is a ','-separated list of values (3.0).
bool is_list(const std::string& name) { return name == "CATEGORIES" || name == "NICKNAME"; }

// Windows-1252's 0x80-0x9F, the rest of it is ISO-8859-1 (browsers read
// ISO-8859-1 labels as Windows-1252; so do we).
const char32_t kCp1252High[32] = {0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                                  0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

std::string cp1252_to_utf8(std::string_view in) {
    std::string out;
    for (unsigned char c : in) {
        char32_t cp = c < 0x80 ? c : (c < 0xA0 ? kCp1252High[c - 0x80] : c);
        out += wire::utf8_encode(static_cast<std::uint32_t>(cp));
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string decode_quoted_printable(std::string_view in) {
    std::string out;
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

// Splits on an unescaped separator, then unescapes each part.
std::vector<std::string> split_unescape(std::string_view value, char separator, bool new_version) {
    std::vector<std::string> parts(1);
    for (std::size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (c == '\\' && i + 1 < value.size()) {
            char n = value[++i];
            if ((n == 'n' || n == 'N') && new_version) {
                parts.back() += '\n';
            } else if (n == 'n' || n == 'N' || (!new_version && n != '\\' && n != ';')) {
                parts.back() += '\\';  // 2.1 escapes only \\ and \;: the rest is text
                parts.back() += n;
            } else {
                parts.back() += n;  // \\ \; \, and, leniently, anything else
            }
            continue;
        }
        if (c == separator) {
            parts.emplace_back();
            continue;
        }
        parts.back() += c;
    }
    return parts;
}

struct Property {
    std::string group, name;
    std::vector<std::string> types;                          // TYPE values, upper case
    std::vector<std::pair<std::string, std::string>> other;  // other parameters
    std::vector<std::string> components;                     // decoded text
    bool binary = false;
    std::string base64;  // the binary data, for binary
};

Property decode(const ContentLine& cl, VCardVersion from, std::vector<Warning>* warnings) {
    Property p;
    p.group = cl.group;
    p.name = cl.name;
    std::string encoding, charset;
    for (const RawParam& param : cl.params) {
        std::string value = wire::to_upper(param.value);
        if (param.name.empty()) {
            if (value == "QUOTED-PRINTABLE" || value == "BASE64" || value == "8BIT" || value == "7BIT" || value == "B")
                encoding = value;
            else
                p.types.push_back(value);
        } else if (param.name == "ENCODING") {
            encoding = value;
        } else if (param.name == "CHARSET") {
            charset = value;
        } else if (param.name == "TYPE") {
            std::size_t start = 0;
            while (start <= value.size()) {
                std::size_t comma = value.find(',', start);
                std::string t = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                if (!t.empty()) p.types.push_back(t);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else {
            p.other.emplace_back(param.name, param.value);
        }
    }
    if (encoding == "BASE64" || encoding == "B") {
        std::string compact;
        for (char c : cl.value)
            if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
        auto bytes = wire::base64_decode(compact);
        if (!bytes && warnings) warnings->push_back({cl.line, p.name + ": broken base64 kept as it was"});
        p.binary = true;
        p.base64 = bytes ? wire::base64_encode(*bytes) : compact;
        return p;
    }
    std::string text = encoding == "QUOTED-PRINTABLE" ? decode_quoted_printable(cl.value) : cl.value;
    if (!charset.empty() && charset != "UTF-8" && charset != "US-ASCII") {
        if (charset != "ISO-8859-1" && charset != "WINDOWS-1252" && warnings)
            warnings->push_back({cl.line, p.name + ": charset " + charset + " read as Windows-1252"});
        text = cp1252_to_utf8(text);
    }
    bool new_version = from == VCardVersion::v3_0;
    if (is_compound(p.name)) p.components = split_unescape(text, ';', new_version);
    else if (is_list(p.name) && new_version) p.components = split_unescape(text, ',', true);
    else p.components = {split_unescape(text, '\0', new_version).front()};
    return p;
}

// ---- writing ----

void fold_75(std::string& out, const std::string& line) {
    // At most 75 octets a physical line, never inside a UTF-8 sequence.
    std::size_t start = 0, limit = 75;
    while (line.size() - start > limit) {
        std::size_t cut = start + limit;
        while (cut > start && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
        out.append(line, start, cut - start);
        out += "\r\n ";
        start = cut;
        limit = 74;  // the leading space counts
    }
    out.append(line, start, std::string::npos);
    out += "\r\n";
}

// ';' needs escaping only where it separates components.
std::string escape_30(const std::string& s, bool compound) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == ',' || (c == ';' && compound)) out += '\\', out += c;
        else if (c == '\n') out += "\\n";
        else if (c != '\r') out += c;
    }
    return out;
}

std::string escape_21(const std::string& s, bool compound) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || (c == ';' && compound)) out += '\\';
        out += c;
    }
    return out;
}

std::string head(const Property& p) {
    return (p.group.empty() ? "" : p.group + ".") + p.name;
}

void write_30(std::string& out, const Property& p) {
    std::string line = head(p);
    if (!p.types.empty()) {
        line += ";TYPE=";
        for (std::size_t i = 0; i < p.types.size(); ++i) line += (i ? "," : "") + p.types[i];
    }
    for (const auto& [name, value] : p.other) line += ";" + name + "=" + value;
    if (p.binary) {
        line += ";ENCODING=b:" + p.base64;
    } else {
        line += ':';
        bool compound = is_compound(p.name);
        char sep = compound ? ';' : ',';
        for (std::size_t i = 0; i < p.components.size(); ++i)
            line += (i ? std::string(1, sep) : "") + escape_30(p.components[i], compound);
    }
    fold_75(out, line);
}

bool needs_quoted_printable(const std::string& s) {
    for (unsigned char c : s)
        if (c >= 0x80 || c == '\n' || c == '\r' || c == '=' || c < 0x20) return true;
    return false;
}

std::string quoted_printable(const std::string& value, std::size_t head_length) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    std::size_t column = head_length;
    auto put = [&](const std::string& token) {
        if (column + token.size() > 75) {  // a soft break keeps lines within 76
            out += "=\r\n";
            column = 0;
        }
        out += token;
        column += token.size();
    };
    for (unsigned char c : value) {
        if (c == '\n') {
            put("=0D=0A");
        } else if (c >= 0x80 || c == '=' || c < 0x20) {
            put(std::string{'=', kHex[c >> 4], kHex[c & 0xF]});
        } else {
            put(std::string(1, static_cast<char>(c)));
        }
    }
    return out;
}

void write_21(std::string& out, const Property& p) {
    std::string line = head(p);
    for (const std::string& t : p.types) line += ";" + t;
    for (const auto& [name, value] : p.other) line += ";" + name + "=" + value;
    if (p.binary) {
        out += line + ";ENCODING=BASE64:" + p.base64 + "\r\n\r\n";  // Outlook needs the blank line
        return;
    }
    bool compound = is_compound(p.name);
    std::string value;
    for (std::size_t i = 0; i < p.components.size(); ++i)
        value += (i ? (compound ? ";" : ",") : "") + escape_21(p.components[i], compound);
    if (needs_quoted_printable(value)) {
        line += ";CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:";
        out += line + quoted_printable(value, line.size()) + "\r\n";
    } else {
        out += line + ":" + value + "\r\n";
    }
}

}  // namespace

VCardVersion vcard_version(std::string_view vcard) {
    for (const ContentLine& cl : lex_content_lines(vcard, Dialect::new_mime_dir, nullptr))
        if (cl.name == "VERSION") return cl.value.rfind("2.1", 0) == 0 ? VCardVersion::v2_1 : VCardVersion::v3_0;
    return VCardVersion::v3_0;
}

std::string merge_vcard(std::string_view server, std::string_view client, const std::vector<std::string>& client_knows) {
    auto properties = [](std::string_view text) {
        std::vector<Property> out;
        for (const ContentLine& cl : lex_content_lines(text, Dialect::new_mime_dir, nullptr))
            if (cl.name != "BEGIN" && cl.name != "END" && cl.name != "VERSION")
                out.push_back(decode(cl, VCardVersion::v3_0, nullptr));
        return out;
    };
    auto empty = [](const Property& p) {
        if (p.binary) return p.base64.empty();
        return std::all_of(p.components.begin(), p.components.end(), [](const std::string& c) { return c.empty(); });
    };
    std::vector<Property> theirs = properties(client);
    std::vector<std::string> sent;
    for (const Property& p : theirs) sent.push_back(p.name);
    std::string out = "BEGIN:VCARD\r\nVERSION:3.0\r\n";
    for (const Property& p : theirs)
        if (!empty(p)) write_30(out, p);
    for (const Property& p : properties(server)) {
        bool client_has_it = std::find(sent.begin(), sent.end(), p.name) != sent.end();
        bool client_knows_it = std::find(client_knows.begin(), client_knows.end(), p.name) != client_knows.end();
        if (!client_has_it && !client_knows_it && !client_knows.empty()) write_30(out, p);
    }
    out += "END:VCARD\r\n";
    return out;
}

std::string convert_vcard(std::string_view vcard, VCardVersion to, std::vector<Warning>* warnings) {
    VCardVersion from = vcard_version(vcard);
    Dialect dialect = from == VCardVersion::v2_1 ? Dialect::old_mime_dir : Dialect::new_mime_dir;
    std::string out;
    for (const ContentLine& cl : lex_content_lines(vcard, dialect, warnings)) {
        if (cl.name == "VERSION") {
            out += to == VCardVersion::v2_1 ? "VERSION:2.1\r\n" : "VERSION:3.0\r\n";
            continue;
        }
        if (cl.name == "BEGIN" || cl.name == "END") {
            out += cl.name + ":" + wire::to_upper(cl.value) + "\r\n";
            continue;
        }
        Property p = decode(cl, from, warnings);
        if (to == VCardVersion::v3_0)
            write_30(out, p);
        else
            write_21(out, p);
    }
    return out;
}

}  // namespace smk::pim
