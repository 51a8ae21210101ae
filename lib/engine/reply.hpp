// One reply message under construction: statuses first, then commands, with
// CmdIDs numbered at the end and its encoded size tracked against the
// client's MaxMsgSize.
#pragma once

#include <string>
#include <vector>

#include "syncmlkit/message.hpp"
#include "syncmlkit/wire.hpp"

namespace smk::engine {

class Reply {
public:
    /// `header` is the reply's complete SyncHdr; `max_size` the client's MaxMsgSize.
    Reply(wire::Header header, wire::Version version, wire::Encoding encoding, std::size_t max_size);

    /// A Status answering `answered` (a command of message `msg_ref`).
    static wire::Command status(const wire::Command& answered, const std::string& msg_ref, int code);
    /// A Status for a Sync or Map, whose TargetRef and SourceRef name its
    /// Target and Source (the Funambol client crashes without SourceRef).
    static wire::Command status_with_refs(const wire::Command& answered, const std::string& msg_ref, int code);
    /// The Status for the incoming SyncHdr.
    static wire::Command header_status(const wire::Header& in, int code);

    /// Adds a status; one that no longer fits the client's MaxMsgSize is
    /// held back (take_overflow) instead, as are all after it.
    void add_status(wire::Command status);
    bool has_statuses() const { return !statuses_.empty(); }
    /// Statuses held back; the caller sends them in a later message.
    std::vector<wire::Command> take_overflow() {
        std::vector<wire::Command> out;
        out.swap(overflow_);
        return out;
    }
    bool overflowing() const { return !overflow_.empty(); }
    void add_command(wire::Command command);
    /// Adds a command of a package that may span messages (package 2: the
    /// DevInf Results, our Alerts, our Get): one that no longer fits is held
    /// back (take_held) instead, as are all after it, for the next message.
    /// One too large for any message goes alone, as the first command of one.
    void add_or_hold(wire::Command command);
    bool holding() const { return !held_.empty(); }
    /// Commands held back; the caller sends them in a later message.
    std::vector<wire::Command> take_held() {
        std::vector<wire::Command> out;
        out.swap(held_);
        return out;
    }
    std::size_t command_count() const { return commands_.size(); }

    /// Bytes still free for more commands, after a reserve for what closes
    /// the message.
    std::size_t room() const;
    /// Bytes free for commands in a message holding only the SyncHdr and
    /// its status.
    std::size_t room_when_empty() const;
    /// Encoded bytes `cmd` would take.
    std::size_t size_of(const wire::Command& cmd) const;
    /// Grows the size account of a command already added (a Sync filling up).
    void account(std::size_t bytes) { used_ += bytes; }
    wire::Command& last_command() { return commands_.back(); }

    bool has_commands() const { return !commands_.empty(); }
    /// Only the SyncHdr status so far.
    bool only_header_status() const { return statuses_.size() <= 1 && commands_.empty(); }
    void set_final(bool final) { final_ = final; }
    bool final() const { return final_; }

    /// The finished message, CmdIDs numbered.
    wire::Message finish();

private:
    wire::Header header_;
    wire::Version version_;
    wire::Encoding encoding_;
    std::size_t max_size_;
    std::size_t used_ = 0;
    std::vector<wire::Command> statuses_;
    std::vector<wire::Command> commands_;
    std::vector<wire::Command> overflow_;
    std::vector<wire::Command> held_;
    std::size_t empty_size_ = 0;  ///< of the message with no body
    // Encoded sizes of statuses by the shape of their fields (size_of()).
    struct StatusSize {
        unsigned shape;
        std::size_t size, length;  ///< encoded, and of its text fields
    };
    mutable std::vector<StatusSize> status_sizes_;
    bool final_ = false;
};

}  // namespace smk::engine
