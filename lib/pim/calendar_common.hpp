// What the iCalendar 2.0 and vCalendar 1.0 modules share: date-time and
// duration text, plain calendar arithmetic on wall-clock times, the
// conversions between a zone's local time and UTC that tolerate unknown
// zones, and the mapping of the enumerations that the two formats spell
// differently (STATUS, PRIORITY, TRANSP, attendee roles and states).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pim/content_line.hpp"
#include "syncmlkit/pim.hpp"

namespace smk::pim::cal {

// ------------------------------------------------------------- structure --

/// BEGIN:X ... END:X as a tree: a component's own properties in order, and
/// its sub-components.
struct Component {
    std::string name;  ///< upper case
    int line = 0;      ///< where BEGIN was
    std::vector<ContentLine> properties;
    std::vector<Component> children;
};

/// The components of a lexed text. An END that closes nothing, or closes a
/// component that is not the innermost open one, and a component left open
/// at the end are reported; the tree is closed as well as it can be.
/// Properties outside every component are reported and dropped.
std::vector<Component> build_components(const std::vector<ContentLine>& lines, std::vector<Warning>* warnings);

// ------------------------------------------------------------- date text --

/// "20240101T100000Z" (utc), "20240101T100000" (floating), "20240101"
/// (date). The extended forms "2024-01-01T10:00:00Z" are read too, since
/// some phones send them. nullopt for anything else, including impossible
/// dates ("20240230") and times ("T250000").
std::optional<DateTime> parse_date_time(std::string_view text);

/// The basic form: "20240101" for a date, "20240101T100000Z" for UTC and
/// "20240101T100000" for floating and zoned times (the zone goes in TZID).
std::string format_date_time(const DateTime& value);

/// RFC 5545 DURATION: "PT15M", "-P1DT2H", "P2W", "+PT0S". nullopt when not
/// a duration.
std::optional<Duration> parse_duration(std::string_view text);
/// "-PT15M", "P1DT2H", "P2W" (weeks only when exact), "PT0S" for zero.
std::string format_duration(const Duration& value);

// ------------------------------------------------------------- arithmetic --

/// Seconds since 1970-01-01 00:00:00 of the wall-clock time, as if it were
/// UTC (a date counts as its midnight). Only differences of two values read
/// in the same frame mean anything.
std::int64_t wall_seconds(const DateTime& value);
/// The wall-clock time `seconds` after 1970 in `kind` (date: the day only).
DateTime from_wall_seconds(std::int64_t seconds, DateTime::Kind kind, std::string_view tzid = {});
/// `value` moved by `seconds` on its own wall clock, keeping kind and zone.
DateTime add_seconds(const DateTime& value, std::int64_t seconds);
DateTime add_days(const DateTime& value, int days);
/// The same day as a Kind::date.
DateTime date_of(const DateTime& value);
/// Midnight of a date, as a floating time.
DateTime midnight_of(const DateTime& date);
/// Earlier, equal, later: -1, 0, 1, on the wall clock (kinds ignored).
int compare_wall(const DateTime& a, const DateTime& b);

/// The current year in UTC.
int current_year();

/// The last year a series starting at `start` touches: its UNTIL's or last
/// COUNTed occurrence's year, or for an endless rule the current year + 5;
/// never before the start's year, and at most 50 years after it.
int series_last_year(const Recurrence& rule, const DateTime& start);

// ------------------------------------------------------------------ zones --

/// The IANA zone to compute with for a tzid as written (an IANA name, an
/// alias or a Windows name); empty when ICU does not know it.
std::string computable_zone(std::string_view tzid);

/// `value` in UTC: UTC stays; a zoned time goes through its zone; a
/// floating time (or a date's midnight) through `fallback_zone` when given.
/// nullopt when the zone needed is unknown or missing.
std::optional<DateTime> to_utc(const DateTime& value, std::string_view fallback_zone);

// ------------------------------------------------------------ enumerations --

/// vCalendar 1.0 STATUS of an item -> the model's (iCalendar) STATUS.
/// "NEEDS ACTION" -> NEEDS-ACTION; ACCEPTED -> CONFIRMED for an event,
/// IN-PROCESS for a task; DECLINED -> CANCELLED; SENT and DELEGATED (which
/// iCalendar only has for attendees) -> TENTATIVE / NEEDS-ACTION; the rest
/// as written in upper case.
std::string status_from_vcal(std::string_view vcal, CalendarItem::Type type);
/// And back: NEEDS-ACTION -> "NEEDS ACTION", IN-PROCESS -> ACCEPTED,
/// CANCELLED -> DECLINED, the rest unchanged.
std::string status_to_vcal(std::string_view ical);

/// An attendee's vCalendar STATUS <-> iCalendar PARTSTAT ("NEEDS ACTION"
/// <-> NEEDS-ACTION, CONFIRMED -> ACCEPTED, SENT -> NEEDS-ACTION,
/// IN-PROCESS -> ACCEPTED; the shared words as they are).
std::string partstat_from_vcal(std::string_view vcal);
std::string partstat_to_vcal(std::string_view ical);

/// vCalendar PRIORITY -> iCalendar 1..9. Phones use 1 high, 2 normal, 3 low,
/// which are iCalendar's 1, 5 and 9 (RFC 5545 3.8.1.9 groups 1-4 as high,
/// 5 as medium, 6-9 as low). 0 stays undefined; 4..9 are taken as
/// iCalendar values already.
int priority_from_vcal(int vcal);
/// And back: 1-4 -> 1, 5 -> 2, 6-9 -> 3, 0 -> 0.
int priority_to_vcal(int ical);

/// vCalendar TRANSP: 0 -> OPAQUE, 1 (and the implementation-specific
/// higher numbers) -> TRANSPARENT; the words are accepted as well. Empty
/// when it is neither.
std::string transparency_from_vcal(std::string_view vcal);
std::string transparency_to_vcal(std::string_view ical);

/// The vCalendar attendee EXPECT <-> iCalendar ROLE: REQUIRE and IMMEDIATE
/// -> REQ-PARTICIPANT, REQUEST -> OPT-PARTICIPANT, FYI -> NON-PARTICIPANT.
std::string role_from_vcal_expect(std::string_view expect);
std::string role_to_vcal_expect(std::string_view role);

// ------------------------------------------------------------------ misc --

/// The iCalendar name of a vCalendar property that carries the same thing
/// under another name (DCREATED -> CREATED), for sent_empty and warnings.
std::string ical_name_of(std::string_view vcal_name);

/// Adds `name` to a sent_empty list unless it is there.
void note_sent_empty(std::vector<std::string>& sent_empty, std::string_view name);

/// A whole number, optionally signed; nullopt when `text` is not one or does
/// not fit an int.
std::optional<int> parse_int(std::string_view text);

}  // namespace smk::pim::cal
