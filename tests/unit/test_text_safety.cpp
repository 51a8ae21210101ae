// Text safety in the codec: repair_utf8's rule, byte by byte; the XML writer
// never writes an ill-formed document whatever the model holds (checked with
// pugixml, Python's expat-based minidom and libxml2's xmllint); valid text
// round-trips byte for byte; character references XML forbids decode to
// U+FFFD instead of cutting text short or yielding invalid UTF-8.
#include <unicode/ustring.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <pugixml.hpp>
#include <random>

#include "syncmlkit/wire.hpp"
#include "temp_dir.hpp"
#include "wire/text.hpp"
#include "wire/writers.hpp"

using namespace smk::wire;

namespace {

const std::string kFFFD = "\xEF\xBF\xBD";

struct Repair {
    std::string text;
    std::size_t repairs;
};

Repair repair(std::string s) {
    std::size_t n = repair_utf8(s);
    return {s, n};
}

// ICU's view, an independent judge: valid UTF-8 (no surrogates, no overlong
// forms, nothing above U+10FFFF) and only characters of XML 1.0's Char.
bool icu_xml_text(const std::string& s) {
    std::vector<UChar> buf(s.size() + 1);
    int32_t length = 0;
    UErrorCode status = U_ZERO_ERROR;
    u_strFromUTF8(buf.data(), static_cast<int32_t>(buf.size()), &length, s.data(), static_cast<int32_t>(s.size()),
                  &status);
    if (U_FAILURE(status)) return false;
    for (int32_t i = 0; i < length;) {
        UChar32 c;
        U16_NEXT(buf.data(), i, length, c);
        bool ok = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
                  (c >= 0x10000 && c <= 0x10FFFF);
        if (!ok) return false;
    }
    return true;
}

}  // namespace

// ---------------------------------------------------------------------------
// repair_utf8

TEST_CASE("repair_utf8 leaves valid text alone, to the byte") {
    const std::string valid[] = {
        "",
        "plain ASCII, with\ttab\r\nand line ends",
        "M\xC3\xBCller Gr\xC3\xBC\xC3\x9F" "e",                 // Müller Grüße
        "\xE2\x82\xAC 100",                                      // €
        "\xE4\xB8\xAD\xE6\x96\x87",                              // 中文
        "\xF0\x9F\x98\x80 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",     // 😀 👍🏽
        "\xEF\xBB\xBF" "BOM",                                    // U+FEFF
        "\xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBD",                // U+D7FF U+E000 U+FFFD
        "\xF4\x8F\xBF\xBF \xF0\x90\x80\x80",                     // U+10FFFF U+10000
        "\xC2\x80 \xC2\x85 \xC2\x9F \x7F",                       // C1 controls and DEL: XML 1.0 allows them
        "]]> & < > \" '",
    };
    for (const std::string& s : valid) {
        INFO(s);
        CHECK(is_xml_text(s));
        Repair r = repair(s);
        CHECK(r.repairs == 0);
        CHECK(r.text == s);
    }
}

TEST_CASE("repair_utf8 reads bytes that are not UTF-8 as Windows-1252") {
    CHECK(repair("M\xFCller").text == "M\xC3\xBCller");
    CHECK(repair("M\xFCller").repairs == 1);
    CHECK(repair("Gr\xFC\xDF" "e aus K\xF6ln").text == "Gr\xC3\xBC\xC3\x9F" "e aus K\xC3\xB6ln");
    CHECK(repair("Gr\xFC\xDF" "e aus K\xF6ln").repairs == 3);
    // The 0x80-0x9F range is Windows-1252's, not Latin-1's C1 controls.
    CHECK(repair("\x80 5").text == "\xE2\x82\xAC 5");
    CHECK(repair("\x93quoted\x94").text == "\xE2\x80\x9Cquoted\xE2\x80\x9D");
    CHECK(repair("\x96\x97\x85\x99").text == "\xE2\x80\x93\xE2\x80\x94\xE2\x80\xA6\xE2\x84\xA2");
    CHECK(repair("\x8A\x8C\x8E\x9A\x9C\x9E\x9F").text ==
          "\xC5\xA0\xC5\x92\xC5\xBD\xC5\xA1\xC5\x93\xC5\xBE\xC5\xB8");
    // A lead byte followed by a closing quote: truncated UTF-8 in shape, but
    // it is "José”" in Windows-1252, and reads so.
    CHECK(repair("\x93Jos\xE9\x94").text == "\xE2\x80\x9CJos\xC3\xA9\xE2\x80\x9D");
    CHECK(repair("\x93Jos\xE9\x94").repairs == 3);
    // The five bytes Windows-1252 leaves undefined.
    Repair undefined = repair("a\x81" "b\x8D" "c\x8F" "d\x90" "e\x9D");
    CHECK(undefined.text == "a" + kFFFD + "b" + kFFFD + "c" + kFFFD + "d" + kFFFD + "e" + kFFFD);
    CHECK(undefined.repairs == 5);
    // F5-FF never start UTF-8.
    CHECK(repair("\xF5\xF8\xFE\xFF").text == "\xC3\xB5\xC3\xB8\xC3\xBE\xC3\xBF");
    // A continuation byte on its own.
    CHECK(repair("x\xA9y").text == "x\xC2\xA9y");
    CHECK(repair("\xBF").text == "\xC2\xBF");
}

TEST_CASE("repair_utf8: truncated sequences are Windows-1252 bytes") {
    // € cut after two of its three bytes, at the end and in the middle.
    Repair end = repair("5 \xE2\x82");
    CHECK(end.text == "5 \xC3\xA2\xE2\x80\x9A");  // â‚
    CHECK(end.repairs == 2);
    CHECK(repair("\xE2\x82x").text == "\xC3\xA2\xE2\x80\x9Ax");
    // 😀 cut after three of four bytes.
    Repair emoji = repair("\xF0\x9F\x98!");
    CHECK(emoji.text == "\xC3\xB0\xC5\xB8\xCB\x9C!");  // ðŸ˜
    CHECK(emoji.repairs == 3);
    // A lead byte at the very end.
    CHECK(repair("abc\xC3").text == "abc\xC3\x83");
    CHECK(repair("abc\xF0").text == "abc\xC3\xB0");
}

TEST_CASE("repair_utf8: overlong forms become one U+FFFD each") {
    CHECK(repair("\xC0\x80").text == kFFFD);              // NUL, Java's modified UTF-8
    CHECK(repair("\xC0\xAF").text == kFFFD);              // '/'
    CHECK(repair("\xC1\xBF").text == kFFFD);              // U+007F
    CHECK(repair("\xE0\x80\xAF").text == kFFFD);          // '/' in three bytes
    CHECK(repair("\xE0\x9F\xBF").text == kFFFD);          // U+07FF in three bytes
    CHECK(repair("\xF0\x80\x80\xAF").text == kFFFD);      // '/' in four bytes
    CHECK(repair("\xF0\x8F\xBF\xBF").text == kFFFD);      // U+FFFF in four bytes
    Repair r = repair("a\xC0\xBC" "b\xE0\x80\xBC" "c");   // '<' hidden twice
    CHECK(r.text == "a" + kFFFD + "b" + kFFFD + "c");
    CHECK(r.repairs == 2);
}

TEST_CASE("repair_utf8: encoded surrogates") {
    // Lone ones, high and low.
    CHECK(repair("\xED\xA0\x80").text == kFFFD);
    CHECK(repair("\xED\xBF\xBF").text == kFFFD);
    CHECK(repair("a\xED\xB0\x80z").text == "a" + kFFFD + "z");
    // A CESU-8 pair (D83D DE00) is the character it stands for: 😀.
    Repair pair = repair("\xED\xA0\xBD\xED\xB8\x80");
    CHECK(pair.text == "\xF0\x9F\x98\x80");
    CHECK(pair.repairs == 1);
    // The wrong way round: two lone ones.
    Repair reversed = repair("\xED\xB8\x80\xED\xA0\xBD");
    CHECK(reversed.text == kFFFD + kFFFD);
    CHECK(reversed.repairs == 2);
    // A high one followed by something else.
    CHECK(repair("\xED\xA0\xBDx").text == kFFFD + "x");
    CHECK(repair("\xED\xA0\xBD\xED\xA0\xBD").text == kFFFD + kFFFD);
}

TEST_CASE("repair_utf8: code points above U+10FFFF") {
    CHECK(repair("\xF4\x90\x80\x80").text == kFFFD);  // U+110000
    CHECK(repair("\xF4\xBF\xBF\xBF").text == kFFFD);
    CHECK(repair("\xF4\x90\x80\x80").repairs == 1);
    // F5 and above never lead: four Windows-1252 characters.
    Repair f5 = repair("\xF5\x80\x80\x80");
    CHECK(f5.text == "\xC3\xB5\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC");
    CHECK(f5.repairs == 4);
}

TEST_CASE("repair_utf8: characters XML 1.0 forbids become U+FFFD") {
    std::string nul("a\0b", 3);
    Repair r = repair(nul);
    CHECK(r.text == "a" + kFFFD + "b");
    CHECK(r.repairs == 1);
    for (int c = 0; c < 0x20; ++c) {
        std::string s(1, static_cast<char>(c));
        INFO(c);
        if (c == 9 || c == 10 || c == 13) CHECK(repair(s).text == s);
        else CHECK(repair(s).text == kFFFD);
    }
    CHECK(repair("\xEF\xBF\xBE").text == kFFFD);  // U+FFFE
    CHECK(repair("\xEF\xBF\xBF").text == kFFFD);  // U+FFFF
    CHECK(repair("\x1B[1mbold\x1B[0m").text == kFFFD + "[1mbold" + kFFFD + "[0m");
}

TEST_CASE("repair_utf8: mixed valid and invalid text") {
    std::string in = "Gr\xC3\xBC\xC3\x9F" "e \xFC \xF0\x9F\x98\x80 \xC0\x80 \x01 \xE2\x82\xAC \x80 \xED\xA0\x80 end";
    std::string want = "Gr\xC3\xBC\xC3\x9F" "e \xC3\xBC \xF0\x9F\x98\x80 " + kFFFD + " " + kFFFD +
                       " \xE2\x82\xAC \xE2\x82\xAC " + kFFFD + " end";
    Repair r = repair(in);
    CHECK(r.text == want);
    CHECK(r.repairs == 5);
    CHECK(is_xml_text(r.text));
    CHECK(repaired_utf8(in) == want);
}

TEST_CASE("repair_utf8 agrees with ICU on what is valid, and always ends valid") {
    // Every one- and two-byte string, then random strings of bytes drawn
    // mostly from the troublesome ranges.
    auto check = [](const std::string& s) {
        bool valid = icu_xml_text(s);
        if (is_xml_text(s) != valid) FAIL_CHECK("is_xml_text disagrees with ICU on " << s.size() << " bytes");
        std::string fixed = s;
        std::size_t n = repair_utf8(fixed);
        if ((n == 0) != valid) FAIL_CHECK("repair count " << n << " for text ICU judges " << valid);
        if (!icu_xml_text(fixed)) FAIL_CHECK("repaired text is not valid for ICU");
        std::string again = fixed;
        if (repair_utf8(again) != 0 || again != fixed) FAIL_CHECK("repair is not idempotent");
        if (valid && fixed != s) FAIL_CHECK("valid text changed");
    };
    std::size_t checked = 0;
    for (int a = 0; a < 256; ++a) {
        check(std::string(1, static_cast<char>(a)));
        ++checked;
        for (int b = 0; b < 256; ++b) {
            check(std::string{static_cast<char>(a), static_cast<char>(b)});
            ++checked;
        }
    }
    const unsigned char pool[] = {0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F, 0x20, 'a', '<', 0x7F, 0x80, 0x81, 0x8F, 0x90,
                                  0x9D, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0,
                                  0xF4, 0xF5, 0xFF, 0xA5, 0xB8, 0xBE, 0x8A, 0x98};
    std::mt19937 rng(8);
    std::uniform_int_distribution<std::size_t> pick(0, sizeof pool - 1), len(1, 9);
    for (int i = 0; i < 200000; ++i) {
        std::string s;
        for (std::size_t n = len(rng); n > 0; --n) s += static_cast<char>(pool[pick(rng)]);
        check(s);
        ++checked;
    }
    CHECK(checked == 256 + 65536 + 200000);
}

// ---------------------------------------------------------------------------
// The XML writer

namespace {

// Every kind of bad text the model can hold.
std::vector<std::string> bad_texts() {
    return {
        "M\xFCller",                               // Latin-1
        "\x93" "quoted\x94 \x80",                  // Windows-1252
        std::string("nul\0byte", 8),               // NUL
        "bell\x07 esc\x1B vt\x0B ff\x0C",          // C0 controls
        "\xC0\x80 \xC0\xBC overlong \xE0\x80\xBC",  // overlong forms, '<' among them
        "lone \xED\xA0\x80 \xED\xBF\xBF surrogates",
        "pair \xED\xA0\xBD\xED\xB8\x80",           // CESU-8
        "big \xF4\x90\x80\x80 \xF7\xBF\xBF\xBF",   // above U+10FFFF
        "cut \xE2\x82",                            // truncated at the end
        "cut \xF0\x9F\x98 mid",                    // truncated in the middle
        "nonchars \xEF\xBF\xBE \xEF\xBF\xBF",      // U+FFFE U+FFFF
        "stray \x80\xBF continuation",
        "\xFF\xFE\xFD bytes",
        "cdata ]]> end \xFC",                      // needs escaping and repair
        "]]>\x01]]]]>",
    };
}

// A message that puts `t` in every kind of text the writer writes.
Message message_with(const std::string& t) {
    Message m;
    m.header.session_id = "1";
    m.header.msg_id = "2";
    m.header.target.uri = "http://server/" + t;
    m.header.source.uri = "IMEI:" + t;
    m.header.source.name = t;
    m.header.meta.max_msg_size = "10000";

    Command status;
    status.kind = CommandKind::Status;
    status.cmd_id = "1";
    status.msg_ref = "1";
    status.cmd_ref = "0";
    status.cmd = "SyncHdr";
    status.target_refs = {t};
    status.source_refs = {t};
    status.data = "200";
    m.body.push_back(status);

    Command put;
    put.kind = CommandKind::Put;
    put.cmd_id = "2";
    put.meta.type = "application/vnd.syncml-devinf+xml";
    Item info;
    info.source.uri = "./devinf12";
    DevInf d;
    d.ver_dtd = "1.2";
    d.man = t;
    d.mod = t;
    d.dev_id = "IMEI:" + t;
    d.dev_typ = "phone";
    DataStore ds;
    ds.source_ref = "./" + t;
    ds.display_name = t;
    ds.rx_pref = ContentType{"text/x-vcard", "2.1"};
    ds.tx_pref = ContentType{"text/x-vcard", "2.1"};
    ds.sync_types = {"1", "2"};
    CTCap cap;
    cap.type = "text/x-vcard";
    cap.version = "2.1";
    Property p;
    p.name = "N";
    p.display_name = t;
    p.val_enum = {t};
    cap.properties.push_back(p);
    ds.ctcaps.push_back(cap);
    d.datastores.push_back(ds);
    Ext ext;
    ext.name = t;
    ext.values = {t};
    d.exts.push_back(ext);
    info.devinf = d;
    info.has_data = true;
    put.items.push_back(info);
    m.body.push_back(put);

    Command sync;
    sync.kind = CommandKind::Sync;
    sync.cmd_id = "3";
    sync.target.uri = "./" + t;
    sync.source.uri = t;
    Command add;
    add.kind = CommandKind::Add;
    add.cmd_id = "4";
    add.meta.type = "text/x-vcard";
    Item item;
    item.source.uri = t;
    item.source.name = t;
    item.data = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:" + t + "\r\nEND:VCARD\r\n";
    item.has_data = true;
    add.items.push_back(item);
    Item bare;  // data that is nothing but the bad text
    bare.source.uri = "2";
    bare.data = t;
    bare.has_data = true;
    add.items.push_back(bare);
    sync.children.push_back(add);
    m.body.push_back(sync);

    Command alert;
    alert.kind = CommandKind::Alert;
    alert.cmd_id = "5";
    alert.data = "200";
    Item a;
    a.target.uri = t;
    a.source.uri = t;
    a.meta.anchor = Anchor{t, t};
    alert.items.push_back(a);
    m.body.push_back(alert);
    m.final = true;
    return m;
}

bool pugixml_parses(const std::string& xml) {
    pugi::xml_document doc;
    // Everything pugixml can check, nothing skipped.
    return doc.load_buffer(xml.data(), xml.size(), pugi::parse_full, pugi::encoding_utf8);
}

// Runs a command; true when it exits 0.
bool run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// Python's xml.dom.minidom (expat) and libxml2's xmllint, which check the
// encoding and XML's Char production, read every file; true when both do.
bool independent_parsers_read(const std::vector<std::string>& files) {
    std::string list;
    for (const std::string& f : files) list += " '" + f + "'";
    bool python = run("/usr/bin/python3 -c 'import sys, xml.dom.minidom\nfor f in sys.argv[1:]: "
                      "xml.dom.minidom.parse(f)'" + list);
    bool xmllint = run("xmllint --noout" + list);
    return python && xmllint;
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

TEST_CASE("the independent parsers refuse what is not well-formed") {
    // Without this, a broken oracle would pass everything.
    smk::test::TempDir dir("smk-text-oracle");
    std::string good = dir.file("good.xml"), bad = dir.file("bad.xml"), ctl = dir.file("ctl.xml");
    write_file(good, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>M\xC3\xBCller</a>");
    write_file(bad, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>M\xFCller</a>");
    write_file(ctl, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a><![CDATA[x\x01y]]></a>");
    REQUIRE(independent_parsers_read({good}));
    CHECK_FALSE(independent_parsers_read({bad}));
    CHECK_FALSE(independent_parsers_read({ctl}));
    CHECK_FALSE(run("/usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' " + bad));
    CHECK_FALSE(run("xmllint --noout " + bad));
}

TEST_CASE("the XML writer writes well-formed XML whatever the model holds") {
    smk::test::TempDir dir("smk-text-safety");
    std::vector<std::string> files;
    std::size_t n = 0;
    for (const std::string& t : bad_texts()) {
        INFO("text #" << n);
        REQUIRE_FALSE(is_xml_text(t));
        Message m = message_with(t);
        for (const char* ver : {"1.1", "1.2"}) {
            m.header.ver_dtd = ver;
            m.header.ver_proto = std::string("SyncML/") + ver;
            std::string xml = encode(m, Encoding::xml);
            CHECK(is_xml_text(xml));
            CHECK(pugixml_parses(xml));
            // What the reader gets back is the repaired text, in every field.
            Message back = decode(xml, Encoding::xml);
            std::string fixed = repaired_utf8(t);
            CHECK(back.header.source.name == std::string(trim(fixed)));
            CHECK(back.header.target.uri == std::string(trim("http://server/" + fixed)));
            CHECK(back.body[0].target_refs.at(0) == std::string(trim(fixed)));
            CHECK(back.body[1].items.at(0).devinf->man == std::string(trim(fixed)));
            const Command& add = back.body[2].children.at(0);
            CHECK(add.items.at(0).data == "BEGIN:VCARD\r\nVERSION:2.1\r\nN:" + fixed + "\r\nEND:VCARD\r\n");
            CHECK(add.items.at(1).data == fixed);
            CHECK(back.body[3].items.at(0).meta.anchor->next == std::string(trim(fixed)));
            // Encoding the decoded copy changes nothing more.
            CHECK(encode(back, Encoding::xml) == xml);
            // A command alone, as the engine sizes replies: the same bytes.
            std::string alone;
            write_xml_command(m.body[2], *m.version(), alone);
            CHECK(is_xml_text(alone));
            CHECK(xml.find(alone) != std::string::npos);
            std::string path = dir.file("bad-" + std::to_string(n) + "-" + ver + ".xml");
            write_file(path, xml);
            files.push_back(path);
        }
        ++n;
    }
    CHECK(files.size() == 2 * bad_texts().size());
    CHECK(independent_parsers_read(files));
}

TEST_CASE("WBXML carries item data byte for byte, bad or not") {
    std::size_t carried = 0;
    for (const std::string& t : bad_texts()) {
        // The WBXML reader refuses NUL in any text (its tree could not hold it).
        if (t.find('\0') != std::string::npos) continue;
        ++carried;
        Message m = message_with("x");
        Item& bare = m.body[2].children.at(0).items.at(1);
        bare.data = t;
        Message back = decode(encode(m, Encoding::wbxml), Encoding::wbxml);
        CHECK(back.body[2].children.at(0).items.at(1).data == t);
        CHECK(back == m);
    }
    CHECK(carried == bad_texts().size() - 1);
}

TEST_CASE("valid text round-trips through XML byte for byte") {
    const std::string texts[] = {
        "M\xC3\xBCller \xE2\x82\xAC \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
        "\xF4\x8F\xBF\xBF \xEE\x80\x80 \xEF\xBF\xBD \xED\x9F\xBF \xEF\xBB\xBF",
        "tab\tcr\rlf\ncrlf\r\n and \xC2\x85 \x7F",
        "markup <a href=\"x\">&amp;</a> ]]> ]] > ]]]]>",
    };
    smk::test::TempDir dir("smk-text-valid");
    std::vector<std::string> files;
    for (const std::string& t : texts) {
        INFO(t);
        REQUIRE(is_xml_text(t));
        Message m = message_with(t);
        std::string xml = encode(m, Encoding::xml);
        CHECK(is_xml_text(xml));
        CHECK(pugixml_parses(xml));
        Message back = decode(xml, Encoding::xml);
        CHECK(back == m);
        CHECK(back.body[2].children.at(0).items.at(1).data == t);
        // CDATA when it can be, so the bytes are there as they are.
        if (t.find("]]>") == std::string::npos) CHECK(xml.find("<![CDATA[" + t + "]]>") != std::string::npos);
        files.push_back(dir.file("valid-" + std::to_string(files.size()) + ".xml"));
        write_file(files.back(), xml);
    }
    CHECK(independent_parsers_read(files));
}

// ---------------------------------------------------------------------------
// The XML reader

namespace {

std::string sync_message_with(const std::string& loc, const std::string& data) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
           "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto>"
           "<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>srv</LocURI></Target>"
           "<Source><LocURI>" + loc + "</LocURI></Source></SyncHdr><SyncBody><Sync><CmdID>1</CmdID>"
           "<Add><CmdID>2</CmdID><Item><Source><LocURI>1</LocURI></Source><Data>" + data +
           "</Data></Item></Add></Sync><Final/></SyncBody></SyncML>";
}

}  // namespace

TEST_CASE("character references XML forbids decode to U+FFFD") {
    const std::string refs[] = {"&#0;", "&#x0;", "&#1;", "&#x1F;", "&#xD800;", "&#xDFFF;", "&#55296;",
                                "&#xFFFE;", "&#xFFFF;", "&#x110000;", "&#1114112;", "&#99999999999;",
                                "&#x100000000000041;", "&#X0;"};
    for (const std::string& ref : refs) {
        INFO(ref);
        Message m = decode(sync_message_with("dev" + ref + "ice", "x" + ref + "y"), Encoding::xml);
        const std::string& data = m.body.at(0).children.at(0).items.at(0).data;
        if (ref == "&#X0;") {
            // Not a reference (XML's hex marker is a small x): text as sent.
            CHECK(data == "x&#X0;y");
            continue;
        }
        CHECK(m.header.source.uri == "dev" + kFFFD + "ice");
        CHECK(data == "x" + kFFFD + "y");
        CHECK(is_xml_text(data));
    }
}

TEST_CASE("allowed character references and CDATA decode as they are") {
    Message m = decode(sync_message_with("&#65;&#x42;&#x1F600;&#9;&#xD;&#xFFFD;",
                                         "<![CDATA[&#0; stays text]]>&#x10FFFF;&amp;#0;"),
                       Encoding::xml);
    CHECK(m.header.source.uri == "AB\xF0\x9F\x98\x80\t\r\xEF\xBF\xBD");
    CHECK(m.body.at(0).children.at(0).items.at(0).data == "&#0; stays text\xF4\x8F\xBF\xBF&#0;");
    // A reference inside a comment or a processing instruction is not one.
    std::string xml = sync_message_with("dev", "a<!-- &#0; -->b<?pi &#0; ?>c&#0;");
    Message c = decode(xml, Encoding::xml);
    CHECK(c.body.at(0).children.at(0).items.at(0).data == "abc" + kFFFD);
}

TEST_CASE("raw bytes that are not UTF-8: names and URIs are repaired as decoded, item data is kept as sent") {
    for (Encoding enc : {Encoding::xml, Encoding::wbxml}) {
        INFO((enc == Encoding::xml ? "XML" : "WBXML"));
        // Written with a marker, the raw bytes put in its place (the encoder would repair them).
        Message m = message_with("@@");
        Item& bare = m.body[2].children.at(0).items.at(1);
        bare.data = "@@";
        std::string bytes = encode(m, enc);
        std::string raw = "M\xFC" "ller\x01";
        if (enc == Encoding::xml) {
            for (std::size_t at; (at = bytes.find("@@")) != std::string::npos;) bytes.replace(at, 2, raw);
        } else {
            // WBXML strings and opaque data carry their length or end: same length only.
            raw = "M\xFC\x01";
            for (std::size_t at; (at = bytes.find("@@")) != std::string::npos;) bytes.replace(at, 2, raw.substr(0, 2));
            raw = "M\xFC";
        }
        Message back = decode(bytes, enc);
        std::string fixed = repaired_utf8(raw);
        CHECK(fixed != raw);
        CHECK(back.header.source.name == fixed);
        CHECK(back.header.source.uri == "IMEI:" + fixed);
        CHECK(back.body[0].target_refs.at(0) == fixed);
        CHECK(back.body[1].items.at(0).devinf->man == fixed);
        CHECK(back.body[2].children.at(0).items.at(0).source.uri == fixed);
        CHECK(back.body[2].children.at(0).items.at(1).data == raw);
        CHECK(is_xml_text(encode(back, Encoding::xml)));
    }
}
