// Hostile and broken input: a clear DecodeError, never a crash, never a
// runaway in time or memory. Run under AddressSanitizer and UBSan by the
// README's test command.
#include <catch2/catch.hpp>

#include <random>

#include "fixtures.hpp"
#include "generated_messages.hpp"
#include "syncmlkit/wire.hpp"

using namespace smk::wire;
using Catch::Matchers::Contains;

namespace {

std::string wbxml_sample() {
    return encode(smk::test::sample_message(Version::v1_2, 2, "application/vnd.syncml-devinf+wbxml"), Encoding::wbxml);
}

// A minimal WBXML SyncML 1.2 message around `body` (the bytes after <SyncML>).
std::string wbxml_doc(const std::string& body) { return std::string("\x02\xA4\x01\x6A\x00\x6D", 6) + body; }

std::string decode_error(std::string_view bytes, Encoding enc, const DecodeLimits& limits = {}) {
    try {
        decode(bytes, enc, limits);
    } catch (const DecodeError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("every truncation of a WBXML message is refused") {
    std::string full = wbxml_sample();
    REQUIRE_NOTHROW(decode(full, Encoding::wbxml));
    for (std::size_t len = 0; len < full.size(); ++len) {
        INFO("length " << len);
        CHECK_THROWS_AS(decode(std::string_view(full).substr(0, len), Encoding::wbxml), DecodeError);
    }
}

TEST_CASE("every truncation of an XML message is refused") {
    std::string full = smk::test::read_fixture("captures/funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml");
    REQUIRE_NOTHROW(decode(full, Encoding::xml));
    std::size_t end = full.rfind("</SyncML>");
    for (std::size_t len = 0; len < end; len += 7) {
        INFO("length " << len);
        CHECK_THROWS_AS(decode(std::string_view(full).substr(0, len), Encoding::xml), DecodeError);
    }
}

TEST_CASE("WBXML structural errors name the problem and the byte") {
    // <SyncHdr> then an unknown token 0x30 with content
    CHECK_THAT(decode_error(wbxml_doc("\x6C\x70\x01\x01\x01"), Encoding::wbxml),
               Contains("unknown tag token 0x30 on code page 0") && Contains("byte 7"));
    // a code page SyncML does not have
    CHECK_THAT(decode_error(wbxml_doc(std::string("\x00\x05\x6C\x01\x01", 5)), Encoding::wbxml),
               Contains("no code page 5"));
    // OPAQUE whose length runs past the end
    CHECK_THAT(decode_error(wbxml_doc("\x6C\x4F\xC3\x8F\xFF\xFF\x7F" "abc"), Encoding::wbxml),
               Contains("runs past the end"));
    // a multi-byte integer that never ends
    CHECK_THAT(decode_error(wbxml_doc("\x6C\x4F\xC3\xFF\xFF\xFF\xFF\xFF\xFF\x01"), Encoding::wbxml),
               Contains("multi-byte integer"));
    // an inline string without its NUL
    CHECK_THAT(decode_error(wbxml_doc("\x6C\x71\x03" "1.2"), Encoding::wbxml), Contains("terminating NUL"));
    // END with nothing open
    CHECK_THAT(decode_error(wbxml_doc("\x01\x01"), Encoding::wbxml), Contains("data after the end"));
    // a string table reference past the (empty) table
    CHECK_THAT(decode_error(wbxml_doc("\x6C\x71\x83\x05\x01\x01\x01"), Encoding::wbxml), Contains("string table"));
    // an unsupported WBXML version and charset
    CHECK_THAT(decode_error(std::string("\x07\xA4\x01\x6A\x00\x6D\x01", 7), Encoding::wbxml),
               Contains("WBXML version"));
    CHECK_THAT(decode_error(std::string("\x02\xA4\x01\x11\x00\x6D\x01", 7), Encoding::wbxml),
               Contains("charset (MIBenum 17)"));
    // a NUL byte inside text
    CHECK_THAT(decode_error(wbxml_doc(std::string("\x6C\x71\xC3\x03\x31\x00\x32\x01\x01\x01", 10)), Encoding::wbxml),
               Contains("NUL"));
    CHECK_THAT(decode_error("", Encoding::wbxml), Contains("unexpected end of data"));
}

TEST_CASE("10,000-deep nesting is refused before it costs anything") {
    std::string xml = "<SyncML>";
    for (int i = 0; i < 10000; ++i) xml += "<Atomic>";
    CHECK_THROWS_AS(decode(xml, Encoding::xml), DecodeError);  // unclosed: either complaint will do
    std::string closed = xml;
    for (int i = 0; i < 10000; ++i) closed += "</Atomic>";
    closed += "</SyncML>";
    CHECK_THAT(decode_error(closed, Encoding::xml), Contains("nested deeper than 64"));

    std::string wbxml = wbxml_doc(std::string(10000, '\x48'));  // <Atomic> with content, 10,000 times
    CHECK_THAT(decode_error(wbxml, Encoding::wbxml), Contains("nested deeper than 64"));
    // a WBXML DevInf nested inside Data counts against the same bound
    DecodeLimits tight;
    tight.max_depth = 8;
    std::string sample = wbxml_sample();
    CHECK_THAT(decode_error(sample, Encoding::wbxml, tight), Contains("nested deeper than 8"));
}

TEST_CASE("entity bombs and external entities are refused, never expanded") {
    std::string bomb =
        "<?xml version=\"1.0\"?><!DOCTYPE SyncML [<!ENTITY lol \"lol\">"
        "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
        "<SyncML><SyncHdr><VerDTD>1.2</VerDTD><SessionID>1</SessionID><MsgID>1</MsgID></SyncHdr>"
        "<SyncBody><Alert><CmdID>1</CmdID><Data>&lol3;</Data></Alert></SyncBody></SyncML>";
    CHECK_THAT(decode_error(bomb, Encoding::xml), Contains("internal subset"));
    std::string external =
        "<?xml version=\"1.0\"?><!DOCTYPE SyncML [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
        "<SyncML><SyncHdr/><SyncBody><Alert><Data>&xxe;</Data></Alert></SyncBody></SyncML>";
    CHECK_THAT(decode_error(external, Encoding::xml), Contains("internal subset"));
    // Without a DTD an unknown entity stays the text it was.
    std::string plain =
        "<SyncML><SyncHdr><VerDTD>1.2</VerDTD><SessionID>1</SessionID><MsgID>1</MsgID></SyncHdr>"
        "<SyncBody><Alert><CmdID>1</CmdID><Data>&lol3;</Data></Alert></SyncBody></SyncML>";
    CHECK(decode(plain, Encoding::xml).body.at(0).data == "&lol3;");
    // A DOCTYPE without internal subset (wbxml2xml writes one) is fine.
    std::string doctype = "<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" \"http://x/y.dtd\">" + plain;
    CHECK_NOTHROW(decode(doctype, Encoding::xml));
}

TEST_CASE("a 50 MB body against a 10 MB limit is refused unread") {
    std::string big(50u * 1024 * 1024, ' ');
    big[0] = '<';
    DecodeLimits limits;  // 10 MiB by default
    CHECK_THAT(decode_error(big, Encoding::xml, limits), Contains("52428800 bytes exceeds the limit of 10485760"));
    big[0] = '\x02';
    CHECK_THAT(decode_error(big, Encoding::wbxml, limits), Contains("exceeds the limit"));
    CHECK_THROWS_AS(render_xml(big, Encoding::wbxml), DecodeError);
}

TEST_CASE("documents that are not SyncML messages") {
    CHECK_THAT(decode_error("<html><body/></html>", Encoding::xml), Contains("root element is <html>, not <SyncML>"));
    CHECK_THAT(decode_error("<SyncML><SyncBody/></SyncML>", Encoding::xml), Contains("has no <SyncHdr>"));
    CHECK_THAT(decode_error("<SyncML><SyncHdr/></SyncML>", Encoding::xml), Contains("has no <SyncBody>"));
    CHECK_THAT(decode_error("", Encoding::xml), Contains("XML: "));
    CHECK_THAT(decode_error("<SyncML>\n<SyncHdr>\n  <VerDTD>1.2</Ver>", Encoding::xml),
               Contains("line 3, column") && Contains("byte"));
    // a WBXML DevInf document where a SyncML message belongs
    CHECK_THAT(decode_error(std::string("\x02\xA4\x03\x6A\x00\x4A\x01", 7), Encoding::wbxml), Contains("not <SyncML>"));
}

TEST_CASE("random corruption never crashes the decoders") {
    std::mt19937 rng(20261125);
    std::string wbxml = wbxml_sample();
    std::string xml = encode(smk::test::sample_message(Version::v1_2, 2, "application/vnd.syncml-devinf+xml"),
                             Encoding::xml);
    int decoded = 0, refused = 0;
    for (int round = 0; round < 3000; ++round) {
        bool use_wbxml = round % 2 == 0;
        std::string bytes = use_wbxml ? wbxml : xml;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xFF);
        try {
            decode(bytes, use_wbxml ? Encoding::wbxml : Encoding::xml);
            render_xml(bytes, use_wbxml ? Encoding::wbxml : Encoding::xml);
            ++decoded;
        } catch (const DecodeError&) {
            ++refused;
        }
    }
    CHECK(decoded + refused == 3000);
    CHECK(refused > 0);
    CHECK(decoded > 0);
}

// Bytes from a list, so that NULs and high bytes need no escaping.
std::string B(std::initializer_list<int> bytes) {
    std::string out;
    for (int b : bytes) out += static_cast<char>(b);
    return out;
}

TEST_CASE("odd but valid WBXML: Latin-1 strings, entities, string table, raw nonces") {
    // charset 4 (ISO-8859-1) and a string table holding "1.2"; VerDTD by
    // STR_T, SessionID as a Latin-1 STR_I plus an ENTITY for U+20AC.
    std::string doc = B({0x02, 0xA4, 0x01, 0x04, 0x04}) + B({'1', '.', '2', 0}) +
                      B({0x6D, 0x6C, 0x71, 0x83, 0x00, 0x01}) +     // <SyncML><SyncHdr><VerDTD>STR_T 0</VerDTD>
                      B({0x65, 0x03, 'M', 0xFC, 0x00, 0x02, 0xC1, 0x2C, 0x01}) +  // <SessionID>...</SessionID>
                      B({0x01, 0x6B, 0x01, 0x01});                  // </SyncHdr><SyncBody></SyncBody></SyncML>
    Message m = decode(doc, Encoding::wbxml);
    CHECK(m.header.ver_dtd == "1.2");
    CHECK(m.header.session_id == "M\xC3\xBC\xE2\x82\xAC");

    // A NextNonce sent as 16 raw bytes arrives base64-encoded.
    std::string raw = B({0x00, 0x01, 0x02, 0xFF, 0xFE, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0});
    std::string body = B({0x6C, 0x5A, 0x00, 0x01, 0x50, 0xC3, 0x10}) + raw +  // <SyncHdr><Meta><NextNonce>OPAQUE
                       B({0x01, 0x00, 0x00, 0x01, 0x01, 0x6B, 0x01, 0x01});
    Message nonce = decode(wbxml_doc(body), Encoding::wbxml);
    CHECK(nonce.header.meta.next_nonce == "AAEC//4QIDBAUGBwgJCgsA==");
}

TEST_CASE("an OPAQUE Data that looks like WBXML but is no DevInf is refused as binary data, not misread") {
    std::string not_devinf = B({0x02, 0xA4, 0x03, 0x6A, 0x00, 0x4A, 0x6F, 0x01, 0x01});  // token 0x2F: unused in DevInf
    std::string put = B({0x6C, 0x01, 0x6B, 0x5F, 0x4B, 0x03, '1', 0x00, 0x01, 0x54, 0x4F, 0xC3}) +
                      static_cast<char>(not_devinf.size()) + not_devinf + B({0x01, 0x01, 0x01, 0x01, 0x01});
    CHECK_THAT(decode_error(wbxml_doc(put), Encoding::wbxml), Contains("NUL bytes in <Data>"));
    // The same bytes without NULs are plain data.
    std::string text = "\x03not really WBXML";
    std::string put_text = B({0x6C, 0x01, 0x6B, 0x5F, 0x4B, 0x03, '1', 0x00, 0x01, 0x54, 0x4F, 0xC3}) +
                           static_cast<char>(text.size()) + text + B({0x01, 0x01, 0x01, 0x01, 0x01});
    Message kept = decode(wbxml_doc(put_text), Encoding::wbxml);
    REQUIRE(kept.body.size() == 1);
    CHECK_FALSE(kept.body[0].items.at(0).devinf);
    CHECK(kept.body[0].items.at(0).data == text);
}
