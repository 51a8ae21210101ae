// The two encoders behind wire::encode.
#pragma once

#include <string>

#include "syncmlkit/message.hpp"

namespace smk::wire {

/// Appends the XML encoding of `msg` to `out`.
void write_xml(const Message& msg, Version version, std::string& out);
/// Appends the WBXML encoding of `msg` to `out`.
void write_wbxml(const Message& msg, Version version, std::string& out);

}  // namespace smk::wire
