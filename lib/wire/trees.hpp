// Bytes to a pugixml tree, checked against the DecodeLimits: render_xml
// prints these; decode() reads XML this way when the plain parser of
// element_tree.hpp leaves a message to pugixml. Both encodings end in the
// same tree.
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

}  // namespace smk::wire
