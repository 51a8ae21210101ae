// Time zones through ICU: IANA and Windows zone names, UTC offsets, VTIMEZONE
// for an IANA zone, and vCalendar 1.0's TZ + DAYLIGHT lines in both
// directions (a DAYLIGHT line covers one daylight-saving period of one year,
// so writing needs the years an item touches, and reading matches the lines
// against the IANA zones).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "syncmlkit/pim.hpp"

namespace smk::pim::tz {

/// The canonical IANA name for an IANA name, alias or Windows zone name
/// ("W. Europe Standard Time" -> "Europe/Berlin"); empty when unknown.
std::string canonical_zone(std::string_view name);

/// The UTC time of a floating or zoned local time in `tzid` (for a zoned
/// time `tzid` may be empty: the time's own is used). A UTC time comes back
/// unchanged; a date stays a date.
DateTime to_utc(const DateTime& local, std::string_view tzid = {});

/// The local time in `tzid` (Kind::zoned with that tzid) of a UTC time.
DateTime from_utc(const DateTime& utc, std::string_view tzid);

/// Offset from UTC in seconds of `tzid` at the UTC instant `utc`.
int utc_offset(std::string_view tzid, const DateTime& utc);

/// A VTIMEZONE for an IANA zone covering `first_year` .. `last_year`
/// (RRULE-based observances where the zone's rules allow), CRLF lines;
/// empty when the zone is unknown.
std::string vtimezone(std::string_view tzid, int first_year, int last_year);

/// One vCalendar DAYLIGHT period.
struct DaylightPeriod {
    int offset = 0;  ///< seconds from UTC during daylight saving time
    DateTime begin;  ///< when daylight saving time starts (UTC)
    DateTime end;    ///< when it ends (UTC)
    std::string standard_name, daylight_name;
};

/// vCalendar 1.0 TZ and DAYLIGHT of a zone for some years.
struct VcalZone {
    int standard_offset = 0;              ///< TZ, in seconds
    std::vector<DaylightPeriod> daylight; ///< one per year that has one
};

/// The TZ offset and the DAYLIGHT periods of `tzid` for `first_year` ..
/// `last_year`; nullopt when the zone is unknown. A period belongs to the
/// year it begins in (Sydney's October 2024 - April 2025 is 2024's); the
/// period in force on 1 January of `first_year` is included too, so that
/// every instant of those years is covered.
std::optional<VcalZone> vcal_zone(std::string_view tzid, int first_year, int last_year);

/// The IANA zone whose standard offset and daylight periods match these
/// vCalendar lines (preferring `preferred`, the user's zone, when it
/// fits); empty when none does, and the caller then keeps a fixed-offset
/// zone of its own.
std::string match_vcal_zone(const VcalZone& zone, std::string_view preferred = {});

/// "+01:00", "-0500", "+01" -> seconds; nullopt when not an offset.
std::optional<int> parse_offset(std::string_view text);
/// Seconds -> "+01:00" (vCalendar TZ form) or "+0100" (iCalendar form).
std::string format_offset(int seconds, bool with_colon);

}  // namespace smk::pim::tz
