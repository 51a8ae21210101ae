// --log-dir: every message of every session, request and reply, kept as a
// file. SyncML (XML or WBXML) is written as indented XML
// (smk::wire::render_xml); anything else (a text error reply, a body that
// does not decode) as it was, in a .txt or .bin file. A session's files sort
// together and in order:
//
//   20261125T101502.123Z-127.0.0.1-syncevo-ci-client-0001-in.xml
//   20261125T101502.123Z-127.0.0.1-syncevo-ci-client-0001-out.xml
//   20261125T101502.123Z-127.0.0.1-syncevo-ci-client-0002-in.xml
//
// (time of the session's first message, peer address, the device's
// LocURI, message number). Every client-controlled part goes through
// file_name_part().
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "syncmlkit/server.hpp"

namespace smk::httpd {

/// `s` made safe as part of a file name: letters, digits and . + @ - stay,
/// every other byte becomes _, at most `max` bytes; a leading . becomes _;
/// empty gives "unknown". The result never holds a / and is never . or ..
std::string file_name_part(std::string_view s, std::size_t max = 48);

/// "<session start>-<peer>-<device>-<seq>", the parts made safe.
std::string message_file_stem(std::chrono::system_clock::time_point session_start, std::string_view peer,
                              std::string_view device, unsigned seq);

class MessageLog {
public:
    using Warn = std::function<void(const std::string&)>;
    /// Creates `dir` if missing (throws std::runtime_error when it cannot).
    /// Sessions idle longer than `idle` start a new group of files. Write
    /// failures go to `warn` and do not stop the server.
    MessageLog(std::string dir, std::chrono::seconds idle, Warn warn);

    /// Names one request and its reply.
    struct Ticket {
        std::string stem;
        std::string session_key;
    };
    /// Writes the request's file.
    Ticket record_request(const smk::Request& request);
    /// Writes the reply's file; a reply that ends the session closes its group.
    void record_reply(const Ticket& ticket, const smk::Response& response);

    const std::string& dir() const { return dir_; }

private:
    struct Session {
        std::chrono::system_clock::time_point start;
        std::chrono::steady_clock::time_point last;
        unsigned next_seq = 1;
    };
    void write(const std::string& stem, const char* suffix, std::string_view body, std::string_view content_type);

    const std::string dir_;
    const std::chrono::seconds idle_;
    const Warn warn_;
    std::mutex mutex_;
    std::map<std::string, Session> sessions_;  ///< key: peer, device and SessionID
    std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds> last_start_{};
    bool warned_ = false;
};

}  // namespace smk::httpd
