// Fuzz bodies of the SyncML codec.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "entries.hpp"
#include "syncmlkit/wire.hpp"

namespace smk::fuzz {
namespace {

using wire::Encoding;

[[noreturn]] void broken(const char* what, const std::string& detail) {
    std::fprintf(stderr, "fuzz invariant broken: %s: %s\n", what, detail.c_str());
    std::abort();
}

// The first line where the renderings of two messages differ.
std::string first_difference(std::string_view a, std::string_view b, Encoding enc) {
    std::string ra, rb;
    try {
        ra = wire::render_xml(a, enc);
        rb = wire::render_xml(b, enc);
    } catch (const wire::DecodeError& e) {
        return e.what();
    }
    std::size_t line = 1, i = 0;
    while (i < ra.size() && i < rb.size() && ra[i] == rb[i]) line += ra[i++] == '\n';
    std::size_t start = ra.rfind('\n', i) == std::string::npos ? 0 : ra.rfind('\n', i) + 1;
    return "line " + std::to_string(line) + "\n  before: " + ra.substr(start, ra.find('\n', i) - start) +
           "\n  after:  " + rb.substr(start, rb.find('\n', i) - start) +
           (ra == rb ? "\n  (the renderings are equal: a field the rendering does not show)" : "");
}

int decode_body(const std::uint8_t* data, std::size_t size, Encoding enc) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    wire::DecodeLimits limits;
    limits.max_bytes = 1u << 20;
    wire::Message msg;
    try {
        msg = wire::decode(bytes, enc, limits);
    } catch (const wire::DecodeError&) {
        // Refused input must also be refused (not crash) by the renderer.
        try {
            (void)wire::render_xml(bytes, enc, limits);
        } catch (const wire::DecodeError&) {
        }
        return 0;
    }
    // What decodes also renders.
    try {
        (void)wire::render_xml(bytes, enc, limits);
    } catch (const wire::DecodeError& e) {
        broken("decodes but does not render", e.what());
    }
    // What decodes is written again. The reader takes any field in any
    // command while the writer writes the fields of each kind, so the first
    // round trip may drop what does not belong; from then on the message is
    // stable: what the codec writes, it reads back as the same message. The
    // other encoding must not crash either way.
    for (Encoding out : {enc, enc == Encoding::xml ? Encoding::wbxml : Encoding::xml}) {
        std::string written;
        try {
            written = wire::encode(msg, out);
        } catch (const wire::EncodeError&) {
            continue;
        }
        wire::Message once;
        try {
            once = wire::decode(written, out, limits);
        } catch (const wire::DecodeError& e) {
            if (out == enc) broken("own output does not decode", e.what());
            continue;
        }
        if (out != enc) continue;
        std::string rewritten;
        wire::Message twice;
        try {
            rewritten = wire::encode(once, out);
            twice = wire::decode(rewritten, out, limits);
        } catch (const std::exception& e) {
            broken("own output, read back, no longer encodes or decodes", e.what());
        }
        if (!(twice == once)) broken("a written message read back differently", first_difference(written, rewritten, out));
    }
    return 0;
}

}  // namespace

int xml_decode(const std::uint8_t* data, std::size_t size) { return decode_body(data, size, Encoding::xml); }
int wbxml_decode(const std::uint8_t* data, std::size_t size) { return decode_body(data, size, Encoding::wbxml); }

EntryFunction entry_named(std::string_view name) {
    if (name == "xml_decode") return xml_decode;
    if (name == "wbxml_decode") return wbxml_decode;
    if (name == "pim_vcard") return pim_vcard;
    if (name == "pim_vcalendar") return pim_vcalendar;
    if (name == "pim_icalendar") return pim_icalendar;
    if (name == "pim_sif") return pim_sif;
    if (name == "pim_note") return pim_note;
    if (name == "session") return session;
    return nullptr;
}

}  // namespace smk::fuzz
