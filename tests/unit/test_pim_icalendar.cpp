// iCalendar 2.0 reading and writing: the model each property gives, what the
// writer emits (CRLF, folding, escaping, VTIMEZONE for every TZID), and
// round trips of the common shapes of events and tasks.
#include <catch2/catch.hpp>

#include "pim/calendar_common.hpp"
#include "pim/formats.hpp"

using namespace smk::pim;
using detail::read_icalendar;
using detail::write_icalendar;

namespace {

std::string lines(std::initializer_list<const char*> ls) {
    std::string out;
    for (const char* l : ls) out += std::string(l) + "\r\n";
    return out;
}

// The output with folds joined, so that a whole property can be looked for.
std::string unfolded(std::string text) {
    for (std::size_t at; (at = text.find("\r\n ")) != std::string::npos;) text.erase(at, 3);
    return text;
}

bool has_line(const std::string& text, const std::string& line) {
    std::string all = "\r\n" + unfolded(text);
    return all.find("\r\n" + line + "\r\n") != std::string::npos;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

DateTime zoned(int y, int mo, int d, int h, int mi, const char* tzid) {
    DateTime v;
    v.year = y, v.month = mo, v.day = d, v.hour = h, v.minute = mi;
    v.kind = DateTime::Kind::zoned;
    v.tzid = tzid;
    return v;
}

DateTime utc(int y, int mo, int d, int h, int mi, int s = 0) {
    DateTime v;
    v.year = y, v.month = mo, v.day = d, v.hour = h, v.minute = mi, v.second = s;
    v.kind = DateTime::Kind::utc;
    return v;
}

DateTime date(int y, int mo, int d) {
    DateTime v;
    v.year = y, v.month = mo, v.day = d;
    v.kind = DateTime::Kind::date;
    return v;
}

Calendar read_ok(const std::string& text, std::vector<Warning>* warnings = nullptr) {
    std::optional<Calendar> c = read_icalendar(text, Profile{}, warnings);
    REQUIRE(c);
    return *c;
}

const std::string kBerlinZone = lines({
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
    "X-LIC-LOCATION:Europe/Berlin",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0200",
    "TZNAME:CEST",
    "DTSTART:19700329T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0200",
    "TZOFFSETTO:+0100",
    "TZNAME:CET",
    "DTSTART:19701025T030000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
});

}  // namespace

TEST_CASE("calendar_common: date-times, durations and enumerations") {
    auto dt = cal::parse_date_time("20240101T100000Z");
    REQUIRE(dt);
    CHECK(*dt == utc(2024, 1, 1, 10, 0));
    CHECK(cal::parse_date_time("20240229")->kind == DateTime::Kind::date);
    CHECK(cal::parse_date_time("2024-01-01T10:00:00")->kind == DateTime::Kind::floating);
    CHECK_FALSE(cal::parse_date_time("20230229"));
    CHECK_FALSE(cal::parse_date_time("2024013T100000Z"));
    CHECK_FALSE(cal::parse_date_time("20240101T250000"));
    CHECK_FALSE(cal::parse_date_time("20240101T100000+01"));
    CHECK(cal::format_date_time(date(2024, 3, 9)) == "20240309");
    CHECK(cal::format_date_time(zoned(2024, 3, 9, 8, 5, "Europe/Berlin")) == "20240309T080500");

    CHECK(cal::parse_duration("PT15M")->seconds == 900);
    CHECK(cal::parse_duration("-P1DT2H")->seconds == -(86400 + 7200));
    CHECK(cal::parse_duration("P2W")->seconds == 14 * 86400);
    CHECK(cal::parse_duration("+PT0S")->seconds == 0);
    CHECK_FALSE(cal::parse_duration("P"));
    CHECK_FALSE(cal::parse_duration("PT"));
    CHECK_FALSE(cal::parse_duration("P1H"));
    CHECK_FALSE(cal::parse_duration("15M"));
    CHECK(cal::format_duration({-900}) == "-PT15M");
    CHECK(cal::format_duration({86400 + 7200}) == "P1DT2H");
    CHECK(cal::format_duration({14 * 86400}) == "P2W");
    CHECK(cal::format_duration({0}) == "PT0S");
    CHECK(cal::format_duration({3661}) == "PT1H1M1S");

    CHECK(cal::add_days(date(2024, 2, 28), 2) == date(2024, 3, 1));
    CHECK(cal::add_seconds(utc(2023, 12, 31, 23, 30), 3600) == utc(2024, 1, 1, 0, 30));

    CHECK(cal::status_from_vcal("NEEDS ACTION", CalendarItem::Type::task) == "NEEDS-ACTION");
    CHECK(cal::status_from_vcal("ACCEPTED", CalendarItem::Type::event) == "CONFIRMED");
    CHECK(cal::status_from_vcal("ACCEPTED", CalendarItem::Type::task) == "IN-PROCESS");
    CHECK(cal::status_from_vcal("DECLINED", CalendarItem::Type::event) == "CANCELLED");
    CHECK(cal::status_from_vcal("SENT", CalendarItem::Type::event) == "TENTATIVE");
    CHECK(cal::status_to_vcal("NEEDS-ACTION") == "NEEDS ACTION");
    CHECK(cal::status_to_vcal("IN-PROCESS") == "ACCEPTED");
    CHECK(cal::partstat_from_vcal("NEEDS ACTION") == "NEEDS-ACTION");
    CHECK(cal::partstat_to_vcal("DELEGATED") == "DELEGATED");
    CHECK(cal::priority_from_vcal(1) == 1);
    CHECK(cal::priority_from_vcal(2) == 5);
    CHECK(cal::priority_from_vcal(3) == 9);
    CHECK(cal::priority_to_vcal(4) == 1);
    CHECK(cal::priority_to_vcal(5) == 2);
    CHECK(cal::priority_to_vcal(7) == 3);
    CHECK(cal::transparency_from_vcal("0") == "OPAQUE");
    CHECK(cal::transparency_from_vcal("1") == "TRANSPARENT");
    CHECK(cal::transparency_from_vcal("maybe").empty());
    CHECK(cal::transparency_to_vcal("TRANSPARENT") == "1");
}

TEST_CASE("iCalendar: an event with TZID and its VTIMEZONE, read and written back") {
    std::string in = lines({"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example//Client//EN", "METHOD:PUBLISH",
                            "X-WR-CALNAME:Work"}) +
                     kBerlinZone +
                     lines({
                         "BEGIN:VEVENT",
                         "UID:evt-1@example.com",
                         "DTSTAMP:20240110T120000Z",
                         "DTSTART;TZID=Europe/Berlin:20240115T100000",
                         "DTEND;TZID=Europe/Berlin:20240115T113000",
                         "SUMMARY:Planning\\, budget\\; room 1",
                         "DESCRIPTION:first line\\nsecond line",
                         "LOCATION:Room \\\\ 4",
                         "CLASS:PRIVATE",
                         "TRANSP:OPAQUE",
                         "STATUS:CONFIRMED",
                         "PRIORITY:5",
                         "CATEGORIES:Work,Project\\, big",
                         "CATEGORIES:Meeting",
                         "SEQUENCE:2",
                         "CREATED:20240101T080000Z",
                         "LAST-MODIFIED:20240102T090000Z",
                         "URL:https://example.com/e/1",
                         "X-MOZ-GENERATION:3",
                         "GEO:52.5;13.4",
                         "END:VEVENT",
                         "END:VCALENDAR",
                     });
    std::vector<Warning> warnings;
    Calendar c = read_ok(in, &warnings);
    CHECK(warnings.empty());
    REQUIRE(c.items.size() == 1);
    const CalendarItem& e = c.items[0];
    CHECK(e.type == CalendarItem::Type::event);
    CHECK(e.uid == "evt-1@example.com");
    CHECK(e.stamp == utc(2024, 1, 10, 12, 0));
    CHECK(e.start == zoned(2024, 1, 15, 10, 0, "Europe/Berlin"));
    CHECK(e.end == zoned(2024, 1, 15, 11, 30, "Europe/Berlin"));
    CHECK(e.summary == "Planning, budget; room 1");
    CHECK(e.description == "first line\nsecond line");
    CHECK(e.location == "Room \\ 4");
    CHECK(e.classification == "PRIVATE");
    CHECK(e.transparency == "OPAQUE");
    CHECK(e.status == "CONFIRMED");
    CHECK(e.priority == 5);
    CHECK(e.categories == std::vector<std::string>{"Work", "Project, big", "Meeting"});
    CHECK(e.sequence == 2);
    CHECK(e.created == utc(2024, 1, 1, 8, 0));
    CHECK(e.last_modified == utc(2024, 1, 2, 9, 0));
    CHECK(e.url == "https://example.com/e/1");
    REQUIRE(e.extra.size() == 2);
    CHECK(e.extra[0].name == "X-MOZ-GENERATION");
    CHECK(e.extra[0].value == "3");
    CHECK(e.extra[1].name == "GEO");
    REQUIRE(c.extra.size() == 1);  // METHOD and PRODID are not kept
    CHECK(c.extra[0].name == "X-WR-CALNAME");
    REQUIRE(c.time_zones.size() == 1);
    CHECK(c.time_zones[0].tzid == "Europe/Berlin");
    CHECK(c.time_zones[0].vtimezone == kBerlinZone);

    std::vector<Warning> losses;
    std::string out = write_icalendar(c, Profile{}, &losses);
    INFO(out);
    CHECK(losses.empty());
    CHECK(out.rfind("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//SyncMLKit//EN\r\n", 0) == 0);
    CHECK(out.find("METHOD") == std::string::npos);
    CHECK(has_line(out, "X-WR-CALNAME:Work"));
    CHECK(out.find(kBerlinZone) != std::string::npos);  // the kept VTIMEZONE, verbatim
    CHECK(count_of(out, "BEGIN:VTIMEZONE") == 1);
    CHECK(has_line(out, "DTSTART;TZID=Europe/Berlin:20240115T100000"));
    CHECK(has_line(out, "DTEND;TZID=Europe/Berlin:20240115T113000"));
    CHECK(has_line(out, "DTSTAMP:20240110T120000Z"));
    CHECK(has_line(out, "SUMMARY:Planning\\, budget; room 1"));
    CHECK(has_line(out, "DESCRIPTION:first line\\nsecond line"));
    CHECK(has_line(out, "LOCATION:Room \\\\ 4"));
    CHECK(has_line(out, "CATEGORIES:Work,Project\\, big,Meeting"));
    CHECK(has_line(out, "X-MOZ-GENERATION:3"));
    CHECK(has_line(out, "GEO:52.5;13.4"));
    CHECK(out.substr(out.size() - 15) == "END:VCALENDAR\r\n");
    // Every line ends in CRLF: no bare LF.
    for (std::size_t i = 0; i < out.size(); ++i)
        if (out[i] == '\n') REQUIRE((i > 0 && out[i - 1] == '\r'));

    Calendar again = read_ok(out);
    REQUIRE(again.items.size() == 1);
    CHECK(again.items[0].start == e.start);
    CHECK(again.items[0].summary == e.summary);
    CHECK(again.items[0].categories == e.categories);
    CHECK(again.time_zones.size() == 1);
    CHECK(write_icalendar(again, Profile{}, nullptr) == out);
}

TEST_CASE("iCalendar: a TZID without VTIMEZONE gets one generated; an unknown zone is a loss") {
    std::string in = lines({
        "BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", "UID:w1",
        "DTSTART;TZID=\"W. Europe Standard Time\":20240701T090000",
        "DTEND;TZID=Mars/Olympus_Mons:20240701T100000", "END:VEVENT", "END:VCALENDAR",
    });
    std::vector<Warning> warnings;
    Calendar c = read_ok(in, &warnings);
    CHECK(c.items[0].start == zoned(2024, 7, 1, 9, 0, "W. Europe Standard Time"));
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].line == 6);
    CHECK(warnings[0].message.find("Mars/Olympus_Mons") != std::string::npos);

    std::vector<Warning> losses;
    std::string out = write_icalendar(c, Profile{}, &losses);
    INFO(out);
    CHECK(count_of(out, "BEGIN:VTIMEZONE") == 1);
    CHECK(has_line(out, "TZID:W. Europe Standard Time"));
    CHECK(has_line(out, "TZOFFSETTO:+0200"));
    CHECK(has_line(out, "DTSTART;TZID=\"W. Europe Standard Time\":20240701T090000"));
    REQUIRE(losses.size() == 1);
    CHECK(losses[0].message.find("Mars/Olympus_Mons") != std::string::npos);
}

TEST_CASE("iCalendar: all-day event") {
    std::string in = lines({
        "BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", "UID:ad1", "DTSTART;VALUE=DATE:20240101",
        "DTEND;VALUE=DATE:20240103", "SUMMARY:New Year", "TRANSP:TRANSPARENT", "END:VEVENT", "END:VCALENDAR",
    });
    Calendar c = read_ok(in);
    const CalendarItem& e = c.items[0];
    CHECK(e.all_day());
    CHECK(e.start == date(2024, 1, 1));
    CHECK(e.end == date(2024, 1, 3));
    std::string out = write_icalendar(c, Profile{}, nullptr);
    CHECK(has_line(out, "DTSTART;VALUE=DATE:20240101"));
    CHECK(has_line(out, "DTEND;VALUE=DATE:20240103"));
    CHECK(out.find("VTIMEZONE") == std::string::npos);
}

TEST_CASE("iCalendar: weekly series with EXDATEs and a changed instance") {
    std::string in = lines({"BEGIN:VCALENDAR", "VERSION:2.0"}) + kBerlinZone +
                     lines({
                         "BEGIN:VEVENT",
                         "UID:series-1",
                         "DTSTART;TZID=Europe/Berlin:20240102T090000",
                         "DURATION:PT1H",
                         "RRULE:FREQ=WEEKLY;UNTIL=20240326T080000Z;BYDAY=TU,TH",
                         "EXDATE;TZID=Europe/Berlin:20240104T090000,20240111T090000",
                         "EXDATE;TZID=Europe/Berlin:20240118T090000",
                         "RDATE;VALUE=DATE:20240330",
                         "RDATE;VALUE=PERIOD:20240401T100000Z/PT1H",
                         "SUMMARY:Stand-up",
                         "END:VEVENT",
                         "BEGIN:VEVENT",
                         "UID:series-1",
                         "RECURRENCE-ID;TZID=Europe/Berlin:20240109T090000",
                         "DTSTART;TZID=Europe/Berlin:20240109T100000",
                         "DURATION:PT1H",
                         "SUMMARY:Stand-up (moved)",
                         "END:VEVENT",
                         "END:VCALENDAR",
                     });
    std::vector<Warning> warnings;
    Calendar c = read_ok(in, &warnings);
    CHECK(warnings.empty());
    REQUIRE(c.items.size() == 2);
    const CalendarItem& master = c.items[0];
    REQUIRE(master.recurrence);
    CHECK(master.recurrence->frequency == Recurrence::Frequency::weekly);
    CHECK(master.recurrence->by_day ==
          std::vector<Recurrence::WeekdayNum>{{0, 2}, {0, 4}});
    REQUIRE(master.recurrence->until);
    CHECK(*master.recurrence->until == utc(2024, 3, 26, 8, 0));
    CHECK(master.duration->seconds == 3600);
    CHECK(master.exception_dates == std::vector<DateTime>{zoned(2024, 1, 4, 9, 0, "Europe/Berlin"),
                                                           zoned(2024, 1, 11, 9, 0, "Europe/Berlin"),
                                                           zoned(2024, 1, 18, 9, 0, "Europe/Berlin")});
    CHECK(master.recurrence_dates == std::vector<DateTime>{date(2024, 3, 30)});
    REQUIRE(master.extra.size() == 1);  // the PERIOD has no field: kept whole
    CHECK(master.extra[0].name == "RDATE");
    CHECK(master.extra[0].value == "20240401T100000Z/PT1H");
    const CalendarItem& moved = c.items[1];
    CHECK(moved.uid == "series-1");
    REQUIRE(moved.recurrence_id);
    CHECK(*moved.recurrence_id == zoned(2024, 1, 9, 9, 0, "Europe/Berlin"));
    CHECK(moved.start == zoned(2024, 1, 9, 10, 0, "Europe/Berlin"));

    std::string out = write_icalendar(c, Profile{}, nullptr);
    INFO(out);
    CHECK(has_line(out, "EXDATE;TZID=Europe/Berlin:20240104T090000,20240111T090000,20240118T090000"));
    CHECK(has_line(out, "RDATE;VALUE=DATE:20240330"));
    CHECK(has_line(out, "RDATE;VALUE=PERIOD:20240401T100000Z/PT1H"));
    CHECK(has_line(out, "DURATION:PT1H"));
    CHECK(has_line(out, "RECURRENCE-ID;TZID=Europe/Berlin:20240109T090000"));
    CHECK(out.find("RRULE:FREQ=WEEKLY;") != std::string::npos);
    CHECK(out.find("UNTIL=20240326T080000Z") != std::string::npos);
    CHECK(out.find("BYDAY=TU,TH") != std::string::npos);
    CHECK(count_of(out, "BEGIN:VEVENT") == 2);
    CHECK(count_of(out, "BEGIN:VTIMEZONE") == 1);

    Calendar again = read_ok(out);
    REQUIRE(again.items.size() == 2);
    CHECK(again.items[0].recurrence->by_day == master.recurrence->by_day);
    CHECK(again.items[0].exception_dates == master.exception_dates);
    CHECK(*again.items[1].recurrence_id == *moved.recurrence_id);
}

TEST_CASE("iCalendar: task with DUE, COMPLETED and PERCENT-COMPLETE") {
    std::string in = lines({
        "BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VTODO", "UID:t1", "DTSTAMP:20240301T100000Z",
        "DUE;VALUE=DATE:20240315", "COMPLETED:20240314T163000Z", "PERCENT-COMPLETE:100", "STATUS:COMPLETED",
        "PRIORITY:1", "SUMMARY:File taxes", "END:VTODO", "END:VCALENDAR",
    });
    Calendar c = read_ok(in);
    const CalendarItem& t = c.items[0];
    CHECK(t.type == CalendarItem::Type::task);
    CHECK_FALSE(t.start.valid());
    CHECK(t.due == date(2024, 3, 15));
    CHECK(t.completed == utc(2024, 3, 14, 16, 30));
    CHECK(t.percent_complete == 100);
    CHECK(t.status == "COMPLETED");
    CHECK(t.priority == 1);
    std::string out = write_icalendar(c, Profile{}, nullptr);
    INFO(out);
    CHECK(has_line(out, "BEGIN:VTODO"));
    CHECK(has_line(out, "DUE;VALUE=DATE:20240315"));
    CHECK(has_line(out, "COMPLETED:20240314T163000Z"));
    CHECK(has_line(out, "PERCENT-COMPLETE:100"));
    CHECK(has_line(out, "STATUS:COMPLETED"));
    CHECK(has_line(out, "PRIORITY:1"));
    CHECK(out.find("DTSTART") == std::string::npos);
    CHECK(out.find("DTEND") == std::string::npos);
}

TEST_CASE("iCalendar: alarms relative to start and end, absolute, repeating") {
    std::string in = lines({
        "BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", "UID:a1", "DTSTART:20240115T090000Z",
        "DTEND:20240115T100000Z",
        "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "DESCRIPTION:Soon", "REPEAT:2", "DURATION:PT5M",
        "X-WR-ALARMUID:abc", "END:VALARM",
        "BEGIN:VALARM", "ACTION:AUDIO", "TRIGGER;RELATED=END:PT0S", "ATTACH;FMTTYPE=audio/basic:ftp://x/ding.au",
        "END:VALARM",
        "BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER;VALUE=DATE-TIME:20240114T180000Z", "SUMMARY:Tomorrow",
        "DESCRIPTION:Meeting tomorrow", "ATTENDEE:mailto:me@example.com", "END:VALARM",
        "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:soon", "END:VALARM",
        "END:VEVENT", "END:VCALENDAR",
    });
    std::vector<Warning> warnings;
    Calendar c = read_ok(in, &warnings);
    const CalendarItem& e = c.items[0];
    REQUIRE(e.alarms.size() == 3);
    REQUIRE(warnings.size() == 2);  // the unreadable TRIGGER, and its alarm dropped
    CHECK(warnings[0].line == 29);
    const Alarm& a = e.alarms[0];
    CHECK(a.action == "DISPLAY");
    REQUIRE(a.offset);
    CHECK(a.offset->seconds == -900);
    CHECK_FALSE(a.relative_to_end);
    CHECK(a.description == "Soon");
    CHECK(a.repeat == 2);
    CHECK(a.snooze.seconds == 300);
    REQUIRE(a.extra.size() == 1);
    CHECK(a.extra[0].name == "X-WR-ALARMUID");
    const Alarm& b = e.alarms[1];
    CHECK(b.action == "AUDIO");
    CHECK(b.relative_to_end);
    CHECK(b.offset->seconds == 0);
    CHECK(b.attachment == "ftp://x/ding.au");
    const Alarm& m = e.alarms[2];
    CHECK(m.action == "EMAIL");
    CHECK_FALSE(m.offset);
    REQUIRE(m.at);
    CHECK(*m.at == utc(2024, 1, 14, 18, 0));
    CHECK(m.extra.size() == 2);  // SUMMARY and ATTENDEE of the alarm

    std::string out = write_icalendar(c, Profile{}, nullptr);
    INFO(out);
    CHECK(count_of(out, "BEGIN:VALARM") == 3);
    CHECK(has_line(out, "TRIGGER:-PT15M"));
    CHECK(has_line(out, "REPEAT:2"));
    CHECK(has_line(out, "DURATION:PT5M"));
    CHECK(has_line(out, "TRIGGER;RELATED=END:PT0S"));
    CHECK(has_line(out, "ATTACH:ftp://x/ding.au"));
    CHECK(has_line(out, "TRIGGER;VALUE=DATE-TIME:20240114T180000Z"));
    CHECK(has_line(out, "ATTENDEE:mailto:me@example.com"));
    CHECK(has_line(out, "X-WR-ALARMUID:abc"));
}

TEST_CASE("iCalendar: organizer and attendees with their parameters") {
    std::string in = lines({
        "BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", "UID:m1", "DTSTART:20240115T090000Z",
        "ORGANIZER;CN=Boss:mailto:boss@example.com",
        "ATTENDEE;CN=\"Doe, Jane\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE;CUTYPE=INDIVIDUAL;",
        " DELEGATED-FROM=\"mailto:x@example.com\":mailto:jane@example.com",
        "ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:joe@example.com",
        "END:VEVENT", "END:VCALENDAR",
    });
    Calendar c = read_ok(in);
    const CalendarItem& e = c.items[0];
    REQUIRE(e.organizer);
    CHECK(e.organizer->address == "mailto:boss@example.com");
    CHECK(e.organizer->common_name == "Boss");
    REQUIRE(e.attendees.size() == 2);
    const Attendee& jane = e.attendees[0];
    CHECK(jane.address == "mailto:jane@example.com");
    CHECK(jane.common_name == "Doe, Jane");
    CHECK(jane.role == "REQ-PARTICIPANT");
    CHECK(jane.partstat == "ACCEPTED");
    CHECK(jane.rsvp);
    CHECK(jane.cutype == "INDIVIDUAL");
    REQUIRE(jane.other_params.size() == 1);
    CHECK(jane.other_params[0].name == "DELEGATED-FROM");
    CHECK(jane.other_params[0].values == std::vector<std::string>{"mailto:x@example.com"});
    CHECK(e.attendees[1].role == "OPT-PARTICIPANT");
    CHECK_FALSE(e.attendees[1].rsvp);

    std::string out = write_icalendar(c, Profile{}, nullptr);
    INFO(out);
    CHECK(has_line(out, "ORGANIZER;CN=Boss:mailto:boss@example.com"));
    CHECK(has_line(out, "ATTENDEE;CN=\"Doe, Jane\";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE;CUTYPE=INDIVIDUAL;"
                        "DELEGATED-FROM=\"mailto:x@example.com\":mailto:jane@example.com"));
    CHECK(has_line(out, "ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:joe@example.com"));
}

TEST_CASE("iCalendar: empty values, bad values and long lines") {
    std::string in = lines({
        "BEGIN:VCALENDAR", "VERSION:2.0", "BEGIN:VEVENT", "UID:b1", "DTSTART:2024013T100000Z", "DESCRIPTION:",
        "LOCATION:", "PRIORITY:high", "SUMMARY:ok", "END:VEVENT", "END:VCALENDAR",
    });
    std::vector<Warning> warnings;
    Calendar c = read_ok(in, &warnings);
    const CalendarItem& e = c.items[0];
    CHECK_FALSE(e.start.valid());
    CHECK(e.sent_empty == std::vector<std::string>{"DESCRIPTION", "LOCATION"});
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0].line == 5);
    CHECK(warnings[0].message.find("DTSTART") != std::string::npos);
    CHECK(warnings[1].line == 8);
    // What could not be read is kept and written again.
    REQUIRE(e.extra.size() == 2);
    CHECK(e.extra[0].name == "DTSTART");
    CHECK(e.extra[0].value == "2024013T100000Z");

    CalendarItem long_one;
    long_one.uid = "l1";
    long_one.summary = std::string(70, 'a') + "\n\xE2\x80\xA2tail, with comma";
    Calendar lc;
    lc.items.push_back(long_one);
    std::string out = write_icalendar(lc, Profile{}, nullptr);
    INFO(out);
    std::size_t start = 0;
    for (std::size_t end; (end = out.find("\r\n", start)) != std::string::npos; start = end + 2)
        CHECK(end - start <= 75);
    CHECK(has_line(out, "SUMMARY:" + std::string(70, 'a') + "\\n\xE2\x80\xA2tail\\, with comma"));
    CHECK(out.find("DTSTAMP") == std::string::npos);  // never invented
    CHECK(read_ok(out).items[0].summary == long_one.summary);
}

TEST_CASE("iCalendar: hostile input never crashes and says what it did") {
    std::vector<Warning> warnings;
    CHECK_FALSE(read_icalendar("", Profile{}, &warnings));
    CHECK_FALSE(warnings.empty());
    warnings.clear();
    CHECK_FALSE(read_icalendar("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", Profile{}, &warnings));
    warnings.clear();
    // Unclosed components, a stray END, no VCALENDAR: the event is still read.
    auto c = read_icalendar("END:VTODO\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nBEGIN:VALARM\r\nTRIGGER:-PT1M\r\n", Profile{},
                            &warnings);
    REQUIRE(c);
    CHECK(c->items[0].summary == "x");
    CHECK(c->items[0].alarms.size() == 1);
    CHECK(warnings.size() >= 3);
    for (const char* junk : {"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=:20240101T000000\r\nRRULE:FREQ=\r\n"
                             "DURATION:P99999999999999999999D\r\nEXDATE:,,,\r\nTRIGGER:\r\n",
                             "BEGIN:VEVENT\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n\r\n:::\r\n;;;\r\n",
                             "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nPERCENT-COMPLETE:-5\r\nSEQUENCE:99999999999999\r\n"}) {
        std::vector<Warning> w;
        auto r = read_icalendar(junk, Profile{}, &w);
        CHECK_FALSE(w.empty());
        if (r) CHECK_NOTHROW(write_icalendar(*r, Profile{}, nullptr));
    }
}
