// Funambol SIF-C, -E, -T and -N: what the Outlook plug-in and the sync4j
// Pocket PC client send, read into the model and written back. Expected
// values are written out by hand from the element meanings (Outlook's
// fields) and the mapping table at the top of lib/pim/sif.cpp.
#include <catch2/catch.hpp>
#include <pugixml.hpp>

#include <algorithm>
#include <map>

#include "pim/formats.hpp"
#include "wire/text.hpp"

using namespace smk::pim;
using namespace smk::pim::detail;

namespace {

// The root's children of a SIF document: name -> text (the first of each name).
std::map<std::string, std::string> elements_of(const std::string& xml) {
    pugi::xml_document doc;
    REQUIRE(doc.load_string(xml.c_str()));
    std::map<std::string, std::string> out;
    for (pugi::xml_node child : doc.document_element().children())
        out.emplace(child.name(), child.text().get());
    return out;
}

std::string root_of(const std::string& xml) {
    pugi::xml_document doc;
    REQUIRE(doc.load_string(xml.c_str()));
    return doc.document_element().name();
}

DateTime utc(int y, int mo, int d, int h, int mi, int s = 0) {
    DateTime t;
    t.year = y, t.month = mo, t.day = d, t.hour = h, t.minute = mi, t.second = s;
    t.kind = DateTime::Kind::utc;
    return t;
}

DateTime date(int y, int mo, int d) {
    DateTime t;
    t.year = y, t.month = mo, t.day = d;
    t.kind = DateTime::Kind::date;
    return t;
}

const ExtraProperty* extra_named(const std::vector<ExtraProperty>& extra, const std::string& name) {
    for (const ExtraProperty& p : extra)
        if (p.name == name) return &p;
    return nullptr;
}

const Phone* phone_numbered(const Contact& c, const std::string& number) {
    for (const Phone& p : c.phones)
        if (p.number == number) return &p;
    return nullptr;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

// A contact with every slot filled, as the Outlook plug-in writes it.
const char* const kFullContact = R"(<?xml version="1.0" encoding="UTF-8"?>
<contact>
<SIFVersion>1.1</SIFVersion>
<FirstName>Jörg</FirstName>
<MiddleName>Karl</MiddleName>
<LastName>Müller</LastName>
<Title>Dr.</Title>
<Suffix>Jr.</Suffix>
<FileAs>Müller, Jörg</FileAs>
<NickName>Jojo</NickName>
<CompanyName>Widgets &amp; Co</CompanyName>
<Department>R&amp;D</Department>
<OfficeLocation>Building 7</OfficeLocation>
<JobTitle>Engineer</JobTitle>
<Profession>Physicist</Profession>
<Body>first line
second line &lt;b&gt;</Body>
<Categories>Business, VIP;Friends</Categories>
<Birthday>1970-04-15</Birthday>
<Anniversary>19990701</Anniversary>
<BusinessTelephoneNumber>+49 30 1</BusinessTelephoneNumber>
<Business2TelephoneNumber>+49 30 2</Business2TelephoneNumber>
<BusinessFaxNumber>+49 30 3</BusinessFaxNumber>
<CompanyMainTelephoneNumber>+49 30 4</CompanyMainTelephoneNumber>
<HomeTelephoneNumber>+49 30 5</HomeTelephoneNumber>
<Home2TelephoneNumber>+49 30 6</Home2TelephoneNumber>
<HomeFaxNumber>+49 30 7</HomeFaxNumber>
<MobileTelephoneNumber>+49 170 8</MobileTelephoneNumber>
<CarTelephoneNumber>+49 30 9</CarTelephoneNumber>
<PagerNumber>+49 30 10</PagerNumber>
<PrimaryTelephoneNumber>+49 30 11</PrimaryTelephoneNumber>
<OtherTelephoneNumber>+49 30 12</OtherTelephoneNumber>
<OtherFaxNumber>+49 30 13</OtherFaxNumber>
<AssistantTelephoneNumber>+49 30 14</AssistantTelephoneNumber>
<CallbackTelephoneNumber>+49 30 15</CallbackTelephoneNumber>
<RadioTelephoneNumber>+49 30 16</RadioTelephoneNumber>
<TelexNumber>+49 30 17</TelexNumber>
<Email1Address>joerg@example.com</Email1Address>
<Email2Address>jojo@home.example</Email2Address>
<Email3Address>j.mueller@widgets.example</Email3Address>
<IMAddress>jojo@im.example</IMAddress>
<WebPage>http://example.com/</WebPage>
<HomeWebPage>http://home.example/</HomeWebPage>
<BusinessWebPage>http://widgets.example/</BusinessWebPage>
<HomeAddressStreet>Hauptstraße 1</HomeAddressStreet>
<HomeAddressCity>Berlin</HomeAddressCity>
<HomeAddressState>BE</HomeAddressState>
<HomeAddressPostalCode>10115</HomeAddressPostalCode>
<HomeAddressCountry>Germany</HomeAddressCountry>
<HomeAddressPostOfficeBox>PO 1</HomeAddressPostOfficeBox>
<BusinessAddressStreet>Company
Unit 2, 123 St Freds Tce</BusinessAddressStreet>
<BusinessAddressCity>Golden Hills</BusinessAddressCity>
<BusinessAddressState>Qld</BusinessAddressState>
<BusinessAddressPostalCode>4009</BusinessAddressPostalCode>
<BusinessAddressCountry>Australia</BusinessAddressCountry>
<OtherAddressStreet>Elm St 5</OtherAddressStreet>
<OtherAddressCity>Springfield</OtherAddressCity>
<Photo TYPE="JPEG">/9j/4AAQ
SkZJRg==</Photo>
<Spouse>Anna</Spouse>
<Sensitivity>0</Sensitivity>
<MyOwnField>kept, as it came</MyOwnField>
</contact>
)";

}  // namespace

TEST_CASE("SIF-C: a full contact is read into the model") {
    std::vector<Warning> warnings;
    auto contact = read_sif_contact(kFullContact, {}, &warnings);
    REQUIRE(contact);
    CHECK(warnings.empty());
    const Contact& c = *contact;
    CHECK(c.name.given == "J\xC3\xB6rg");
    CHECK(c.name.additional == "Karl");
    CHECK(c.name.family == "M\xC3\xBCller");
    CHECK(c.name.prefixes == "Dr.");
    CHECK(c.name.suffixes == "Jr.");
    CHECK(c.formatted_name == "M\xC3\xBCller, J\xC3\xB6rg");
    CHECK(c.nicknames == std::vector<std::string>{"Jojo"});
    CHECK(c.organization == "Widgets & Co");
    CHECK(c.org_units == std::vector<std::string>{"R&D", "Building 7"});
    CHECK(c.title == "Engineer");
    CHECK(c.role == "Physicist");
    CHECK(c.note == "first line\nsecond line <b>");
    CHECK(c.categories == std::vector<std::string>{"Business", "VIP", "Friends"});
    REQUIRE(c.birthday);
    CHECK(*c.birthday == PartialDate{1970, 4, 15});
    REQUIRE(c.anniversary);
    CHECK(*c.anniversary == PartialDate{1999, 7, 1});

    REQUIRE(c.phones.size() == 17);
    auto types_of = [&](const char* number) {
        const Phone* p = phone_numbered(c, number);
        REQUIRE(p);
        return sorted(p->types);
    };
    CHECK(types_of("+49 30 1") == std::vector<std::string>{"VOICE", "WORK"});
    CHECK(types_of("+49 30 2") == std::vector<std::string>{"VOICE", "WORK"});
    CHECK(types_of("+49 30 3") == std::vector<std::string>{"FAX", "WORK"});
    CHECK(types_of("+49 30 4") == std::vector<std::string>{"WORK"});
    CHECK(phone_numbered(c, "+49 30 4")->pref == 1);
    CHECK(types_of("+49 30 5") == std::vector<std::string>{"HOME", "VOICE"});
    CHECK(types_of("+49 30 7") == std::vector<std::string>{"FAX", "HOME"});
    CHECK(types_of("+49 170 8") == std::vector<std::string>{"CELL"});
    CHECK(types_of("+49 30 9") == std::vector<std::string>{"CAR", "VOICE"});
    CHECK(types_of("+49 30 10") == std::vector<std::string>{"PAGER"});
    CHECK(types_of("+49 30 11") == std::vector<std::string>{"VOICE"});
    CHECK(phone_numbered(c, "+49 30 11")->pref == 1);
    CHECK(types_of("+49 30 12") == std::vector<std::string>{"VOICE"});
    CHECK(phone_numbered(c, "+49 30 12")->pref == 0);
    CHECK(types_of("+49 30 13") == std::vector<std::string>{"FAX"});
    CHECK(types_of("+49 30 15") == std::vector<std::string>{"X-FUNAMBOL-CALLBACK"});
    CHECK(types_of("+49 30 17") == std::vector<std::string>{"X-FUNAMBOL-TELEX"});

    REQUIRE(c.emails.size() == 4);
    CHECK(c.emails[0].address == "joerg@example.com");
    CHECK(c.emails[0].types == std::vector<std::string>{"INTERNET"});
    CHECK(c.emails[1].types == std::vector<std::string>{"INTERNET", "HOME"});
    CHECK(c.emails[2].types == std::vector<std::string>{"INTERNET", "WORK"});
    CHECK(c.emails[3].address == "jojo@im.example");

    REQUIRE(c.urls.size() == 3);
    CHECK(c.urls[0].uri == "http://example.com/");
    CHECK(c.urls[0].types.empty());
    CHECK(c.urls[2].types == std::vector<std::string>{"WORK"});

    REQUIRE(c.addresses.size() == 3);
    const Address& home = c.addresses[0];
    CHECK(home.types == std::vector<std::string>{"HOME"});
    CHECK(home.street == "Hauptstra\xC3\x9F" "e 1");
    CHECK(home.locality == "Berlin");
    CHECK(home.region == "BE");
    CHECK(home.postal_code == "10115");
    CHECK(home.country == "Germany");
    CHECK(home.po_box == "PO 1");
    CHECK(c.addresses[1].types == std::vector<std::string>{"WORK"});
    CHECK(c.addresses[1].street == "Company\nUnit 2, 123 St Freds Tce");
    CHECK(c.addresses[2].types.empty());
    CHECK(c.addresses[2].locality == "Springfield");

    REQUIRE(c.photo);
    CHECK(c.photo->data == std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF", 10));
    CHECK(c.photo->media_type == "image/jpeg");

    const ExtraProperty* spouse = extra_named(c.extra, "X-SIF-SPOUSE");
    REQUIRE(spouse);
    CHECK(spouse->value == "Anna");
    CHECK(spouse->params.empty());
    const ExtraProperty* sensitivity = extra_named(c.extra, "X-SIF-SENSITIVITY");
    REQUIRE(sensitivity);
    CHECK(sensitivity->value == "0");
    const ExtraProperty* own = extra_named(c.extra, "X-SIF-MYOWNFIELD");
    REQUIRE(own);
    CHECK(own->value == "kept\\, as it came");  // the 3.0 escaped form
    REQUIRE(own->params.size() == 1);
    CHECK(own->params[0].name == "X-SIF-NAME");
    CHECK(own->params[0].values == std::vector<std::string>{"MyOwnField"});
    CHECK(c.sent_empty.empty());
}

TEST_CASE("SIF-C: model back to SIF-C gives the same elements and values") {
    auto contact = read_sif_contact(kFullContact, {}, nullptr);
    REQUIRE(contact);
    std::vector<Warning> losses;
    std::string out = write_sif_contact(*contact, {}, &losses);
    INFO(out);
    CHECK(losses.empty());
    CHECK(out.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0) == 0);
    CHECK(root_of(out) == "contact");
    auto written = elements_of(out);
    CHECK(written["SIFVersion"] == "1.1");
    // Every element of the input, with its value (the photo re-encoded in one line).
    pugi::xml_document in;
    REQUIRE(in.load_string(kFullContact));
    for (pugi::xml_node e : in.document_element().children()) {
        std::string name = e.name();
        std::string value = e.text().get();
        if (name == "Photo") value = "/9j/4AAQSkZJRg==";
        if (name == "Categories") value = "Business,VIP,Friends";
        if (name == "Anniversary") value = "1999-07-01";
        INFO(name);
        REQUIRE(written.count(name) == 1);
        CHECK(written[name] == value);
    }
    pugi::xml_document doc;
    REQUIRE(doc.load_string(out.c_str()));
    CHECK(std::string(doc.document_element().child("Photo").attribute("TYPE").value()) == "JPEG");
    // Empty slots are written empty (to the plug-in a missing element means "unchanged").
    CHECK(written.count("HomeAddressExtended") == 1);
    CHECK(written["OtherAddressCountry"].empty());
    CHECK(out.find("<OtherAddressCountry></OtherAddressCountry>") != std::string::npos);
}

TEST_CASE("SIF-C: base64-wrapped SIF is decoded") {
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><contact><FirstName>Ann</FirstName>"
                      "<Email1Address>ann@example.com</Email1Address></contact>";
    std::string b64 = smk::wire::base64_encode(xml);
    // Clients break base64 into lines.
    std::string wrapped = b64.substr(0, 40) + "\r\n" + b64.substr(40) + "\r\n";
    std::vector<Warning> warnings;
    auto contact = read_sif_contact(wrapped, {}, &warnings);
    REQUIRE(contact);
    CHECK(warnings.empty());
    CHECK(contact->name.given == "Ann");
    REQUIRE(contact->emails.size() == 1);
    CHECK(contact->emails[0].address == "ann@example.com");
}

TEST_CASE("SIF-C: empty elements are fields the user cleared") {
    // The start of what the sync4j Pocket PC client sends.
    const char* xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><contact><FirstName></FirstName><LastName>Client1</LastName>"
        "<CompanyName>Company</CompanyName><BusinessFaxNumber></BusinessFaxNumber><Department></Department>"
        "<Email1Address>client@example.com</Email1Address><Email2Address/><Spouse></Spouse>"
        "<BusinessTelephoneNumber>555-123</BusinessTelephoneNumber><HomeAddressStreet></HomeAddressStreet>"
        "<HomeAddressCity></HomeAddressCity><Body></Body><Birthday></Birthday><Photo/><Categories></Categories>"
        "<WebPage></WebPage><JobTitle/><NickName/><FileAs>Client1</FileAs></contact>";
    std::vector<Warning> warnings;
    auto contact = read_sif_contact(xml, {}, &warnings);
    REQUIRE(contact);
    CHECK(warnings.empty());
    CHECK(contact->name.family == "Client1");
    CHECK(contact->organization == "Company");
    CHECK(contact->org_units.empty());
    REQUIRE(contact->phones.size() == 1);
    CHECK(contact->phones[0].number == "555-123");
    CHECK(contact->addresses.empty());
    CHECK_FALSE(contact->birthday);
    CHECK_FALSE(contact->photo);
    CHECK(contact->extra.empty());
    CHECK(sorted(contact->sent_empty) == sorted({"N", "TEL", "ORG", "EMAIL", "X-SIF-SPOUSE", "ADR", "NOTE", "BDAY",
                                                 "PHOTO", "CATEGORIES", "URL", "TITLE", "NICKNAME"}));
}

TEST_CASE("SIF-C: values from other formats find their slots") {
    Contact c;
    auto phone = [](std::string number, std::vector<std::string> types, int pref = 0) {
        Phone p;
        p.number = std::move(number);
        p.types = std::move(types);
        p.pref = pref;
        return p;
    };
    // As a vCard 3.0 reader gives them, in an order that makes guessing hard.
    c.phones = {phone("1", {"WORK"}), phone("2", {"CELL", "VOICE"}), phone("3", {"FAX"}),
                phone("4", {"HOME"}), phone("5", {"WORK", "VOICE"}), phone("6", {"WORK"}),
                phone("7", {"HOME", "FAX"}), phone("8", {}), phone("9", {"WORK"}), phone("10", {"WORK"}, 1)};
    Email work;
    work.address = "w@example.com";
    work.types = {"WORK"};
    Email plain;
    plain.address = "p@example.com";
    c.emails = {work, plain};
    Address anywhere;
    anywhere.types = {"POSTAL"};
    anywhere.locality = "Paris";
    c.addresses = {anywhere};
    std::vector<Warning> losses;
    auto e = elements_of(write_sif_contact(c, {}, &losses));
    CHECK(e["CompanyMainTelephoneNumber"] == "10");     // WORK + PREF: its own slot
    CHECK(e["BusinessTelephoneNumber"] == "1");         // VOICE does not count: WORK is exact
    CHECK(e["Business2TelephoneNumber"] == "5");        // the second one in order
    CHECK(e["MobileTelephoneNumber"] == "2");
    CHECK(e["OtherFaxNumber"] == "3");
    CHECK(e["HomeTelephoneNumber"] == "4");
    CHECK(e["HomeFaxNumber"] == "7");
    CHECK(e["OtherTelephoneNumber"] == "8");
    CHECK(e["PrimaryTelephoneNumber"] == "6");  // no WORK slot left: the first free voice slot
    CHECK(e["Home2TelephoneNumber"] == "9");
    CHECK(e["Email3Address"] == "w@example.com");
    CHECK(e["Email1Address"] == "p@example.com");
    CHECK(e["OtherAddressCity"] == "Paris");
    CHECK(losses.empty());

    // Three more work numbers: one goes to the last free voice slot, two are losses.
    c.phones.push_back(phone("11", {"WORK"}));
    c.phones.push_back(phone("12", {"WORK"}));
    c.phones.push_back(phone("13", {"WORK"}));
    losses.clear();
    write_sif_contact(c, {}, &losses);
    REQUIRE(losses.size() == 2);
    CHECK(losses[0].message.find("\"12\"") != std::string::npos);
    CHECK(losses[1].message.find("\"13\"") != std::string::npos);
}

TEST_CASE("SIF-C: an extra from vCard (upper case) is written with its SIF spelling") {
    Contact c;
    c.extra.push_back({"", "X-SIF-SPOUSE", {}, "Anna", false});
    c.extra.push_back({"", "X-SIF-MYOWNFIELD", {{"X-SIF-NAME", {"MyOwnField"}}}, "a\\, b\\nc", false});
    c.extra.push_back({"", "X-MOZILLA-HTML", {}, "TRUE", false});
    std::vector<Warning> losses;
    auto e = elements_of(write_sif_contact(c, {}, &losses));
    CHECK(e["Spouse"] == "Anna");
    CHECK(e["MyOwnField"] == "a, b\nc");
    REQUIRE(losses.size() == 1);
    CHECK(losses[0].message.find("X-MOZILLA-HTML") != std::string::npos);
}

TEST_CASE("SIF-C: Funambol's vCard names for SIF-only fields fill those fields") {
    Contact c;
    c.extra.push_back({"", "X-FUNAMBOL-SPOUSE", {}, "Anna", false});
    c.extra.push_back({"", "X-SIF-SPOUSE", {}, "Berta", false});  // the same field again: the first wins
    c.extra.push_back({"", "X-FUNAMBOL-HOBBIES", {}, "Chess", false});
    c.extra.push_back({"", "X-FUNAMBOL-FOLDER", {}, "DEFAULT_FOLDER", false});
    std::vector<Warning> losses;
    std::string out = write_sif_contact(c, {}, &losses);
    CHECK(losses.empty());
    auto e = elements_of(out);
    CHECK(e["Spouse"] == "Anna");
    CHECK(e["Hobby"] == "Chess");
    CHECK(e["Folder"] == "DEFAULT_FOLDER");
    CHECK(out.find("Berta") == std::string::npos);
}

TEST_CASE("SIF: lenient with what real producers write") {
    // A bare '&' (not XML, but old producers write it), ISO-8859-1 declared, a UTF-8 BOM.
    std::vector<Warning> warnings;
    auto contact = read_sif_contact("\xEF\xBB\xBF<contact><CompanyName>Smith & Sons</CompanyName></contact>", {},
                                    &warnings);
    REQUIRE(contact);
    CHECK(contact->organization == "Smith & Sons");
    auto latin1 = read_sif_note("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><note><Body>f\xFCr</Body></note>",
                                {}, &warnings);
    REQUIRE(latin1);
    CHECK(latin1->body == "f\xC3\xBCr");
    CHECK(warnings.empty());
    // Pocket Outlook's "every weekday": daily with a mask; written as Outlook's weekly.
    auto weekdays = read_sif_calendar("<appointment><Start>20240101T080000Z</Start><IsRecurring>1</IsRecurring>"
                                      "<RecurrenceType>0</RecurrenceType><Interval>1</Interval>"
                                      "<DayOfWeekMask>62</DayOfWeekMask><NoEndDate>1</NoEndDate></appointment>",
                                      {}, &warnings);
    REQUIRE(weekdays);
    REQUIRE(weekdays->items[0].recurrence);
    CHECK(weekdays->items[0].recurrence->frequency == Recurrence::Frequency::daily);
    CHECK(weekdays->items[0].recurrence->by_day.size() == 5);
    auto w = elements_of(write_sif_calendar(*weekdays, {}, nullptr));
    CHECK(w["RecurrenceType"] == "1");
    CHECK(w["DayOfWeekMask"] == "62");
    CHECK(warnings.empty());
    // Values out of Outlook's ranges are dropped with a warning.
    auto odd = read_sif_calendar("<appointment><Start>20240101T080000Z</Start><IsRecurring>1</IsRecurring>"
                                 "<RecurrenceType>5</RecurrenceType><DayOfMonth>40</DayOfMonth>"
                                 "<MonthOfYear>13</MonthOfYear></appointment>",
                                 {}, &warnings);
    REQUIRE(odd);
    REQUIRE(odd->items[0].recurrence);
    CHECK(odd->items[0].recurrence->by_month_day.empty());
    CHECK(odd->items[0].recurrence->by_month.empty());
    CHECK(warnings.size() == 2);
}

TEST_CASE("SIF: broken input gives no item and a warning, never a crash") {
    std::vector<Warning> warnings;
    CHECK_FALSE(read_sif_contact("<contact><FirstName>Ann</contact>", {}, &warnings));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].message.find("not well-formed") != std::string::npos);

    warnings.clear();
    CHECK_FALSE(read_sif_contact("<?xml version=\"1.0\"?>\n<appointment>\n</appointment>", {}, &warnings));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].line == 2);
    CHECK(warnings[0].message.find("<appointment>") != std::string::npos);

    warnings.clear();
    CHECK_FALSE(read_sif_calendar("not xml, not base64 !", {}, &warnings));
    CHECK(warnings.size() == 2);

    warnings.clear();
    CHECK_FALSE(read_sif_note("", {}, &warnings));
    CHECK_FALSE(warnings.empty());

    warnings.clear();
    auto event = read_sif_calendar("<appointment><Start>2024-13-45</Start><Importance>high</Importance>"
                                   "<Subject>x</Subject></appointment>",
                                   {}, &warnings);
    REQUIRE(event);
    CHECK(event->items[0].summary == "x");
    CHECK_FALSE(event->items[0].start.valid());
    CHECK(warnings.size() == 2);
}

// ---------------------------------------------------------------- events --

TEST_CASE("SIF-E: an all-day event from the Outlook plug-in 3.0.15") {
    const char* xml =
        "<appointment><AllDayEvent>1</AllDayEvent><Start>2007-01-01</Start><End>2007-01-01</End>"
        "<BillingInformation></BillingInformation><Body>Test Aumlaut: \xC3\x84</Body><BusyStatus>0</BusyStatus>"
        "<Categories></Categories><Companies></Companies><Importance>1</Importance><IsRecurring>0</IsRecurring>"
        "<Location>everywhere</Location><MeetingStatus>0</MeetingStatus><Mileage></Mileage>"
        "<ReminderMinutesBeforeStart>1080</ReminderMinutesBeforeStart><ReminderSet>0</ReminderSet>"
        "<ReplyTime></ReplyTime><Sensitivity>0</Sensitivity><Subject>new year all day client1</Subject>"
        "<RecurrenceType>1</RecurrenceType><Interval>1</Interval><MonthOfYear>0</MonthOfYear>"
        "<DayOfMonth>0</DayOfMonth><DayOfWeekMask>2</DayOfWeekMask><Instance>0</Instance>"
        "<PatternStartDate>20061231T230000Z</PatternStartDate><NoEndDate>1</NoEndDate>"
        "<PatternEndDate></PatternEndDate><Occurrences></Occurrences></appointment>";
    std::vector<Warning> warnings;
    auto calendar = read_sif_calendar(smk::wire::base64_encode(xml), {}, &warnings);
    REQUIRE(calendar);
    CHECK(warnings.empty());
    REQUIRE(calendar->items.size() == 1);
    const CalendarItem& e = calendar->items[0];
    CHECK(e.type == CalendarItem::Type::event);
    CHECK(e.summary == "new year all day client1");
    CHECK(e.description == "Test Aumlaut: \xC3\x84");
    CHECK(e.location == "everywhere");
    CHECK(e.all_day());
    CHECK(e.start == date(2007, 1, 1));
    CHECK(e.end == date(2007, 1, 2));  // exclusive in the model
    CHECK(e.transparency == "TRANSPARENT");
    CHECK(e.priority == 5);
    CHECK(e.classification == "PUBLIC");
    CHECK_FALSE(e.recurrence);  // IsRecurring 0: the pattern fields are defaults
    CHECK(e.alarms.empty());
    const ExtraProperty* meeting = extra_named(e.extra, "X-SIF-MEETINGSTATUS");
    REQUIRE(meeting);
    CHECK(meeting->value == "0");
    CHECK(sorted(e.sent_empty) ==
          sorted({"CATEGORIES", "X-SIF-BILLINGINFORMATION", "X-SIF-COMPANIES", "X-SIF-MILEAGE", "X-SIF-REPLYTIME"}));

    std::vector<Warning> losses;
    std::string out = write_sif_calendar(*calendar, {}, &losses);
    INFO(out);
    CHECK(losses.empty());
    CHECK(root_of(out) == "appointment");
    auto w = elements_of(out);
    CHECK(w["AllDayEvent"] == "1");
    CHECK(w["Start"] == "2007-01-01");
    CHECK(w["End"] == "2007-01-01");
    CHECK(w["BusyStatus"] == "0");
    CHECK(w["Importance"] == "1");
    CHECK(w["Sensitivity"] == "0");
    CHECK(w["IsRecurring"] == "0");
    CHECK(w["ReminderSet"] == "0");
    CHECK(w["MeetingStatus"] == "0");
    CHECK(w["Location"] == "everywhere");
    CHECK(w.count("RecurrenceType") == 0);
}

TEST_CASE("SIF-E: a timed event with a reminder; the UTC of local midnight for an all-day one") {
    const char* xml =
        "<appointment><AllDayEvent>0</AllDayEvent><Start>20070107T220000Z</Start><End>20070107T223000Z</End>"
        "<Body>Alarm 30minutes before</Body><BusyStatus>3</BusyStatus><Importance>2</Importance>"
        "<ReminderMinutesBeforeStart>30</ReminderMinutesBeforeStart><ReminderSet>1</ReminderSet>"
        "<ReminderSoundFile>reminder.wav</ReminderSoundFile><Sensitivity>1</Sensitivity>"
        "<Subject>Client2 23:00-23:30</Subject></appointment>";
    auto calendar = read_sif_calendar(xml, {}, nullptr);
    REQUIRE(calendar);
    const CalendarItem& e = calendar->items[0];
    CHECK(e.start == utc(2007, 1, 7, 22, 0));
    CHECK(e.end == utc(2007, 1, 7, 22, 30));
    CHECK(e.transparency == "OPAQUE");
    CHECK(e.priority == 1);
    CHECK(e.classification == "PRIVATE");
    REQUIRE(e.alarms.size() == 1);
    REQUIRE(e.alarms[0].offset);
    CHECK(e.alarms[0].offset->seconds == -1800);
    CHECK(e.alarms[0].action == "DISPLAY");
    CHECK(e.alarms[0].attachment == "reminder.wav");
    // Out of office and "personal" have no iCalendar word: kept.
    REQUIRE(extra_named(e.extra, "X-SIF-BUSYSTATUS"));
    CHECK(extra_named(e.extra, "X-SIF-BUSYSTATUS")->value == "3");
    REQUIRE(extra_named(e.extra, "X-SIF-SENSITIVITY"));

    auto w = elements_of(write_sif_calendar(*calendar, {}, nullptr));
    CHECK(w["Start"] == "20070107T220000Z");
    CHECK(w["End"] == "20070107T223000Z");
    CHECK(w["AllDayEvent"] == "0");
    CHECK(w["BusyStatus"] == "3");
    CHECK(w["Sensitivity"] == "1");
    CHECK(w["Importance"] == "2");
    CHECK(w["ReminderSet"] == "1");
    CHECK(w["ReminderMinutesBeforeStart"] == "30");
    CHECK(w["ReminderSoundFile"] == "reminder.wav");

    // Changed by a client of another format: the kept values no longer agree and lose.
    Calendar changed = *calendar;
    changed.items[0].transparency = "TRANSPARENT";
    changed.items[0].classification = "CONFIDENTIAL";
    auto w2 = elements_of(write_sif_calendar(changed, {}, nullptr));
    CHECK(w2["BusyStatus"] == "0");
    CHECK(w2["Sensitivity"] == "3");

    // All-day as the UTC times of local midnight (Berlin, then New York).
    auto berlin = read_sif_calendar("<appointment><AllDayEvent>1</AllDayEvent><Start>20061231T230000Z</Start>"
                                    "<End>20070101T230000Z</End></appointment>",
                                    {}, nullptr);
    REQUIRE(berlin);
    CHECK(berlin->items[0].start == date(2007, 1, 1));
    CHECK(berlin->items[0].end == date(2007, 1, 3));
    auto new_york = read_sif_calendar("<appointment><AllDayEvent>1</AllDayEvent><Start>20070101T050000Z</Start>"
                                      "<End>20070101T050000Z</End></appointment>",
                                      {}, nullptr);
    REQUIRE(new_york);
    CHECK(new_york->items[0].start == date(2007, 1, 1));
    CHECK(new_york->items[0].end == date(2007, 1, 2));
}

TEST_CASE("SIF-E: weekly recurrence from the day mask, ending after a count") {
    const char* xml =
        "<appointment><Start>20240108T090000Z</Start><End>20240108T100000Z</End><Subject>Standup</Subject>"
        "<IsRecurring>1</IsRecurring><RecurrenceType>1</RecurrenceType><Interval>2</Interval>"
        "<DayOfWeekMask>42</DayOfWeekMask><DayOfMonth>0</DayOfMonth><Instance>0</Instance>"
        "<MonthOfYear>0</MonthOfYear><PatternStartDate>20240108T090000Z</PatternStartDate>"
        "<NoEndDate>0</NoEndDate><PatternEndDate>20240205T090000Z</PatternEndDate>"
        "<Occurrences>10</Occurrences></appointment>";
    std::vector<Warning> warnings;
    auto calendar = read_sif_calendar(xml, {}, &warnings);
    REQUIRE(calendar);
    CHECK(warnings.empty());
    const CalendarItem& e = calendar->items[0];
    REQUIRE(e.recurrence);
    const Recurrence& r = *e.recurrence;
    CHECK(r.frequency == Recurrence::Frequency::weekly);
    CHECK(r.interval == 2);
    // 42 = 2 (Monday) + 8 (Wednesday) + 32 (Friday)
    CHECK(r.by_day == std::vector<Recurrence::WeekdayNum>{{0, 1}, {0, 3}, {0, 5}});
    CHECK(r.count == 10);
    CHECK_FALSE(r.until);
    CHECK(e.extra.empty());

    auto w = elements_of(write_sif_calendar(*calendar, {}, nullptr));
    CHECK(w["IsRecurring"] == "1");
    CHECK(w["RecurrenceType"] == "1");
    CHECK(w["Interval"] == "2");
    CHECK(w["DayOfWeekMask"] == "42");
    CHECK(w["NoEndDate"] == "0");
    CHECK(w["Occurrences"] == "10");
    CHECK(w["PatternEndDate"].empty());
    CHECK(w["PatternStartDate"] == "20240108T090000Z");
}

TEST_CASE("SIF-E: monthly on the nth weekday, Instance 5 is the last") {
    auto read = [](const std::string& pattern) {
        auto calendar = read_sif_calendar("<appointment><Start>20240127T090000Z</Start><End>20240127T100000Z</End>"
                                          "<IsRecurring>1</IsRecurring>" +
                                              pattern + "<NoEndDate>1</NoEndDate></appointment>",
                                          {}, nullptr);
        REQUIRE(calendar);
        REQUIRE(calendar->items[0].recurrence);
        return *calendar;
    };
    Calendar last_saturday =
        read("<RecurrenceType>3</RecurrenceType><Interval>1</Interval><DayOfWeekMask>64</DayOfWeekMask>"
             "<Instance>5</Instance>");
    const Recurrence& r = *last_saturday.items[0].recurrence;
    CHECK(r.frequency == Recurrence::Frequency::monthly);
    CHECK(r.by_day == std::vector<Recurrence::WeekdayNum>{{-1, 6}});
    CHECK(r.by_set_pos.empty());
    CHECK(r.count == 0);
    CHECK_FALSE(r.until);
    auto w = elements_of(write_sif_calendar(last_saturday, {}, nullptr));
    CHECK(w["RecurrenceType"] == "3");
    CHECK(w["Instance"] == "5");
    CHECK(w["DayOfWeekMask"] == "64");
    CHECK(w["NoEndDate"] == "1");

    // "The first weekday of the month": several days and a position.
    Calendar first_weekday =
        read("<RecurrenceType>3</RecurrenceType><Interval>1</Interval><DayOfWeekMask>62</DayOfWeekMask>"
             "<Instance>1</Instance>");
    const Recurrence& f = *first_weekday.items[0].recurrence;
    CHECK(f.by_day.size() == 5);
    CHECK(f.by_day.front() == Recurrence::WeekdayNum{0, 1});
    CHECK(f.by_set_pos == std::vector<int>{1});
    auto w2 = elements_of(write_sif_calendar(first_weekday, {}, nullptr));
    CHECK(w2["DayOfWeekMask"] == "62");
    CHECK(w2["Instance"] == "1");

    // Monthly on a day of the month.
    Calendar on_the_15th = read("<RecurrenceType>2</RecurrenceType><Interval>3</Interval><DayOfMonth>15</DayOfMonth>");
    CHECK(on_the_15th.items[0].recurrence->by_month_day == std::vector<int>{15});
    CHECK(on_the_15th.items[0].recurrence->interval == 3);
    auto w3 = elements_of(write_sif_calendar(on_the_15th, {}, nullptr));
    CHECK(w3["RecurrenceType"] == "2");
    CHECK(w3["DayOfMonth"] == "15");
    CHECK(w3["Interval"] == "3");
}

TEST_CASE("SIF-E: yearly patterns and an end date") {
    const char* yearly =
        "<appointment><AllDayEvent>1</AllDayEvent><Start>2024-04-15</Start><End>2024-04-15</End>"
        "<Subject>Birthday</Subject><IsRecurring>1</IsRecurring><RecurrenceType>5</RecurrenceType>"
        "<Interval>1</Interval><DayOfMonth>15</DayOfMonth><MonthOfYear>4</MonthOfYear>"
        "<NoEndDate>0</NoEndDate><PatternEndDate>2030-04-15</PatternEndDate><Occurrences>0</Occurrences>"
        "</appointment>";
    auto calendar = read_sif_calendar(yearly, {}, nullptr);
    REQUIRE(calendar);
    REQUIRE(calendar->items[0].recurrence);
    const Recurrence& r = *calendar->items[0].recurrence;
    CHECK(r.frequency == Recurrence::Frequency::yearly);
    CHECK(r.by_month == std::vector<int>{4});
    CHECK(r.by_month_day == std::vector<int>{15});
    CHECK(r.count == 0);
    REQUIRE(r.until);
    CHECK(*r.until == date(2030, 4, 15));
    auto w = elements_of(write_sif_calendar(*calendar, {}, nullptr));
    CHECK(w["RecurrenceType"] == "5");
    CHECK(w["MonthOfYear"] == "4");
    CHECK(w["DayOfMonth"] == "15");
    CHECK(w["NoEndDate"] == "0");
    CHECK(w["PatternEndDate"] == "2030-04-15");

    // The fourth Thursday of November, every year (Interval in months, as some Outlooks write it).
    auto nth = read_sif_calendar("<appointment><Start>20241128T170000Z</Start><End>20241128T200000Z</End>"
                                 "<IsRecurring>1</IsRecurring><RecurrenceType>6</RecurrenceType>"
                                 "<Interval>12</Interval><DayOfWeekMask>16</DayOfWeekMask><Instance>4</Instance>"
                                 "<MonthOfYear>11</MonthOfYear><NoEndDate>1</NoEndDate></appointment>",
                                 {}, nullptr);
    REQUIRE(nth);
    REQUIRE(nth->items[0].recurrence);
    const Recurrence& n = *nth->items[0].recurrence;
    CHECK(n.frequency == Recurrence::Frequency::yearly);
    CHECK(n.interval == 1);
    CHECK(n.by_month == std::vector<int>{11});
    CHECK(n.by_day == std::vector<Recurrence::WeekdayNum>{{4, 4}});
    auto w2 = elements_of(write_sif_calendar(*nth, {}, nullptr));
    CHECK(w2["RecurrenceType"] == "6");
    CHECK(w2["Instance"] == "4");
    CHECK(w2["DayOfWeekMask"] == "16");
    CHECK(w2["MonthOfYear"] == "11");
}

TEST_CASE("SIF-E: exceptions, and a time zone kept as it came") {
    const char* xml =
        "<appointment><Start>20101101T090000Z</Start><End>20101101T100000Z</End><Subject>Cinco-Lunes</Subject>"
        "<IsRecurring>1</IsRecurring><RecurrenceType>1</RecurrenceType><Interval>1</Interval>"
        "<DayOfWeekMask>2</DayOfWeekMask><NoEndDate>0</NoEndDate>"
        "<PatternEndDate>20101130T225959Z</PatternEndDate>"
        "<Exceptions><ExcludeDate>2010-11-08</ExcludeDate><ExcludeDate>2010-11-22</ExcludeDate>"
        "<IncludeDate>2010-11-03</IncludeDate></Exceptions>"
        "<Timezone><BasicOffset>+0100</BasicOffset><DayLight/></Timezone></appointment>";
    std::vector<Warning> warnings;
    auto calendar = read_sif_calendar(xml, {}, &warnings);
    REQUIRE(calendar);
    CHECK(warnings.empty());
    const CalendarItem& e = calendar->items[0];
    REQUIRE(e.recurrence);
    REQUIRE(e.recurrence->until);
    CHECK(*e.recurrence->until == utc(2010, 11, 30, 22, 59, 59));
    CHECK(e.exception_dates == std::vector<DateTime>{utc(2010, 11, 8, 9, 0), utc(2010, 11, 22, 9, 0)});
    CHECK(e.recurrence_dates == std::vector<DateTime>{utc(2010, 11, 3, 9, 0)});
    const ExtraProperty* tz = extra_named(e.extra, "X-SIF-TIMEZONE");
    REQUIRE(tz);
    CHECK(tz->value == "<BasicOffset>+0100</BasicOffset><DayLight/>");

    std::string out = write_sif_calendar(*calendar, {}, nullptr);
    INFO(out);
    pugi::xml_document doc;
    REQUIRE(doc.load_string(out.c_str()));
    pugi::xml_node exceptions = doc.document_element().child("Exceptions");
    std::vector<std::string> excluded;
    for (pugi::xml_node d : exceptions.children("ExcludeDate")) excluded.push_back(d.text().get());
    CHECK(excluded == std::vector<std::string>{"2010-11-08", "2010-11-22"});
    CHECK(std::string(exceptions.child("IncludeDate").text().get()) == "2010-11-03");
    CHECK(std::string(doc.document_element().child("Timezone").child("BasicOffset").text().get()) == "+0100");
    CHECK(std::string(doc.document_element().child("PatternEndDate").text().get()) == "20101130T225959Z");
}

TEST_CASE("SIF-E: what SIF cannot say is named as a loss") {
    Calendar calendar;
    CalendarItem e;
    e.summary = "odd";
    e.start.year = 2024, e.start.month = 3, e.start.day = 1, e.start.hour = 9;
    e.start.kind = DateTime::Kind::zoned;
    e.start.tzid = "Europe/Berlin";
    e.end = e.start;
    e.end.hour = 10;
    Recurrence r;
    r.frequency = Recurrence::Frequency::yearly;
    r.by_year_day = {100};
    e.recurrence = r;
    calendar.items.push_back(e);
    std::vector<Warning> losses;
    auto w = elements_of(write_sif_calendar(calendar, {}, &losses));
    CHECK(w["IsRecurring"] == "0");
    CHECK(w["Start"] == "20240301T080000Z");  // 09:00 in Berlin (CET) in UTC, as Outlook takes it
    bool zone_named = false, rule_named = false;
    for (const Warning& l : losses) {
        zone_named |= l.message.find("Europe/Berlin") != std::string::npos;
        rule_named |= l.message.find("RRULE") != std::string::npos;
    }
    CHECK_FALSE(zone_named);
    CHECK(rule_named);

    // A zone nobody knows cannot be converted: local time, and a loss.
    calendar.items[0].start.tzid = "Middle Earth/Shire";
    losses.clear();
    w = elements_of(write_sif_calendar(calendar, {}, &losses));
    CHECK(w["Start"] == "20240301T090000");
    bool shire_named = false;
    for (const Warning& l : losses) shire_named |= l.message.find("Middle Earth/Shire") != std::string::npos;
    CHECK(shire_named);

    losses.clear();
    CHECK(write_sif_calendar(Calendar{}, {}, &losses).empty());
    CHECK(losses.size() == 1);
}

// ----------------------------------------------------------------- tasks --

TEST_CASE("SIF-T: status, percent, due date, reminder") {
    const char* xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><task><SIFVersion>1.1</SIFVersion><Subject>Report</Subject>"
        "<Body>quarterly</Body><Categories>Work</Categories><Importance>2</Importance><Sensitivity>2</Sensitivity>"
        "<StartDate>2024-02-20</StartDate><DueDate>2024-03-01</DueDate><Complete>0</Complete>"
        "<DateCompleted></DateCompleted><PercentComplete>50</PercentComplete><Status>3</Status>"
        "<ReminderSet>1</ReminderSet><ReminderTime>20240229T080000Z</ReminderTime><TotalWork>120</TotalWork>"
        "<IsRecurring>0</IsRecurring></task>";
    std::vector<Warning> warnings;
    auto calendar = read_sif_calendar(xml, {}, &warnings);
    REQUIRE(calendar);
    CHECK(warnings.empty());
    const CalendarItem& t = calendar->items[0];
    CHECK(t.type == CalendarItem::Type::task);
    CHECK(t.summary == "Report");
    CHECK(t.description == "quarterly");
    CHECK(t.categories == std::vector<std::string>{"Work"});
    CHECK(t.priority == 1);
    CHECK(t.classification == "PRIVATE");
    CHECK(t.start == date(2024, 2, 20));
    CHECK(t.due == date(2024, 3, 1));
    CHECK(t.percent_complete == 50);
    CHECK(t.status == "IN-PROCESS");  // 3, waiting on someone else
    CHECK(extra_named(t.extra, "X-SIF-STATUS")->value == "3");
    CHECK(extra_named(t.extra, "X-SIF-TOTALWORK")->value == "120");
    CHECK_FALSE(t.completed.valid());
    REQUIRE(t.alarms.size() == 1);
    REQUIRE(t.alarms[0].at);
    CHECK(*t.alarms[0].at == utc(2024, 2, 29, 8, 0));
    CHECK(t.sent_empty == std::vector<std::string>{"COMPLETED"});

    std::vector<Warning> losses;
    std::string out = write_sif_calendar(*calendar, {}, &losses);
    INFO(out);
    CHECK(losses.empty());
    CHECK(root_of(out) == "task");
    auto w = elements_of(out);
    CHECK(w["SIFVersion"] == "1.1");
    CHECK(w["Status"] == "3");
    CHECK(w["PercentComplete"] == "50");
    CHECK(w["DueDate"] == "2024-03-01");
    CHECK(w["StartDate"] == "2024-02-20");
    CHECK(w["Complete"] == "0");
    CHECK(w["Importance"] == "2");
    CHECK(w["Sensitivity"] == "2");
    CHECK(w["ReminderSet"] == "1");
    CHECK(w["ReminderTime"] == "20240229T080000Z");
    CHECK(w["TotalWork"] == "120");
    CHECK(w.count("Location") == 0);

    // Completed elsewhere: the kept "waiting" no longer agrees.
    Calendar done = *calendar;
    done.items[0].status = "COMPLETED";
    done.items[0].completed = date(2024, 2, 28);
    auto w2 = elements_of(write_sif_calendar(done, {}, nullptr));
    CHECK(w2["Status"] == "2");
    CHECK(w2["Complete"] == "1");
    CHECK(w2["DateCompleted"] == "2024-02-28");
}

TEST_CASE("SIF-T: a completed task, and deferred") {
    auto done = read_sif_calendar("<task><Subject>x</Subject><Complete>1</Complete>"
                                  "<DateCompleted>2024-01-05</DateCompleted></task>",
                                  {}, nullptr);
    REQUIRE(done);
    CHECK(done->items[0].status == "COMPLETED");
    CHECK(done->items[0].completed == date(2024, 1, 5));
    CHECK(done->items[0].percent_complete == 100);

    auto deferred = read_sif_calendar("<task><Status>4</Status><DueDate>20240105T000000Z</DueDate></task>", {}, nullptr);
    REQUIRE(deferred);
    CHECK(deferred->items[0].status == "NEEDS-ACTION");
    CHECK(deferred->items[0].due == utc(2024, 1, 5, 0, 0));
    std::vector<Warning> losses;
    auto w = elements_of(write_sif_calendar(*deferred, {}, &losses));
    CHECK(w["Status"] == "4");
    CHECK(w["DueDate"] == "2024-01-05");
    CHECK(losses.empty());  // midnight: no time of day lost
}

// ----------------------------------------------------------------- notes --

TEST_CASE("SIF-N: subject, body, categories, colour and the window's place") {
    const char* xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<note>\n<SIFVersion>1.1</SIFVersion>\n"
        "<Subject>client1</Subject>\n<Body>client1\r\n\xC3\x9C" "bersicht\r\n</Body>\n"
        "<Categories>Personal</Categories>\n<Color>3</Color>\n<Height>200</Height>\n<Width>250</Width>\n"
        "<Left>10</Left>\n<Top>20</Top>\n<Date>20061014T090053Z</Date>\n</note>";
    std::vector<Warning> warnings;
    auto note = read_sif_note(xml, {}, &warnings);
    REQUIRE(note);
    CHECK(warnings.empty());
    CHECK(note->subject == "client1");
    CHECK(note->body == "client1\n\xC3\x9C" "bersicht\n");
    CHECK(note->categories == std::vector<std::string>{"Personal"});
    CHECK(note->color == "3");
    CHECK(extra_named(note->extra, "X-SIF-HEIGHT")->value == "200");
    CHECK(extra_named(note->extra, "X-SIF-WIDTH")->value == "250");
    CHECK(extra_named(note->extra, "X-SIF-LEFT")->value == "10");
    CHECK(extra_named(note->extra, "X-SIF-TOP")->value == "20");
    CHECK(extra_named(note->extra, "X-SIF-DATE")->value == "20061014T090053Z");

    std::vector<Warning> losses;
    std::string out = write_sif_note(*note, {}, &losses);
    INFO(out);
    CHECK(losses.empty());
    CHECK(root_of(out) == "note");
    auto w = elements_of(out);
    CHECK(w["Subject"] == "client1");
    CHECK(w["Body"] == "client1\n\xC3\x9C" "bersicht\n");
    CHECK(w["Categories"] == "Personal");
    CHECK(w["Color"] == "3");
    CHECK(w["Height"] == "200");
    CHECK(w["Width"] == "250");
    CHECK(w["Left"] == "10");
    CHECK(w["Top"] == "20");
    CHECK(w["Date"] == "20061014T090053Z");
}

// ---------------------------------------------------------------- hostile --

TEST_CASE("SIF: random mutations of real items never crash the readers or writers") {
    const std::string seeds[] = {
        kFullContact,
        "<appointment><Start>20101101T090000Z</Start><End>20101101T100000Z</End><IsRecurring>1</IsRecurring>"
        "<RecurrenceType>3</RecurrenceType><Interval>1</Interval><DayOfWeekMask>127</DayOfWeekMask>"
        "<Instance>5</Instance><Occurrences>3</Occurrences><Exceptions><ExcludeDate>2010-11-08</ExcludeDate>"
        "</Exceptions><ReminderSet>1</ReminderSet><ReminderMinutesBeforeStart>15</ReminderMinutesBeforeStart>"
        "<Timezone><BasicOffset>+0100</BasicOffset></Timezone></appointment>",
        "<task><DueDate>2024-03-01</DueDate><Status>3</Status><ReminderSet>1</ReminderSet>"
        "<ReminderTime>20240229T080000Z</ReminderTime><IsRecurring>1</IsRecurring><RecurrenceType>6</RecurrenceType>"
        "<DayOfWeekMask>16</DayOfWeekMask><Instance>4</Instance><MonthOfYear>11</MonthOfYear></task>",
        "<note><Subject>s</Subject><Body>b</Body><Color>1</Color></note>",
    };
    const char kInteresting[] = "<>/&;\"'=0123456789-TZ\r\n\x00\xC3\xFF ";
    std::uint32_t state = 12345;
    auto next = [&] {
        state = state * 1103515245u + 12345u;
        return (state >> 16) & 0x7FFF;
    };
    int items = 0;
    for (int round = 0; round < 1500; ++round) {
        std::string data = seeds[round % 4];
        int edits = 1 + static_cast<int>(next() % 2);
        for (int k = 0; k < edits && !data.empty(); ++k) {
            std::size_t at = next() % data.size();
            switch (next() % 3) {
                case 0: data[at] = kInteresting[next() % (sizeof kInteresting - 1)]; break;
                case 1: data.erase(at, 1 + next() % 8); break;
                default: data.insert(at, data.substr(next() % data.size(), next() % 24)); break;
            }
        }
        if (round % 7 == 0) data = smk::wire::base64_encode(data);
        std::vector<Warning> warnings, losses;
        if (auto c = read_sif_contact(data, {}, &warnings)) ++items, write_sif_contact(*c, {}, &losses);
        if (auto cal = read_sif_calendar(data, {}, &warnings)) ++items, write_sif_calendar(*cal, {}, &losses);
        if (auto n = read_sif_note(data, {}, &warnings)) ++items, write_sif_note(*n, {}, &losses);
    }
    INFO(items);
    CHECK(items > 100);  // the mutations leave many items readable, and those are written again
}
