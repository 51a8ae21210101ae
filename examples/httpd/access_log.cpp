#include "access_log.hpp"

#include <cstdio>

#include "timestamp.hpp"

namespace smk::httpd {

std::string escape_for_log(std::string_view s, std::size_t max, bool keep_spaces) {
    bool cut = s.size() > max;
    if (cut) s = s.substr(0, max);
    std::string out;
    out.reserve(s.size() + 3);
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if ((u == 0x20 && !keep_spaces) || u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02X", u);
            out += buf;
        } else {
            out += c;
        }
    }
    if (cut) out += "...";
    return out;
}

std::string redact_session_token(std::string_view target) {
    constexpr std::size_t shown = 8;
    std::size_t q = target.find('?');
    if (q == std::string_view::npos) return std::string(target);
    std::string out(target.substr(0, q + 1));
    std::size_t pos = q + 1;
    while (pos <= target.size()) {
        std::size_t amp = target.find('&', pos);
        std::string_view param = target.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
        if (param.rfind("s=", 0) == 0 && param.size() > 2 + shown) {
            out.append(param.substr(0, 2 + shown));
            out += "...";
        } else {
            out.append(param);
        }
        if (amp == std::string_view::npos) break;
        out += '&';
        pos = amp + 1;
    }
    return out;
}

std::string format_access_line(const AccessRecord& r) {
    auto with_coding = [](std::string bytes, const std::string& coding) {
        return coding.empty() ? bytes : bytes + "/" + coding;
    };
    std::string line = iso_utc(r.when);
    line += ' ';
    line += r.peer.empty() ? "-" : escape_for_log(r.peer, 64);
    line += ' ';
    line += r.method.empty() ? "-" : escape_for_log(r.method, 16);
    line += ' ';
    line += r.target.empty() ? "-" : escape_for_log(redact_session_token(r.target));
    line += " \"";
    line += escape_for_log(r.content_type, 100, true);
    line += "\" ";
    line += with_coding(r.request_bytes ? std::to_string(*r.request_bytes) : "-", r.request_coding);
    line += ' ';
    line += std::to_string(r.status);
    line += ' ';
    line += with_coding(std::to_string(r.reply_bytes), r.reply_coding);
    line += ' ';
    if (r.milliseconds) {
        char buf[32];
        std::snprintf(buf, sizeof buf, *r.milliseconds < 10 ? "%.1fms" : "%.0fms", *r.milliseconds);
        line += buf;
    } else {
        line += "-";
    }
    return line;
}

}  // namespace smk::httpd
