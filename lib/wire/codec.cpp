// The public face of the codec: wire.hpp.
#include <cctype>

#include "syncmlkit/version.hpp"
#include "syncmlkit/wire.hpp"
#include "element_tree.hpp"
#include "text.hpp"
#include "trees.hpp"
#include "writers.hpp"

namespace smk {
const char* version() { return SMK_VERSION; }
}  // namespace smk

namespace smk::wire {

const char* content_type(Encoding enc) {
    return enc == Encoding::wbxml ? "application/vnd.syncml+wbxml" : "application/vnd.syncml+xml";
}

std::optional<Encoding> encoding_from_content_type(std::string_view ct) {
    ct = trim(ct.substr(0, ct.find(';')));
    if (equals_ignore_case(ct, "application/vnd.syncml+xml")) return Encoding::xml;
    if (equals_ignore_case(ct, "application/vnd.syncml+wbxml")) return Encoding::wbxml;
    return std::nullopt;
}

std::optional<Encoding> sniff_encoding(std::string_view bytes) {
    if (bytes.empty()) return std::nullopt;
    auto first = static_cast<unsigned char>(bytes[0]);
    if (first <= 0x03) return Encoding::wbxml;
    if (first == '<' || first == 0xEF || first == ' ' || first == '\t' || first == '\r' || first == '\n')
        return Encoding::xml;
    return std::nullopt;
}

namespace {
void parse_tree(std::string_view bytes, Encoding enc, const DecodeLimits& limits, pugi::xml_document& doc) {
    if (enc == Encoding::wbxml)
        parse_wbxml_tree(bytes, limits, doc);
    else
        parse_xml_tree(bytes, limits, doc);
}
}  // namespace

// Bytes to the thread's element tree to the model: WBXML directly, XML by
// the plain parser, or by pugixml for what the plain parser leaves to it.
Message decode(std::string_view bytes, Encoding enc, const DecodeLimits& limits) {
    TreeLease tree;
    if (enc == Encoding::wbxml) {
        parse_wbxml(bytes, limits, *tree);
        return read_message(*tree, limits);
    }
    if (bytes.size() <= limits.max_bytes && parse_plain_xml(bytes, limits, *tree)) return read_message(*tree, limits);
    pugi::xml_document doc;
    parse_xml_tree(bytes, limits, doc);
    tree->from_pugi(doc);  // views of `doc`, which outlives the reading
    return read_message(*tree, limits);
}

void encode(const Message& msg, Encoding enc, std::string& out) {
    std::optional<Version> version = msg.version();
    if (!version) throw EncodeError("cannot encode SyncML version \"" + msg.header.ver_dtd + "\"");
    out.clear();
    if (enc == Encoding::wbxml)
        write_wbxml(msg, *version, out);
    else
        write_xml(msg, *version, out);
}

std::string encode(const Message& msg, Encoding enc) {
    std::string out;
    encode(msg, enc, out);
    return out;
}

std::size_t encoded_command_size(const Command& cmd, Version version, Encoding enc) {
    // One buffer per thread: sizing runs for every command of every reply.
    static thread_local std::string scratch;
    scratch.clear();
    if (enc == Encoding::wbxml)
        write_wbxml_command(cmd, version, scratch);
    else
        write_xml_command(cmd, version, scratch);
    return scratch.size();
}

std::string render_xml(std::string_view bytes, Encoding enc, const DecodeLimits& limits) {
    pugi::xml_document doc;
    parse_tree(bytes, enc, limits, doc);
    struct StringWriter : pugi::xml_writer {
        std::string out;
        void write(const void* data, std::size_t size) override { out.append(static_cast<const char*>(data), size); }
    } writer;
    doc.save(writer, "  ", pugi::format_indent, pugi::encoding_utf8);
    return std::move(writer.out);
}

}  // namespace smk::wire
