// WBXML (WAP Binary XML) to element tree (element_tree.hpp), for the SyncML
// and DevInf vocabularies. Written here rather than taken from libwbxml2: Debian ships
// only its conversion API, which goes through XML text (breaking binary
// OPAQUE data), rewrites line ends, recurses once per nesting level, and
// decodes a nested DevInf only when its Meta Type says so. This decoder is
// iterative, checks every length against the input, and bounds nesting.
#include <cstring>
#include <string>
#include <vector>

#include "tags.hpp"
#include "text.hpp"
#include "element_tree.hpp"
#include "trees.hpp"

namespace smk::wire {
namespace {

// WBXML global tokens.
constexpr std::uint8_t SWITCH_PAGE = 0x00, END = 0x01, ENTITY = 0x02, STR_I = 0x03, LITERAL = 0x04,
                       EXT_I_0 = 0x40, EXT_I_2 = 0x42, PI = 0x43, EXT_T_0 = 0x80, EXT_T_2 = 0x82,
                       STR_T = 0x83, EXT_0 = 0xC0, EXT_2 = 0xC2, OPAQUE = 0xC3;

// IANA MIBenum values of the charsets accepted.
constexpr std::uint32_t kCharsetUnknown = 0, kCharsetAscii = 3, kCharsetLatin1 = 4, kCharsetUtf8 = 106;

class WbxmlParser {
public:
    // `base` is where `in` starts inside the outermost input (for error
    // offsets); `depth_base` the nesting level the document starts at.
    WbxmlParser(std::string_view in, const DecodeLimits& limits, ElementTree& tree, std::size_t base,
                std::size_t depth_base)
        : in_(in), limits_(limits), tree_(tree), tags_(tag_table()), base_(base), depth_base_(depth_base) {}

    // Parses the whole document and appends its root element to `parent`.
    // Returns the document's language.
    DocLanguage parse(std::uint32_t parent, std::optional<DocKind> expected) {
        read_header(expected);
        read_body(parent);
        return lang_;
    }

private:
    [[noreturn]] void fail(const std::string& what) const { fail_at(what, pos_); }
    [[noreturn]] void fail_at(const std::string& what, std::size_t pos) const {
        std::size_t at = base_ + pos;
        throw DecodeError("WBXML: " + what + " (byte " + std::to_string(at) + ")", at);
    }

    std::uint8_t next_byte() {
        if (pos_ >= in_.size()) fail("unexpected end of data");
        return static_cast<std::uint8_t>(in_[pos_++]);
    }

    std::uint32_t read_mb_uint32() {
        std::uint64_t value = 0;
        for (int i = 0; i < 5; ++i) {
            std::uint8_t b = next_byte();
            value = (value << 7) | (b & 0x7F);
            if (!(b & 0x80)) {
                if (value > 0xFFFFFFFFu) fail("multi-byte integer overflows 32 bits");
                return static_cast<std::uint32_t>(value);
            }
        }
        fail("multi-byte integer longer than 5 bytes");
    }

    std::string_view read_inline_string() {
        const char* start = in_.data() + pos_;
        const void* nul = std::memchr(start, 0, in_.size() - pos_);
        if (!nul) fail("inline string without terminating NUL");
        std::size_t len = static_cast<const char*>(nul) - start;
        pos_ += len + 1;
        return {start, len};
    }

    std::string_view table_string(std::uint32_t offset) {
        if (offset >= strtbl_.size()) fail("string table reference " + std::to_string(offset) + " past its end");
        const char* start = strtbl_.data() + offset;
        const void* nul = std::memchr(start, 0, strtbl_.size() - offset);
        std::size_t len = nul ? static_cast<const char*>(nul) - start : strtbl_.size() - offset;
        return {start, len};
    }

    std::string_view read_bytes(std::uint32_t len, const char* what) {
        if (len > in_.size() - pos_)
            fail(std::string(what) + " length " + std::to_string(len) + " runs past the end of data");
        std::string_view bytes = in_.substr(pos_, len);
        pos_ += len;
        return bytes;
    }

    void read_header(std::optional<DocKind> expected) {
        std::uint8_t version = next_byte();
        if (version > 0x03) fail("unsupported WBXML version byte " + hex_byte(version));
        std::uint32_t public_id = read_mb_uint32();
        std::uint32_t fpi_index = 0;
        if (public_id == 0) fpi_index = read_mb_uint32();
        if (version >= 0x01) charset_ = read_mb_uint32();
        if (charset_ != kCharsetUnknown && charset_ != kCharsetAscii && charset_ != kCharsetLatin1 &&
            charset_ != kCharsetUtf8)
            fail("unsupported charset (MIBenum " + std::to_string(charset_) + ")");
        std::uint32_t strtbl_len = read_mb_uint32();
        strtbl_ = read_bytes(strtbl_len, "string table");

        std::optional<DocLanguage> lang =
            public_id == 0 ? language_from_fpi(table_string(fpi_index)) : language_from_public_id(public_id);
        // An unknown public id (0x01) is common on phones: take the newest
        // tables, which are a superset of the older ones.
        lang_ = lang.value_or(DocLanguage{expected.value_or(DocKind::syncml), Version::v1_2});
        if (expected && lang_.kind != *expected) fail("nested document is not a DevInf document");
    }

    Ns page_namespace(std::uint8_t page) const {
        if (lang_.kind == DocKind::devinf) {
            if (page != 0) fail("DevInf has no code page " + std::to_string(page));
            return Ns::devinf;
        }
        if (page == 0) return Ns::syncml;
        if (page == 1) return Ns::metinf;
        fail("SyncML has no code page " + std::to_string(page));
    }

    // Appends decoded text to the pending text of the open element. A single
    // piece that needs no conversion stays a view of the input.
    void append_text(std::string_view s) {
        if (open_.empty()) fail("text outside any element");
        if (charset_ == kCharsetLatin1) {
            materialize();
            append_latin1_as_utf8(pending_, s);
        } else {
            append_pending(s);
        }
    }

    void append_pending(std::string_view s) {
        if (!pending_is_ref_ && pending_.empty()) {
            pending_ref_ = s;
            pending_is_ref_ = true;
            return;
        }
        materialize();
        pending_.append(s);
    }

    void materialize() {
        if (!pending_is_ref_) return;
        pending_.assign(pending_ref_.data(), pending_ref_.size());
        pending_is_ref_ = false;
    }

    std::string_view pending() const { return pending_is_ref_ ? pending_ref_ : std::string_view(pending_); }

    std::string_view name_of(std::uint32_t node) const { return tree_.view(tree_.node(node)); }

    void flush_text() {
        std::string_view text = pending();
        if (text.empty()) {
            pending_is_ref_ = false;
            return;
        }
        std::uint32_t owner = open_.back().node;
        // Item payloads read best as CDATA, as the XML encoding sends them.
        bool is_data = name_of(owner) == "Data" && name_of(tree_.node(owner).parent) == "Item";
        if (text.find('\0') != std::string_view::npos)
            fail("text with NUL bytes in <" + std::string(name_of(owner)) + ">");
        auto kind = is_data ? ElementTree::Kind::cdata : ElementTree::Kind::pcdata;
        if (pending_is_ref_) tree_.append_text_ref(owner, text, kind);
        else tree_.append_text_copy(owner, text, kind);
        pending_.clear();
        pending_is_ref_ = false;
    }

    void on_opaque(std::string_view bytes) {
        if (open_.empty()) fail("OPAQUE data outside any element");
        std::uint32_t owner = open_.back().node;
        std::string_view name = name_of(owner);
        if (name == "Data" && try_nested_devinf(owner, bytes)) return;
        // Binary credentials and nonces are sent raw by some phones; XML
        // carries them as base64, so the tree does too.
        bool binary_field = (name == "NextNonce" || (name == "Data" && name_of(tree_.node(owner).parent) == "Cred"));
        if (binary_field && !is_printable_text(bytes)) {
            materialize();
            pending_ += base64_encode(bytes);
            return;
        }
        append_pending(bytes);  // opaque bytes are never charset-converted
    }

    // A DevInf sent as a WBXML document inside OPAQUE Data. Anything that
    // does not decode as one stays opaque data. The document is parsed under
    // a parent of its own and linked in once it decoded.
    bool try_nested_devinf(std::uint32_t data, std::string_view bytes) {
        if (bytes.size() < 4 || static_cast<std::uint8_t>(bytes[0]) > 0x03) return false;
        ElementTree::Mark mark = tree_.mark();
        std::uint32_t detached = tree_.append_element(ElementTree::npos, {}, Tag::Count_);
        try {
            WbxmlParser parser(bytes, limits_, tree_, base_ + pos_ - bytes.size(), depth_base_ + open_.size());
            parser.parse(detached, DocKind::devinf);
        } catch (const DecodeError&) {
            tree_.rollback(mark);
            return false;
        }
        flush_text();
        tree_.adopt_children(detached, data);
        return true;
    }

    void skip_attributes() {
        // SyncML defines no attributes; some phones still send an xmlns as a
        // LITERAL attribute. Skip attribute starts and values up to END.
        for (;;) {
            std::uint8_t t = next_byte();
            if (t == END) return;
            if (t == LITERAL || t == STR_T) read_mb_uint32();
            else if (t == STR_I) read_inline_string();
            else if (t == OPAQUE) read_bytes(read_mb_uint32(), "OPAQUE");
            else if (t == ENTITY) read_mb_uint32();
            else if (t == SWITCH_PAGE) next_byte();
        }
    }

    void read_body(std::uint32_t parent) {
        std::uint8_t page = 0;
        bool root_done = false;
        while (pos_ < in_.size()) {
            if (root_done) fail("data after the end of the document");
            std::uint8_t t = next_byte();
            switch (t) {
                case SWITCH_PAGE: page = next_byte(); continue;
                case END:
                    if (open_.empty()) fail("END without an open element");
                    flush_text();
                    open_.pop_back();
                    root_done = open_.empty();
                    continue;
                case ENTITY:  // a code point: no charset conversion
                    if (open_.empty()) fail("ENTITY outside any element");
                    materialize();
                    pending_ += utf8_encode(read_mb_uint32());
                    continue;
                case STR_I: append_text(read_inline_string()); continue;
                case STR_T: append_text(table_string(read_mb_uint32())); continue;
                case OPAQUE: on_opaque(read_bytes(read_mb_uint32(), "OPAQUE")); continue;
                case PI: fail("processing instructions are not used by SyncML");
                default: break;
            }
            if ((t >= EXT_I_0 && t <= EXT_I_2) || (t >= EXT_T_0 && t <= EXT_T_2) || (t >= EXT_0 && t <= EXT_2))
                fail("extension token " + hex_byte(t) + " is not used by SyncML");
            read_tag(t, page, parent);
            root_done = open_.empty();
        }
        if (!open_.empty()) fail("unexpected end of data inside <" + std::string(name_of(open_.back().node)) + ">");
        if (!root_done) fail("no root element");
    }

    void read_tag(std::uint8_t t, std::uint8_t page, std::uint32_t parent) {
        std::uint8_t id = t & 0x3F;
        Ns ns = page_namespace(page);
        std::string_view name;
        Tag tag;
        if (id == LITERAL) {
            name = table_string(read_mb_uint32());
            tag = tags_.find(local_part(name));
        } else {
            bool devinf_v12 = lang_.kind == DocKind::devinf && lang_.version == Version::v1_2;
            tag = tags_.canonical(tag_of_token(ns, id, devinf_v12));
            if (tag == Tag::Count_)
                fail_at("unknown tag token " + hex_byte(id) + " on code page " + std::to_string(page), pos_ - 1);
            name = tags_.name(tag);  // a canonical Tag has the token's name
        }
        flush_text();
        std::uint32_t node = tree_.append_element(open_.empty() ? parent : open_.back().node, name, tag);
        if (open_.empty()) {
            tree_.node(node).xmlns = lang_.kind == DocKind::devinf ? "syncml:devinf"
                                     : lang_.version == Version::v1_0 ? "SYNCML:SYNCML1.0"
                                     : lang_.version == Version::v1_1 ? "SYNCML:SYNCML1.1"
                                                                      : "SYNCML:SYNCML1.2";
        } else if (ns != open_.back().ns) {
            tree_.node(node).xmlns = ns == Ns::metinf ? "syncml:metinf" : "syncml:devinf";
        }
        if (t & 0x80) skip_attributes();
        if (t & 0x40) {
            if (depth_base_ + open_.size() + 1 > limits_.max_depth)
                fail("elements nested deeper than " + std::to_string(limits_.max_depth));
            open_.push_back({node, ns});
        }
    }

    struct Open {
        std::uint32_t node;
        Ns ns;
    };

    std::string_view in_;
    const DecodeLimits& limits_;
    ElementTree& tree_;
    const TagTable& tags_;
    std::size_t base_;
    std::size_t depth_base_;
    std::size_t pos_ = 0;
    std::uint32_t charset_ = kCharsetUtf8;
    std::string_view strtbl_;
    DocLanguage lang_{DocKind::syncml, Version::v1_2};
    std::vector<Open> open_;
    std::string pending_;
    std::string_view pending_ref_;
    bool pending_is_ref_ = false;
};

}  // namespace

void parse_wbxml(std::string_view bytes, const DecodeLimits& limits, ElementTree& tree) {
    if (bytes.size() > limits.max_bytes)
        throw DecodeError("message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                              std::to_string(limits.max_bytes),
                          0);
    tree.clear();
    WbxmlParser parser(bytes, limits, tree, 0, 0);
    // No expectation: a DevInf document here is refused by read_message.
    parser.parse(0, std::nullopt);
}

void parse_wbxml_tree(std::string_view bytes, const DecodeLimits& limits, pugi::xml_document& doc) {
    ElementTree tree;
    parse_wbxml(bytes, limits, tree);
    tree.to_pugi(doc);
}

}  // namespace smk::wire
