#include "message_log.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>

#include "syncmlkit/wire.hpp"
#include "timestamp.hpp"

namespace smk::httpd {

namespace {

// Sessions remembered at most; beyond it the longest idle is forgotten.
constexpr std::size_t max_sessions = 10000;

std::optional<smk::wire::Encoding> encoding_of(std::string_view body, std::string_view content_type) {
    if (auto enc = smk::wire::encoding_from_content_type(content_type)) return enc;
    return smk::wire::sniff_encoding(body);
}

bool is_text(std::string_view content_type) { return content_type.rfind("text/", 0) == 0; }

}  // namespace

std::string file_name_part(std::string_view s, std::size_t max) {
    if (s.size() > max) s = s.substr(0, max);
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '+' || c == '@' || c == '-';
        out += keep ? c : '_';
    }
    if (out.empty()) return "unknown";
    if (out[0] == '.') out[0] = '_';
    return out;
}

std::string message_file_stem(std::chrono::system_clock::time_point session_start, std::string_view peer,
                              std::string_view device, unsigned seq) {
    char number[16];
    std::snprintf(number, sizeof number, "%04u", seq);
    return compact_utc(session_start) + "-" + file_name_part(peer) + "-" + file_name_part(device) + "-" + number;
}

MessageLog::MessageLog(std::string dir, std::chrono::seconds idle, Warn warn)
    : dir_(std::move(dir)), idle_(idle), warn_(std::move(warn)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec || !std::filesystem::is_directory(dir_)) {
        throw std::runtime_error(dir_ + ": cannot create the log directory" + (ec ? ": " + ec.message() : ""));
    }
}

MessageLog::Ticket MessageLog::record_request(const smk::Request& request) {
    // The device and session, when the message says; an undecodable one is
    // filed under its peer alone.
    std::string device, session_id;
    if (auto enc = encoding_of(request.body, request.content_type)) {
        try {
            auto msg = smk::wire::decode(request.body, *enc);
            device = msg.header.source.uri;
            session_id = msg.header.session_id;
        } catch (const std::exception&) {
        }
    }

    Ticket ticket;
    ticket.session_key = request.peer + '\n' + device + '\n' + session_id;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto now = std::chrono::steady_clock::now();
        for (auto it = sessions_.begin(); it != sessions_.end();) {
            it = now - it->second.last > idle_ ? sessions_.erase(it) : std::next(it);
        }
        if (sessions_.size() >= max_sessions && !sessions_.count(ticket.session_key)) {
            auto oldest = sessions_.begin();
            for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
                if (it->second.last < oldest->second.last) oldest = it;
            }
            sessions_.erase(oldest);
        }
        auto [it, fresh] = sessions_.try_emplace(ticket.session_key);
        if (fresh) {
            // Session start stamps are unique (to the millisecond the names
            // show), so two sessions never share file names.
            auto start = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
            if (start <= last_start_) start = last_start_ + std::chrono::milliseconds(1);
            last_start_ = start;
            it->second.start = start;
        }
        it->second.last = now;
        ticket.stem = message_file_stem(it->second.start, request.peer, device, it->second.next_seq++);
    }
    write(ticket.stem, "-in", request.body, request.content_type);
    return ticket;
}

void MessageLog::record_reply(const Ticket& ticket, const smk::Response& response) {
    write(ticket.stem, "-out", response.body, response.content_type);
    if (response.session_ended) {
        std::lock_guard<std::mutex> lock(mutex_);
        sessions_.erase(ticket.session_key);
    }
}

void MessageLog::write(const std::string& stem, const char* suffix, std::string_view body,
                       std::string_view content_type) {
    std::string text;
    const char* extension = nullptr;
    if (!is_text(content_type)) {
        if (auto enc = encoding_of(body, content_type)) {
            try {
                text = smk::wire::render_xml(body, *enc);
                extension = ".xml";
            } catch (const std::exception&) {
            }
        }
    }
    if (!extension) {
        text.assign(body);
        extension = is_text(content_type) ? ".txt" : ".bin";
    }
    std::string path = dir_ + "/" + stem + suffix + extension;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!warned_) {  // once: a full disk would otherwise flood the output
            warned_ = true;
            if (warn_) warn_(path + ": cannot write the message log (further failures are not reported)");
        }
    }
}

}  // namespace smk::httpd
