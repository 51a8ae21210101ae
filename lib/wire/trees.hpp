// The first stage of decoding: bytes to an element tree (pugixml), checked
// against the DecodeLimits. Both encodings end in the same tree, which
// model_reader turns into a Message and render_xml prints.
#pragma once

#include <pugixml.hpp>
#include <string_view>

#include "syncmlkit/wire.hpp"

namespace smk::wire {

/// Parses an XML message. No DTD is read and no entity but the five
/// predefined ones and character references is expanded; a DOCTYPE with an
/// internal subset is refused. Line ends in text are kept as sent.
void parse_xml_tree(std::string_view bytes, const DecodeLimits& limits, pugi::xml_document& doc);

/// Decodes a WBXML message into the tree an equivalent XML message would
/// give, xmlns attributes included; an OPAQUE DevInf document inside Data
/// becomes a DevInf element there.
void parse_wbxml_tree(std::string_view bytes, const DecodeLimits& limits, pugi::xml_document& doc);

/// Parses a standalone DevInf XML document (DevInf sent as escaped text).
void parse_devinf_xml_tree(std::string_view text, const DecodeLimits& limits, pugi::xml_document& doc);

/// Turns a tree from either parser into the model. Throws DecodeError when
/// the tree is not a SyncML message.
Message read_message(const pugi::xml_document& doc, const DecodeLimits& limits);

}  // namespace smk::wire
