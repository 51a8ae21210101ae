// The plain XML parser (element_tree.hpp) takes on only documents pugixml
// reads too, and reads them into the same model: for every captured message,
// made-up ones, edge cases, and every one-byte change and truncation of a
// message, either it leaves the document to pugixml or both give the same
// Message (or the same DecodeError).
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "wire/element_tree.hpp"
#include "fixtures.hpp"
#include "generated_messages.hpp"
#include "syncmlkit/wire.hpp"
#include "wire/trees.hpp"

using namespace smk::wire;

namespace {

struct Outcome {
    std::optional<Message> msg;
    std::string error;  // what() and offset of a DecodeError
};

Outcome read(const ElementTree& tree, const DecodeLimits& limits) {
    Outcome out;
    try {
        out.msg = read_message(tree, limits);
    } catch (const DecodeError& e) {
        out.error = std::string(e.what()) + " @" + std::to_string(e.offset());
    }
    return out;
}

// nullopt: the plain parser left the document to pugixml.
std::optional<Outcome> plain(std::string_view bytes, const DecodeLimits& limits = {}) {
    ElementTree tree;
    if (!parse_plain_xml(bytes, limits, tree)) return std::nullopt;
    return read(tree, limits);
}

// nullopt: pugixml (with the checks of parse_xml_tree) refuses the document.
std::optional<Outcome> through_pugixml(std::string_view bytes, const DecodeLimits& limits = {}) {
    pugi::xml_document doc;
    try {
        parse_xml_tree(bytes, limits, doc);
    } catch (const DecodeError&) {
        return std::nullopt;
    }
    ElementTree tree;
    tree.from_pugi(doc);
    return read(tree, limits);
}

// True when the plain parser read `bytes`; fails the test when it read
// something pugixml refuses or reads differently.
bool agrees(std::string_view bytes, const DecodeLimits& limits = {}) {
    std::optional<Outcome> a = plain(bytes, limits);
    if (!a) return false;
    std::optional<Outcome> b = through_pugixml(bytes, limits);
    INFO("document: " << std::string(bytes.substr(0, 400)));
    REQUIRE(b.has_value());
    CHECK(a->error == b->error);
    REQUIRE(a->msg.has_value() == b->msg.has_value());
    if (a->msg) CHECK(*a->msg == *b->msg);
    return true;
}

const char* kSmall =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<SyncML xmlns='SYNCML:SYNCML1.2'>\n"
    "  <SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto><SessionID>7</SessionID>"
    "<MsgID>1</MsgID><Target><LocURI>http://a/sync</LocURI></Target>"
    "<Source><LocURI>dev &amp; 1</LocURI><LocName>al&#x69;ce</LocName></Source>"
    "<Cred><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-basic</Type></Meta><Data>YTpi</Data></Cred>"
    "<Meta><MaxMsgSize xmlns=\"syncml:metinf\">20000</MaxMsgSize></Meta></SyncHdr>\n"
    "  <SyncBody>\n"
    "    <Alert><CmdID>1</CmdID><Data>200</Data><Item><Target><LocURI>card</LocURI></Target>"
    "<Source><LocURI>contacts</LocURI></Source><Meta><Anchor xmlns=\"syncml:metinf\"><Last>1</Last>"
    "<Next>2</Next></Anchor></Meta></Item></Alert>\n"
    "    <Sync><CmdID>2</CmdID><Target><LocURI>card</LocURI></Target>"
    "<Add><CmdID>3</CmdID><Meta><m:Type xmlns:m=\"syncml:metinf\">text/x-vcard</m:Type></Meta>"
    "<Item><Source><LocURI>1</LocURI></Source><Data>  <![CDATA[BEGIN:VCARD\r\nN:A;B\r\n]]>"
    "&lt;x&gt; &#65;&#x42;<![CDATA[END:VCARD\r\n]]>  </Data></Item></Add>"
    "<Replace><CmdID>4</CmdID><Item><Source><LocURI>2</LocURI></Source><Data>BEGIN:VCARD&#13;&#10;"
    "N:&quot;q&quot;;&apos;s&apos;&#13;&#10;END:VCARD</Data><MoreData/></Item></Replace></Sync>\n"
    "    <Final/>\n"
    "  </SyncBody>\n"
    "</SyncML>\n";

}  // namespace

TEST_CASE("the plain XML parser reads every captured XML message as pugixml does") {
    std::size_t xml = 0, read = 0;
    for (const std::string& f : smk::test::capture_files()) {
        if (f.size() > 6 && f.compare(f.size() - 6, 6, ".wbxml") == 0) continue;
        ++xml;
        INFO(f);
        read += agrees(smk::test::read_fixture(f));
    }
    REQUIRE(xml >= 150);
    // Captures with a DOCTYPE or comments are left to pugixml; the rest are
    // read by the plain parser.
    CHECK(read * 10 >= xml * 8);
}

TEST_CASE("the plain XML parser reads made-up messages and edge cases as pugixml does") {
    for (std::size_t n : {1u, 10u, 300u}) {
        std::string bytes = encode(smk::test::contacts_message(n), Encoding::xml);
        CHECK(agrees(bytes));
    }
    CHECK(agrees(kSmall));
    CHECK(agrees(std::string("\xEF\xBB\xBF") + kSmall));           // a byte-order mark
    CHECK(agrees("<SyncML><SyncHdr/><SyncBody/></SyncML>"));          // no declaration
    CHECK(agrees("<SyncML><SyncHdr></SyncHdr></SyncML>"));             // no SyncBody: the same error
    CHECK(agrees("<Foo/>"));                                           // not SyncML: the same error
    CHECK(agrees("<SyncML><SyncHdr><VerDTD>1.1</VerDTD></SyncHdr><SyncBody><Status><Data> </Data>"
                 "</Status></SyncBody></SyncML>"));                   // white space alone is dropped
    CHECK(agrees("<s:SyncML xmlns:s='x'><s:SyncHdr/><s:SyncBody><s:Final /></s:SyncBody></s:SyncML>"));
    CHECK(agrees("<SyncML><SyncHdr/><SyncBody><Put><Item><Data>\xC3\xA9\xFF</Data></Item></Put>"
                 "</SyncBody></SyncML>"));                             // bytes as they are
}

TEST_CASE("the plain XML parser leaves to pugixml what it does not take on") {
    auto declined = [](std::string_view bytes, const DecodeLimits& limits = {}) {
        ElementTree tree;
        return !parse_plain_xml(bytes, limits, tree);
    };
    const std::string body = "<SyncML><SyncHdr/><SyncBody/></SyncML>";
    CHECK(declined("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + body));
    CHECK(declined("<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" \"x\">" + body));
    CHECK(declined("<!-- a comment -->" + body));
    CHECK(declined("<SyncML><SyncHdr/><!-- x --><SyncBody/></SyncML>"));
    CHECK(declined("<SyncML><SyncHdr/><SyncBody><Status><Data>&#0;</Data></Status></SyncBody></SyncML>"));
    CHECK(declined("<SyncML><SyncHdr/><SyncBody><Status><Data>&nbsp;</Data></Status></SyncBody></SyncML>"));
    CHECK(declined("<SyncML><SyncHdr/><SyncBody></SyncHdr></SyncML>"));  // mismatched end tag
    CHECK(declined(body + "<x/>"));                                   // a second root
    CHECK(declined(std::string("<SyncML>\0</SyncML>", 18)));
    CHECK(declined("<SyncML a=\"&amp;\"><SyncHdr/><SyncBody/></SyncML>"));
    DecodeLimits shallow;
    shallow.max_depth = 3;  // SyncML, SyncBody, Status, Data: deeper than 3
    CHECK(declined("<SyncML><SyncHdr/><SyncBody><Status><Data>1</Data></Status></SyncBody></SyncML>", shallow));
    // decode() still refuses what pugixml refuses, as before.
    CHECK_THROWS_AS(decode("<SyncML><SyncHdr/><SyncBody></SyncHdr></SyncML>", Encoding::xml), DecodeError);
    CHECK_THROWS_AS(decode("<!DOCTYPE x [<!ENTITY a \"b\">]>" + body, Encoding::xml), DecodeError);
}

TEST_CASE("the plain XML parser agrees with pugixml on every one-byte change and truncation of a message") {
    const std::string base = kSmall;
    const char replacements[] = {'<', '>', '&', '/', '"', '\'', '!', '?', ' ', ']', '[', '\0', 'x', ':', '=', ';', '#'};
    std::size_t variants = 0, read = 0;
    for (std::size_t i = 0; i < base.size(); ++i) {
        for (char c : replacements) {
            if (base[i] == c) continue;
            std::string v = base;
            v[i] = c;
            ++variants;
            read += agrees(v);
        }
        ++variants;
        read += agrees(std::string_view(base).substr(0, i));
    }
    INFO(read << " of " << variants << " variants read by the plain parser");
    CHECK(variants > 20000);
    CHECK(read > variants / 20);  // a good share is still plain XML it reads itself
}
