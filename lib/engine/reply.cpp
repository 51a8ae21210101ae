#include "engine/reply.hpp"

#include "wire/writers.hpp"

namespace smk::engine {
using namespace smk::wire;

namespace {

void number(std::vector<Command>& cmds, unsigned& next) {
    for (Command& c : cmds) {
        c.cmd_id = std::to_string(next++);
        number(c.children, next);
    }
}

}  // namespace

Reply::Reply(Header header, Version version, Encoding encoding, std::size_t max_size)
    : header_(std::move(header)), version_(version), encoding_(encoding), max_size_(max_size) {
    Message empty;
    empty.header = header_;
    empty.final = true;
    used_ = encode(empty, encoding_).size();
    empty_size_ = used_;
}

Command Reply::status(const Command& answered, const std::string& msg_ref, int code) {
    Command s;
    s.kind = CommandKind::Status;
    s.msg_ref = msg_ref;
    s.cmd_ref = answered.cmd_id;
    s.cmd = command_name(answered.kind);
    s.data = std::to_string(code);
    return s;
}

Command Reply::status_with_refs(const Command& answered, const std::string& msg_ref, int code) {
    Command s = status(answered, msg_ref, code);
    s.target_refs = {answered.target.uri};
    s.source_refs = {answered.source.uri};
    return s;
}

Command Reply::header_status(const Header& in, int code) {
    Command s;
    s.kind = CommandKind::Status;
    s.msg_ref = in.msg_id;
    s.cmd_ref = "0";
    s.cmd = "SyncHdr";
    s.target_refs = {in.target.uri};
    s.source_refs = {in.source.uri};
    s.data = std::to_string(code);
    return s;
}

namespace {

// Text written as it is in both encodings: no character XML escapes or
// repairs, none WBXML treats apart (inline strings end at a NUL).
bool plain(const std::string& s) {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7E || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'') return false;
    return true;
}

}  // namespace

std::size_t Reply::size_of(const Command& cmd) const {
    // CmdIDs are numbered at the end: count four digits for each command
    // (the ones in nested commands are within the 10% reserve).
    std::size_t unnumbered = cmd.cmd_id.empty() ? 4 : 0;
    // A Status of plain text fields is as long as another of the same
    // fields (each empty or not), plus the difference of their lengths:
    // encoded once per such shape and message, not once per status.
    if (cmd.kind != CommandKind::Status || cmd.cred || cmd.chal || !cmd.items.empty() || !cmd.children.empty() ||
        cmd.target_refs.size() > 1 || cmd.source_refs.size() > 1)
        return encoded_command_size(cmd, version_, encoding_) + unnumbered;
    const std::string* fields[] = {&cmd.cmd_id, &cmd.msg_ref, &cmd.cmd_ref, &cmd.cmd, &cmd.data,
                                   cmd.target_refs.empty() ? nullptr : &cmd.target_refs.front(),
                                   cmd.source_refs.empty() ? nullptr : &cmd.source_refs.front()};
    unsigned shape = 0;
    std::size_t length = 0;
    for (const std::string* f : fields) {
        shape = shape * 3 + (!f ? 0 : f->empty() ? 1 : 2);
        if (!f) continue;
        if (!plain(*f)) return encoded_command_size(cmd, version_, encoding_) + unnumbered;
        length += f->size();
    }
    for (const StatusSize& known : status_sizes_)
        if (known.shape == shape) return known.size + length - known.length + unnumbered;
    std::size_t size = encoded_command_size(cmd, version_, encoding_);
    status_sizes_.push_back({shape, size, length});
    return size + unnumbered;
}

void Reply::add_status(Command status) {
    std::size_t size = size_of(status);
    // The SyncHdr status always goes; the others as long as they fit.
    if (!statuses_.empty() && (!overflow_.empty() || size > room())) {
        overflow_.push_back(std::move(status));
        return;
    }
    used_ += size;
    statuses_.push_back(std::move(status));
}

void Reply::add_command(Command command) {
    used_ += size_of(command);
    commands_.push_back(std::move(command));
}

void Reply::add_or_hold(Command command) {
    std::size_t size = size_of(command);
    if (!held_.empty() || (size > room() && (has_commands() || size <= room_when_empty()))) {
        held_.push_back(std::move(command));
        return;
    }
    used_ += size;
    commands_.push_back(std::move(command));
}

namespace {

// Keep a tenth (at least 256 bytes) in reserve, as the closing tags, CmdID
// digits and estimates are never exact.
std::size_t usable(std::size_t max_size) {
    std::size_t reserve = std::max<std::size_t>(256, max_size / 10);
    return max_size > reserve ? max_size - reserve : 0;
}

// A SyncHdr status, a Chal included, besides its Target and Source refs.
constexpr std::size_t kHeaderStatusSize = 300;

}  // namespace

std::size_t Reply::room() const {
    std::size_t limit = usable(max_size_);
    return used_ < limit ? limit - used_ : 0;
}

std::size_t Reply::room_when_empty() const {
    std::size_t limit = usable(max_size_);
    // Its refs: the URL the client addressed (ours, or our RespURI) and its device ID.
    std::size_t refs = std::max(header_.source.uri.size(), header_.resp_uri.size()) + header_.target.uri.size();
    std::size_t base = empty_size_ + kHeaderStatusSize + refs;
    return base < limit ? limit - base : 0;
}

Message Reply::finish() {
    Message m;
    m.header = std::move(header_);
    m.body = std::move(statuses_);
    for (Command& c : commands_) m.body.push_back(std::move(c));
    unsigned next = 1;
    number(m.body, next);
    m.final = final_;
    return m;
}

}  // namespace smk::engine
