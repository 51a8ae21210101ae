// What a client sent, made fit for a log line: cut to a few dozen bytes (a
// device ID or user name may be as long as the message) and with control
// characters written as \xNN, so no client can write lines of its own into
// the log.
#pragma once

#include <string>
#include <string_view>

namespace smk::engine {

inline std::string for_log(std::string_view text, std::size_t max = 64) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < text.size() && i < max; ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7F) {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (text.size() > max) out += "...(" + std::to_string(text.size()) + " bytes)";
    return out;
}

}  // namespace smk::engine
