// pim.hpp's own parts: format names and detection, client profiles, the JSON
// form of the model, and the merge rule for a client's Replace.
#include <catch2/catch.hpp>

#include "syncmlkit/pim.hpp"
#include "wire/text.hpp"

using namespace smk::pim;

TEST_CASE("formats by MIME type, by name and by content") {
    CHECK(format_for_mime("text/x-vcard", "2.1") == Format::vcard21);
    CHECK(format_for_mime("text/vcard", "3.0") == Format::vcard30);
    CHECK(format_for_mime("text/vcard", "4.0") == Format::vcard40);
    CHECK(format_for_mime("TEXT/VCARD", "") == Format::vcard30);
    CHECK(format_for_mime("text/x-vcalendar", "1.0") == Format::vcal10);
    CHECK(format_for_mime("text/calendar", "2.0") == Format::ical20);
    CHECK(format_for_mime("text/x-s4j-sife") == Format::sife);
    CHECK(format_for_mime("text/x-vnote") == Format::vnote11);
    CHECK(format_for_mime("text/plain") == Format::text);
    CHECK_FALSE(format_for_mime("application/octet-stream").has_value());
    for (Format f : {Format::vcard21, Format::vcard30, Format::vcard40, Format::vcal10, Format::ical20, Format::sifc,
                     Format::sife, Format::sift, Format::sifn, Format::vnote11, Format::text}) {
        CHECK(format_named(format_name(f)) == f);
        CHECK(format_for_mime(mime_type(f), mime_version(f)) == f);
    }
    CHECK_FALSE(format_named("vcard99").has_value());

    CHECK(detect_format("BEGIN:VCARD\r\nVERSION:2.1\r\nEND:VCARD\r\n") == Format::vcard21);
    CHECK(detect_format("\xEF\xBB\xBF\r\nbegin:vcard\nversion:4.0\nend:vcard\n") == Format::vcard40);
    CHECK(detect_format("BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n") == Format::vcard30);
    CHECK(detect_format("BEGIN:VCALENDAR\r\nVERSION:1.0\r\nEND:VCALENDAR\r\n") == Format::vcal10);
    CHECK(detect_format("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n") == Format::ical20);
    CHECK(detect_format("BEGIN:VNOTE\r\nVERSION:1.1\r\nEND:VNOTE\r\n") == Format::vnote11);
    CHECK(detect_format("<?xml version=\"1.0\"?><contact><FirstName>a</FirstName></contact>") == Format::sifc);
    CHECK(detect_format("<appointment/>") == Format::sife);
    CHECK(detect_format("<task></task>") == Format::sift);
    CHECK(detect_format(smk::wire::base64_encode("<note><Body>x</Body></note>")) == Format::sifn);
    CHECK(detect_format("just some words") == Format::text);
    CHECK(detect_format("<html>not SIF</html>") == Format::text);

    CHECK(kind_of(Format::sifc) == Kind::contact);
    CHECK(kind_of(Format::sift) == Kind::calendar);
    CHECK(kind_of(Format::text) == Kind::note);
}

TEST_CASE("client profiles from DevInf") {
    CHECK(profile_for("Funambol", "Funambol Outlook Plug-in", "fol-123").name == "funambol-outlook");
    CHECK(profile_for("Funambol", "", "fol-123").last_week_is_5_plus);
    Profile mozilla = profile_for("Funambol", "Funambol Mozilla Sync Client", "fmz-1");
    CHECK(mozilla.name == "funambol");
    CHECK(mozilla.funambol_extensions);
    CHECK_FALSE(mozilla.last_week_is_5_plus);
    CHECK(profile_for("", "SyncEvolution", "syncevo-1").vcal_count_is_intervals);
    CHECK(profile_for("Nokia", "6230i", "IMEI:1").name == "nokia");
    Profile se = profile_for("Sony Ericsson", "K800i", "IMEI:2");
    CHECK(se.charset == "ISO-8859-1");
    CHECK(se.times_in_utc);
    CHECK(profile_for("Apple", "iPhone", "x").name == "generic");
    CHECK(profile_named("no-such").name == "generic");
}

TEST_CASE("the model as JSON: stable keys, empty fields left out, text escaped") {
    Contact c;
    c.name.family = "M\xC3\xBCller";
    c.name.given = "J\xC3\xB6rg";
    c.note = "two\nlines \"quoted\"";
    Phone p;
    p.number = "+1";
    p.types = {"WORK", "VOICE"};
    p.pref = 1;
    c.phones.push_back(p);
    c.birthday = PartialDate{0, 4, 15};
    CHECK(to_json(c) ==
          "{\"contact\":{\"n\":{\"family\":\"M\xC3\xBCller\",\"given\":\"J\xC3\xB6rg\"},"
          "\"tel\":[{\"number\":\"+1\",\"types\":[\"WORK\",\"VOICE\"],\"pref\":1}],\"bday\":\"--04-15\","
          "\"note\":\"two\\nlines \\\"quoted\\\"\"}}");

    Calendar cal;
    CalendarItem e;
    e.summary = "x";
    e.start = DateTime{2024, 3, 1, 10, 0, 0, DateTime::Kind::zoned, "Europe/Berlin"};
    e.end = DateTime{2024, 3, 2, 0, 0, 0, DateTime::Kind::date, ""};
    Recurrence r;
    r.frequency = Recurrence::Frequency::monthly;
    r.by_day = {{-1, 5}};
    r.count = 3;
    e.recurrence = r;
    cal.items.push_back(e);
    CHECK(to_json(cal) ==
          "{\"calendar\":{\"items\":[{\"type\":\"event\",\"summary\":\"x\","
          "\"start\":\"2024-03-01T10:00:00[Europe/Berlin]\",\"end\":\"2024-03-02\","
          "\"rrule\":{\"freq\":\"MONTHLY\",\"count\":3,\"by_day\":[\"-1FR\"]}}]}}");
}

TEST_CASE("merge: what the client sent wins, what it cannot hold stays, what it sent empty is cleared") {
    Contact stored;
    stored.name.family = "Doe";
    stored.note = "old note";
    stored.title = "Boss";
    stored.photo = Binary{"\xFF\xD8", "", "image/jpeg"};
    stored.extra.push_back({"", "X-MOZ-PHONETIC", {}, "Dou", false});
    stored.extra.push_back({"", "GEO", {}, "52.5;13.4", false});
    Phone old_phone;
    old_phone.number = "+1 555 0100";
    stored.phones.push_back(old_phone);

    Contact incoming;
    incoming.name.family = "Doe";
    Phone new_phone;
    new_phone.number = "+1 555 0199";
    incoming.phones.push_back(new_phone);
    incoming.sent_empty = {"NOTE"};

    SECTION("a vCard client without CTCap holds everything: what it left out was deleted") {
        Contact m = std::get<Contact>(merge(stored, incoming, {Format::vcard30, {}}));
        CHECK(m.phones.at(0).number == "+1 555 0199");
        CHECK(m.note.empty());
        CHECK(m.title.empty());
        CHECK_FALSE(m.photo.has_value());
        // Unknown properties it did not send stay: clients drop what they do not know.
        REQUIRE(m.extra.size() == 2);
        CHECK(m.extra[0].name == "X-MOZ-PHONETIC");
    }
    SECTION("a client whose CTCap lacks TITLE and PHOTO keeps them") {
        Contact m = std::get<Contact>(merge(stored, incoming, {Format::vcard21, {"N", "TEL", "NOTE"}}));
        CHECK(m.title == "Boss");
        REQUIRE(m.photo.has_value());
        CHECK(m.photo->data == "\xFF\xD8");
        CHECK(m.note.empty());  // sent empty
        CHECK(m.phones.at(0).number == "+1 555 0199");
    }
    SECTION("a CTCap that lists an X- property means the client could have sent it") {
        Contact m = std::get<Contact>(merge(stored, incoming, {Format::vcard30, {"N", "TEL", "X-MOZ-PHONETIC"}}));
        REQUIRE(m.extra.size() == 1);
        CHECK(m.extra[0].name == "GEO");
    }
    SECTION("a SIF-C client has no place for GEO or X- properties: kept without CTCap") {
        Contact m = std::get<Contact>(merge(stored, incoming, {Format::sifc, {}}));
        CHECK(m.extra.size() == 2);
        CHECK(m.title.empty());  // SIF-C carries JobTitle: not sent means deleted
    }
}

TEST_CASE("merge: calendar items by instance, notes by field") {
    Calendar stored;
    CalendarItem master;
    master.uid = "u1";
    master.summary = "Series";
    master.location = "Room 1";
    Attendee a;
    a.address = "mailto:bob@example.org";
    master.attendees.push_back(a);
    stored.items.push_back(master);
    CalendarItem moved = master;
    moved.recurrence_id = DateTime{2024, 5, 6, 9, 0, 0, DateTime::Kind::utc, ""};
    moved.summary = "Moved";
    stored.items.push_back(moved);

    Calendar incoming;
    CalendarItem sent;
    sent.uid = "u1";
    sent.summary = "Series (renamed)";
    incoming.items.push_back(sent);

    Calendar sif = std::get<Calendar>(merge(stored, incoming, {Format::sife, {}}));
    REQUIRE(sif.items.size() == 2);  // SIF cannot send the changed instance: kept
    CHECK(sif.items[0].summary == "Series (renamed)");
    CHECK(sif.items[0].location.empty());               // SIF carries Location: deleted
    CHECK(sif.items[0].attendees.size() == 1);          // SIF has no attendees: kept
    CHECK(sif.items[1].summary == "Moved");

    Calendar ical = std::get<Calendar>(merge(stored, incoming, {Format::ical20, {}}));
    CHECK(ical.items.size() == 1);  // an iCalendar client sends its instances: gone means gone
    CHECK(ical.items[0].attendees.empty());

    Note n1;
    n1.subject = "Shopping";
    n1.body = "milk";
    n1.categories = {"Home"};
    Note n2;
    n2.subject = "Shopping";
    n2.body = "milk, eggs";
    Note text = std::get<Note>(merge(n1, n2, {Format::text, {}}));
    CHECK(text.body == "milk, eggs");
    CHECK(text.categories == std::vector<std::string>{"Home"});  // plain text cannot carry categories
    Note vnote = std::get<Note>(merge(n1, n2, {Format::vnote11, {}}));
    CHECK(vnote.categories.empty());
}
