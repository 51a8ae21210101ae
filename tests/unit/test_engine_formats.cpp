// The engine converts between each client's format and the store's native
// one (vCard 3.0, iCalendar 2.0, vNote 1.1): Funambol's SIF (base64, "b64"),
// vCalendar 1.0, plain text notes; and a Replace from a client whose format
// cannot carry everything keeps what it could not hold.
#include <catch2/catch.hpp>

#include "engine_client.hpp"
#include "syncmlkit/pim.hpp"
#include "wire/text.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Command add_item(const std::string& luid, const std::string& data, const std::string& type,
                 const std::string& encoding = "") {
    Command add = TestClient::item_command(CommandKind::Add, luid, encoding == "b64" ? base64_encode(data) : data);
    add.meta.type = type;
    add.meta.format = encoding;
    return add;
}

const std::string kSifContact =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><contact><SIFVersion>1.1</SIFVersion>"
    "<FirstName>J\xC3\xB6rg</FirstName><LastName>M\xC3\xBCller</LastName><FileAs>M\xC3\xBCller, J\xC3\xB6rg</FileAs>"
    "<Email1Address>joerg@example.com</Email1Address><BusinessTelephoneNumber>+49 30 1234</BusinessTelephoneNumber>"
    "<MobileTelephoneNumber>+49 170 555</MobileTelephoneNumber><Body>two\r\nlines</Body></contact>";

}  // namespace

TEST_CASE("a Funambol client's SIF-C contact (base64) is kept as vCard 3.0 and sent back as SIF-C") {
    TestServer ts;
    TestClient outlook(*ts.server, "fol-abc");
    ClientDescription fol{"fol-abc", "text/x-s4j-sifc", "1.0", "scard", "Funambol", "Funambol Outlook Plug-in"};
    Message pkg2 = init_with_devinf(outlook, fol, "201", "O1");
    Message pkg4 = client_changes(outlook, pkg2, "scard", {add_item("o-1", kSifContact, "text/x-s4j-sifc", "b64")});
    CHECK(find_status(pkg4, "Add")->data == "201");
    map_phase(outlook, pkg4, "scard");

    auto stored = ts.items("alice", Category::contacts);
    REQUIRE(stored.size() == 1);
    const std::string& card = stored[0];
    CHECK(has(card, "VERSION:3.0\r\n"));
    CHECK(has(card, "N:M\xC3\xBCller;J\xC3\xB6rg;;;\r\n"));
    CHECK(has(card, "joerg@example.com"));
    CHECK(has(card, "+49 30 1234"));
    CHECK(has(card, "NOTE:two\\nlines\r\n"));

    // A vCard 3.0 client gets it as vCard 3.0.
    TestClient evolution(*ts.server, "evo-1");
    pkg2 = init_with_devinf(evolution, {"evo-1", "text/vcard", "3.0"}, "205", "E1");
    pkg4 = client_changes(evolution, pkg2, "contacts", {});
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].meta.type == "text/vcard");
    CHECK(has(ops[0].items[0].data, "N:M\xC3\xBCller;J\xC3\xB6rg;;;"));
    map_phase(evolution, pkg4, "contacts");

    // Its new contact reaches Outlook as SIF-C, base64-encoded.
    evolution.new_session();
    pkg2 = init(evolution, "200", "contacts", "E1", "E2");
    pkg4 = client_changes(evolution, pkg2, "contacts",
                          {add_item("e-2",
                                    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\n"
                                    "TEL;TYPE=CELL:+1 555 0100\r\nEMAIL;TYPE=INTERNET:jane@example.org\r\nEND:VCARD\r\n",
                                    "text/vcard")});
    map_phase(evolution, pkg4, "contacts");
    outlook.new_session();
    pkg2 = init(outlook, "200", "scard", "O1", "O2");
    pkg4 = client_changes(outlook, pkg2, "scard", {});
    ops = server_ops(pkg4);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].meta.type == "text/x-s4j-sifc");
    CHECK(ops[0].meta.format == "b64");
    auto sif = base64_decode(ops[0].items[0].data);
    REQUIRE(sif);
    CHECK(has(*sif, "<contact>"));
    CHECK(has(*sif, "<LastName>Doe</LastName>"));
    CHECK(has(*sif, "<FirstName>Jane</FirstName>"));
    CHECK(has(*sif, "<MobileTelephoneNumber>+1 555 0100</MobileTelephoneNumber>"));
    CHECK(has(*sif, "<Email1Address>jane@example.org</Email1Address>"));
}

TEST_CASE("a Replace from a SIF-C client keeps what SIF cannot carry") {
    TestServer ts;
    ts.stores->open("alice", Category::contacts)
        ->add(Format{"text/vcard", "3.0"},
              "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nTEL;TYPE=CELL:+1 555 0100\r\n"
              "GEO:52.52;13.40\r\nX-MOZ-LAST-NAME-PHONETIC:Dou\r\nNOTE:old note\r\nEND:VCARD\r\n");
    TestClient outlook(*ts.server, "fol-xyz");
    ClientDescription fol{"fol-xyz", "text/x-s4j-sifc", "1.0", "scard", "Funambol", "Funambol Outlook Plug-in"};
    Message pkg4 = client_changes(outlook, init_with_devinf(outlook, fol, "205", "O1"), "scard", {});
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == 1);
    std::string guid = ops[0].items[0].source.uri;
    map_phase(outlook, pkg4, "scard");

    outlook.new_session();
    Message pkg2 = init(outlook, "200", "scard", "O1", "O2");
    std::string sif =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><contact><SIFVersion>1.1</SIFVersion><FirstName>Jane</FirstName>"
        "<LastName>Doe</LastName><MobileTelephoneNumber>+1 555 0199</MobileTelephoneNumber><Body></Body></contact>";
    Command replace = TestClient::item_command(CommandKind::Replace, "c" + guid, base64_encode(sif));
    replace.meta.type = "text/x-s4j-sifc";
    replace.meta.format = "b64";
    pkg4 = client_changes(outlook, pkg2, "scard", {replace});
    CHECK(find_status(pkg4, "Replace")->data == "200");
    auto items = ts.items("alice", Category::contacts);
    REQUIRE(items.size() == 1);
    CHECK(has(items[0], "+1 555 0199"));                      // the client's change
    CHECK_FALSE(has(items[0], "+1 555 0100"));
    CHECK(has(items[0], "GEO:52.52;13.40"));                  // SIF has no place for these: kept
    CHECK(has(items[0], "X-MOZ-LAST-NAME-PHONETIC:Dou"));
    CHECK_FALSE(has(items[0], "old note"));                   // sent empty: cleared
}

TEST_CASE("a vCalendar 1.0 event is kept as iCalendar 2.0 and reaches an iCalendar client") {
    TestServer ts;
    TestClient phone(*ts.server, "IMEI:35");
    Message pkg2 = init_with_devinf(phone, {"IMEI:35", "text/x-vcalendar", "1.0", "calendar", "Nokia", "6230i"}, "201", "P1");
    std::string vcal =
        "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nSUMMARY:Standup\r\n"
        "DTSTART:20260105T080000Z\r\nDTEND:20260105T081500Z\r\nRRULE:W1 MO WE #0\r\n"
        "DALARM:20260105T075500Z;;;Standup\r\nTRANSP:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    Message pkg4 = client_changes(phone, pkg2, "calendar", {add_item("p-1", vcal, "text/x-vcalendar")});
    CHECK(find_status(pkg4, "Add")->data == "201");
    map_phase(phone, pkg4, "calendar");

    auto stored = ts.items("alice", Category::calendar);
    REQUIRE(stored.size() == 1);
    const std::string& ics = stored[0];
    CHECK(has(ics, "VERSION:2.0\r\n"));
    CHECK(has(ics, "SUMMARY:Standup\r\n"));
    CHECK(has(ics, "DTSTART:20260105T080000Z\r\n"));
    CHECK(has(ics, "RRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\n"));
    CHECK(has(ics, "BEGIN:VALARM\r\n"));
    CHECK(has(ics, "ACTION:DISPLAY\r\n"));
    CHECK(has(ics, "TRANSP:TRANSPARENT\r\n"));

    TestClient desktop(*ts.server, "evo-cal");
    pkg2 = init_with_devinf(desktop, {"evo-cal", "text/calendar", "2.0", "calendar"}, "205", "D1");
    std::vector<Command> ops = server_ops(client_changes(desktop, pkg2, "calendar", {}));
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].meta.type == "text/calendar");
    CHECK(has(ops[0].items[0].data, "RRULE:FREQ=WEEKLY;BYDAY=MO,WE"));
}

TEST_CASE("notes: plain text kept as vNote 1.1, sent to a Funambol client as SIF-N") {
    TestServer ts;
    TestClient memo(*ts.server, "evo-memo");
    Message pkg2 = init_with_devinf(memo, {"evo-memo", "text/plain", "1.0", "notes"}, "201", "M1");
    Message pkg4 = client_changes(memo, pkg2, "notes",
                                  {add_item("m-1", "Shopping\nmilk; caf\xC3\xA9\n", "text/plain")});
    CHECK(find_status(pkg4, "Add")->data == "201");
    map_phase(memo, pkg4, "notes");
    auto stored = ts.items("alice", Category::notes);
    REQUIRE(stored.size() == 1);
    CHECK(has(stored[0], "BEGIN:VNOTE\r\n"));
    CHECK(has(stored[0], "VERSION:1.1\r\n"));
    smk::pim::ReadResult note = smk::pim::read(stored[0], smk::pim::Format::vnote11);
    REQUIRE(note.item);
    CHECK(std::get<smk::pim::Note>(*note.item).body.find("milk; caf\xC3\xA9") != std::string::npos);

    // Funambol's name for its notes database is "snote".
    TestClient outlook(*ts.server, "fol-notes");
    ClientDescription fol{"fol-notes", "text/x-s4j-sifn", "1.0", "snote", "Funambol", "Funambol Outlook Plug-in"};
    pkg2 = init_with_devinf(outlook, fol, "205", "O1");
    std::vector<Command> ops = server_ops(client_changes(outlook, pkg2, "snote", {}));
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].meta.type == "text/x-s4j-sifn");
    CHECK(ops[0].meta.format == "b64");
    auto sif = base64_decode(ops[0].items[0].data);
    REQUIRE(sif);
    CHECK(has(*sif, "<note>"));
    CHECK(has(*sif, "milk; caf\xC3\xA9"));
}

TEST_CASE("an item that cannot be read is stored as it came, with a log line") {
    TestServer ts;
    TestClient phone(*ts.server, "IMEI:36");
    Message pkg2 = init_with_devinf(phone, {"IMEI:36", "text/x-s4j-sifc", "1.0"}, "201", "P1");
    Message pkg4 = client_changes(phone, pkg2, "contacts", {add_item("p-1", "<contact><broken", "text/x-s4j-sifc")});
    CHECK(find_status(pkg4, "Add")->data == "201");
    auto stored = ts.items("alice", Category::contacts);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0] == "<contact><broken");
    CHECK(ts.logger->contains("could not be read"));
}

TEST_CASE("the host's user time zone and profile choice steer the conversion") {
    TestServer ts(150000, [](ServerConfig& config) {
        config.user_time_zone = [](const std::string& user) { return user == "alice" ? "Europe/Berlin" : ""; };
        // This host knows its phones write "last" the Outlook way.
        config.client_profile = [](std::string_view, std::string_view, std::string_view) {
            return smk::pim::profile_named("funambol-outlook");
        };
    });
    TestClient phone(*ts.server, "IMEI:37");
    Message pkg2 = init_with_devinf(phone, {"IMEI:37", "text/x-vcalendar", "1.0", "calendar", "Acme", "P1"}, "201", "P1");
    std::string vcal =
        "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nSUMMARY:Review\r\n"
        "DTSTART:20260130T090000\r\nDTEND:20260130T100000\r\nRRULE:MP1 5+ FR #0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    Message pkg4 = client_changes(phone, pkg2, "calendar", {add_item("p-1", vcal, "text/x-vcalendar")});
    CHECK(find_status(pkg4, "Add")->data == "201");
    auto stored = ts.items("alice", Category::calendar);
    REQUIRE(stored.size() == 1);
    CHECK(has(stored[0], "DTSTART;TZID=Europe/Berlin:20260130T090000\r\n"));
    CHECK(has(stored[0], "BEGIN:VTIMEZONE\r\n"));
    CHECK(has(stored[0], "RRULE:FREQ=MONTHLY;BYDAY=-1FR\r\n"));
}
