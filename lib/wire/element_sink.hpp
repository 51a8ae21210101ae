// The second stage of encoding: the model writer walks a Message in the order
// the DTDs fix and tells an ElementSink what to emit; one sink writes XML
// text, the other WBXML tokens.
#pragma once

#include <string_view>

#include "syncmlkit/message.hpp"
#include "tags.hpp"

namespace smk::wire {

class ElementSink {
public:
    virtual ~ElementSink() = default;
    /// An element with children follows, up to the matching close().
    virtual void open(Tag tag) = 0;
    virtual void close() = 0;
    /// An element without content: a flag such as <Final/>.
    virtual void flag(Tag tag) = 0;
    /// An element holding text (empty text: an empty element).
    virtual void text(Tag tag, std::string_view value) = 0;
    /// An element holding an item's payload: CDATA in XML, OPAQUE in WBXML.
    virtual void payload(Tag tag, std::string_view value) = 0;
};

/// Walks `msg` into `sink`. The caller has checked the version.
void write_message(const Message& msg, ElementSink& sink);
/// Walks one command, as it stands inside a SyncBody.
void write_command(const Command& cmd, ElementSink& sink);

}  // namespace smk::wire
