// Past alarms (pim::drop_past_alarms): relative triggers from the start or
// the end, absolute ones, repetitions, zones, floating times and all-day
// items with and without the user's zone, series with occurrences still to
// come or all gone, tasks with DUE, vCalendar 1.0 AALARM/DALARM. Every case
// is read from calendar text, pruned at one fixed "now", and the alarms kept
// are named one by one by their DESCRIPTION.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "pim/recurrence.hpp"
#include "syncmlkit/pim.hpp"

using namespace smk::pim;

namespace {

// 2025-06-01T12:00:00Z
constexpr std::int64_t kNow = 1748779200;

std::string ical(const std::string& body) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//alarms//EN\r\n" + body + "END:VCALENDAR\r\n";
}

std::string alarm(const std::string& name, const std::string& trigger, const std::string& more = "") {
    return "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:" + name + "\r\nTRIGGER" + trigger + "\r\n" + more +
           "END:VALARM\r\n";
}

std::string event(const std::string& props, const std::string& alarms) {
    return "BEGIN:VEVENT\r\nUID:e@test\r\nSUMMARY:Event\r\n" + props + alarms + "END:VEVENT\r\n";
}

std::string todo(const std::string& props, const std::string& alarms) {
    return "BEGIN:VTODO\r\nUID:t@test\r\nSUMMARY:Task\r\n" + props + alarms + "END:VTODO\r\n";
}

Calendar read_calendar(const std::string& text, Format format = Format::ical20) {
    ReadResult r = read(text, format);
    REQUIRE(r.item);
    REQUIRE(std::holds_alternative<Calendar>(*r.item));
    return std::get<Calendar>(*r.item);
}

struct Pruned {
    AlarmCount count;
    std::vector<std::string> kept;  // DESCRIPTIONs of the alarms left, item by item
};

Pruned prune(const std::string& text, const std::string& zone = "", Format format = Format::ical20) {
    Calendar calendar = read_calendar(text, format);
    int before = 0;
    for (const CalendarItem& item : calendar.items) before += static_cast<int>(item.alarms.size());
    Pruned out;
    out.count = drop_past_alarms(calendar, kNow, zone);
    for (const CalendarItem& item : calendar.items)
        for (const Alarm& a : item.alarms) out.kept.push_back(a.description);
    CHECK(out.count.kept + out.count.dropped == before);
    CHECK(static_cast<int>(out.kept.size()) == out.count.kept);
    return out;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("alarms of a single event: relative to the start or the end, absolute, repeated") {
    Pruned p = prune(ical(event("DTSTART:20250601T100000Z\r\nDTEND:20250601T130000Z\r\n",
                                alarm("start-15m", ":-PT15M") +                      // 09:45: past
                                    alarm("start+3h", ":PT3H") +                     // 13:00: to come
                                    alarm("end-30m", ";RELATED=END:-PT30M") +        // 12:30: to come
                                    alarm("end-3h", ";RELATED=END:-PT3H") +          // 10:00: past
                                    alarm("at-may", ";VALUE=DATE-TIME:20250501T080000Z") +  // past
                                    alarm("at-13h", ";VALUE=DATE-TIME:20250601T130000Z") +  // to come
                                    alarm("repeat-to-12h", ":-PT60M", "REPEAT:6\r\nDURATION:PT30M\r\n") +  // 09:00..12:00 (now: kept)
                                    alarm("repeat-to-11h", ":-PT60M", "REPEAT:4\r\nDURATION:PT30M\r\n")))); // 09:00..11:00
    CHECK(p.count.dropped == 4);
    CHECK(p.kept == Names{"start+3h", "end-30m", "at-13h", "repeat-to-12h"});
}

TEST_CASE("an event still to come loses an alarm set days before it") {
    Pruned p = prune(ical(event("DTSTART:20250602T090000Z\r\nDTEND:20250602T100000Z\r\n",
                                alarm("day-before", ":-P1D") + alarm("hour-before", ":-PT1H"))));
    CHECK(p.count.dropped == 1);
    CHECK(p.kept == Names{"hour-before"});
}

TEST_CASE("zoned times go through their zone") {
    // 09:00 in New York is 13:00Z; 20:30 in Tokyo is 11:30Z.
    Pruned p = prune(ical(event("DTSTART;TZID=America/New_York:20250601T090000\r\n",
                                alarm("ny-30m", ":-PT30M") + alarm("ny-2h", ":-PT2H")) +
                          event("DTSTART;TZID=Asia/Tokyo:20250601T203000\r\n", alarm("tokyo-0", ":PT0S"))));
    CHECK(p.count.dropped == 2);
    CHECK(p.kept == Names{"ny-30m"});
}

TEST_CASE("a zone nobody knows: past only when past in every zone") {
    Pruned p = prune(ical(event("DTSTART;TZID=Mars/Olympus:20250601T120000\r\n", alarm("mars-today", ":PT0S")) +
                          event("DTSTART;TZID=Mars/Olympus:20250530T120000\r\n", alarm("mars-last-week", ":PT0S"))));
    CHECK(p.count.dropped == 1);
    CHECK(p.kept == Names{"mars-today"});
}

TEST_CASE("floating times are read in the user's zone, or past only when past everywhere") {
    std::string text = ical(event("DTSTART:20250601T130000\r\n", alarm("floating-12:30", ":-PT30M")) +
                            event("DTSTART:20250530T130000\r\n", alarm("floating-2-days-ago", ":-PT30M")));
    // Berlin is UTC+2 in June: 12:30 there is 10:30Z.
    Pruned berlin = prune(text, "Europe/Berlin");
    CHECK(berlin.count.dropped == 2);
    CHECK(berlin.kept.empty());
    // New York is UTC-4: 12:30 there is 16:30Z.
    Pruned new_york = prune(text, "America/New_York");
    CHECK(new_york.count.dropped == 1);
    CHECK(new_york.kept == Names{"floating-12:30"});
    // No zone: 12:30 somewhere may still be to come; two days ago is gone everywhere.
    Pruned nowhere = prune(text);
    CHECK(nowhere.count.dropped == 1);
    CHECK(nowhere.kept == Names{"floating-12:30"});
    // A zone name nobody knows counts as none.
    CHECK(prune(text, "Nowhere/Atlantis").kept == Names{"floating-12:30"});
}

TEST_CASE("all-day events count from their midnight") {
    std::string text =
        ical(event("DTSTART;VALUE=DATE:20250601\r\nDTEND;VALUE=DATE:20250602\r\n",
                   alarm("today-15m", ":-PT15M") + alarm("today-end-1h", ";RELATED=END:-PT1H")) +
             event("DTSTART;VALUE=DATE:20250602\r\n", alarm("tomorrow-15m", ":-PT15M") + alarm("tomorrow-2d", ":-P2D")) +
             event("DTSTART;VALUE=DATE:20250601\r\n", alarm("no-end-related", ";RELATED=END:-PT1H")));
    // Berlin: today's midnight was 31 May 22:00Z; tomorrow's is 1 June 22:00Z;
    // an all-day event without DTEND ends a day after it starts.
    Pruned berlin = prune(text, "Europe/Berlin");
    CHECK(berlin.count.dropped == 2);
    CHECK(berlin.kept == Names{"today-end-1h", "tomorrow-15m", "no-end-related"});
    // Without a zone, 23:45 yesterday may be 13:45Z today (UTC-12), still
    // to come; midnight the day before yesterday is gone everywhere.
    Pruned nowhere = prune(text);
    CHECK(nowhere.count.dropped == 1);
    CHECK(nowhere.kept == Names{"today-15m", "today-end-1h", "tomorrow-15m", "no-end-related"});
    // A date well past is past without a zone.
    Pruned old = prune(ical(event("DTSTART;VALUE=DATE:20250520\r\n", alarm("last-month", ":-PT15M"))));
    CHECK(old.count.dropped == 1);
}

TEST_CASE("a series keeps an alarm while an occurrence is still to come") {
    std::string text = ical(
        // Weekly since 2020, endless: next Monday's alarm is to come.
        event("DTSTART:20200106T090000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\n", alarm("weekly-endless", ":-PT15M")) +
        // Five occurrences in January 2020.
        event("DTSTART:20200106T090000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\n", alarm("daily-count-2020", ":-PT15M")) +
        // Daily in May only.
        event("DTSTART:20250501T090000Z\r\nRRULE:FREQ=DAILY;UNTIL=20250531T235959Z\r\n", alarm("daily-until-may", ":-PT15M")) +
        // Daily until 10 June.
        event("DTSTART:20250501T090000Z\r\nRRULE:FREQ=DAILY;UNTIL=20250610T090000Z\r\n", alarm("daily-until-june", ":-PT15M")) +
        // 30 May to 2 June at 09:00Z; the 2 June one is excluded in the second copy.
        event("DTSTART:20250530T090000Z\r\nRRULE:FREQ=DAILY;COUNT=4\r\n", alarm("count-4", ":-PT15M")) +
        event("DTSTART:20250530T090000Z\r\nRRULE:FREQ=DAILY;COUNT=4\r\nEXDATE:20250602T090000Z\r\n",
              alarm("count-4-last-excluded", ":-PT15M")) +
        // 10:00-13:00Z on 30 May .. 1 June: the last end is to come, its start is not.
        event("DTSTART:20250530T100000Z\r\nDTEND:20250530T130000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n",
              alarm("series-end", ";RELATED=END:PT0S") + alarm("series-start", ":PT0S")) +
        // A past event with one extra date in July.
        event("DTSTART:20200101T090000Z\r\nRDATE:20250701T090000Z\r\n", alarm("rdate-july", ":-PT15M")) +
        event("DTSTART:20200101T090000Z\r\nRDATE:20210701T090000Z\r\n", alarm("rdate-2021", ":-PT15M")) +
        // An absolute trigger does not move with the occurrences.
        event("DTSTART:20200106T090000Z\r\nRRULE:FREQ=WEEKLY\r\n", alarm("series-absolute", ";VALUE=DATE-TIME:20200106T080000Z")));
    Pruned p = prune(text);
    CHECK(p.count.dropped == 6);
    CHECK(p.kept == Names{"weekly-endless", "daily-until-june", "count-4", "series-end", "rdate-july"});
}

TEST_CASE("a zoned series with a UTC UNTIL, and all-day yearly series") {
    // 09:00 in Berlin daily until 1 June 07:00Z (09:00 Berlin): the last alarm was 06:45Z.
    Pruned zoned = prune(ical(event("DTSTART;TZID=Europe/Berlin:20250501T090000\r\n"
                                    "RRULE:FREQ=DAILY;UNTIL=20250601T070000Z\r\n",
                                    alarm("berlin-until", ":-PT15M")) +
                              event("DTSTART;TZID=Europe/Berlin:20250501T090000\r\n"
                                    "RRULE:FREQ=DAILY;UNTIL=20250602T070000Z\r\n",
                                    alarm("berlin-until-tomorrow", ":-PT15M"))));
    CHECK(zoned.count.dropped == 1);
    CHECK(zoned.kept == Names{"berlin-until-tomorrow"});
    // A birthday on 2 June since 2000: this year's alarm (1 June, midnight)
    // is gone in Berlin but next year's is to come; one on 1 March ended in 2024.
    Pruned yearly = prune(ical(event("DTSTART;VALUE=DATE:20000602\r\nRRULE:FREQ=YEARLY\r\n", alarm("birthday", ":-P1D")) +
                               event("DTSTART;VALUE=DATE:20000301\r\nRRULE:FREQ=YEARLY;UNTIL=20240301\r\n",
                                     alarm("ended-2024", ":-P1D"))),
                          "Europe/Berlin");
    CHECK(yearly.count.dropped == 1);
    CHECK(yearly.kept == Names{"birthday"});
}

// The walk stops after a bounded number of periods (kMostPeriods in
// lib/pim/alarms.cpp), whatever the rule; were it unbounded, this test would
// run for hours and ctest's timeout would fail it. No wall-clock check: a
// loaded machine must not fail a test.
TEST_CASE("a series that cannot be walked to the present keeps its alarm") {
    Pruned p = prune(ical(event("DTSTART:19900101T000000Z\r\nRRULE:FREQ=SECONDLY\r\n", alarm("every-second", ":-PT1S")) +
                          event("DTSTART:19900101T000000Z\r\nRRULE:FREQ=MINUTELY;COUNT=2000000000\r\n",
                                alarm("every-minute", ":-PT1S"))));
    CHECK(p.count.dropped == 0);
    CHECK(p.kept == Names{"every-second", "every-minute"});
}

TEST_CASE("tasks: alarms relative to DUE or to the start") {
    Pruned p = prune(ical(todo("DUE:20250520T170000Z\r\n", alarm("due-may", ";RELATED=END:-PT1H")) +
                          todo("DUE:20250610T170000Z\r\n", alarm("due-june", ";RELATED=END:-PT1H")) +
                          // No start: a relative trigger counts from DUE either way.
                          todo("DUE:20250610T170000Z\r\n", alarm("due-june-start", ":-PT1H")) +
                          todo("DTSTART:20250501T090000Z\r\nDUE:20250610T170000Z\r\n",
                               alarm("started-may", ":PT0S") + alarm("due-of-started", ";RELATED=END:PT0S")) +
                          todo("DUE;VALUE=DATE:20250601\r\n", alarm("due-today-all-day", ";RELATED=END:PT0S")) +
                          // Nothing to count from: kept.
                          todo("", alarm("no-times", ":-PT1H")) +
                          todo("RRULE:FREQ=WEEKLY;COUNT=3\r\nDTSTART:20250505T090000Z\r\nDUE:20250505T170000Z\r\n",
                               alarm("weekly-task-may", ";RELATED=END:PT0S"))),
                     "Europe/Berlin");
    CHECK(p.count.dropped == 4);
    CHECK(p.kept == Names{"due-june", "due-june-start", "due-of-started", "no-times"});
}

TEST_CASE("vCalendar 1.0 AALARM and DALARM, and what is written after pruning") {
    std::string vcal =
        "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nSUMMARY:Phone event\r\n"
        "DTSTART:20250601T130000Z\r\nDTEND:20250601T140000Z\r\n"
        "DALARM:20250601T113000Z;;;past-dalarm\r\n"
        "DALARM:20250601T123000Z;;;future-dalarm\r\n"
        "AALARM:20250601T110000Z;PT10M;3;\r\n"  // 11:00..11:30: past
        "AALARM:20250601T110000Z;PT30M;3;\r\n"  // 11:00..12:30: to come
        "END:VEVENT\r\nBEGIN:VTODO\r\nSUMMARY:Phone task\r\nDUE:20250531T170000Z\r\n"
        "AALARM:20250531T160000Z;;;\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
    Calendar calendar = read_calendar(vcal, Format::vcal10);
    REQUIRE(calendar.items.size() == 2);
    REQUIRE(calendar.items[0].alarms.size() == 4);
    REQUIRE(calendar.items[1].alarms.size() == 1);
    AlarmCount count = drop_past_alarms(calendar, kNow);
    CHECK(count.dropped == 3);
    CHECK(count.kept == 2);
    REQUIRE(calendar.items[0].alarms.size() == 2);
    CHECK(calendar.items[0].alarms[0].description == "future-dalarm");
    CHECK(calendar.items[0].alarms[1].action == "AUDIO");
    CHECK(calendar.items[0].alarms[1].snooze.seconds == 1800);
    CHECK(calendar.items[1].alarms.empty());
    std::string written = write(calendar, Format::vcal10);
    CHECK(written.find("DALARM:20250601T123000Z;;;future-dalarm\r\n") != std::string::npos);
    CHECK(written.find("AALARM:20250601T110000Z;PT30M;3;\r\n") != std::string::npos);
    CHECK(written.find("past-dalarm") == std::string::npos);
    CHECK(written.find("PT10M") == std::string::npos);
    CHECK(written.find("20250531T160000Z") == std::string::npos);
}

TEST_CASE("nothing past, nothing dropped; an empty calendar is left alone") {
    Calendar empty;
    AlarmCount none = drop_past_alarms(empty, kNow);
    CHECK(none.kept == 0);
    CHECK(none.dropped == 0);
    Pruned p = prune(ical(event("DTSTART:20300101T090000Z\r\n", alarm("2030", ":-PT15M") + alarm("2030-at", ";VALUE=DATE-TIME:20291231T090000Z"))));
    CHECK(p.count.dropped == 0);
    CHECK(p.kept == Names{"2030", "2030-at"});
}

TEST_CASE("visit_from walks past the occurrences before a time and honours COUNT") {
    DateTime start;
    start.year = 2025, start.month = 5, start.day = 30, start.hour = 9;
    start.kind = DateTime::Kind::utc;
    DateTime from = start;
    from.day = 31, from.hour = 12;
    Recurrence daily;
    daily.count = 4;
    std::vector<int> days;
    bool walked = recurrence::visit_from(daily, start, from, 1000, [&](const DateTime& o) {
        days.push_back(o.day);
        return true;
    });
    CHECK(walked);
    CHECK(days == std::vector<int>{1, 2});
    Recurrence secondly;
    secondly.frequency = Recurrence::Frequency::secondly;
    from.year = 2026;
    CHECK_FALSE(recurrence::visit_from(secondly, start, from, 1000, [](const DateTime&) { return true; }));
}
