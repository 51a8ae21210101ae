#include "text.hpp"

#include <cstring>

namespace smk::wire {

bool equals_ignore_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::string to_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

std::string_view trim(std::string_view s) {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

std::string hex_byte(std::uint8_t b) {
    static const char kDigits[] = "0123456789ABCDEF";
    return std::string("0x") + kDigits[b >> 4] + kDigits[b & 0xF];
}

namespace {
void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}
}  // namespace

std::string utf8_encode(std::uint32_t cp) {
    std::string out;
    append_utf8(out, cp);
    return out;
}

void append_latin1_as_utf8(std::string& out, std::string_view latin1) {
    for (char c : latin1) {
        auto b = static_cast<unsigned char>(c);
        if (b < 0x80) {
            out += c;
        } else {
            out += static_cast<char>(0xC0 | (b >> 6));
            out += static_cast<char>(0x80 | (b & 0x3F));
        }
    }
}

bool is_printable_text(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            if (b < 0x20 && b != '\t' && b != '\r' && b != '\n') return false;
            if (b == 0x7F) return false;
            ++i;
            continue;
        }
        int extra = (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2 : (b & 0xF8) == 0xF0 ? 3 : -1;
        if (extra < 0 || b == 0xC0 || b == 0xC1 || i + extra >= s.size()) return false;
        for (int k = 1; k <= extra; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += extra + 1;
    }
    return true;
}

namespace {

// What stands at one position of a byte string, for is_xml_text and
// repair_utf8.
enum class Unit { valid, broken, foreign };
struct Decoded {
    Unit unit;
    std::uint32_t cp;  // valid and broken: the code point the bytes spell
    std::size_t size;  // bytes taken (foreign: always 1)
};

bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

Decoded decode_at(std::string_view s, std::size_t i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) return {Unit::valid, b, 1};
    std::size_t extra;
    std::uint32_t cp, min;
    if (b >= 0xC0 && b <= 0xDF) extra = 1, cp = b & 0x1F, min = 0x80;
    else if (b >= 0xE0 && b <= 0xEF) extra = 2, cp = b & 0x0F, min = 0x800;
    else if (b >= 0xF0 && b <= 0xF4) extra = 3, cp = b & 0x07, min = 0x10000;
    else return {Unit::foreign, b, 1};  // a continuation byte on its own, F5-FF
    if (s.size() - i <= extra) return {Unit::foreign, b, 1};
    for (std::size_t k = 1; k <= extra; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if (!is_continuation(c)) return {Unit::foreign, b, 1};
        cp = (cp << 6) | (c & 0x3F);
    }
    bool ok = cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    return {ok ? Unit::valid : Unit::broken, cp, extra + 1};
}

bool xml_char(std::uint32_t cp) {
    if (cp < 0x20) return cp == 0x9 || cp == 0xA || cp == 0xD;
    return cp != 0xFFFE && cp != 0xFFFF;  // surrogates and > U+10FFFF are never valid units
}

// Windows-1252's 0x80-0x9F; 0 where it defines no character.
constexpr std::uint16_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

std::uint32_t cp1252(unsigned char b) {
    if (b < 0x80 || b >= 0xA0) return b;
    std::uint32_t cp = kCp1252High[b - 0x80];
    return cp ? cp : 0xFFFD;
}

// The first position repair_utf8 would change, or npos.
std::size_t first_repair(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        // Plain ASCII text goes by quickly, eight bytes at a time: no byte
        // has its high bit set, nor gets it from subtracting 0x20 (< 0x20).
        if (s.size() - i >= 8) {
            std::uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            if (((w | (w - 0x2020202020202020ULL)) & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        auto b = static_cast<unsigned char>(s[i]);
        if (b >= 0x20 && b < 0x80) {
            ++i;
            continue;
        }
        Decoded d = decode_at(s, i);
        if (d.unit != Unit::valid || !xml_char(d.cp)) return i;
        i += d.size;
    }
    return std::string_view::npos;
}

}  // namespace

bool is_xml_text(std::string_view s) { return first_repair(s) == std::string_view::npos; }

std::size_t repair_utf8(std::string& s) {
    std::size_t i = first_repair(s);
    if (i == std::string::npos) return 0;
    std::string out;
    out.reserve(s.size() + s.size() / 8 + 4);
    out.append(s, 0, i);
    std::size_t repairs = 0;
    const std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD
    while (i < s.size()) {
        auto b = static_cast<unsigned char>(s[i]);
        if (b >= 0x20 && b < 0x80) {
            out += static_cast<char>(b);
            ++i;
            continue;
        }
        Decoded d = decode_at(s, i);
        if (d.unit == Unit::valid) {
            if (xml_char(d.cp)) {
                out.append(s, i, d.size);
            } else {
                out += replacement;
                ++repairs;
            }
        } else if (d.unit == Unit::broken) {
            ++repairs;
            if (d.cp >= 0xD800 && d.cp <= 0xDBFF && d.size == 3 && i + 3 < s.size()) {
                Decoded low = decode_at(s, i + 3);
                if (low.unit == Unit::broken && low.size == 3 && low.cp >= 0xDC00 && low.cp <= 0xDFFF) {
                    append_utf8(out, 0x10000 + ((d.cp - 0xD800) << 10) + (low.cp - 0xDC00));
                    i += 6;
                    continue;
                }
            }
            out += replacement;
        } else {
            append_utf8(out, cp1252(b));
            ++repairs;
        }
        i += d.size;
    }
    s = std::move(out);
    return repairs;
}

std::string repaired_utf8(std::string_view s) {
    std::string out(s);
    repair_utf8(out);
    return out;
}

std::string base64_encode(std::string_view bytes) {
    static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                          (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 0x3F];
        out += kAlphabet[(v >> 6) & 0x3F];
        out += kAlphabet[v & 0x3F];
    }
    if (std::size_t rest = bytes.size() - i) {
        std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 0x3F];
        out += rest == 2 ? kAlphabet[(v >> 6) & 0x3F] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+') v = 62;
        else if (c == '/') v = 63;
        else if (c == '=' || c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        else return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

}  // namespace smk::wire
