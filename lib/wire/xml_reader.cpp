// XML to element tree on pugixml, with the checks that make hostile input
// cheap: a size bound before parsing, no DTD processing (an internal subset
// is refused outright, so no entity can expand), and a nesting bound. A
// character reference to a character XML forbids reads as U+FFFD.
#include <cstdint>
#include <optional>
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

// pugixml expands a character reference to any number, even one XML
// forbids: &#0; would cut the text short, &#xD800; and &#x110000; would be
// invalid UTF-8. Such references (outside CDATA, comments and processing
// instructions, where "&#" is plain text) become &#xFFFD; in a copy of the
// message; nullopt when there is none.
std::optional<std::string> without_bad_char_refs(std::string_view bytes) {
    if (bytes.find("&#") == std::string_view::npos) return std::nullopt;
    std::optional<std::string> out;
    std::size_t copied = 0;
    std::size_t i = 0;
    auto skip_to = [&](std::string_view end) {
        std::size_t at = bytes.find(end, i);
        i = at == std::string_view::npos ? bytes.size() : at + end.size();
    };
    while (i < bytes.size()) {
        char c = bytes[i];
        if (c == '<') {
            std::string_view rest = bytes.substr(i);
            if (rest.substr(0, 9) == "<![CDATA[") skip_to("]]>");
            else if (rest.substr(0, 4) == "<!--") skip_to("-->");
            else if (rest.substr(0, 2) == "<?") skip_to("?>");
            else ++i;
            continue;
        }
        if (c != '&' || i + 1 >= bytes.size() || bytes[i + 1] != '#') {
            ++i;
            continue;
        }
        std::size_t j = i + 2;
        bool hex = j < bytes.size() && bytes[j] == 'x';
        if (hex) ++j;
        std::uint64_t cp = 0;
        std::size_t digits = 0;
        for (; j < bytes.size(); ++j, ++digits) {
            char d = bytes[j];
            int v = d >= '0' && d <= '9' ? d - '0'
                    : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                    : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
                    : -1;
            if (v < 0) break;
            if (cp <= 0x10FFFF) cp = cp * (hex ? 16 : 10) + static_cast<std::uint64_t>(v);
        }
        if (digits == 0 || j >= bytes.size() || bytes[j] != ';') {  // not a reference: pugixml keeps it as text
            i += 2;
            continue;
        }
        bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                       (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
        if (!allowed) {
            if (!out) out.emplace().reserve(bytes.size() + 16);
            out->append(bytes.data() + copied, i - copied);
            *out += "&#xFFFD;";
            copied = j + 1;
        }
        i = j + 1;
    }
    if (out) out->append(bytes.data() + copied, bytes.size() - copied);
    return out;
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
    std::optional<std::string> cleaned = without_bad_char_refs(bytes);
    if (cleaned) bytes = *cleaned;
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

