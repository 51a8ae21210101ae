// vCalendar 1.0 reading and writing: the all-day conventions of real
// producers, TZ/DAYLIGHT in both directions, the four alarm properties,
// the enumerations it spells its own way, quoted-printable and charsets,
// and the stability of vCalendar -> iCalendar -> vCalendar.
#include <catch2/catch.hpp>

#include <ctime>

#include "pim/formats.hpp"
#include "pim/recurrence.hpp"

using namespace smk::pim;
using detail::read_icalendar;
using detail::read_vcalendar;
using detail::write_icalendar;
using detail::write_vcalendar;

namespace {

std::string lines(std::initializer_list<const char*> ls) {
    std::string out;
    for (const char* l : ls) out += std::string(l) + "\r\n";
    return out;
}

// Quoted-printable soft breaks joined, so that a whole property can be looked for.
std::string joined(std::string text) {
    for (std::size_t at; (at = text.find("=\r\n")) != std::string::npos;) text.erase(at, 3);
    return text;
}

bool has_line(const std::string& text, const std::string& line) {
    std::string all = "\r\n" + joined(text);
    return all.find("\r\n" + line + "\r\n") != std::string::npos;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

DateTime make(int y, int mo, int d, int h, int mi, int s, DateTime::Kind kind, const char* tzid = "") {
    DateTime v;
    v.year = y, v.month = mo, v.day = d, v.hour = h, v.minute = mi, v.second = s;
    v.kind = kind;
    v.tzid = tzid;
    return v;
}

DateTime date(int y, int mo, int d) { return make(y, mo, d, 0, 0, 0, DateTime::Kind::date); }
DateTime utc(int y, int mo, int d, int h, int mi) { return make(y, mo, d, h, mi, 0, DateTime::Kind::utc); }
DateTime floating(int y, int mo, int d, int h, int mi) { return make(y, mo, d, h, mi, 0, DateTime::Kind::floating); }
DateTime berlin(int y, int mo, int d, int h, int mi) {
    return make(y, mo, d, h, mi, 0, DateTime::Kind::zoned, "Europe/Berlin");
}

Profile berlin_profile() {
    Profile p;
    p.time_zone = "Europe/Berlin";
    return p;
}

// One VEVENT (its lines given) in a VCALENDAR 1.0.
std::string event(std::initializer_list<const char*> body, std::initializer_list<const char*> head = {}) {
    std::string out = lines({"BEGIN:VCALENDAR", "VERSION:1.0"}) + lines(head) + "BEGIN:VEVENT\r\n";
    return out + lines(body) + lines({"END:VEVENT", "END:VCALENDAR"});
}

CalendarItem read_one(const std::string& text, const Profile& profile = {}, std::vector<Warning>* warnings = nullptr) {
    std::optional<Calendar> c = read_vcalendar(text, profile, warnings);
    REQUIRE(c);
    REQUIRE(c->items.size() == 1);
    return c->items[0];
}

const char* const kBerlinTz = "TZ:+01:00";
const char* const kBerlin2024 = "DAYLIGHT:TRUE;+02:00;20240331T010000Z;20241027T010000Z;CET;CEST";

std::size_t recurrence_count(const Recurrence& rule, const DateTime& start) {
    return recurrence::expand(rule, start, 100, 2100).size();
}

}  // namespace

TEST_CASE("vCalendar all-day conventions") {
    SECTION("date-only values, the end day inclusive") {
        CalendarItem e = read_one(event({"DTSTART:20240101", "DTEND:20240102"}));
        CHECK(e.start == date(2024, 1, 1));
        CHECK(e.end == date(2024, 1, 3));
    }
    SECTION("date-only, one day") {
        CalendarItem e = read_one(event({"DTSTART:20240101", "DTEND:20240101"}));
        CHECK(e.start == date(2024, 1, 1));
        CHECK(e.end == date(2024, 1, 2));
    }
    SECTION("00:00:00 to 00:00:00 of a later day") {
        CalendarItem e = read_one(event({"DTSTART:20240101T000000", "DTEND:20240102T000000"}));
        CHECK(e.start == date(2024, 1, 1));
        CHECK(e.end == date(2024, 1, 2));
    }
    SECTION("00:00 to 23:59 the same day") {
        CalendarItem e = read_one(event({"DTSTART:20240101T000000", "DTEND:20240101T235900"}));
        CHECK(e.start == date(2024, 1, 1));
        CHECK(e.end == date(2024, 1, 2));
    }
    SECTION("00:00 to 23:59:59 two days later") {
        CalendarItem e = read_one(event({"DTSTART:20240101T000000", "DTEND:20240103T235959"}));
        CHECK(e.start == date(2024, 1, 1));
        CHECK(e.end == date(2024, 1, 4));
    }
    SECTION("X-FUNAMBOL-ALLDAY with UTC times: local midnights in the user's zone") {
        CalendarItem e = read_one(
            event({"DTSTART:20231231T230000Z", "DTEND:20240101T225900Z", "X-FUNAMBOL-ALLDAY:1"}), berlin_profile());
        CHECK(e.start == date(2024, 1, 1));
        CHECK(e.end == date(2024, 1, 2));
        CHECK(e.extra.empty());
    }
    SECTION("X-MICROSOFT-CDO-ALLDAYEVENT:TRUE") {
        CalendarItem e = read_one(event({"DTSTART:20240105T000000", "DTEND:20240106T000000",
                                         "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE"}));
        CHECK(e.start == date(2024, 1, 5));
        CHECK(e.end == date(2024, 1, 6));
    }
    SECTION("a midnight meeting stays a timed event") {
        CalendarItem e = read_one(event({"DTSTART:20240101T000000", "DTEND:20240101T010000"}));
        CHECK(e.start == floating(2024, 1, 1, 0, 0));
        CHECK(e.end == floating(2024, 1, 1, 1, 0));
        CHECK_FALSE(e.all_day());
    }
    SECTION("a midnight start without an end stays timed") {
        CalendarItem e = read_one(event({"DTSTART:20240101T000000"}));
        CHECK(e.start == floating(2024, 1, 1, 0, 0));
    }
    SECTION("a task flagged all-day gets a due date") {
        std::optional<Calendar> c = read_vcalendar(
            lines({"BEGIN:VCALENDAR", "VERSION:1.0", "BEGIN:VTODO", "DUE:20240301T000000", "X-FUNAMBOL-ALLDAY:1",
                   "END:VTODO", "END:VCALENDAR"}),
            Profile{}, nullptr);
        REQUIRE(c);
        CHECK(c->items[0].due == date(2024, 3, 1));
    }
    SECTION("X-FUNAMBOL-ALLDAY:0 is no flag") {
        CalendarItem e = read_one(event({"DTSTART:20240101T000000", "DTEND:20240101T013000", "X-FUNAMBOL-ALLDAY:0"}));
        CHECK_FALSE(e.all_day());
    }
}

TEST_CASE("vCalendar writes all-day events as local 00:00 to 23:59") {
    Calendar c;
    CalendarItem e;
    e.summary = "Holiday";
    e.start = date(2024, 5, 1);
    e.end = date(2024, 5, 3);
    c.items.push_back(e);
    Profile funambol = berlin_profile();
    funambol.funambol_extensions = true;
    funambol.times_in_utc = true;  // all-day times are never UTC
    std::string out = write_vcalendar(c, funambol, nullptr);
    INFO(out);
    CHECK(has_line(out, "DTSTART:20240501T000000"));
    CHECK(has_line(out, "DTEND:20240502T235900"));
    CHECK(has_line(out, "X-FUNAMBOL-ALLDAY:1"));
    CalendarItem back = read_one(out, funambol);
    CHECK(back.start == e.start);
    CHECK(back.end == e.end);

    std::string plain = write_vcalendar(c, Profile{}, nullptr);
    CHECK(plain.find("X-FUNAMBOL-ALLDAY") == std::string::npos);
    CHECK(read_one(plain).end == e.end);
}

TEST_CASE("vCalendar TZ and DAYLIGHT give Europe/Berlin zoned times") {
    std::vector<Warning> warnings;
    CalendarItem e = read_one(event({"DTSTART:20240615T100000", "DTEND:20240615T110000", "DCREATED:20240101T120000Z",
                                     "EXDATE:20240622T100000;20240629T100000", "RRULE:W1 SA #5"},
                                    {kBerlinTz, kBerlin2024}),
                              berlin_profile(), &warnings);
    CHECK(warnings.empty());
    CHECK(e.start == berlin(2024, 6, 15, 10, 0));
    CHECK(e.end == berlin(2024, 6, 15, 11, 0));
    CHECK(e.created == utc(2024, 1, 1, 12, 0));
    CHECK(e.exception_dates == std::vector<DateTime>{berlin(2024, 6, 22, 10, 0), berlin(2024, 6, 29, 10, 0)});
    REQUIRE(e.recurrence);
    CHECK(e.recurrence->frequency == Recurrence::Frequency::weekly);

    SECTION("DAYLIGHT with local begin and end times (standard, then daylight time)") {
        CalendarItem l = read_one(event({"DTSTART:20240105T100000"},
                                        {"TZ:+01", "DAYLIGHT:TRUE;+02;20240331T020000;20241027T030000;CET;CEST"}),
                                  berlin_profile());
        CHECK(l.start == berlin(2024, 1, 5, 10, 0));
    }
    SECTION("without TZ, local times are put in the host's zone") {
        CalendarItem h = read_one(event({"DTSTART:20240615T100000"}), berlin_profile());
        CHECK(h.start == berlin(2024, 6, 15, 10, 0));
    }
    SECTION("and stay floating when the host has none") {
        CalendarItem f = read_one(event({"DTSTART:20240615T100000"}));
        CHECK(f.start == floating(2024, 6, 15, 10, 0));
    }
    SECTION("lines no zone matches: UTC by their offsets, with a warning") {
        std::vector<Warning> w;
        CalendarItem u = read_one(event({"DTSTART:20240615T100000", "DTEND:20240115T100000"},
                                        {"TZ:+01:00", "DAYLIGHT:TRUE;+02:00;20240301T010000Z;20240901T010000Z;X;Y"}),
                                  {}, &w);
        CHECK(u.start == utc(2024, 6, 15, 8, 0));
        CHECK(u.end == utc(2024, 1, 15, 9, 0));
        REQUIRE(w.size() == 1);
        CHECK(w[0].line == 3);
        CHECK(w[0].message.find("UTC") != std::string::npos);
    }
}

TEST_CASE("vCalendar writing: local times with TZ and one DAYLIGHT line per year touched") {
    Calendar c;
    CalendarItem e;
    e.uid = "weekly";
    e.summary = "Weekly";
    e.start = berlin(2024, 1, 2, 10, 0);
    e.end = berlin(2024, 1, 2, 11, 0);
    Recurrence weekly;
    weekly.frequency = Recurrence::Frequency::weekly;
    weekly.by_day = {{0, 2}};
    weekly.until = utc(2026, 12, 29, 9, 0);
    e.recurrence = weekly;
    e.exception_dates = {berlin(2024, 7, 2, 10, 0)};
    c.items.push_back(e);
    std::vector<Warning> losses;
    std::string out = write_vcalendar(c, Profile{}, &losses);
    INFO(out);
    CHECK(losses.empty());
    CHECK(has_line(out, "TZ:+01:00"));
    CHECK(count_of(out, "DAYLIGHT:") == 3);
    CHECK(has_line(out, "DAYLIGHT:TRUE;+02:00;20240331T010000Z;20241027T010000Z;CET;CEST"));
    CHECK(has_line(out, "DAYLIGHT:TRUE;+02:00;20250330T010000Z;20251026T010000Z;CET;CEST"));
    CHECK(has_line(out, "DAYLIGHT:TRUE;+02:00;20260329T010000Z;20261025T010000Z;CET;CEST"));
    CHECK(has_line(out, "DTSTART:20240102T100000"));
    CHECK(has_line(out, "DTEND:20240102T110000"));
    CHECK(has_line(out, "EXDATE:20240702T100000"));
    CHECK(out.find("RRULE:W1 TU ") != std::string::npos);

    // And read back: the same zone, the same times.
    CalendarItem back = read_one(out, berlin_profile());
    CHECK(back.start == e.start);
    CHECK(back.exception_dates == e.exception_dates);
    REQUIRE(back.recurrence);
    CHECK(back.recurrence->by_day.empty());  // "W1 TU" on a Tuesday start: RFC 5545's weekly, no BYDAY needed

    SECTION("a zone without daylight saving time says DAYLIGHT:FALSE") {
        Calendar tokyo;
        CalendarItem t;
        t.start = make(2024, 3, 1, 9, 0, 0, DateTime::Kind::zoned, "Asia/Tokyo");
        tokyo.items.push_back(t);
        std::string o = write_vcalendar(tokyo, Profile{}, nullptr);
        CHECK(has_line(o, "TZ:+09:00"));
        CHECK(has_line(o, "DAYLIGHT:FALSE"));
        CHECK(has_line(o, "DTSTART:20240301T090000"));
    }
    SECTION("times in UTC for clients that want them, without TZ") {
        Profile sony;
        sony.times_in_utc = true;
        std::string o = write_vcalendar(c, sony, nullptr);
        CHECK(o.find("TZ:") == std::string::npos);
        CHECK(o.find("DAYLIGHT") == std::string::npos);
        CHECK(has_line(o, "DTSTART:20240102T090000Z"));
        CHECK(has_line(o, "EXDATE:20240702T080000Z"));
        // A floating time is the host's local time.
        sony.time_zone = "Europe/Berlin";
        Calendar f;
        CalendarItem local;
        local.start = floating(2024, 7, 1, 12, 0);
        f.items.push_back(local);
        CHECK(has_line(write_vcalendar(f, sony, nullptr), "DTSTART:20240701T100000Z"));
    }
    SECTION("an endless series: DAYLIGHT lines through the current year + 5") {
        Calendar endless = c;
        endless.items[0].recurrence->until.reset();
        std::time_t now = std::time(nullptr);
        std::tm today{};
        gmtime_r(&now, &today);
        int years = today.tm_year + 1900 + 5 - 2024 + 1;
        std::string o = write_vcalendar(endless, Profile{}, nullptr);
        CHECK(count_of(o, "DAYLIGHT:TRUE") == static_cast<std::size_t>(years));
        CHECK(o.find("RRULE:W1 TU #0") != std::string::npos);
    }
    SECTION("an all-day series: EXDATEs as local midnights") {
        Calendar allday;
        CalendarItem a;
        a.start = date(2024, 1, 1);
        a.end = date(2024, 1, 2);
        Recurrence every_week;
        every_week.frequency = Recurrence::Frequency::weekly;
        every_week.count = 4;
        a.recurrence = every_week;
        a.exception_dates = {date(2024, 1, 8)};
        allday.items.push_back(a);
        std::string o = write_vcalendar(allday, Profile{}, nullptr);
        INFO(o);
        CHECK(has_line(o, "DTSTART:20240101T000000"));
        CHECK(has_line(o, "DTEND:20240101T235900"));
        CHECK(has_line(o, "EXDATE:20240108T000000"));
        CalendarItem back = read_one(o);
        CHECK(back.exception_dates == std::vector<DateTime>{date(2024, 1, 8)});
        REQUIRE(back.recurrence);
        CHECK(recurrence_count(*back.recurrence, back.start) == 4);
    }
}

TEST_CASE("vCalendar alarms: AALARM, DALARM, MALARM, PALARM both ways") {
    std::string in = event({"DTSTART:20240115T100000", "DTEND:20240115T110000",
                            "DALARM:20240115T084500Z;PT5M;2;Wake up",
                            "AALARM;TYPE=WAVE:20240115T085000Z;;;file:///ding.wav",
                            "MALARM:20240115T080000Z;;;boss@example.com;Meeting at ten",
                            "PALARM:20240114T080000Z;;;/bin/prepare"},
                           {kBerlinTz, kBerlin2024});
    CalendarItem e = read_one(in, berlin_profile());
    REQUIRE(e.alarms.size() == 4);
    const Alarm& d = e.alarms[0];
    CHECK(d.action == "DISPLAY");
    REQUIRE(d.offset);
    CHECK(d.offset->seconds == -15 * 60);  // 09:00Z start
    CHECK(d.snooze.seconds == 300);
    CHECK(d.repeat == 2);
    CHECK(d.description == "Wake up");
    const Alarm& a = e.alarms[1];
    CHECK(a.action == "AUDIO");
    CHECK(a.offset->seconds == -10 * 60);
    CHECK(a.attachment == "file:///ding.wav");
    const Alarm& m = e.alarms[2];
    CHECK(m.action == "EMAIL");
    CHECK(m.offset->seconds == -3600);
    CHECK(m.description == "Meeting at ten");
    REQUIRE(m.extra.size() == 1);
    CHECK(m.extra[0].value == "mailto:boss@example.com");
    const Alarm& p = e.alarms[3];
    CHECK(p.action == "PROCEDURE");
    CHECK(p.offset->seconds == -25 * 3600);
    CHECK(p.attachment == "/bin/prepare");

    Calendar c;
    c.items.push_back(e);
    std::string out = write_vcalendar(c, Profile{}, nullptr);
    INFO(out);
    CHECK(has_line(out, "DALARM:20240115T084500Z;PT5M;2;Wake up"));
    CHECK(has_line(out, "AALARM;VALUE=URL:20240115T085000Z;;;file:///ding.wav"));
    CHECK(has_line(out, "MALARM:20240115T080000Z;;;boss@example.com;Meeting at ten"));
    CHECK(has_line(out, "PALARM:20240114T080000Z;;;/bin/prepare"));

    SECTION("relative to the end of an event and to the due date of a task") {
        Calendar t;
        CalendarItem task;
        task.type = CalendarItem::Type::task;
        task.due = utc(2024, 2, 1, 12, 0);
        Alarm before;
        before.offset = Duration{-3600};
        before.relative_to_end = true;
        task.alarms.push_back(before);
        t.items.push_back(task);
        std::string o = write_vcalendar(t, Profile{}, nullptr);
        CHECK(has_line(o, "DALARM:20240201T110000Z;;;"));
        auto read_back = read_vcalendar(o, Profile{}, nullptr);
        REQUIRE(read_back);
        const Alarm& r = read_back->items[0].alarms.at(0);
        CHECK(r.offset->seconds == -3600);
        CHECK(r.relative_to_end);
    }
    SECTION("an empty AALARM is Funambol's 'no reminder'") {
        CalendarItem none = read_one(event({"DTSTART:20240115T100000Z", "AALARM:"}));
        CHECK(none.alarms.empty());
        CHECK(none.sent_empty == std::vector<std::string>{"AALARM", "VALARM"});
        CHECK(none.extra.empty());
    }
    SECTION("an alarm of an item without a start stays absolute") {
        CalendarItem loose = read_one(event({"SUMMARY:x", "DALARM:20240115T084500Z"}));
        REQUIRE(loose.alarms.size() == 1);
        CHECK(*loose.alarms[0].at == utc(2024, 1, 15, 8, 45));
    }
}

TEST_CASE("vCalendar enumerations: STATUS, TRANSP, PRIORITY, CLASS, attendees") {
    CalendarItem e = read_one(event({"DTSTART:20240115T100000Z", "STATUS:NEEDS ACTION", "TRANSP:1", "PRIORITY:3",
                                     "CLASS:CONFIDENTIAL", "CATEGORIES:Business;Phone call",
                                     "RESOURCES:Projector;Room 1",
                                     "ATTENDEE;ROLE=ORGANIZER;STATUS=CONFIRMED:John Smith <jsmith@example.com>",
                                     "ATTENDEE;ROLE=ATTENDEE;STATUS=NEEDS ACTION;RSVP=YES;EXPECT=REQUIRE:jane@example.com",
                                     "ATTENDEE;ROLE=OWNER;STATUS=DECLINED:Owner <owner@example.com>"}));
    CHECK(e.status == "NEEDS-ACTION");
    CHECK(e.transparency == "TRANSPARENT");
    CHECK(e.priority == 9);
    CHECK(e.classification == "CONFIDENTIAL");
    CHECK(e.categories == std::vector<std::string>{"Business", "Phone call"});
    REQUIRE(e.extra.size() == 1);
    CHECK(e.extra[0].value == "Projector,Room 1");
    REQUIRE(e.organizer);
    CHECK(e.organizer->address == "mailto:jsmith@example.com");
    CHECK(e.organizer->common_name == "John Smith");
    CHECK(e.organizer->partstat == "ACCEPTED");
    REQUIRE(e.attendees.size() == 2);
    CHECK(e.attendees[0].address == "mailto:jane@example.com");
    CHECK(e.attendees[0].partstat == "NEEDS-ACTION");
    CHECK(e.attendees[0].rsvp);
    CHECK(e.attendees[0].role == "REQ-PARTICIPANT");
    CHECK(e.attendees[1].role == "CHAIR");
    CHECK(e.attendees[1].partstat == "DECLINED");

    Calendar c;
    c.items.push_back(e);
    std::string out = write_vcalendar(c, Profile{}, nullptr);
    INFO(out);
    CHECK(has_line(out, "STATUS:NEEDS ACTION"));
    CHECK(has_line(out, "TRANSP:1"));
    CHECK(has_line(out, "PRIORITY:3"));
    CHECK(has_line(out, "CLASS:CONFIDENTIAL"));
    CHECK(has_line(out, "CATEGORIES:Business;Phone call"));
    CHECK(has_line(out, "ATTENDEE;ROLE=ORGANIZER;STATUS=ACCEPTED:John Smith <jsmith@example.com>"));
    CHECK(has_line(out, "ATTENDEE;ROLE=ATTENDEE;STATUS=NEEDS ACTION;RSVP=YES;EXPECT=REQUIRE:jane@example.com"));
    CHECK(has_line(out, "ATTENDEE;ROLE=OWNER;STATUS=DECLINED;EXPECT=REQUIRE:Owner <owner@example.com>"));

    std::string ical = write_icalendar(c, Profile{}, nullptr);
    CHECK(ical.find("STATUS:NEEDS-ACTION\r\n") != std::string::npos);
    CHECK(ical.find("TRANSP:TRANSPARENT\r\n") != std::string::npos);
    CHECK(ical.find("PRIORITY:9\r\n") != std::string::npos);
    CHECK(ical.find("RESOURCES:Projector,Room 1\r\n") != std::string::npos);

    SECTION("task states and the iCalendar priorities in between") {
        CalendarItem t = read_one(lines({"BEGIN:VCALENDAR", "VERSION:1.0", "BEGIN:VTODO", "STATUS:ACCEPTED",
                                         "PRIORITY:2", "TRANSP:0", "END:VTODO", "END:VCALENDAR"}));
        CHECK(t.type == CalendarItem::Type::task);
        CHECK(t.status == "IN-PROCESS");
        CHECK(t.priority == 5);
        CHECK(t.transparency == "OPAQUE");
        t.priority = 7;
        Calendar tc;
        tc.items.push_back(t);
        std::string o = write_vcalendar(tc, Profile{}, nullptr);
        CHECK(has_line(o, "STATUS:ACCEPTED"));
        CHECK(has_line(o, "PRIORITY:3"));
        CHECK(has_line(o, "TRANSP:0"));
    }
}

TEST_CASE("vCalendar text: quoted-printable, CHARSET=ISO-8859-1, 2.1 escaping") {
    CalendarItem e = read_one(event({"SUMMARY;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Caf=E9 M=FCller",
                                     "DESCRIPTION;ENCODING=QUOTED-PRINTABLE:line one=0D=0Aline two; C:\\new",
                                     "LOCATION;CHARSET=ISO-8859-1:Stra\xDF" "e 1", "DTSTART:20240115T100000Z"}));
    CHECK(e.summary == "Caf\xC3\xA9 M\xC3\xBCller");
    CHECK(e.description == "line one\nline two; C:\\new");
    CHECK(e.location == "Stra\xC3\x9F" "e 1");

    Calendar c;
    c.items.push_back(e);
    Profile latin1;
    latin1.charset = "ISO-8859-1";
    std::string out = write_vcalendar(c, latin1, nullptr);
    INFO(out);
    CHECK(has_line(out, "SUMMARY;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Caf=E9 M=FCller"));
    CHECK(has_line(out, "DESCRIPTION;ENCODING=QUOTED-PRINTABLE:line one=0D=0Aline two\\; C:\\\\new"));
    CalendarItem back = read_one(out);
    CHECK(back.summary == e.summary);
    CHECK(back.description == e.description);
    CHECK(back.location == e.location);
}

TEST_CASE("vCalendar: a rule the basic grammar cannot say is written as RDATEs and reported") {
    Calendar c;
    CalendarItem e;
    e.start = make(2024, 1, 15, 9, 0, 0, DateTime::Kind::utc);
    Recurrence hourly;
    hourly.frequency = Recurrence::Frequency::hourly;
    hourly.count = 3;
    e.recurrence = hourly;
    c.items.push_back(e);
    std::vector<Warning> losses;
    std::string out = write_vcalendar(c, Profile{}, &losses);
    INFO(out);
    CHECK(out.find("RRULE") == std::string::npos);
    CHECK(has_line(out, "RDATE:20240115T100000Z;20240115T110000Z"));
    REQUIRE(losses.size() == 1);
    CHECK(losses[0].message.find("2 RDATEs") != std::string::npos);
}

TEST_CASE("vCalendar -> iCalendar -> vCalendar is stable") {
    std::string in = event({"UID:stable-1", "SUMMARY;ENCODING=QUOTED-PRINTABLE:Review=0D=0Aagain", "DTSTART:20240102T100000",
                            "DTEND:20240102T113000", "RRULE:W1 TU 20240326T090000Z", "EXDATE:20240109T100000",
                            "DALARM:20240102T084500Z;;;Review", "CATEGORIES:Work;Team", "PRIORITY:1", "STATUS:CONFIRMED",
                            "ATTENDEE;ROLE=ATTENDEE;STATUS=ACCEPTED:Jane <jane@example.com>", "X-EPOCAGENDAENTRYTYPE:APPOINTMENT",
                            "DCREATED:20231201T101010Z"},
                           {kBerlinTz, kBerlin2024});
    Profile profile = berlin_profile();
    std::vector<Warning> warnings;
    std::optional<Calendar> first = read_vcalendar(in, profile, &warnings);
    REQUIRE(first);
    CHECK(warnings.empty());
    std::string vcal1 = write_vcalendar(*first, profile, nullptr);
    std::string ical = write_icalendar(*first, profile, nullptr);
    INFO(ical);
    CHECK(ical.find("DTSTART;TZID=Europe/Berlin:20240102T100000\r\n") != std::string::npos);
    CHECK(ical.find("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n") != std::string::npos);
    CHECK(ical.find("TRIGGER:-PT15M\r\n") != std::string::npos);
    std::optional<Calendar> via_ical = read_icalendar(ical, profile, nullptr);
    REQUIRE(via_ical);
    std::string vcal2 = write_vcalendar(*via_ical, profile, nullptr);
    CHECK(vcal2 == vcal1);
    INFO(vcal1);
    CHECK(has_line(vcal1, "DTSTART:20240102T100000"));
    CHECK(has_line(vcal1, "DALARM:20240102T084500Z;;;Review"));
    CHECK(has_line(vcal1, "X-EPOCAGENDAENTRYTYPE:APPOINTMENT"));
    CHECK(has_line(vcal1, "DCREATED:20231201T101010Z"));
    CHECK(has_line(vcal1, "SUMMARY;ENCODING=QUOTED-PRINTABLE:Review=0D=0Aagain"));
}

TEST_CASE("vCalendar: bad input is reported with its line and never crashes") {
    std::vector<Warning> warnings;
    CalendarItem e = read_one(event({"DTSTART:tomorrow", "PRIORITY:urgent", "TRANSP:x", "DALARM:soon;;;",
                                     "DAYLIGHT:TRUE;bogus", "SUMMARY:ok"}),
                              {}, &warnings);
    CHECK(e.summary == "ok");
    CHECK_FALSE(e.start.valid());
    REQUIRE(warnings.size() == 4);
    CHECK(warnings[0].line == 4);
    CHECK(warnings[0].message.find("DTSTART") != std::string::npos);
    CHECK(warnings[1].line == 5);
    CHECK(warnings[2].line == 6);
    CHECK(warnings[3].line == 7);
    CHECK(e.extra.size() == 5);  // all but SUMMARY kept as they came
    for (const char* junk : {"", "BEGIN:VCALENDAR\r\nTZ:+99\r\nDAYLIGHT:TRUE;;;;\r\nBEGIN:VTODO\r\nDUE:2024\r\n",
                             "BEGIN:VEVENT\r\nRRULE:MP1 9+ XX #-1\r\nDTSTART:20240101\r\nAALARM:;;;;;;;;\r\n",
                             "BEGIN:VEVENT\r\nDTSTART:20240101T000000\r\nDTEND:20231201T235900\r\nEXDATE:;;,\r\n"}) {
        std::vector<Warning> w;
        auto r = read_vcalendar(junk, Profile{}, &w);
        CHECK_FALSE(w.empty());
        if (r) CHECK_NOTHROW(write_vcalendar(*r, Profile{}, nullptr));
    }
}

TEST_CASE("calendar readers survive mutated input, and what they read writes and reads again") {
    const std::string seeds[] = {
        event({"UID:m1", "SUMMARY;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:Caf=E9=", "=0D=0Ax",
               "DTSTART:20240102T100000", "DTEND:20240102T113000", "RRULE:MP1 1+ TU #3", "EXDATE:20240109T100000",
               "DALARM:20240102T084500Z;PT5M;2;Review", "AALARM:", "ATTENDEE;ROLE=OWNER:A <a@b>",
               "X-FUNAMBOL-ALLDAY:1"},
              {kBerlinTz, kBerlin2024}),
        lines({"BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", "UID:i1",
               "DTSTART;TZID=Europe/Berlin:20240102T100000", "RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=5",
               "EXDATE;VALUE=DATE:20240105", "BEGIN:VALARM", "TRIGGER;RELATED=END:-PT5M", "END:VALARM",
               "ATTENDEE;CN=\"x:y\";PARTSTAT=ACCEPTED:mailto:x@y", "END:VEVENT", "END:VCALENDAR"}),
    };
    std::uint32_t state = 12345;
    auto next = [&state] { return state = state * 1103515245u + 12345u; };
    int round_trips = 0;
    for (int round = 0; round < 300; ++round) {
        std::string text = seeds[round % 2];
        for (int edits = 1 + static_cast<int>(next() % 4); edits > 0; --edits) {
            std::size_t at = next() % text.size();
            switch (next() % 4) {
                case 0: text[at] = static_cast<char>(next() % 256); break;
                case 1: text.erase(at, next() % 12); break;
                case 2: text.insert(at, text.substr(next() % text.size(), next() % 20)); break;
                default: text.insert(at, 1, ";:,\\=\r\n"[next() % 7]); break;
            }
            if (text.empty()) text = "X";
        }
        const bool vcal = round % 2 == 0;
        std::vector<Warning> w;
        std::optional<Calendar> c = vcal ? read_vcalendar(text, Profile{}, &w) : read_icalendar(text, Profile{}, &w);
        if (!c) continue;
        std::string out = vcal ? write_vcalendar(*c, Profile{}, nullptr) : write_icalendar(*c, Profile{}, nullptr);
        std::optional<Calendar> again = vcal ? read_vcalendar(out, Profile{}, nullptr) : read_icalendar(out, Profile{}, nullptr);
        INFO(text);
        INFO(out);
        REQUIRE(again);
        CHECK(again->items.size() == c->items.size());
        ++round_trips;
    }
    CHECK(round_trips > 50);
}
