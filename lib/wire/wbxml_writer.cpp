// Element events to WBXML: version 1.2 header, numeric public id, UTF-8, no
// string table, which every client seen accepts. Text goes out as STR_I,
// item payloads as OPAQUE byte for byte, and a DevInf as a WBXML document of
// its own inside OPAQUE Data, as the SyncML standard wants.
#include <vector>

#include "element_sink.hpp"
#include "writers.hpp"

namespace smk::wire {
namespace {

constexpr char SWITCH_PAGE = 0x00, END = 0x01, STR_I = 0x03, OPAQUE = static_cast<char>(0xC3);
constexpr unsigned char kContent = 0x40;

void put_mb_uint32(std::string& out, std::uint32_t v) {
    char buf[5];
    int n = 0;
    do {
        buf[n++] = static_cast<char>(v & 0x7F);
        v >>= 7;
    } while (v);
    while (n > 1) out += static_cast<char>(buf[--n] | 0x80);
    out += buf[0];
}

void put_header(std::string& out, std::uint32_t public_id) {
    out += static_cast<char>(0x02);  // WBXML 1.2
    put_mb_uint32(out, public_id);
    out += static_cast<char>(0x6A);  // UTF-8
    out += static_cast<char>(0x00);  // empty string table
}

class WbxmlSink : public ElementSink {
public:
    WbxmlSink(std::string& out, Version version) : version_(version) {
        docs_.push_back({&out, {}, 0});
        put_header(out, public_id({DocKind::syncml, version}));
    }
    /// For a fragment: tokens inside a SyncBody, without the document header.
    struct Fragment {};
    WbxmlSink(std::string& out, Version version, Fragment) : version_(version) { docs_.push_back({&out, {}, 0}); }

    void open(Tag tag) override {
        if (tag == Tag::DevInf) {  // a document of its own, sent as OPAQUE
            docs_.push_back({nullptr, {}, 0});
            put_header(docs_.back().own, public_id({DocKind::devinf, version_}));
        }
        start(tag, true);
        stack_.push_back(tag);
    }
    void close() override {
        Tag tag = stack_.back();
        stack_.pop_back();
        out() += END;
        if (tag == Tag::DevInf) {
            std::string nested = std::move(docs_.back().own);
            docs_.pop_back();
            put_opaque(nested);
        }
    }
    void flag(Tag tag) override { start(tag, false); }
    void text(Tag tag, std::string_view value) override {
        if (value.empty()) return flag(tag);
        start(tag, true);
        if (value.find('\0') != std::string_view::npos) {
            put_opaque(value);  // STR_I cannot hold a NUL
        } else {
            std::string& o = out();
            o += STR_I;
            o += value;
            o += '\0';
        }
        out() += END;
    }
    void payload(Tag tag, std::string_view value) override {
        if (value.empty()) return flag(tag);
        start(tag, true);
        put_opaque(value);
        out() += END;
    }

private:
    struct Doc {
        std::string* external;  // the caller's buffer, for the outer document
        std::string own;        // the buffer of a nested document
        std::uint8_t page;   // current code page
    };

    static std::string& buffer(Doc& d) { return d.external ? *d.external : d.own; }
    std::string& out() { return buffer(docs_.back()); }

    void start(Tag tag, bool content) {
        const TagInfo& info = tag_info(tag);
        Doc& d = docs_.back();
        std::uint8_t page = info.ns == Ns::metinf ? 1 : 0;
        std::string& o = buffer(d);
        if (page != d.page) {
            o += SWITCH_PAGE;
            o += static_cast<char>(page);
            d.page = page;
        }
        o += static_cast<char>(info.token | (content ? kContent : 0));
    }

    void put_opaque(std::string_view bytes) {
        std::string& o = out();
        o += OPAQUE;
        put_mb_uint32(o, static_cast<std::uint32_t>(bytes.size()));
        o += bytes;
    }

    Version version_;
    std::vector<Doc> docs_;
    std::vector<Tag> stack_;
};

}  // namespace

void write_wbxml(const Message& msg, Version version, std::string& out) {
    WbxmlSink sink(out, version);
    write_message(msg, sink);
}

void write_wbxml_command(const Command& cmd, Version version, std::string& out) {
    WbxmlSink sink(out, version, WbxmlSink::Fragment{});
    write_command(cmd, sink);
}

}  // namespace smk::wire
