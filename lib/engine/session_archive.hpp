// A session between two messages as bytes (session_archive.cpp): what a
// Session and its SyncTasks carry from one message to the next, so that the
// next message may be handled by another process (state/session_store.hpp).
//
// The format: "SMKS", a version byte, then the fields in a fixed order:
// numbers as 8 bytes little-endian, flags as one byte, strings as their
// length (8 bytes) and their bytes, wire::Commands as one SyncML message
// (WBXML, through the codec) holding them. A blob of another version, or
// one cut short or too long, is refused (SessionArchiveError), never read
// in part.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "syncmlkit/message.hpp"

namespace smk::state {
class SessionStore;
}

namespace smk::engine {

/// A blob that is not a session this version of the server wrote.
class SessionArchiveError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ArchiveWriter {
public:
    /// `version`: the SyncML version Commands are encoded in.
    explicit ArchiveWriter(wire::Version version);
    void u64(std::uint64_t v);
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void flag(bool v);
    void str(std::string_view v);
    void commands(const std::vector<wire::Command>& cmds);
    std::string take() { return std::move(out_); }

private:
    wire::Version version_;
    std::string out_;
};

class ArchiveReader {
public:
    /// Checks the magic and the version first (SessionArchiveError).
    /// `blob` is read in place: it must outlive the reader.
    explicit ArchiveReader(std::string_view blob);
    std::uint64_t u64();
    std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
    bool flag();
    std::string str();
    std::vector<wire::Command> commands();
    /// The blob ends here (SessionArchiveError if bytes are left).
    void end() const;
    /// The SyncML version Commands are decoded in (read by the Session).
    void set_version(wire::Version version) { version_ = version; }

private:
    std::string_view take(std::size_t n);
    std::string_view in_;
    std::size_t pos_ = 0;
    wire::Version version_ = wire::Version::v1_2;
};

/// The version of the format this build writes, and the only one it reads.
constexpr unsigned char kSessionArchiveVersion = 1;

/// For tests: every smk::Server made while this is set keeps its sessions
/// between messages in the store it makes (one for each Server), so every
/// message goes through a blob. Unset: sessions stay in memory. Returns
/// what was set before.
std::function<std::unique_ptr<state::SessionStore>()> set_session_store_for_tests(
    std::function<std::unique_ptr<state::SessionStore>()> make);
std::unique_ptr<state::SessionStore> session_store_for_tests();

}  // namespace smk::engine
