// vCard 2.1, 3.0 and 4.0 onto the normalized model and back: the converters
// guide's cases A1-A11 (lexical) and B1-B14 (structure, escaping,
// conversion), round trips of a rich contact through each version with its
// losses, text stability across versions, and hostile input.
#include <catch2/catch.hpp>
#include <random>
#include <sstream>

#include "pim/formats.hpp"
#include "syncmlkit/pim.hpp"

using namespace smk::pim;
using detail::read_vcard;
using detail::write_vcard;

namespace {

std::string lines(std::initializer_list<const char*> ls) {
    std::string out;
    for (const char* l : ls) out += std::string(l) + "\r\n";
    return out;
}

struct Read {
    Contact contact;
    std::vector<Warning> warnings;
};

Read read_ok(const std::string& text, const Profile& profile = {}) {
    Read r;
    std::optional<Contact> c = read_vcard(text, profile, &r.warnings);
    REQUIRE(c);
    r.contact = std::move(*c);
    return r;
}

std::string write(const Contact& c, Format f, std::vector<Warning>* losses = nullptr, const Profile& profile = {}) {
    return write_vcard(c, f, profile, losses);
}

// Text with folds (3.0/4.0) and quoted-printable soft breaks (2.1) joined, so
// that a whole property can be looked for.
std::string unfolded(std::string text) {
    bool v21 = text.find("VERSION:2.1\r\n") != std::string::npos;
    const char* join = v21 ? "=\r\n" : "\r\n ";
    for (std::size_t at; (at = text.find(join)) != std::string::npos;) text.erase(at, 3);
    return text;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\r\n" + unfolded(text)).find("\r\n" + line + "\r\n") != std::string::npos;
}

std::string messages(const std::vector<Warning>& ws) {
    std::string out;
    for (const Warning& w : ws) out += std::to_string(w.line) + ": " + w.message + "\n";
    return out;
}

bool mentions(const std::vector<Warning>& ws, const std::string& part, int line = -1) {
    for (const Warning& w : ws)
        if (w.message.find(part) != std::string::npos && (line < 0 || w.line == line)) return true;
    return false;
}

std::string types_of(const Typed& t) {
    std::string out = "[";
    for (const std::string& s : t.types) out += s + " ";
    return out + "] pref=" + std::to_string(t.pref) + " group=" + t.group + " label=" + t.label;
}

std::string hex(const std::string& bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) out += digits[b >> 4], out += digits[b & 15];
    return out;
}

std::string date_of(const std::optional<PartialDate>& d) {
    if (!d) return "-";
    return std::to_string(d->year) + "/" + std::to_string(d->month) + "/" + std::to_string(d->day);
}

// Every field, one a line: what round trips compare (Catch shows the diff).
std::string describe(const Contact& c) {
    std::ostringstream o;
    o << "uid=" << c.uid << "\nfn=" << c.formatted_name << "\nn=" << c.name.family << "|" << c.name.given << "|"
      << c.name.additional << "|" << c.name.prefixes << "|" << c.name.suffixes << "\n";
    for (const auto& n : c.nicknames) o << "nickname=" << n << "\n";
    o << "org=" << c.organization << "\n";
    for (const auto& u : c.org_units) o << "unit=" << u << "\n";
    o << "title=" << c.title << "\nrole=" << c.role << "\n";
    for (const auto& p : c.phones) o << "tel=" << p.number << " " << types_of(p) << "\n";
    for (const auto& e : c.emails) o << "email=" << e.address << " " << types_of(e) << "\n";
    for (const auto& a : c.addresses)
        o << "adr=" << a.po_box << "|" << a.extended << "|" << a.street << "|" << a.locality << "|" << a.region << "|"
          << a.postal_code << "|" << a.country << " label=" << a.delivery_label << " " << types_of(a) << "\n";
    for (const auto& u : c.urls) o << "url=" << u.uri << " " << types_of(u) << "\n";
    o << "bday=" << date_of(c.birthday) << "\nanniversary=" << date_of(c.anniversary) << "\nnote=" << c.note << "\n";
    for (const auto& cat : c.categories) o << "category=" << cat << "\n";
    if (c.photo)
        o << "photo=" << hex(c.photo->data) << " uri=" << c.photo->uri << " type=" << c.photo->media_type << "\n";
    o << "rev=" << c.revision << "\n";
    for (const auto& x : c.extra) {
        o << "extra=" << x.group << "." << x.name;
        for (const auto& p : x.params) {
            o << ";" << p.name << "=";
            for (const auto& v : p.values) o << v << ",";
        }
        o << ":" << (x.binary ? "bytes " + hex(x.value) : x.value) << "\n";
    }
    for (const auto& s : c.sent_empty) o << "sent_empty=" << s << "\n";
    return o.str();
}

std::string all_bytes() {
    std::string s;
    for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
    return s;
}

// A contact with every field set, and the hard values of the guide in them.
Contact rich_contact() {
    Contact c;
    c.uid = "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1";
    c.formatted_name =
        "Dr. J\xC3\xB6rg M\xC3\xBCller-L\xC3\xBC"
        "denscheidt Jr.";
    c.name = {
        "M\xC3\xBCller-L\xC3\xBC"
        "denscheidt",
        "J\xC3\xB6rg", "Peter,Paul", "Dr.", "Jr."};
    c.nicknames = {"Jo", "JM"};
    c.organization = "Widgets; Co, Ltd";
    c.org_units = {"R&D", "Lab \\ 2"};
    c.title = "Chief \"Tinkerer\"";
    c.role = "Engineering: lead";
    Phone work;
    work.types = {"WORK", "VOICE"}, work.pref = 1, work.number = "+49 30 1234";
    Phone cell;
    cell.types = {"CELL"}, cell.group = "item1", cell.label = "Other", cell.number = "+49 170 5555";
    Phone home;
    home.types = {"HOME"}, home.pref = 2, home.number = "+1 555 0100";
    c.phones = {work, cell, home};
    Email e1;
    e1.types = {"INTERNET"}, e1.pref = 1, e1.address = "joerg@example.com";
    Email e2;
    e2.label = "Private", e2.address = "j@example.org";  // no group: the writer gives it one
    c.emails = {e1, e2};
    Address a1;
    a1.types = {"HOME"}, a1.street = "Hauptstr. 1;Hinterhaus", a1.locality = "Berlin", a1.postal_code = "10115";
    a1.country = "Deutschland", a1.delivery_label = "Hauptstr. 1\nHinterhaus\n10115 Berlin \"DE\"";
    Address a2;
    a2.types = {"WORK"}, a2.po_box = "PO 7", a2.street = "Silicon Alley 5,", a2.locality = "New York", a2.region = "NY";
    c.addresses = {a1, a2};
    Url url;
    url.types = {"WORK"}, url.uri = "http://example.com/a?b=c,d";
    c.urls = {url};
    c.birthday = PartialDate{0, 4, 15};
    c.anniversary = PartialDate{2001, 6, 30};
    c.note = "Line one\nLine two; with \\ backslash, comma and = sign\n\xC3\x9Cmlaut";
    c.categories = {"Friends", "Work"};
    c.photo = Binary{all_bytes(), "", "image/jpeg"};
    c.revision = "2026-11-25T12:00:00Z";
    c.extra.push_back({"", "X-IRMC-LUID", {}, "0002000000A3", false});
    c.extra.push_back({"item3", "X-EVOLUTION-SPOUSE", {}, "Anna", false});
    c.extra.push_back({"", "X-CUSTOM", {{"X-PARAM", {"1"}}}, "a\\,b\\;c\\nd \xE2\x82\xAC", false});
    c.extra.push_back({"", "KEY", {{"TYPE", {"X509"}}}, std::string("\x30\x82\x01\x0a\xff\x00", 6), true});
    return c;
}

}  // namespace

// ------------------------------------------------------------ A: lexical --

TEST_CASE("A1: quoted-printable soft breaks without indentation, splitting =0D=|=0A") {
    Read r = read_ok(lines({"BEGIN:VCARD", "VERSION:2.1",
                            "NOTE;ENCODING=QUOTED-PRINTABLE:first line=0D=", "=0Asecond line=", " still second",
                            "URL;CHARSET=utf-8;ENCODING=QUOTED-PRINTABLE:=", "http://www.example.org", "END:VCARD"}));
    CHECK(r.contact.note == "first line\nsecond line still second");
    REQUIRE(r.contact.urls.size() == 1);
    CHECK(r.contact.urls[0].uri == "http://www.example.org");
    CHECK(r.warnings.empty());
}

TEST_CASE("A2: a soft break inside a UTF-8 sequence") {
    Read r =
        read_ok(lines({"BEGIN:VCARD", "VERSION:2.1",
                       "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg=C3=", "=A4;;;", "END:VCARD"}));
    CHECK(r.contact.name.family == "M\xC3\xBCller");
    CHECK(r.contact.name.given == "J\xC3\xB6rg\xC3\xA4");
    CHECK(r.contact.name.additional.empty());
}

TEST_CASE("A3: a soft break followed by an indent: dropped before =XX, kept before text") {
    Read r = read_ok(lines({"BEGIN:VCARD", "VERSION:2.1",
                            "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=90=D0=B2=D0=B8=D0=", " =B0;;;;",
                            "NOTE;ENCODING=QUOTED-PRINTABLE:word=", " continued", "END:VCARD"}));
    CHECK(r.contact.name.family == "\xD0\x90\xD0\xB2\xD0\xB8\xD0\xB0");  // Авиа
    CHECK(r.contact.note == "word continued");
    CHECK(r.warnings.empty());
}

TEST_CASE("A4: 2.1 base64 ended by a blank line, lines not indented") {
    Read r =
        read_ok(lines({"BEGIN:VCARD", "VERSION:2.1", "PHOTO;ENCODING=BASE64;TYPE=GIF:",
                       "R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==", "", "TEL:123", "END:VCARD"}));
    REQUIRE(r.contact.photo);
    CHECK(r.contact.photo->data.size() == 43);
    CHECK(r.contact.photo->data.substr(0, 6) == "GIF89a");
    CHECK(r.contact.photo->media_type == "image/gif");
    CHECK(r.contact.photo->uri.empty());
    REQUIRE(r.contact.phones.size() == 1);
    CHECK(r.contact.phones[0].number == "123");
}

TEST_CASE("A5: Outlook base64 with a 4-space indent and two blank lines; the blank line only for Outlook") {
    Read r = read_ok(lines({"BEGIN:VCARD", "VERSION:2.1", "KEY;X509;ENCODING=BASE64:", "    MIIBCgKCAQEA",
                            "    q83vEjRW", "", "", "TEL:5", "END:VCARD"}));
    REQUIRE(r.contact.extra.size() == 1);
    const ExtraProperty& key = r.contact.extra[0];
    CHECK(key.name == "KEY");
    CHECK(key.binary);
    CHECK(key.value == std::string("\x30\x82\x01\x0a\x02\x82\x01\x01\x00\xab\xcd\xef\x12\x34\x56", 15));
    REQUIRE(key.params.size() == 1);
    CHECK(key.params[0].name == "TYPE");
    CHECK(key.params[0].values == std::vector<std::string>{"X509"});
    REQUIRE(r.contact.phones.size() == 1);
    CHECK(r.contact.phones[0].number == "5");

    Profile outlook;
    outlook.blank_line_after_base64 = true;
    std::string plain30 = write(r.contact, Format::vcard30);
    std::string outlook30 = write(r.contact, Format::vcard30, nullptr, outlook);
    CHECK(plain30.find("KEY;TYPE=X509;ENCODING=b:MIIBCgKCAQEAq83vEjRW\r\nEND:VCARD") != std::string::npos);
    CHECK(outlook30.find("KEY;TYPE=X509;ENCODING=b:MIIBCgKCAQEAq83vEjRW\r\n\r\nEND") != std::string::npos);
    CHECK(write(r.contact, Format::vcard21).find("KEY;TYPE=X509;ENCODING=BASE64:\r\n MIIBCgKCAQEAq83vEjRW\r\n\r\n") !=
          std::string::npos);
}

TEST_CASE("A6: a 3.0 card in 2.1 syntax: bare BASE64, two-space indent, mixed line ends") {
    std::string in =
        "BEGIN:VCARD\r\nVERSION:3.0\nFN:Moto\r\nPHOTO;BASE64:\n  R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAA\r\n"
        "  AAABAAEAAAICRAEAOw==\nEMAIL;ENCODING=BASE64:YUBiLmM=\r\nEND:VCARD\r\n";
    Read r = read_ok(in);
    REQUIRE(r.contact.photo);
    CHECK(r.contact.photo->data.size() == 43);
    REQUIRE(r.contact.emails.size() == 1);
    CHECK(r.contact.emails[0].address == "a@b.c");
    CHECK(mentions(r.warnings, "PHOTO: 2.1's BASE64 in a 3.0 card", 4));
    CHECK(mentions(r.warnings, "EMAIL: 2.1's BASE64 in a 3.0 card", 7));
    CHECK(has_line(write(r.contact, Format::vcard30),
                   "PHOTO;ENCODING=b:R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="));
}

TEST_CASE("A7: 8-bit ISO-8859-1 and Windows-1252 quoted-printable") {
    Read r = read_ok(lines({"BEGIN:VCARD", "VERSION:2.1", "N;CHARSET=ISO-8859-1:M\xFCller;J\xF6rg",
                            "NOTE;CHARSET=WINDOWS-1252;ENCODING=QUOTED-PRINTABLE:Preis 5=80", "END:VCARD"}));
    CHECK(r.contact.name.family == "M\xC3\xBCller");
    CHECK(r.contact.name.given == "J\xC3\xB6rg");
    CHECK(r.contact.note == "Preis 5\xE2\x82\xAC");
    CHECK(r.warnings.empty());
}

TEST_CASE("A8: Nokia N9's ==0A=0D= at the end of a quoted-printable line") {
    Read r = read_ok(lines(
        {"BEGIN:VCARD", "VERSION:2.1", "NOTE;ENCODING=QUOTED-PRINTABLE:line one==0A=0D=", "line two", "END:VCARD"}));
    CHECK(r.contact.note == "line one\nline two");
    CHECK(r.warnings.size() == 1);
    CHECK(mentions(r.warnings, "Nokia", 3));
}

TEST_CASE("A9: unfolding: 2.1 keeps the fold's whitespace, 3.0 drops it, and the profile for 2.1 folding like 3.0") {
    CHECK(read_ok("BEGIN:VCARD\r\nVERSION:2.1\r\nNOTE:This is a long\r\n line\r\nEND:VCARD\r\n").contact.note ==
          "This is a long line");
    CHECK(read_ok("BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:This is a long\r\n line\r\nEND:VCARD\r\n").contact.note ==
          "This is a longline");
    Profile folds_like_30;
    folds_like_30.vcard21_folds_like_30 = true;
    std::string in =
        "BEGIN:VCARD\r\nVERSION:2.1\r\nNOTE:This is a long\r\n line\r\nTITLE;ENCODING=QUOTED-PRINTABLE:a=\r\n"
        " =C3=BC\r\nno colon here\r\nEND:VCARD\r\n";
    Read r = read_ok(in, folds_like_30);
    CHECK(r.contact.note == "This is a longline");
    CHECK(r.contact.title == "a\xC3\xBC");  // quoted-printable rules stay 2.1's
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].line == 7);  // counted in the input, not in the unfolded text
}

TEST_CASE("A10: BOM, bare LF, lone CR, white space in names") {
    std::string in =
        "\xEF\xBB\xBF"
        "BEGIN:VCARD\nVERSION:3.0\rFN:Bom\r\nREFRESH - INTERVAL; VALUE = DURATION:PT48H\nEND:VCARD";
    Read r = read_ok(in);
    CHECK(r.contact.formatted_name == "Bom");
    REQUIRE(r.contact.extra.size() == 1);
    CHECK(r.contact.extra[0].name == "REFRESH - INTERVAL");
    CHECK(r.contact.extra[0].value == "PT48H");
    CHECK(mentions(r.warnings, "odd property name", 4));
}

TEST_CASE("A11: writers fold at 75 octets outside UTF-8 sequences and escapes; 2.1 QP lines stay within 76") {
    Contact c;
    c.formatted_name = "Fold";
    c.note = std::string(70, 'a') + "\n\xE2\x80\xA2tail " + std::string(60, 'b') + "\\" + std::string(80, 'c');
    for (Format f : {Format::vcard30, Format::vcard40}) {
        std::string out = write(c, f);
        std::istringstream in(out);
        for (std::string line; std::getline(in, line);) {
            REQUIRE(!line.empty());
            CHECK(line.back() == '\r');
            line.pop_back();
            CHECK(line.size() <= 75);
            if (line.size() > 1) CHECK((static_cast<unsigned char>(line[1]) & 0xC0) != 0x80);
        }
        CHECK(out.find("\\\r\n n") == std::string::npos);
        CHECK(out.find("\\\r\n \\") == std::string::npos);
        CHECK(read_ok(out).contact.note == c.note);
    }
    std::string out21 = write(c, Format::vcard21);
    std::istringstream in(out21);
    for (std::string line; std::getline(in, line);) {
        line.pop_back();
        CHECK(line.size() <= 76);
        // Every '=' but a soft break's starts a whole =XX on its line.
        for (std::size_t i = 0; i < line.size(); ++i)
            if (line[i] == '=' && line.rfind("NOTE", 0) != 0 && i + 1 < line.size()) CHECK(i + 2 < line.size());
    }
    CHECK(read_ok(out21).contact.note == c.note);
}

// ------------------------------------------- B: structure and conversion --

TEST_CASE("B1: an escaped ';' in a 2.1 ADR component survives") {
    Read r = read_ok(
        lines({"BEGIN:VCARD", "VERSION:2.1", "ADR;HOME:;;Hauptstr. 1\\;Hinterhaus;Berlin;;10115;DE", "END:VCARD"}));
    REQUIRE(r.contact.addresses.size() == 1);
    const Address& a = r.contact.addresses[0];
    CHECK(a.street == "Hauptstr. 1;Hinterhaus");
    CHECK(a.locality == "Berlin");
    CHECK(a.region.empty());
    CHECK(a.postal_code == "10115");
    CHECK(a.country == "DE");
    CHECK(a.types == std::vector<std::string>{"HOME"});
    CHECK(has_line(write(r.contact, Format::vcard21), "ADR;HOME:;;Hauptstr. 1\\;Hinterhaus;Berlin;;10115;DE"));
    CHECK(has_line(write(r.contact, Format::vcard30), "ADR;TYPE=HOME:;;Hauptstr. 1\\;Hinterhaus;Berlin;;10115;DE"));
}

TEST_CASE("B2: a comma is text in 2.1 and a separator in 3.0") {
    Read r = read_ok(lines({"BEGIN:VCARD", "VERSION:2.1", "N;LANGUAGE=en-us:Doe;John;Richter,James;Mr.;Sr.",
                            "ADR;HOME:;;Silicon Alley 5,;New York;New York;12345;United States of America",
                            "ORG:Company, The;TheDepartment", "END:VCARD"}));
    CHECK(r.contact.name.additional == "Richter,James");
    CHECK(r.contact.name.prefixes == "Mr.");
    CHECK(r.contact.name.suffixes == "Sr.");
    REQUIRE(r.contact.addresses.size() == 1);
    CHECK(r.contact.addresses[0].street == "Silicon Alley 5,");
    CHECK(r.contact.organization == "Company, The");
    CHECK(r.contact.org_units == std::vector<std::string>{"TheDepartment"});
    CHECK(mentions(r.warnings, "N: parameter LANGUAGE not kept", 3));
    std::string out = write(r.contact, Format::vcard30);
    CHECK(has_line(out, "ADR;TYPE=HOME:;;Silicon Alley 5\\,;New York;New York;12345;United States of America"));
    CHECK(has_line(out, "ORG:Company\\, The;TheDepartment"));
    // N components are lists in the model: the comma stays a separator.
    CHECK(has_line(out, "N:Doe;John;Richter,James;Mr.;Sr."));
}

TEST_CASE("B3: 3.0 escapes, and their 2.1 form") {
    Read r = read_ok(lines({"BEGIN:VCARD", "VERSION:3.0", "NOTE:a\\nb\\\\c\\;d", "ORG:ACME\\, Inc.;R&D",
                            "CATEGORIES:a,b\\,c", "END:VCARD"}));
    CHECK(r.contact.note == "a\nb\\c;d");
    CHECK(r.contact.organization == "ACME, Inc.");
    CHECK(r.contact.org_units == std::vector<std::string>{"R&D"});
    CHECK(r.contact.categories == std::vector<std::string>{"a", "b,c"});
    std::vector<Warning> losses;
    std::string out = write(r.contact, Format::vcard21, &losses);
    INFO(out);
    // The guide writes no CHARSET here; we always name it with QP (as the
    // engine's 2.1 output always did).
    CHECK(has_line(out, "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:a=0D=0Ab\\\\c;d"));
    CHECK(has_line(out, "ORG:ACME, Inc.;R&D"));
    CHECK(has_line(out, "CATEGORIES:a,b,c"));
    REQUIRE(losses.size() == 1);
    CHECK(losses[0].message == "CATEGORIES: \"b,c\" holds a ',', which separates values in vCard 2.1");
    CHECK(has_line(write(r.contact, Format::vcard30), "CATEGORIES:a,b\\,c"));
}

TEST_CASE("B4: \\n in a 2.1 value is text") {
    Read r = read_ok(lines({"BEGIN:VCARD", "VERSION:2.1", "NOTE:C:\\new", "END:VCARD"}));
    CHECK(r.contact.note == "C:\\new");
    CHECK(has_line(write(r.contact, Format::vcard30), "NOTE:C:\\\\new"));
    CHECK(read_ok(write(r.contact, Format::vcard21)).contact.note == "C:\\new");
}

TEST_CASE("B5: Google's escaped colon, and unknown escapes kept with a warning") {
    Read r = read_ok(lines(
        {"BEGIN:VCARD", "VERSION:3.0", "item7.URL:http\\://www.rooftopsolutions.nl/", "NOTE:a\\qb", "END:VCARD"}));
    REQUIRE(r.contact.urls.size() == 1);
    CHECK(r.contact.urls[0].uri == "http://www.rooftopsolutions.nl/");
    CHECK(r.contact.urls[0].group == "item7");
    CHECK(r.contact.note == "a\\qb");
    CHECK(mentions(r.warnings, "unknown escape \\q", 4));
}

TEST_CASE("B6: Apple's grouped labels") {
    Read r =
        read_ok(lines({"BEGIN:VCARD", "VERSION:3.0", "FN:J", "ITEM1.EMAIL;type=INTERNET;type=pref:john@example.com",
                       "item1.X-ABLabel:_$!<Other>!$_", "item2.X-ABLabel:lonely", "END:VCARD"}));
    REQUIRE(r.contact.emails.size() == 1);
    const Email& e = r.contact.emails[0];
    CHECK(e.address == "john@example.com");
    CHECK(e.types == std::vector<std::string>{"INTERNET"});
    CHECK(e.pref == 1);
    CHECK(e.group == "item1");
    CHECK(e.label == "Other");
    REQUIRE(r.contact.extra.size() == 1);  // a label with nothing to label
    CHECK(r.contact.extra[0].group == "item2");
    CHECK(r.contact.extra[0].name == "X-ABLABEL");
    std::string out = write(r.contact, Format::vcard21);
    CHECK(has_line(out, "item1.EMAIL;INTERNET;PREF:john@example.com"));
    CHECK(has_line(out, "item1.X-ABLabel:_$!<Other>!$_"));
    CHECK(has_line(out, "item2.X-ABLABEL:lonely"));
}

TEST_CASE("B7: every TYPE form gives the same set; each version writes its own") {
    struct Case {
        const char* version;
        const char* line;
        std::vector<std::string> types;
        int pref;
    };
    const Case cases[] = {
        {"2.1", "TEL;WORK;VOICE;PREF:+1", {"WORK", "VOICE"}, 1},
        {"2.1", "TEL;TYPE=WORK;TYPE=VOICE:+1", {"WORK", "VOICE"}, 0},
        {"3.0", "TEL;TYPE=work,voice,pref:+1", {"WORK", "VOICE"}, 1},
        {"3.0", "TEL;TYPE=\"HOME,VOICE\":+1", {"HOME", "VOICE"}, 0},
        {"4.0", "TEL;TYPE=work,voice;PREF=1;VALUE=uri:tel:+1", {"WORK", "VOICE"}, 1},
        {"4.0", "TEL;TYPE=\"work,voice\";PREF=50:+1", {"WORK", "VOICE"}, 50},
    };
    for (const Case& c : cases) {
        INFO(c.line);
        Read r = read_ok(std::string("BEGIN:VCARD\r\nVERSION:") + c.version + "\r\n" + c.line + "\r\nEND:VCARD\r\n");
        REQUIRE(r.contact.phones.size() == 1);
        CHECK(r.contact.phones[0].number == "+1");
        CHECK(r.contact.phones[0].types == c.types);
        CHECK(r.contact.phones[0].pref == c.pref);
        CHECK(r.warnings.empty());
    }
    Contact c;
    Phone p;
    p.types = {"WORK", "VOICE"}, p.pref = 1, p.number = "+1";
    c.phones = {p};
    CHECK(has_line(write(c, Format::vcard21), "TEL;WORK;VOICE;PREF:+1"));
    CHECK(has_line(write(c, Format::vcard30), "TEL;TYPE=WORK,VOICE,PREF:+1"));
    CHECK(has_line(write(c, Format::vcard40), "TEL;TYPE=work,voice;PREF=1:+1"));
}

TEST_CASE("B8: a nameless non-type parameter in 2.1 is a TYPE") {
    Read r = read_ok(lines({"BEGIN:VCARD", "VERSION:2.1", "EMAIL;X-INTERN:a@example.com", "END:VCARD"}));
    REQUIRE(r.contact.emails.size() == 1);
    CHECK(r.contact.emails[0].types == std::vector<std::string>{"X-INTERN"});
    CHECK(has_line(write(r.contact, Format::vcard30), "EMAIL;TYPE=X-INTERN:a@example.com"));
}

TEST_CASE("B9: a short N is padded; writers always give 5 components") {
    Read r = read_ok(lines({"BEGIN:VCARD", "VERSION:2.1", "N:Foo", "END:VCARD"}));
    CHECK(r.contact.name.family == "Foo");
    CHECK(r.contact.name.given.empty());
    for (Format f : {Format::vcard21, Format::vcard30, Format::vcard40})
        CHECK(has_line(write(r.contact, f), "N:Foo;;;;"));
    CHECK(has_line(write(Contact{}, Format::vcard30), "N:;;;;"));
}

TEST_CASE("B10: PHOTO inline and by URL in each version, bytes exact") {
    SECTION("reading") {
        Read v21 = read_ok(
            lines({"BEGIN:VCARD", "VERSION:2.1", "PHOTO;TYPE=JPEG;ENCODING=BASE64:", " AAEC/w==", "", "END:VCARD"}));
        REQUIRE(v21.contact.photo);
        CHECK(v21.contact.photo->data == std::string("\x00\x01\x02\xff", 4));
        CHECK(v21.contact.photo->media_type == "image/jpeg");
        Read v30 =
            read_ok(lines({"BEGIN:VCARD", "VERSION:3.0", "PHOTO;ENCODING=b;TYPE=image/jpeg:AAEC/w==", "END:VCARD"}));
        REQUIRE(v30.contact.photo);
        CHECK(v30.contact.photo->data == std::string("\x00\x01\x02\xff", 4));
        CHECK(v30.contact.photo->media_type == "image/jpeg");
        Read v40 = read_ok(lines({"BEGIN:VCARD", "VERSION:4.0", "PHOTO:data:image/png;base64,AAEC/w==", "END:VCARD"}));
        REQUIRE(v40.contact.photo);
        CHECK(v40.contact.photo->data == std::string("\x00\x01\x02\xff", 4));
        CHECK(v40.contact.photo->media_type == "image/png");
        Read url21 =
            read_ok(lines({"BEGIN:VCARD", "VERSION:2.1", "PHOTO;VALUE=URL;TYPE=GIF:http://x.org/a.gif", "END:VCARD"}));
        REQUIRE(url21.contact.photo);
        CHECK(url21.contact.photo->uri == "http://x.org/a.gif");
        CHECK(url21.contact.photo->media_type == "image/gif");
        CHECK(url21.contact.photo->data.empty());
        Read url40 =
            read_ok(lines({"BEGIN:VCARD", "VERSION:4.0", "PHOTO;MEDIATYPE=image/gif:http://x.org/a.gif", "END:VCARD"}));
        REQUIRE(url40.contact.photo);
        CHECK(url40.contact.photo->uri == "http://x.org/a.gif");
        CHECK(url40.contact.photo->media_type == "image/gif");
    }
    SECTION("writing") {
        Contact c;
        c.photo = Binary{std::string("\x00\x01\x02\xff", 4), "", "image/jpeg"};
        CHECK(write(c, Format::vcard21).find("PHOTO;TYPE=JPEG;ENCODING=BASE64:\r\n AAEC/w==\r\n\r\n") !=
              std::string::npos);
        CHECK(has_line(write(c, Format::vcard30), "PHOTO;TYPE=JPEG;ENCODING=b:AAEC/w=="));
        CHECK(has_line(write(c, Format::vcard40), "PHOTO:data:image/jpeg;base64,AAEC/w=="));
        c.photo = Binary{"", "http://x.org/a.gif", "image/gif"};
        CHECK(has_line(write(c, Format::vcard21), "PHOTO;VALUE=URL;TYPE=GIF:http://x.org/a.gif"));
        CHECK(has_line(write(c, Format::vcard30), "PHOTO;VALUE=uri;TYPE=GIF:http://x.org/a.gif"));
        CHECK(has_line(write(c, Format::vcard40), "PHOTO;MEDIATYPE=image/gif:http://x.org/a.gif"));
    }
    SECTION("every byte value survives every version") {
        Contact c;
        c.photo = Binary{all_bytes(), "", "image/jpeg"};
        for (Format f : {Format::vcard21, Format::vcard30, Format::vcard40}) {
            Read r = read_ok(write(c, f));
            REQUIRE(r.contact.photo);
            CHECK(r.contact.photo->data == all_bytes());
            CHECK(r.contact.photo->media_type == "image/jpeg");
        }
    }
}

TEST_CASE("B11: a birthday without its year, and the other date forms") {
    struct Case {
        const char* version;
        const char* line;
        PartialDate date;
        bool warned;
    };
    const Case cases[] = {
        {"4.0", "BDAY:--0415", {0, 4, 15}, false},
        {"4.0", "BDAY:--04-15", {0, 4, 15}, false},
        {"3.0", "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15", {0, 4, 15}, false},
        {"3.0", "BDAY:1604-04-15", {1604, 4, 15}, false},
        {"3.0", "BDAY:1990-04-15", {1990, 4, 15}, false},
        {"2.1", "BDAY:19900415", {1990, 4, 15}, false},
        {"3.0", "BDAY:1990-04-15T10:00:00Z", {1990, 4, 15}, true},
        {"2.1", "BDAY:19900415T100000", {1990, 4, 15}, true},
        {"4.0", "BDAY:1990", {1990, 0, 0}, false},
        {"4.0", "ANNIVERSARY:2001-06", {2001, 6, 0}, false},
        {"3.0", "X-ANNIVERSARY:2001-06-30", {2001, 6, 30}, false},
    };
    for (const Case& c : cases) {
        INFO(c.line);
        Read r = read_ok(std::string("BEGIN:VCARD\r\nVERSION:") + c.version + "\r\n" + c.line + "\r\nEND:VCARD\r\n");
        const std::optional<PartialDate>& d =
            std::string(c.line).find("ANNIVERSARY") != std::string::npos ? r.contact.anniversary : r.contact.birthday;
        REQUIRE(d);
        CHECK(*d == c.date);
        CHECK(mentions(r.warnings, "only its date kept", 3) == c.warned);
    }
    Read bad = read_ok(lines({"BEGIN:VCARD", "VERSION:3.0", "BDAY:soon", "END:VCARD"}));
    CHECK(!bad.contact.birthday);
    REQUIRE(bad.contact.extra.size() == 1);
    CHECK(bad.contact.extra[0].value == "soon");
    CHECK(mentions(bad.warnings, "BDAY: \"soon\" is not a date", 3));

    Contact c;
    c.birthday = PartialDate{0, 4, 15};
    std::vector<Warning> l40, l30, l21;
    CHECK(has_line(write(c, Format::vcard40, &l40), "BDAY:--0415"));
    CHECK(has_line(write(c, Format::vcard30, &l30), "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15"));
    CHECK(has_line(write(c, Format::vcard21, &l21), "BDAY:16040415"));
    CHECK(l40.empty());
    CHECK(l30.empty());
    REQUIRE(l21.size() == 1);
    CHECK(l21[0].message == "BDAY: vCard 2.1 cannot leave out the year: written as 1604");
    CHECK(*read_ok(write(c, Format::vcard30)).contact.birthday == PartialDate{0, 4, 15});
    c.birthday = PartialDate{1990, 4, 15};
    c.anniversary = PartialDate{2001, 6, 30};
    CHECK(has_line(write(c, Format::vcard40), "BDAY:19900415"));
    CHECK(has_line(write(c, Format::vcard40), "ANNIVERSARY:20010630"));
    CHECK(has_line(write(c, Format::vcard30), "BDAY:1990-04-15"));
    CHECK(has_line(write(c, Format::vcard30), "X-ANNIVERSARY:2001-06-30"));
    CHECK(has_line(write(c, Format::vcard21), "BDAY:19900415"));
    c.birthday = PartialDate{1990, 0, 0};
    std::vector<Warning> year_only;
    CHECK(write(c, Format::vcard30, &year_only).find("BDAY") == std::string::npos);
    REQUIRE(year_only.size() == 1);
    CHECK(year_only[0].message == "BDAY: a date without its month or day cannot be written in vCard 3.0");
    CHECK(has_line(write(c, Format::vcard40), "BDAY:1990"));
}

TEST_CASE("B12: 4.0 ADR;LABEL with RFC 6868 carets; LABEL properties in 3.0 and 2.1") {
    Read r =
        read_ok(lines({"BEGIN:VCARD", "VERSION:4.0", "FN:HQ",
                       "ADR;TYPE=work;LABEL=\"Main St.^nSpringfield ^'HQ^'\":;;Main St.;Springfield;;;", "END:VCARD"}));
    REQUIRE(r.contact.addresses.size() == 1);
    const Address& a = r.contact.addresses[0];
    CHECK(a.delivery_label == "Main St.\nSpringfield \"HQ\"");
    CHECK(a.street == "Main St.");
    CHECK(a.locality == "Springfield");
    CHECK(has_line(write(r.contact, Format::vcard40),
                   "ADR;TYPE=work;LABEL=\"Main St.^nSpringfield ^'HQ^'\":;;Main St.;Springfield;;;"));
    std::string v30 = write(r.contact, Format::vcard30);
    CHECK(has_line(v30, "ADR;TYPE=WORK:;;Main St.;Springfield;;;"));
    CHECK(has_line(v30, "LABEL;TYPE=WORK:Main St.\\nSpringfield \"HQ\""));
    std::string v21 = write(r.contact, Format::vcard21);
    CHECK(has_line(v21, "LABEL;WORK;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Main St.=0D=0ASpringfield \"HQ\""));
    CHECK(read_ok(v30).contact.addresses[0].delivery_label == a.delivery_label);
    CHECK(read_ok(v21).contact.addresses[0].delivery_label == a.delivery_label);

    Read labels =
        read_ok(lines({"BEGIN:VCARD", "VERSION:3.0", "LABEL;TYPE=HOME:orphan", "ADR;TYPE=WORK:;;1 Work St;;;;",
                       "ADR;TYPE=HOME,POSTAL:;;2 Home St;;;;", "LABEL;TYPE=postal,home:2 Home St", "END:VCARD"}));
    REQUIRE(labels.contact.addresses.size() == 2);
    CHECK(labels.contact.addresses[0].delivery_label.empty());
    CHECK(labels.contact.addresses[1].delivery_label == "2 Home St");
    REQUIRE(labels.contact.extra.size() == 1);
    CHECK(labels.contact.extra[0].name == "LABEL");
    CHECK(labels.contact.extra[0].value == "orphan");
}

TEST_CASE("B13: unknown properties survive every conversion, with group, parameters and value") {
    std::string in = lines({"BEGIN:VCARD", "VERSION:2.1", "N:Doe;John", "FN:John Doe", "X-IRMC-LUID:0002000000A3",
                            "item2.X-EVOLUTION-SPOUSE;X-EVOLUTION-UI-SLOT=1:Jane",
                            "X-MS-OL-DESIGN;CHARSET=utf-8:<card xmlns=\"http://schemas.microsoft.com/office/outlook/12/"
                            "electronicbusinesscards\" ver=\"1.0\"><img xmlns=\"\" align=\"tleft\"/></card>",
                            "X-MOZ-GENERATION;ENCODING=QUOTED-PRINTABLE:7=0D=0Aeight, nine; ten", "END:VCARD"});
    Read r = read_ok(in);
    REQUIRE(r.contact.extra.size() == 4);
    CHECK(r.contact.extra[0].name == "X-IRMC-LUID");
    CHECK(r.contact.extra[0].value == "0002000000A3");
    CHECK(r.contact.extra[1].group == "item2");
    CHECK(r.contact.extra[1].params.size() == 1);
    CHECK(r.contact.extra[1].params[0].name == "X-EVOLUTION-UI-SLOT");
    CHECK(r.contact.extra[2].value.find("<card xmlns=\"http://schemas.microsoft.com") == 0);
    CHECK(r.contact.extra[3].value == "7\\neight\\, nine; ten");
    for (Format f : {Format::vcard21, Format::vcard30, Format::vcard40}) {
        Read again = read_ok(write(r.contact, f));
        CHECK(describe(again.contact) == describe(r.contact));
    }
    CHECK(has_line(write(r.contact, Format::vcard30), "X-MOZ-GENERATION:7\\neight\\, nine; ten"));
    CHECK(has_line(write(r.contact, Format::vcard30), "item2.X-EVOLUTION-SPOUSE;X-EVOLUTION-UI-SLOT=1:Jane"));
}

TEST_CASE("B14: a 2.1 AGENT with a nested vCard") {
    std::string in = lines({"BEGIN:VCARD", "VERSION:2.1", "N:Boss;Bob", "AGENT:", "BEGIN:VCARD", "VERSION:2.1",
                            "N:Assistant;Anna", "TEL:+1 555 0199", "END:VCARD", "TEL;WORK:+1 555 0100",
                            "NOTE:after the agent", "bad line", "END:VCARD"});
    Read r = read_ok(in);
    CHECK(r.contact.name.family == "Boss");
    REQUIRE(r.contact.phones.size() == 1);  // the agent's TEL is the agent's
    CHECK(r.contact.phones[0].number == "+1 555 0100");
    CHECK(r.contact.note == "after the agent");
    REQUIRE(r.contact.extra.size() == 1);
    CHECK(r.contact.extra[0].name == "AGENT");
    CHECK(r.contact.extra[0].value ==
          "BEGIN:VCARD\\nVERSION:2.1\\nN:Assistant\\;Anna\\nTEL:+1 555 0199\\nEND:VCARD\\n");
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].line == 12);  // line numbers are the input's

    std::string v30 = write(r.contact, Format::vcard30);
    CHECK(has_line(v30,
                   "AGENT:BEGIN:VCARD\\nVERSION:3.0\\nN:Assistant\\;Anna\\;\\;\\;\\nFN:Anna Assistant\\nTEL:+1 555 "
                   "0199\\nEND:VCARD\\n"));
    std::string v21 = write(read_ok(v30).contact, Format::vcard21);
    CHECK(v21.find("AGENT:\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nN:Assistant;Anna;;;\r\nFN:Anna Assistant\r\nTEL:+1 555 "
                   "0199\r\nEND:VCARD\r\nEND:VCARD\r\n") != std::string::npos);
    Read back = read_ok(v21);
    CHECK(back.contact.phones.size() == 1);
    CHECK(back.warnings.empty());

    // An AGENT that is a reference, not a card, is an ordinary extra.
    Read uri = read_ok(
        lines({"BEGIN:VCARD", "VERSION:3.0", "FN:x", "AGENT;VALUE=uri:CID:JQPUBLIC.part3@host3.com", "END:VCARD"}));
    REQUIRE(uri.contact.extra.size() == 1);
    CHECK(uri.contact.extra[0].value == "CID:JQPUBLIC.part3@host3.com");
    CHECK(has_line(write(uri.contact, Format::vcard21), "AGENT;VALUE=uri:CID:JQPUBLIC.part3@host3.com"));
}

// ------------------------------------------------------- reader policies --

TEST_CASE("reading: no VERSION, empty properties, what is around the card") {
    Read r = read_ok(lines({"BEGIN:VCARD", "FN:No Version", "NOTE:", "ADR;HOME:;;;;;;",
                            "TEL;CELL:", "TITLE:", "END:VCARD", "BEGIN:VCARD", "FN:second", "END:VCARD"}));
    CHECK(r.contact.formatted_name == "No Version");
    CHECK(r.contact.note.empty());
    CHECK(r.contact.addresses.empty());
    CHECK(r.contact.phones.empty());
    CHECK(r.contact.sent_empty == std::vector<std::string>{"NOTE", "ADR", "TEL", "TITLE"});
    REQUIRE(r.warnings.size() == 2);
    CHECK(r.warnings[0].message == "no VERSION: read as vCard 3.0");
    CHECK(r.warnings[1].line == 8);
    CHECK(r.warnings[1].message == "text after END:VCARD ignored");

    std::vector<Warning> w;
    CHECK(!read_vcard("", {}, &w));
    CHECK(!read_vcard("just some text\r\n", {}, &w));
    CHECK(!read_vcard("FN:no card around\r\n", {}, &w));
    CHECK(mentions(w, "no BEGIN:VCARD: not a vCard"));
    Read preamble = read_ok("X-JUNK:1\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:a\r\nEND:VCARD\r\n");
    CHECK(preamble.contact.extra.empty());
    CHECK(messages(preamble.warnings) == "1: X-JUNK before BEGIN:VCARD ignored\n");

    Read unended = read_ok("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:cut");
    CHECK(unended.contact.formatted_name == "cut");
    CHECK(mentions(unended.warnings, "no END:VCARD", 3));
}

TEST_CASE("reading: a second FN, NOTE or PHOTO is kept as an extra; bad base64 and PREF are reported") {
    Read r = read_ok(lines(
        {"BEGIN:VCARD", "VERSION:3.0", "FN:one", "FN:two", "PHOTO;ENCODING=b:@@@@", "TEL;PREF=200:1", "END:VCARD"}));
    CHECK(r.contact.formatted_name == "one");
    CHECK(!r.contact.photo);
    REQUIRE(r.contact.extra.size() == 2);
    CHECK(r.contact.extra[0].value == "two");
    CHECK(r.contact.extra[1].name == "PHOTO");
    CHECK(r.contact.extra[1].value == "@@@@");
    CHECK(mentions(r.warnings, "PHOTO: not valid base64", 5));
    CHECK(mentions(r.warnings, "PREF=200 is not 1..100", 6));
    CHECK(r.contact.phones.at(0).pref == 0);

    // A TYPE that is not a token could not be written back as a 2.1 bare parameter.
    Read odd = read_ok(lines({"BEGIN:VCARD", "VERSION:3.0", "FN:x", "EMAIL;TYPE=\"WORK,a b=c\":x@example.com", "END:VCARD"}));
    REQUIRE(odd.contact.emails.size() == 1);
    CHECK(odd.contact.emails[0].types == std::vector<std::string>{"WORK"});
    CHECK(messages(odd.warnings) == "4: EMAIL: TYPE \"A B=C\" is not a token: left out\n");
}

TEST_CASE("writing: FN for 3.0 and 4.0 built from N when empty; other formats refused") {
    Contact c;
    c.name = {"Doe", "Jane", "", "Dr.", ""};
    std::vector<Warning> losses;
    CHECK(has_line(write(c, Format::vcard40, &losses), "FN:Dr. Jane Doe"));
    CHECK(has_line(write(c, Format::vcard30, &losses), "FN:Dr. Jane Doe"));
    CHECK(write(c, Format::vcard21, &losses).find("FN") == std::string::npos);
    CHECK(losses.empty());
    Contact company;
    company.organization = "ACME";
    CHECK(has_line(write(company, Format::vcard40), "FN:ACME"));
    CHECK(write(c, Format::ical20, &losses).empty());
    CHECK(losses.size() == 1);
}

TEST_CASE("writing: a whole card in each version") {
    Contact c;
    c.formatted_name = "Jane Doe";
    c.name = {"Doe", "Jane", "", "", ""};
    Phone p;
    p.types = {"CELL"}, p.number = "+1 555 0100", p.group = "item1", p.label = "Mobile";
    c.phones = {p};
    c.note = "caf\xC3\xA9";
    c.categories = {"A", "B"};
    c.nicknames = {"JD"};
    CHECK(write(c, Format::vcard21) ==
          lines({"BEGIN:VCARD", "VERSION:2.1", "N:Doe;Jane;;;", "FN:Jane Doe", "NICKNAME:JD",
                 "item1.TEL;CELL:+1 555 0100", "item1.X-ABLabel:_$!<Mobile>!$_",
                 "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:caf=C3=A9", "CATEGORIES:A,B", "END:VCARD"}));
    CHECK(write(c, Format::vcard30) ==
          lines({"BEGIN:VCARD", "VERSION:3.0", "N:Doe;Jane;;;", "FN:Jane Doe", "NICKNAME:JD",
                 "item1.TEL;TYPE=CELL:+1 555 0100", "item1.X-ABLabel:_$!<Mobile>!$_", "NOTE:caf\xC3\xA9",
                 "CATEGORIES:A,B", "END:VCARD"}));
    Profile latin1;
    latin1.charset = "ISO-8859-1";
    CHECK(has_line(write(c, Format::vcard21, nullptr, latin1),
                   "NOTE;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:caf=E9"));
    CHECK(write(c, Format::vcard40) ==
          lines({"BEGIN:VCARD", "VERSION:4.0", "N:Doe;Jane;;;", "FN:Jane Doe", "NICKNAME:JD",
                 "item1.TEL;TYPE=cell:+1 555 0100", "item1.X-ABLabel:_$!<Mobile>!$_", "NOTE:caf\xC3\xA9",
                 "CATEGORIES:A,B", "END:VCARD"}));
}

TEST_CASE("writing: no value from the model can end a line or shift a component") {
    Contact c;
    c.name = {"a\\b;c", "d,e", "", "", ""};
    c.formatted_name = "x";
    Url u;
    u.uri = "http://x.org/a,b;c\nEND:VCARD";
    c.urls = {u};
    c.revision = "1\nEND:VCARD";
    c.photo = Binary{"", "http://x.org/\\p\r\nX-INJECTED:1", ""};
    for (Format f : {Format::vcard21, Format::vcard30, Format::vcard40}) {
        std::string text = write(c, f);
        INFO(text);
        Read r = read_ok(text);
        CHECK(r.contact.name.family == "a\\b;c");
        CHECK(r.contact.name.given == "d,e");
        REQUIRE(r.contact.urls.size() == 1);
        CHECK(r.contact.urls[0].uri == "http://x.org/a,b;c\nEND:VCARD");
        CHECK(r.contact.revision == "1\nEND:VCARD");
        REQUIRE(r.contact.photo);
        CHECK(r.contact.photo->uri == "http://x.org/\\p\nX-INJECTED:1");
        CHECK(r.contact.extra.empty());
        CHECK(r.warnings.empty());
    }
    c.birthday = PartialDate{1990, 13, 45};
    std::vector<Warning> losses;
    CHECK(write(c, Format::vcard40, &losses).find("BDAY") == std::string::npos);
    CHECK(messages(losses) == "0: BDAY: not a valid date: left out\n");
}

// ------------------------------------------------------------ round trips --

TEST_CASE("round trip of a rich contact through each version, with the losses named") {
    const Contact rich = rich_contact();
    Contact expected = rich;
    expected.emails[1].group = "item2";  // the writer's group for the label

    SECTION("4.0 carries everything") {
        std::vector<Warning> losses;
        std::string text = write(rich, Format::vcard40, &losses);
        INFO(text);
        CHECK(losses.empty());
        Read r = read_ok(text);
        CHECK(messages(r.warnings) == "");
        CHECK(describe(r.contact) == describe(expected));
    }
    SECTION("3.0 loses PREF=2") {
        std::vector<Warning> losses;
        std::string text = write(rich, Format::vcard30, &losses);
        INFO(text);
        CHECK(messages(losses) == "0: TEL: PREF=2 has no equivalent in vCard 3.0: left out\n");
        expected.phones[2].pref = 0;
        Read r = read_ok(text);
        CHECK(messages(r.warnings) == "");
        CHECK(describe(r.contact) == describe(expected));
    }
    SECTION("2.1 loses PREF=2 and the missing year") {
        std::vector<Warning> losses;
        std::string text = write(rich, Format::vcard21, &losses);
        INFO(text);
        CHECK(messages(losses) ==
              "0: TEL: PREF=2 has no equivalent in vCard 2.1: left out\n"
              "0: BDAY: vCard 2.1 cannot leave out the year: written as 1604\n");
        expected.phones[2].pref = 0;
        expected.birthday->year = 1604;
        Read r = read_ok(text);
        CHECK(messages(r.warnings) == "");
        CHECK(describe(r.contact) == describe(expected));
    }
}

TEST_CASE("text stability: 2.1 -> 3.0 -> 2.1 and 3.0 -> 4.0 -> 3.0") {
    auto through = [](const std::string& text, Format via, Format back) {
        return write(read_ok(write(read_ok(text).contact, via)).contact, back);
    };
    std::string rich21 = write(rich_contact(), Format::vcard21);
    CHECK(through(rich21, Format::vcard30, Format::vcard21) == rich21);
    CHECK(through(rich21, Format::vcard40, Format::vcard21) == rich21);
    std::string rich30 = write(rich_contact(), Format::vcard30);
    CHECK(through(rich30, Format::vcard40, Format::vcard30) == rich30);
    CHECK(through(rich30, Format::vcard21, Format::vcard30) != rich30);  // the year of the birthday is 2.1's loss

    std::string card21 =
        lines({"BEGIN:VCARD", "VERSION:2.1", "N:Doe;John;Richter,James;Mr.;Sr.", "FN:John Doe",
               "ORG:Company, The;TheDepartment", "TEL;WORK;VOICE;PREF:+1 555 0100", "EMAIL;INTERNET:john@example.com",
               "ADR;HOME:;;Silicon Alley 5,;New York;New York;12345;United States of America",
               "LABEL;HOME;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Silicon Alley 5=0D=0ANY",
               "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:C:\\\\new=0D=0Aa =3D b", "BDAY:19700101",
               "X-IRMC-LUID:0002000000A3", "END:VCARD"});
    CHECK(through(card21, Format::vcard30, Format::vcard21) == card21);
    std::string card30 = lines(
        {"BEGIN:VCARD", "VERSION:3.0", "N:Doe;John;;;", "FN:John Doe",
         "item1.EMAIL;TYPE=INTERNET,PREF:john@example.com", "item1.X-ABLabel:_$!<Other>!$_",
         "ADR;TYPE=WORK:;;Main St.;Springfield;;;", "LABEL;TYPE=WORK:Main St.\\nSpringfield", "NOTE:a\\nb\\\\c;d\\, e",
         "BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15", "X-ANNIVERSARY:2001-06-30", "CATEGORIES:a,b\\,c",
         "PHOTO;VALUE=uri;TYPE=GIF:http://x.org/a.gif", "UID:42", "REV:2026-11-25T12:00:00Z", "END:VCARD"});
    CHECK(through(card30, Format::vcard40, Format::vcard30) == card30);
}

// ---------------------------------------------------------- hostile input --

TEST_CASE("every truncation and random byte flips of a rich card: no crash, no exception") {
    for (Format f : {Format::vcard21, Format::vcard30, Format::vcard40}) {
        const std::string text = write(rich_contact(), f);
        REQUIRE(read_vcard(text, {}, nullptr));
        for (std::size_t n = 0; n <= text.size(); ++n) {
            std::vector<Warning> w;
            std::optional<Contact> c;
            REQUIRE_NOTHROW(c = read_vcard(text.substr(0, n), {}, &w));
            // Once BEGIN:VCARD and VERSION are in, there is a card.
            if (n >= text.find("VERSION") + 12) CHECK(c);
            if (c) REQUIRE_NOTHROW(write_vcard(*c, f, {}, &w));
        }
        std::mt19937 random(20261125);
        for (int round = 0; round < 300; ++round) {
            std::string flipped = text;
            for (int k = 0; k < 4; ++k) flipped[random() % flipped.size()] = static_cast<char>(random() % 256);
            Profile profile;
            profile.vcard21_folds_like_30 = round % 2 == 1;
            std::vector<Warning> w;
            std::optional<Contact> c;
            REQUIRE_NOTHROW(c = read_vcard(flipped, profile, &w));
            if (c)
                for (Format to : {Format::vcard21, Format::vcard30, Format::vcard40})
                    REQUIRE_NOTHROW(read_vcard(write_vcard(*c, to, profile, &w), profile, &w));
        }
    }
}
