// XML to element tree on pugixml, with the checks that make hostile input
// cheap: a size bound before parsing, no DTD processing (an internal subset
// is refused outright, so no entity can expand), and a nesting bound.
#include <string>

#include "trees.hpp"

namespace smk::wire {
namespace {

// Predefined entities and character references only; CDATA kept; no line-end
// normalisation, so a CRLF in item data arrives as sent.
constexpr unsigned kParseOptions =
    pugi::parse_cdata | pugi::parse_escapes | pugi::parse_doctype | pugi::parse_wconv_attribute;

std::string position(std::string_view bytes, std::size_t offset) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < bytes.size(); ++i) {
        if (bytes[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " +
           std::to_string(offset) + ")";
}

class DepthCheck : public pugi::xml_tree_walker {
public:
    explicit DepthCheck(unsigned max) : max_(max) {}
    bool for_each(pugi::xml_node& node) override {
        if (depth() + 1 > static_cast<int>(max_)) {
            offender = node;
            return false;
        }
        return true;
    }
    pugi::xml_node offender;

private:
    unsigned max_;
};

void parse_checked(std::string_view bytes, const DecodeLimits& limits, pugi::xml_document& doc, const char* what) {
    if (bytes.size() > limits.max_bytes)
        throw DecodeError(std::string(what) + " of " + std::to_string(bytes.size()) +
                              " bytes exceeds the limit of " + std::to_string(limits.max_bytes),
                          0);
    pugi::xml_parse_result result = doc.load_buffer(bytes.data(), bytes.size(), kParseOptions);
    if (!result) {
        auto offset = static_cast<std::size_t>(result.offset);
        throw DecodeError(std::string("XML: ") + result.description() + " at " + position(bytes, offset), offset);
    }
    for (pugi::xml_node n = doc.first_child(); n; n = n.next_sibling()) {
        if (n.type() == pugi::node_doctype && std::string_view(n.value()).find('[') != std::string_view::npos) {
            auto offset = static_cast<std::size_t>(n.offset_debug());
            throw DecodeError("XML: a DOCTYPE with an internal subset is not accepted, at " + position(bytes, offset),
                              offset);
        }
    }
    DepthCheck check(limits.max_depth);
    if (!doc.traverse(check)) {
        auto offset = static_cast<std::size_t>(check.offender.offset_debug());
        throw DecodeError("XML: elements nested deeper than " + std::to_string(limits.max_depth) + " at " +
                              position(bytes, offset),
                          offset);
    }
}

}  // namespace

void parse_xml_tree(std::string_view bytes, const DecodeLimits& limits, pugi::xml_document& doc) {
    parse_checked(bytes, limits, doc, "message");
}

void parse_devinf_xml_tree(std::string_view text, const DecodeLimits& limits, pugi::xml_document& doc) {
    parse_checked(text, limits, doc, "DevInf");
}

}  // namespace smk::wire

