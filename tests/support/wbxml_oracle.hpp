// Debian's libwbxml2 (the code behind its wbxml2xml and xml2wbxml tools), as
// an independent oracle for the project's own WBXML codec.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace smk::test {

/// WBXML to XML with libwbxml2; nullopt (and `error`) when it refuses.
std::optional<std::string> libwbxml_to_xml(std::string_view wbxml, std::string* error = nullptr);
/// XML to WBXML with libwbxml2, WBXML 1.2, no string table.
std::optional<std::string> libwbxml_from_xml(std::string_view xml, std::string* error = nullptr);

}  // namespace smk::test
