// vCard 2.1 <-> 3.0 conversion: the lexical cases of real producers
// (quoted-printable soft breaks, charsets, nameless parameters, base64
// ended by a blank line) and the escaping of each version.
#include <catch2/catch.hpp>

#include "pim/content_line.hpp"
#include "syncmlkit/vcard.hpp"

using namespace smk::pim;

namespace {

std::string lines(std::initializer_list<const char*> ls) {
    std::string out;
    for (const char* l : ls) out += std::string(l) + "\r\n";
    return out;
}

// Looks for a whole line, with quoted-printable soft breaks (2.1) and folds
// (3.0) joined.
bool has_line(std::string vcard, const std::string& line) {
    bool v21 = vcard.find("VERSION:2.1\r\n") != std::string::npos;
    const char* join = v21 ? "=\r\n" : "\r\n ";
    for (std::size_t at; (at = vcard.find(join)) != std::string::npos;) vcard.erase(at, 3);
    return vcard.find(line + "\r\n") != std::string::npos;
}

}  // namespace

TEST_CASE("vCard 2.1 to 3.0: quoted-printable, charsets, nameless parameters, escaping") {
    std::string in = lines({
        "BEGIN:VCARD",
        "VERSION:2.1",
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg=C3=",  // soft break inside a UTF-8 sequence
        "=A4;;Dr.;",
        "FN;CHARSET=ISO-8859-1:J\xF6rg M\xFCller",
        "TEL;WORK;VOICE:+49 30 1234",
        "EMAIL;INTERNET;PREF:joerg@example.com",
        "NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=",
        "=0Asecond, line",
        "ORG:Widgets \\; Co;R&D",
        "X-FUNAMBOL-FOLDER:DEFAULT_FOLDER",
        "PHOTO;ENCODING=BASE64;TYPE=GIF:",
        "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==",
        "",
        "END:VCARD",
    });
    std::vector<Warning> warnings;
    std::string out = convert_vcard(in, VCardVersion::v3_0, &warnings);
    INFO(out);
    CHECK(out.rfind("BEGIN:VCARD\r\nVERSION:3.0\r\n", 0) == 0);
    CHECK(has_line(out, "N:M\xC3\xBCller;J\xC3\xB6rg\xC3\xA4;;Dr.;"));
    CHECK(has_line(out, "FN:J\xC3\xB6rg M\xC3\xBCller"));
    CHECK(has_line(out, "TEL;TYPE=WORK,VOICE:+49 30 1234"));
    CHECK(has_line(out, "EMAIL;TYPE=INTERNET,PREF:joerg@example.com"));
    CHECK(has_line(out, "NOTE:first line\\nsecond\\, line"));
    CHECK(has_line(out, "ORG:Widgets \\; Co;R&D"));
    CHECK(has_line(out, "X-FUNAMBOL-FOLDER:DEFAULT_FOLDER"));
    CHECK(has_line(out, "PHOTO;TYPE=GIF;ENCODING=b:R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="));
    CHECK(out.find("END:VCARD\r\n") != std::string::npos);
    CHECK(warnings.empty());
}

TEST_CASE("vCard 3.0 to 2.1: types as nameless parameters, quoted-printable for line breaks and non-ASCII") {
    std::string in = lines({
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Doe\\;Smith;Jane;;;",
        "FN:Jane Doe",
        "TEL;TYPE=CELL:+1 555 0100",
        "NOTE:line one\\nline two \\, with a comma",
        "CATEGORIES:Friends,Work",
        "ADR;TYPE=HOME:;;Stra\xC3\x9F" "e 1;Berlin;;10115;Germany",
        "END:VCARD",
    });
    std::string out = convert_vcard(in, VCardVersion::v2_1);
    INFO(out);
    CHECK(has_line(out, "VERSION:2.1"));
    CHECK(has_line(out, "N:Doe\\;Smith;Jane;;;"));
    CHECK(has_line(out, "TEL;CELL:+1 555 0100"));
    CHECK(has_line(out, "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:line one=0D=0Aline two , with a comma"));
    CHECK(has_line(out, "CATEGORIES:Friends,Work"));
    CHECK(has_line(out, "ADR;HOME;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;Stra=C3=9Fe 1;Berlin;;10115;Germany"));
}

TEST_CASE("3.0 -> 2.1 -> 3.0 keeps every value") {
    std::string in = lines({
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:M\xC3\xBCller;J\xC3\xB6rg;;;",
        "FN:J\xC3\xB6rg M\xC3\xBCller",
        "ORG:Example\\, Inc.;Sales",
        "TEL;TYPE=WORK,VOICE:+49 30 1234",
        "EMAIL;TYPE=INTERNET:j@example.com",
        "NOTE:a = b\\nc; d \\\\ e",
        "item1.URL:http://example.com/a?b=c",
        "X-CUSTOM;X-PARAM=1:value",
        "END:VCARD",
    });
    std::string there = convert_vcard(in, VCardVersion::v2_1);
    std::string back = convert_vcard(there, VCardVersion::v3_0);
    INFO(there);
    CHECK(back == in);
}

TEST_CASE("3.0 lines are folded at 75 octets, never inside a UTF-8 sequence, and unfold to the same value") {
    std::string note(70, 'a');
    note += "\xE2\x80\xA2";  // a bullet, 3 octets, across the 75th
    note += std::string(100, 'b');
    std::string in = lines({"BEGIN:VCARD", "VERSION:2.1"}) + "NOTE;CHARSET=UTF-8:" + note + "\r\nEND:VCARD\r\n";
    std::string out = convert_vcard(in, VCardVersion::v3_0);
    std::size_t start = 0;
    while (start < out.size()) {
        std::size_t end = out.find("\r\n", start);
        std::string line = out.substr(start, end - start);
        CHECK(line.size() <= 75);
        CHECK((static_cast<unsigned char>(line.empty() ? 'x' : line[line.size() > 0 ? 0 : 0]) & 0xC0) != 0x80);
        start = end + 2;
    }
    std::vector<Warning> w;
    auto parsed = lex_content_lines(out, Dialect::new_mime_dir, &w);
    bool found = false;
    for (const auto& cl : parsed)
        if (cl.name == "NOTE") {
            CHECK(cl.value == note);
            found = true;
        }
    CHECK(found);
}

TEST_CASE("folding: 2.1 keeps the whitespace of a fold, 3.0 removes it") {
    std::string folded = "BEGIN:VCARD\r\nVERSION:2.1\r\nNOTE:This is a long\r\n line\r\nEND:VCARD\r\n";
    CHECK(has_line(convert_vcard(folded, VCardVersion::v3_0), "NOTE:This is a long line"));
    std::string folded30 = "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:This is a long\r\n line\r\nEND:VCARD\r\n";
    CHECK(has_line(convert_vcard(folded30, VCardVersion::v3_0), "NOTE:This is a longline"));
}

TEST_CASE("broken input gives warnings, not exceptions") {
    std::string in = "BEGIN:VCARD\nVERSION:2.1\nthis line has no colon\nPHOTO;ENCODING=BASE64:@@@@\nFN;CHARSET=KOI8-R:x\nEND:VCARD\n";
    std::vector<Warning> warnings;
    std::string out = convert_vcard(in, VCardVersion::v3_0, &warnings);
    CHECK(warnings.size() == 3);
    CHECK(warnings[0].line == 3);
    CHECK(has_line(out, "FN:x"));
    CHECK(vcard_version(in) == VCardVersion::v2_1);
    CHECK(vcard_version("BEGIN:VCARD\r\nEND:VCARD\r\n") == VCardVersion::v3_0);
}

TEST_CASE("a client's Replace keeps what the client cannot hold and clears what it sends empty") {
    std::string server = lines({
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Doe;Jane;;;",
        "FN:Jane Doe",
        "TEL;TYPE=CELL:+1 555 0100",
        "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ",
        "X-EVOLUTION-SPOUSE:John",
        "NOTE:old note",
        "END:VCARD",
    });
    // The client knows N, FN, TEL, NOTE (its CTCap), changed TEL and cleared NOTE.
    std::string client = lines({
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Doe;Jane;;;",
        "FN:Jane Doe",
        "TEL;TYPE=CELL:+1 555 0199",
        "NOTE:",
        "END:VCARD",
    });
    std::string merged = merge_vcard(server, client, {"N", "FN", "TEL", "NOTE"});
    INFO(merged);
    CHECK(has_line(merged, "TEL;TYPE=CELL:+1 555 0199"));
    CHECK(merged.find("+1 555 0100") == std::string::npos);
    CHECK(has_line(merged, "PHOTO;TYPE=JPEG;ENCODING=b:/9j/4AAQ"));
    CHECK(has_line(merged, "X-EVOLUTION-SPOUSE:John"));
    CHECK(merged.find("NOTE") == std::string::npos);
    // Without the client's capabilities its item is taken as it is.
    std::string taken = merge_vcard(server, client, {});
    CHECK(taken.find("PHOTO") == std::string::npos);
    CHECK(has_line(taken, "TEL;TYPE=CELL:+1 555 0199"));
}
