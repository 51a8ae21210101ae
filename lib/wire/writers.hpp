// The two encoders behind wire::encode.
#pragma once

#include <string>

#include "syncmlkit/message.hpp"

namespace smk::wire {

/// Appends the XML encoding of `msg` to `out`.
void write_xml(const Message& msg, Version version, std::string& out);
/// Appends the WBXML encoding of `msg` to `out`.
void write_wbxml(const Message& msg, Version version, std::string& out);
/// Append one command as it would stand inside a SyncBody.
void write_xml_command(const Command& cmd, Version version, std::string& out);
void write_wbxml_command(const Command& cmd, Version version, std::string& out);

}  // namespace smk::wire

#include "syncmlkit/wire.hpp"

namespace smk::wire {

/// How many bytes `cmd` adds to a message of `version` in `enc` (the engine
/// sizes its replies to the client's MaxMsgSize with it).
std::size_t encoded_command_size(const Command& cmd, Version version, Encoding enc);

}  // namespace smk::wire
