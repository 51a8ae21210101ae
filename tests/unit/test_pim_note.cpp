// Notes as vNote 1.1 (old MIME-DIR dialect: quoted-printable bodies,
// charsets, \\ and \; as the only escapes) and as plain text.
#include <catch2/catch.hpp>

#include <algorithm>

#include "pim/formats.hpp"

using namespace smk::pim;
using namespace smk::pim::detail;

namespace {

std::string lines(std::initializer_list<const char*> ls) {
    std::string out;
    for (const char* l : ls) out += std::string(l) + "\r\n";
    return out;
}

DateTime utc(int y, int mo, int d, int h, int mi, int s) {
    DateTime t;
    t.year = y, t.month = mo, t.day = d, t.hour = h, t.minute = mi, t.second = s;
    t.kind = DateTime::Kind::utc;
    return t;
}

}  // namespace

TEST_CASE("vNote 1.1: a quoted-printable multi-line body with a charset, and the other properties") {
    std::string in = lines({
        "BEGIN:VNOTE",
        "VERSION:1.1",
        "X-IRMC-LUID:000001A2",
        "SUMMARY;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Einkauf f=FCr Montag",
        "BODY;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Einkauf f=C3=BCr Montag=0D=0AMilch=",
        "=0D=0AEier \\; Brot",
        "CATEGORIES:Personal;Shopping",
        "CLASS:private",
        "DCREATED:20240105T083000Z",
        "LAST-MODIFIED:20240106T101500Z",
        "X-FUNAMBOL-FOLDER:DEFAULT_FOLDER",
        "END:VNOTE",
    });
    std::vector<Warning> warnings;
    auto note = read_vnote(in, {}, &warnings);
    REQUIRE(note);
    CHECK(warnings.empty());
    CHECK(note->subject == "Einkauf f\xC3\xBCr Montag");
    CHECK(note->body == "Einkauf f\xC3\xBCr Montag\nMilch\nEier ; Brot");
    CHECK(note->categories == std::vector<std::string>{"Personal", "Shopping"});
    CHECK(note->classification == "PRIVATE");
    CHECK(note->created == utc(2024, 1, 5, 8, 30, 0));
    CHECK(note->last_modified == utc(2024, 1, 6, 10, 15, 0));
    REQUIRE(note->extra.size() == 2);
    CHECK(note->extra[0].name == "X-IRMC-LUID");
    CHECK(note->extra[0].value == "000001A2");
    CHECK(note->extra[1].name == "X-FUNAMBOL-FOLDER");
    CHECK(note->extra[1].value == "DEFAULT_FOLDER");
    CHECK(note->sent_empty.empty());
}

TEST_CASE("vNote 1.1: written in the old dialect, quoted-printable for line breaks, and read back") {
    Note note;
    note.subject = "Shopping";
    note.body = "Shopping\nmilk\neggs";
    note.categories = {"Personal", "A;B"};
    note.classification = "PUBLIC";
    note.created = utc(2024, 1, 5, 8, 30, 0);
    note.color = "2";
    note.extra.push_back({"", "X-IRMC-LUID", {}, "42", false});
    std::vector<Warning> losses;
    std::string out = write_vnote(note, {}, &losses);
    INFO(out);
    CHECK(losses.empty());
    CHECK(out == lines({
                     "BEGIN:VNOTE",
                     "VERSION:1.1",
                     "SUMMARY:Shopping",
                     "BODY;ENCODING=QUOTED-PRINTABLE:Shopping=0D=0Amilk=0D=0Aeggs",
                     "CATEGORIES:Personal;A\\;B",
                     "CLASS:PUBLIC",
                     "DCREATED:20240105T083000Z",
                     "X-SIF-COLOR:2",
                     "X-IRMC-LUID:42",
                     "END:VNOTE",
                 }));
    auto back = read_vnote(out, {}, nullptr);
    REQUIRE(back);
    CHECK(back->subject == note.subject);
    CHECK(back->body == note.body);
    CHECK(back->categories == note.categories);
    CHECK(back->classification == "PUBLIC");
    CHECK(back->created == note.created);
    CHECK(back->color == "2");
    REQUIRE(back->extra.size() == 1);
    CHECK(back->extra[0].name == "X-IRMC-LUID");

    // Non-ASCII text in the profile's charset.
    Profile latin1;
    latin1.charset = "ISO-8859-1";
    Note umlaut;
    umlaut.body = "f\xC3\xBCr";
    CHECK(write_vnote(umlaut, latin1, nullptr).find("BODY;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:f=FCr\r\n") !=
          std::string::npos);
}

TEST_CASE("vNote 1.1: empty properties are recorded as cleared, as the other readers do") {
    std::string in = lines({"BEGIN:VNOTE", "VERSION:1.1", "BODY:", "CATEGORIES:", "SUMMARY:x", "END:VNOTE"});
    auto note = read_vnote(in, {}, nullptr);
    REQUIRE(note);
    CHECK(note->sent_empty == std::vector<std::string>{"BODY", "CATEGORIES"});
    CHECK(note->body.empty());
    CHECK(note->subject == "x");
}

TEST_CASE("vNote 1.1: a note's UID is written back") {
    auto note = read_vnote(lines({"BEGIN:VNOTE", "VERSION:1.1", "UID:note-1", "BODY:x", "END:VNOTE"}), {}, nullptr);
    REQUIRE(note);
    CHECK(note->uid == "note-1");
    CHECK(write_vnote(*note, {}, nullptr).find("\r\nUID:note-1\r\n") != std::string::npos);
}

TEST_CASE("vNote 1.1: what is not a vNote gives no note and a warning") {
    std::vector<Warning> warnings;
    CHECK_FALSE(read_vnote(lines({"BEGIN:VCARD", "VERSION:2.1", "N:x", "END:VCARD"}), {}, &warnings));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].message.find("BEGIN:VNOTE") != std::string::npos);

    warnings.clear();
    auto odd = read_vnote(lines({"BEGIN:VNOTE", "VERSION:1.0", "no colon here", "DCREATED:yesterday", "BODY:b"}), {},
                          &warnings);
    REQUIRE(odd);
    CHECK(odd->body == "b");
    CHECK_FALSE(odd->created.valid());
    // The version (line 2), the line without ':' (3), the date (4), no END (5).
    std::vector<int> warned_lines;
    for (const Warning& w : warnings) warned_lines.push_back(w.line);
    std::sort(warned_lines.begin(), warned_lines.end());
    CHECK(warned_lines == std::vector<int>{2, 3, 4, 5});
}

TEST_CASE("Text notes: the first line is the subject; writing gives the same text back") {
    std::vector<Warning> warnings;
    auto note = read_text_note("Shopping\r\nmilk\r\neggs\r\n", &warnings);
    REQUIRE(note);
    CHECK(warnings.empty());
    CHECK(note->subject == "Shopping");
    CHECK(note->body == "Shopping\nmilk\neggs\n");
    CHECK(write_text_note(*note, nullptr) == "Shopping\r\nmilk\r\neggs\r\n");

    // A subject that is not the body's first line is put before it.
    Note titled;
    titled.subject = "Ideas";
    titled.body = "a\nb";
    CHECK(write_text_note(titled, nullptr) == "Ideas\r\na\r\nb");
    Note subject_only;
    subject_only.subject = "Call Bob";
    CHECK(write_text_note(subject_only, nullptr) == "Call Bob");

    // What plain text cannot carry is named.
    titled.categories = {"Work"};
    titled.extra.push_back({"", "X-SIF-HEIGHT", {}, "200", false});
    std::vector<Warning> losses;
    write_text_note(titled, &losses);
    CHECK(losses.size() == 2);

    // Not UTF-8: read as Windows-1252, with a warning.
    auto latin = read_text_note("f\xFCr 5\x80", &warnings);
    REQUIRE(latin);
    CHECK(latin->body == "f\xC3\xBCr 5\xE2\x82\xAC");
    CHECK(warnings.size() == 1);

    auto empty = read_text_note("", nullptr);
    REQUIRE(empty);
    CHECK(empty->body.empty());
    CHECK(empty->subject.empty());
}

TEST_CASE("vNote: random mutations never crash the reader or the writer") {
    const std::string seed = lines({
        "BEGIN:VNOTE", "VERSION:1.1", "SUMMARY;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:f=FCr",
        "BODY;ENCODING=QUOTED-PRINTABLE:a=0D=0Ab=", "=0D=0Ac", "CATEGORIES:x;y", "DCREATED:20240105T083000Z",
        "X-IRMC-LUID:1", "PHOTO;ENCODING=BASE64:QUJD", "", "END:VNOTE",
    });
    const char kInteresting[] = ":;=\\\r\n \x00\xC3\x80" "ABZT0123456789";
    std::uint32_t state = 777;
    auto next = [&] {
        state = state * 1103515245u + 12345u;
        return (state >> 16) & 0x7FFF;
    };
    int notes = 0;
    for (int round = 0; round < 1500; ++round) {
        std::string data = seed;
        for (int k = 0, edits = 1 + static_cast<int>(next() % 6); k < edits && !data.empty(); ++k) {
            std::size_t at = next() % data.size();
            switch (next() % 3) {
                case 0: data[at] = kInteresting[next() % (sizeof kInteresting - 1)]; break;
                case 1: data.erase(at, 1 + next() % 8); break;
                default: data.insert(at, data.substr(next() % data.size(), next() % 24)); break;
            }
        }
        std::vector<Warning> warnings;
        if (auto note = read_vnote(data, {}, &warnings)) {
            ++notes;
            auto again = read_vnote(write_vnote(*note, {}, nullptr), {}, nullptr);
            REQUIRE(again);
            CHECK(again->body == note->body);  // whatever survived, survives writing
        }
        if (auto text = read_text_note(data, &warnings)) write_text_note(*text, nullptr);
    }
    CHECK(notes > 100);
}
