// libical as an independent reader of what our calendar writers emit: its
// iCalendar parser must find the summary, the start (in the zone our
// VTIMEZONE defines), the rule and the alarms we meant, without an
// X-LIC-ERROR; its vCalendar import (libicalvcal) must read our vCalendar
// where it is known to be right. libical is no dependency of the library.
#include <catch2/catch.hpp>

#include <libical/ical.h>
#include <libical/vcc.h>
extern "C" {
#include <libical/icalvcal.h>  // declares C functions without extern "C" itself
}

#include <memory>

#include "pim/formats.hpp"
#include "pim/recurrence.hpp"

using namespace smk::pim;

namespace {

struct ComponentFree {
    void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using Component = std::unique_ptr<icalcomponent, ComponentFree>;

struct VObjectFree {
    void operator()(VObject* o) const { cleanVObject(o); }
};

Component parse_ical(const std::string& text) { return Component(icalparser_parse_string(text.c_str())); }

Component import_vcal(const std::string& text) {
    std::unique_ptr<VObject, VObjectFree> object(Parse_MIME(text.c_str(), text.size()));
    if (!object) return nullptr;
    return Component(icalvcal_convert(object.get()));
}

DateTime make(int y, int mo, int d, int h, int mi, DateTime::Kind kind, const char* tzid = "") {
    DateTime v;
    v.year = y, v.month = mo, v.day = d, v.hour = h, v.minute = mi;
    v.kind = kind;
    v.tzid = tzid;
    return v;
}

// A weekly Tuesday meeting in Berlin with a reminder 15 minutes before, a
// one-off summer meeting in a zone named the Windows way, and a task.
Calendar sample() {
    Calendar c;
    CalendarItem weekly;
    weekly.uid = "oracle-weekly";
    weekly.summary = "Weekly, with a comma; and a semicolon";
    weekly.start = make(2024, 1, 2, 10, 0, DateTime::Kind::zoned, "Europe/Berlin");
    weekly.end = make(2024, 1, 2, 11, 0, DateTime::Kind::zoned, "Europe/Berlin");
    weekly.stamp = make(2024, 1, 1, 0, 0, DateTime::Kind::utc);
    Recurrence rule;
    rule.frequency = Recurrence::Frequency::weekly;
    rule.by_day = {{0, 2}};
    rule.count = 10;
    weekly.recurrence = rule;
    Alarm before;
    before.offset = Duration{-900};
    before.description = "Weekly";
    weekly.alarms.push_back(before);
    Alarm at;
    at.action = "AUDIO";
    at.at = make(2024, 1, 1, 18, 0, DateTime::Kind::utc);
    at.attachment = "file:///ding.wav";
    weekly.alarms.push_back(at);
    c.items.push_back(weekly);
    return c;
}

Calendar windows_zone_event() {
    Calendar c;
    CalendarItem summer;
    summer.uid = "oracle-summer";
    summer.summary = "Summer";
    summer.start = make(2024, 7, 1, 9, 30, DateTime::Kind::zoned, "W. Europe Standard Time");
    summer.end = make(2024, 7, 1, 10, 0, DateTime::Kind::zoned, "W. Europe Standard Time");
    summer.stamp = make(2024, 1, 1, 0, 0, DateTime::Kind::utc);
    c.items.push_back(summer);
    return c;
}

icaltimetype in_utc(icaltimetype t) { return icaltime_convert_to_zone(t, icaltimezone_get_utc_timezone()); }

}  // namespace

TEST_CASE("libical reads our iCalendar: summary, zoned start, rule, alarms") {
    std::string text = detail::write_icalendar(sample(), Profile{}, nullptr);
    INFO(text);
    Component root = parse_ical(text);
    REQUIRE(root);
    CHECK(icalcomponent_count_errors(root.get()) == 0);
    icalcomponent* event = icalcomponent_get_first_component(root.get(), ICAL_VEVENT_COMPONENT);
    REQUIRE(event);
    CHECK(std::string(icalcomponent_get_summary(event)) == "Weekly, with a comma; and a semicolon");

    icaltimetype start = icalcomponent_get_dtstart(event);
    REQUIRE(icaltime_get_tzid(start));
    CHECK(std::string(icaltime_get_tzid(start)) == "Europe/Berlin");
    CHECK(start.hour == 10);
    // Through our (ICU-made) VTIMEZONE: 10:00 in Berlin in January is 09:00 UTC.
    icaltimetype start_utc = in_utc(start);
    CHECK(start_utc.hour == 9);
    CHECK(start_utc.day == 2);

    icalproperty* rrule = icalcomponent_get_first_property(event, ICAL_RRULE_PROPERTY);
    REQUIRE(rrule);
    icalrecurrencetype recur = icalproperty_get_rrule(rrule);
    CHECK(recur.freq == ICAL_WEEKLY_RECURRENCE);
    CHECK(recur.count == 10);
    CHECK(icalrecurrencetype_day_day_of_week(recur.by_day[0]) == ICAL_TUESDAY_WEEKDAY);
    CHECK(recur.by_day[1] == ICAL_RECURRENCE_ARRAY_MAX);
    // Both expanders agree on the occurrences.
    std::vector<DateTime> ours = recurrence::expand(*sample().items[0].recurrence, sample().items[0].start, 100, 2030);
    icalrecur_iterator* it = icalrecur_iterator_new(recur, start);
    REQUIRE(it);
    std::size_t n = 0;
    for (icaltimetype t = icalrecur_iterator_next(it); !icaltime_is_null_time(t); t = icalrecur_iterator_next(it), ++n) {
        REQUIRE(n < ours.size());
        CHECK(t.month == ours[n].month);
        CHECK(t.day == ours[n].day);
        CHECK(t.hour == ours[n].hour);
    }
    icalrecur_iterator_free(it);
    CHECK(n == 10);
    CHECK(ours.size() == 10);

    icalcomponent* alarm = icalcomponent_get_first_component(event, ICAL_VALARM_COMPONENT);
    REQUIRE(alarm);
    CHECK(icalproperty_get_action(icalcomponent_get_first_property(alarm, ICAL_ACTION_PROPERTY)) == ICAL_ACTION_DISPLAY);
    icaltriggertype relative = icalproperty_get_trigger(icalcomponent_get_first_property(alarm, ICAL_TRIGGER_PROPERTY));
    CHECK(icaldurationtype_as_int(relative.duration) == -900);
    alarm = icalcomponent_get_next_component(event, ICAL_VALARM_COMPONENT);
    REQUIRE(alarm);
    CHECK(icalproperty_get_action(icalcomponent_get_first_property(alarm, ICAL_ACTION_PROPERTY)) == ICAL_ACTION_AUDIO);
    icaltriggertype absolute = icalproperty_get_trigger(icalcomponent_get_first_property(alarm, ICAL_TRIGGER_PROPERTY));
    CHECK(icaltime_is_utc(absolute.time));
    CHECK(absolute.time.day == 1);
    CHECK(absolute.time.hour == 18);
}

TEST_CASE("libical reads our generated VTIMEZONE for a Windows zone name") {
    std::string text = detail::write_icalendar(windows_zone_event(), Profile{}, nullptr);
    INFO(text);
    Component root = parse_ical(text);
    REQUIRE(root);
    CHECK(icalcomponent_count_errors(root.get()) == 0);
    icalcomponent* event = icalcomponent_get_first_component(root.get(), ICAL_VEVENT_COMPONENT);
    REQUIRE(event);
    icaltimetype start = icalcomponent_get_dtstart(event);
    REQUIRE(icaltime_get_tzid(start));
    CHECK(std::string(icaltime_get_tzid(start)) == "W. Europe Standard Time");
    // Summer time: 09:30 local is 07:30 UTC.
    icaltimetype start_utc = in_utc(start);
    CHECK(start_utc.hour == 7);
    CHECK(start_utc.minute == 30);
}

TEST_CASE("libical imports our vCalendar where its import is known to be right") {
    Profile utc_client;
    utc_client.times_in_utc = true;
    std::string text = detail::write_vcalendar(sample(), utc_client, nullptr);
    INFO(text);
    Component root = import_vcal(text);
    REQUIRE(root);
    icalcomponent* event = icalcomponent_get_first_component(root.get(), ICAL_VEVENT_COMPONENT);
    REQUIRE(event);
    // We write "\; " (vCalendar 1.0 escapes ';'); libical's reader splits
    // the value there and drops the blank after it, escaped or not.
    CHECK(std::string(icalcomponent_get_summary(event)) == "Weekly, with a comma;and a semicolon");
    icaltimetype start = icalcomponent_get_dtstart(event);
    CHECK(icaltime_is_utc(start));
    CHECK(start.hour == 9);
    CHECK(start.day == 2);

    // We write the COUNT as the date of the last occurrence (never an
    // ambiguous "#10"): libical gives it back as UNTIL, 10 weeks on.
    icalproperty* rrule = icalcomponent_get_first_property(event, ICAL_RRULE_PROPERTY);
    REQUIRE(rrule);
    icalrecurrencetype recur = icalproperty_get_rrule(rrule);
    CHECK(recur.freq == ICAL_WEEKLY_RECURRENCE);
    CHECK(icalrecurrencetype_day_day_of_week(recur.by_day[0]) == ICAL_TUESDAY_WEEKDAY);
    CHECK(recur.until.year == 2024);
    CHECK(recur.until.month == 3);
    CHECK(recur.until.day == 5);

    // DALARM 15 minutes before 09:00Z, and the AALARM at its absolute time.
    int display = 0, audio = 0;
    for (icalcomponent* a = icalcomponent_get_first_component(event, ICAL_VALARM_COMPONENT); a;
         a = icalcomponent_get_next_component(event, ICAL_VALARM_COMPONENT)) {
        icalproperty_action action = icalproperty_get_action(icalcomponent_get_first_property(a, ICAL_ACTION_PROPERTY));
        icaltriggertype trigger = icalproperty_get_trigger(icalcomponent_get_first_property(a, ICAL_TRIGGER_PROPERTY));
        if (action == ICAL_ACTION_DISPLAY) {
            ++display;
            CHECK(trigger.time.hour == 8);
            CHECK(trigger.time.minute == 45);
        } else if (action == ICAL_ACTION_AUDIO) {
            ++audio;
            CHECK(trigger.time.day == 1);
            CHECK(trigger.time.hour == 18);
        }
    }
    CHECK(display == 1);
    CHECK(audio == 1);
}

TEST_CASE("libical's vCalendar import ignores TZ/DAYLIGHT (a known libical limit, guide 2b)") {
    std::string text = detail::write_vcalendar(sample(), Profile{}, nullptr);
    INFO(text);
    REQUIRE(text.find("TZ:+01:00\r\n") != std::string::npos);
    Component root = import_vcal(text);
    REQUIRE(root);
    icalcomponent* event = icalcomponent_get_first_component(root.get(), ICAL_VEVENT_COMPONENT);
    REQUIRE(event);
    icaltimetype start = icalcomponent_get_dtstart(event);
    // Our local 10:00 comes through as a floating 10:00: libical drops the
    // zone our TZ/DAYLIGHT lines give (we read them as Europe/Berlin).
    CHECK(start.hour == 10);
    CHECK_FALSE(icaltime_is_utc(start));
    CHECK(icaltime_get_tzid(start) == nullptr);
}
