// Debian's libwbxml2 as an independent oracle: WBXML that SyncMLKit writes
// decodes with libwbxml2 (the code of its wbxml2xml tool) to XML equivalent
// to SyncMLKit's own XML, and WBXML that libwbxml2 writes decodes with
// SyncMLKit to the same model as the XML it came from.
#include <catch2/catch.hpp>

#include <pugixml.hpp>

#include "fixtures.hpp"
#include "generated_messages.hpp"
#include "syncmlkit/wire.hpp"
#include "wbxml_oracle.hpp"

using namespace smk::wire;

namespace {

const char* kDevInfXml = "application/vnd.syncml-devinf+xml";
const char* kDevInfWbxml = "application/vnd.syncml-devinf+wbxml";

std::string local_name(const char* name) {
    std::string_view n(name);
    auto colon = n.find(':');
    return std::string(colon == std::string_view::npos ? n : n.substr(colon + 1));
}

// libwbxml2 renames the DevInf type in both directions (see
// docs/ARCHITECTURE.md); equivalence does not depend on the spelling.
std::string normalise_type(std::string s) {
    return s == kDevInfWbxml ? kDevInfXml : s;
}

// Elements by local name with their text, attributes (namespaces) ignored.
// DevInf token 0x1C is "Size" in 1.1 and "MaxSize" in 1.2: one element.
void canonical(pugi::xml_node n, std::string& out, bool in_devinf = false) {
    for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element) {
            std::string name = local_name(c.name());
            bool devinf = in_devinf || name == "DevInf";
            if (devinf && name == "MaxSize") name = "Size";
            out += "<" + name + ">";
            canonical(c, out, devinf);
            out += "</>";
        } else if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
            out += "[" + normalise_type(c.value()) + "]";
        }
    }
}

std::string canonical_xml(const std::string& xml) {
    pugi::xml_document doc;
    auto result = doc.load_buffer(xml.data(), xml.size(), pugi::parse_cdata | pugi::parse_escapes);
    REQUIRE(result);
    std::string out;
    canonical(doc, out);
    return out;
}

// libwbxml2 rewrites bare LF to CRLF in vObject data when it encodes.
void normalise(Message& m);
void normalise(std::vector<Command>& cmds) {
    for (Command& c : cmds) {
        c.meta.type = normalise_type(c.meta.type);
        for (Item& it : c.items) {
            it.meta.type = normalise_type(it.meta.type);
            std::string d;
            for (std::size_t i = 0; i < it.data.size(); ++i)
                if (!(it.data[i] == '\r' && i + 1 < it.data.size() && it.data[i + 1] == '\n')) d += it.data[i];
            it.data = d;
        }
        normalise(c.children);
    }
}
void normalise(Message& m) { normalise(m.body); }

void use_devinf_type(std::vector<Command>& cmds, const char* type) {
    for (Command& c : cmds) {
        if (c.meta.type == kDevInfXml || c.meta.type == kDevInfWbxml) c.meta.type = type;
        for (Item& it : c.items)
            if (it.devinf && (it.meta.type == kDevInfXml || it.meta.type == kDevInfWbxml)) it.meta.type = type;
    }
}

// libwbxml2 writes OPAQUE data into one CDATA section even when the data holds
// "]]>", which breaks the XML it produces: a known defect of the oracle, so it
// is not asked about such data (test_roundtrip covers it).
void avoid_cdata_terminator(std::vector<Command>& cmds) {
    for (Command& c : cmds) {
        for (Item& it : c.items)
            for (std::size_t at; (at = it.data.find("]]>")) != std::string::npos;) it.data.replace(at, 3, "]] >");
        avoid_cdata_terminator(c.children);
    }
}

void check_libwbxml_reads_ours(Message m) {
    avoid_cdata_terminator(m.body);
    // A server labels a WBXML DevInf as +wbxml; libwbxml2 decodes the nested
    // document only when it is labelled so.
    use_devinf_type(m.body, kDevInfWbxml);
    std::string ours_wbxml = encode(m, Encoding::wbxml);
    std::string error;
    auto theirs = smk::test::libwbxml_to_xml(ours_wbxml, &error);
    INFO("libwbxml2: " << error);
    REQUIRE(theirs);
    std::string a = canonical_xml(*theirs), b = canonical_xml(encode(m, Encoding::xml));
    std::size_t at = 0;
    while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
    std::size_t from = at > 120 ? at - 120 : 0;
    INFO("libwbxml2: ..." << a.substr(from, 240) << "\nSyncMLKit: ..." << b.substr(from, 240));
    CHECK(a == b);
}

void check_we_read_libwbxml(const Message& m) {
    std::string xml = encode(m, Encoding::xml);
    std::string error;
    auto theirs = smk::test::libwbxml_from_xml(xml, &error);
    INFO("libwbxml2: " << error);
    REQUIRE(theirs);
    Message decoded = decode(*theirs, Encoding::wbxml);
    Message expected = m;
    normalise(decoded);
    normalise(expected);
    CHECK(decoded == expected);
}

}  // namespace

TEST_CASE("libwbxml2 decodes SyncMLKit's WBXML of generated messages to equivalent XML") {
    for (Version v : {Version::v1_1, Version::v1_2})
        for (unsigned seed = 0; seed < 4; ++seed) {
            INFO("version " << version_string(v) << " seed " << seed);
            check_libwbxml_reads_ours(smk::test::sample_message(v, seed, kDevInfWbxml));
        }
    check_libwbxml_reads_ours(smk::test::contacts_message(50));
}

TEST_CASE("libwbxml2 decodes SyncMLKit's WBXML of the captured messages to equivalent XML") {
    for (const std::string& f : smk::test::capture_files()) {
        if (f.find("/horde/testcase_P900") != std::string::npos) continue;  // SyncML 1.0: see below
        INFO(f);
        bool wbxml = f.size() > 6 && f.compare(f.size() - 6, 6, ".wbxml") == 0;
        check_libwbxml_reads_ours(decode(smk::test::read_fixture(f), wbxml ? Encoding::wbxml : Encoding::xml));
    }
}

TEST_CASE("SyncMLKit decodes libwbxml2's WBXML to the model of the XML it came from") {
    for (Version v : {Version::v1_1, Version::v1_2})
        for (unsigned seed = 0; seed < 4; ++seed) {
            INFO("version " << version_string(v) << " seed " << seed);
            check_we_read_libwbxml(smk::test::sample_message(v, seed, kDevInfXml));
        }
    for (const std::string& f : smk::test::capture_files()) {
        if (f.find(".xml") == std::string::npos || f.find("/horde/testcase_P900") != std::string::npos) continue;
        INFO(f);
        check_we_read_libwbxml(decode(smk::test::read_fixture(f), Encoding::xml));
    }
}
