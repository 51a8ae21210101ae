// Time zones through ICU: zone names (IANA, links, Windows), offsets and
// conversions around real 2024 transitions, the RFC 5545 reading of times in
// a gap or an overlap, vCalendar TZ/DAYLIGHT in both directions (guide case
// D: a DAYLIGHT line covers one period of one year) and VTIMEZONE text.
// Every expected instant below is worked out by hand from the zone's rules:
// EU: last Sunday of March/October at 01:00Z; US: second Sunday of March at
// 02:00 local, first Sunday of November at 02:00 local; New South Wales:
// first Sunday of October at 02:00 AEST, first Sunday of April at 03:00 AEDT.
#include <unicode/timezone.h>
#include <unicode/unistr.h>
#include <unicode/vtzone.h>

#include <catch2/catch.hpp>
#include <climits>
#include <cstdio>
#include <memory>

#include "pim/content_line.hpp"
#include "pim/timezone.hpp"

using namespace smk::pim;
using smk::pim::tz::DaylightPeriod;
using smk::pim::tz::VcalZone;

namespace {

DateTime make(int y, int mo, int d, int h, int mi, int s, DateTime::Kind kind, std::string tzid = {}) {
    DateTime t;
    t.year = y;
    t.month = mo;
    t.day = d;
    t.hour = h;
    t.minute = mi;
    t.second = s;
    t.kind = kind;
    t.tzid = std::move(tzid);
    return t;
}

DateTime utc(int y, int mo, int d, int h, int mi = 0, int s = 0) {
    return make(y, mo, d, h, mi, s, DateTime::Kind::utc);
}
DateTime zoned(int y, int mo, int d, int h, int mi, const char* tzid) {
    return make(y, mo, d, h, mi, 0, DateTime::Kind::zoned, tzid);
}
DateTime floating(int y, int mo, int d, int h, int mi = 0) {
    return make(y, mo, d, h, mi, 0, DateTime::Kind::floating);
}
DateTime date_only(int y, int mo, int d) { return make(y, mo, d, 0, 0, 0, DateTime::Kind::date); }

std::string show(const DateTime& t) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d kind=%d ", t.year, t.month, t.day, t.hour, t.minute,
                  t.second, static_cast<int>(t.kind));
    return buf + t.tzid;
}

DaylightPeriod period(int offset, DateTime begin, DateTime end) {
    DaylightPeriod p;
    p.offset = offset;
    p.begin = std::move(begin);
    p.end = std::move(end);
    return p;
}

// Berlin's TZ and DAYLIGHT lines for 2023-2025 as a phone would send them.
VcalZone berlin_lines() {
    VcalZone z;
    z.standard_offset = 3600;
    z.daylight = {period(7200, utc(2023, 3, 26, 1), utc(2023, 10, 29, 1)),
                  period(7200, utc(2024, 3, 31, 1), utc(2024, 10, 27, 1)),
                  period(7200, utc(2025, 3, 30, 1), utc(2025, 10, 26, 1))};
    return z;
}

// The value of every content line named `name` inside the block that
// BEGIN:`block` opens (all such blocks, in order).
std::vector<std::string> values_in(const std::vector<ContentLine>& lines, const std::string& block,
                                   const std::string& name) {
    std::vector<std::string> out;
    bool inside = false;
    for (const ContentLine& l : lines) {
        if (l.name == "BEGIN" && l.value == block)
            inside = true;
        else if (l.name == "END" && l.value == block)
            inside = false;
        else if (inside && l.name == name)
            out.push_back(l.value);
    }
    return out;
}

std::vector<ContentLine> lex(const std::string& text) {
    std::vector<Warning> warnings;
    std::vector<ContentLine> lines = lex_content_lines(text, Dialect::new_mime_dir, &warnings);
    CHECK(warnings.empty());
    return lines;
}

// Milliseconds since 1970 of a UTC DateTime, for asking ICU directly.
double udate(const DateTime& t) {
    auto days = [](int y, int m, int d) {
        y -= m <= 2;
        const int era = (y >= 0 ? y : y - 399) / 400;
        const int yoe = y - era * 400;
        const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    };
    return (static_cast<double>(days(t.year, t.month, t.day)) * 86400 + t.hour * 3600 + t.minute * 60 + t.second) *
           1000.0;
}

}  // namespace

// ------------------------------------------------------------------ names --

TEST_CASE("canonical_zone: IANA names, links, Windows names, prefixed TZIDs") {
    CHECK(tz::canonical_zone("Europe/Berlin") == "Europe/Berlin");
    CHECK(tz::canonical_zone("US/Eastern") == "America/New_York");
    CHECK(tz::canonical_zone("Europe/Zurich") == "Europe/Zurich");
    // ICU's own canonical IDs are CLDR's old names; the IANA name comes back.
    CHECK(tz::canonical_zone("Asia/Calcutta") == "Asia/Kolkata");
    CHECK(tz::canonical_zone("Asia/Kolkata") == "Asia/Kolkata");
    CHECK(tz::canonical_zone("Asia/Saigon") == "Asia/Ho_Chi_Minh");
    CHECK(tz::canonical_zone("UTC") == "Etc/UTC");
    CHECK(tz::canonical_zone("Etc/GMT-1") == "Etc/GMT-1");

    // Windows names: the zone for the world ("001").
    CHECK(tz::canonical_zone("W. Europe Standard Time") == "Europe/Berlin");
    CHECK(tz::canonical_zone("Eastern Standard Time") == "America/New_York");
    CHECK(tz::canonical_zone("GMT Standard Time") == "Europe/London");
    CHECK(tz::canonical_zone("AUS Eastern Standard Time") == "Australia/Sydney");
    CHECK(tz::canonical_zone("Tokyo Standard Time") == "Asia/Tokyo");
    CHECK(tz::canonical_zone("India Standard Time") == "Asia/Kolkata");

    // Mozilla's and libical's path-prefixed TZIDs, lower case, spaces.
    CHECK(tz::canonical_zone("/mozilla.org/20070129_1/Europe/Berlin") == "Europe/Berlin");
    CHECK(tz::canonical_zone("/freeassociation.sourceforge.net/Tzfile/America/New_York") == "America/New_York");
    CHECK(tz::canonical_zone("/citadel.org/20190914_1/America/Argentina/Buenos_Aires") ==
          "America/Argentina/Buenos_Aires");
    CHECK(tz::canonical_zone("/x/America/Indiana/Indianapolis") == "America/Indiana/Indianapolis");
    CHECK(tz::canonical_zone("prefix/Asia/Tokyo/") == "");
    CHECK(tz::canonical_zone("europe/berlin") == "Europe/Berlin");
    CHECK(tz::canonical_zone("  Asia/Tokyo ") == "Asia/Tokyo");

    // Unknown: ICU's "Etc/Unknown" and its custom "GMT+1" IDs are no zones.
    CHECK(tz::canonical_zone("") == "");
    CHECK(tz::canonical_zone("Nowhere/Special") == "");
    CHECK(tz::canonical_zone("Etc/Unknown") == "");
    CHECK(tz::canonical_zone("GMT+1") == "");
    CHECK(tz::canonical_zone("TZ1") == "");
    CHECK(tz::canonical_zone("/") == "");
    CHECK(tz::canonical_zone(std::string("Europe/Ber\0lin", 14)) == "");
}

// ---------------------------------------------------------------- offsets --

TEST_CASE("utc_offset: Europe/Berlin in 2024, around 31 Mar and 27 Oct 01:00Z") {
    CHECK(tz::utc_offset("Europe/Berlin", utc(2024, 1, 15, 12)) == 3600);
    CHECK(tz::utc_offset("Europe/Berlin", utc(2024, 7, 15, 12)) == 7200);
    CHECK(tz::utc_offset("Europe/Berlin", utc(2024, 3, 31, 0, 59, 59)) == 3600);
    CHECK(tz::utc_offset("Europe/Berlin", utc(2024, 3, 31, 1, 0, 0)) == 7200);
    CHECK(tz::utc_offset("Europe/Berlin", utc(2024, 10, 27, 0, 59, 59)) == 7200);
    CHECK(tz::utc_offset("Europe/Berlin", utc(2024, 10, 27, 1, 0, 0)) == 3600);
    // The Windows name and a link give the same zone.
    CHECK(tz::utc_offset("W. Europe Standard Time", utc(2024, 7, 15, 12)) == 7200);
}

TEST_CASE("utc_offset: America/New_York in 2024, around 10 Mar 07:00Z and 3 Nov 06:00Z") {
    CHECK(tz::utc_offset("America/New_York", utc(2024, 1, 15, 12)) == -5 * 3600);
    CHECK(tz::utc_offset("America/New_York", utc(2024, 7, 15, 12)) == -4 * 3600);
    CHECK(tz::utc_offset("America/New_York", utc(2024, 3, 10, 6, 59, 59)) == -5 * 3600);
    CHECK(tz::utc_offset("America/New_York", utc(2024, 3, 10, 7)) == -4 * 3600);
    CHECK(tz::utc_offset("America/New_York", utc(2024, 11, 3, 5, 59, 59)) == -4 * 3600);
    CHECK(tz::utc_offset("America/New_York", utc(2024, 11, 3, 6)) == -5 * 3600);
    CHECK(tz::utc_offset("US/Eastern", utc(2024, 11, 3, 6)) == -5 * 3600);
}

TEST_CASE("utc_offset: Australia/Sydney has DST from October to April") {
    CHECK(tz::utc_offset("Australia/Sydney", utc(2024, 1, 15, 12)) == 11 * 3600);
    CHECK(tz::utc_offset("Australia/Sydney", utc(2024, 7, 15, 12)) == 10 * 3600);
    // 7 Apr 2024 03:00 AEDT = 6 Apr 16:00Z; 6 Oct 2024 02:00 AEST = 5 Oct 16:00Z.
    CHECK(tz::utc_offset("Australia/Sydney", utc(2024, 4, 6, 15, 59, 59)) == 11 * 3600);
    CHECK(tz::utc_offset("Australia/Sydney", utc(2024, 4, 6, 16)) == 10 * 3600);
    CHECK(tz::utc_offset("Australia/Sydney", utc(2024, 10, 5, 15, 59, 59)) == 10 * 3600);
    CHECK(tz::utc_offset("Australia/Sydney", utc(2024, 10, 5, 16)) == 11 * 3600);
}

TEST_CASE("utc_offset: a zone without DST, and unknown zones") {
    CHECK(tz::utc_offset("Asia/Tokyo", utc(2024, 1, 15, 12)) == 9 * 3600);
    CHECK(tz::utc_offset("Asia/Tokyo", utc(2024, 7, 15, 12)) == 9 * 3600);
    CHECK(tz::utc_offset("Asia/Kolkata", utc(2024, 7, 15, 12)) == 19800);
    CHECK(tz::utc_offset("Asia/Kathmandu", utc(2024, 7, 15, 12)) == 20700);
    CHECK(tz::utc_offset("Nowhere/Special", utc(2024, 7, 15, 12)) == 0);
    CHECK(tz::utc_offset("", utc(2024, 7, 15, 12)) == 0);
    // A zoned time is an instant too: 14:00 in Berlin in July is 12:00Z.
    CHECK(tz::utc_offset("America/New_York", zoned(2024, 3, 10, 3, 30, "Europe/Berlin")) == -5 * 3600);
    CHECK(tz::utc_offset("America/New_York", zoned(2024, 3, 10, 9, 30, "Europe/Berlin")) == -4 * 3600);
}

// ------------------------------------------------------------ conversions --

TEST_CASE("to_utc and from_utc: ordinary times") {
    const DateTime summer = tz::to_utc(zoned(2024, 7, 15, 14, 0, "Europe/Berlin"));
    CHECK(show(summer) == show(utc(2024, 7, 15, 12)));
    const DateTime winter = tz::to_utc(zoned(2024, 1, 15, 9, 30, "America/New_York"));
    CHECK(show(winter) == show(utc(2024, 1, 15, 14, 30)));
    // A floating time in the zone given; across midnight and the year.
    CHECK(show(tz::to_utc(floating(2024, 1, 1, 5), "Asia/Tokyo")) == show(utc(2023, 12, 31, 20)));
    CHECK(show(tz::to_utc(floating(2024, 1, 15, 10), "Australia/Sydney")) == show(utc(2024, 1, 14, 23)));
    // `tzid` overrides a zoned time's own zone.
    CHECK(show(tz::to_utc(zoned(2024, 7, 15, 14, 0, "Europe/Berlin"), "Asia/Tokyo")) == show(utc(2024, 7, 15, 5)));
    // Seconds survive.
    CHECK(show(tz::to_utc(make(2024, 7, 15, 14, 0, 42, DateTime::Kind::zoned, "Europe/Berlin"))) ==
          show(utc(2024, 7, 15, 12, 0, 42)));

    CHECK(show(tz::from_utc(utc(2024, 7, 15, 12), "Europe/Berlin")) ==
          show(zoned(2024, 7, 15, 14, 0, "Europe/Berlin")));
    CHECK(show(tz::from_utc(utc(2024, 1, 15, 14, 30), "America/New_York")) ==
          show(zoned(2024, 1, 15, 9, 30, "America/New_York")));
    CHECK(show(tz::from_utc(utc(2023, 12, 31, 20), "Asia/Tokyo")) == show(zoned(2024, 1, 1, 5, 0, "Asia/Tokyo")));
    // The tzid is kept as the caller wrote it.
    CHECK(show(tz::from_utc(utc(2024, 7, 15, 12), "US/Eastern")) == show(zoned(2024, 7, 15, 8, 0, "US/Eastern")));
    // A zoned time moves to another zone.
    CHECK(show(tz::from_utc(zoned(2024, 7, 15, 14, 0, "Europe/Berlin"), "America/New_York")) ==
          show(zoned(2024, 7, 15, 8, 0, "America/New_York")));
}

TEST_CASE("to_utc and from_utc: dates, UTC times, unknown zones, bad fields") {
    CHECK(show(tz::to_utc(date_only(2024, 3, 31), "Europe/Berlin")) == show(date_only(2024, 3, 31)));
    CHECK(show(tz::from_utc(date_only(2024, 3, 31), "Europe/Berlin")) == show(date_only(2024, 3, 31)));
    CHECK(show(tz::to_utc(utc(2024, 3, 31, 1), "Europe/Berlin")) == show(utc(2024, 3, 31, 1)));
    // Unknown zone or no zone at all: read as UTC (the callers warn).
    CHECK(show(tz::to_utc(zoned(2024, 7, 15, 14, 0, "Nowhere/Special"))) == show(utc(2024, 7, 15, 14)));
    CHECK(show(tz::to_utc(floating(2024, 7, 15, 14))) == show(utc(2024, 7, 15, 14)));
    CHECK(show(tz::from_utc(utc(2024, 7, 15, 14), "Nowhere/Special")) ==
          show(zoned(2024, 7, 15, 14, 0, "Nowhere/Special")));
    CHECK(show(tz::from_utc(utc(2024, 7, 15, 14), "")) == show(utc(2024, 7, 15, 14)));
    // Fields that are no time come back as they were.
    const DateTime bad = zoned(2024, 13, 40, 25, 61, "Europe/Berlin");
    CHECK(show(tz::to_utc(bad)) == show(bad));
    CHECK(show(tz::from_utc(utc(0, 1, 1, 0), "Europe/Berlin")) == show(utc(0, 1, 1, 0)));
    CHECK(tz::utc_offset("Europe/Berlin", utc(2024, 0, 0, 0)) == 0);
    const DateTime far = zoned(9999, 12, 31, 23, 59, "Pacific/Kiritimati");
    CHECK(show(tz::to_utc(far)) == show(utc(9999, 12, 31, 9, 59)));
    CHECK(show(tz::from_utc(utc(9999, 12, 31, 23, 59), "Pacific/Kiritimati")) ==
          show(zoned(10000, 1, 1, 13, 59, "Pacific/Kiritimati")));
    CHECK(show(tz::to_utc(zoned(1, 1, 1, 0, 0, "Etc/GMT-1"))) == show(utc(0, 12, 31, 23)));
}

TEST_CASE("to_utc: a time in the DST gap is read with the offset before it (RFC 5545 3.3.5)") {
    // Berlin skips 02:00-03:00 on 31 Mar 2024: 02:30 is read as +01:00.
    const DateTime berlin = tz::to_utc(zoned(2024, 3, 31, 2, 30, "Europe/Berlin"));
    CHECK(show(berlin) == show(utc(2024, 3, 31, 1, 30)));
    CHECK(show(tz::from_utc(berlin, "Europe/Berlin")) == show(zoned(2024, 3, 31, 3, 30, "Europe/Berlin")));
    // New York skips 02:00-03:00 on 10 Mar 2024: 02:30 is read as -05:00.
    CHECK(show(tz::to_utc(zoned(2024, 3, 10, 2, 30, "America/New_York"))) == show(utc(2024, 3, 10, 7, 30)));
    // Sydney skips 02:00-03:00 on 6 Oct 2024: 02:30 is read as +10:00.
    CHECK(show(tz::to_utc(zoned(2024, 10, 6, 2, 30, "Australia/Sydney"))) == show(utc(2024, 10, 5, 16, 30)));
    // Just outside the gap nothing moves.
    CHECK(show(tz::to_utc(zoned(2024, 3, 31, 1, 59, "Europe/Berlin"))) == show(utc(2024, 3, 31, 0, 59)));
    CHECK(show(tz::to_utc(zoned(2024, 3, 31, 3, 0, "Europe/Berlin"))) == show(utc(2024, 3, 31, 1, 0)));
}

TEST_CASE("to_utc: a time in the DST overlap is its first occurrence (RFC 5545 3.3.5)") {
    // Berlin repeats 02:00-03:00 on 27 Oct 2024: 02:30 is the CEST one.
    CHECK(show(tz::to_utc(zoned(2024, 10, 27, 2, 30, "Europe/Berlin"))) == show(utc(2024, 10, 27, 0, 30)));
    // New York repeats 01:00-02:00 on 3 Nov 2024: 01:30 is the EDT one.
    CHECK(show(tz::to_utc(zoned(2024, 11, 3, 1, 30, "America/New_York"))) == show(utc(2024, 11, 3, 5, 30)));
    // Sydney repeats 02:00-03:00 on 7 Apr 2024: 02:30 is the AEDT one.
    CHECK(show(tz::to_utc(zoned(2024, 4, 7, 2, 30, "Australia/Sydney"))) == show(utc(2024, 4, 6, 15, 30)));
    // Just after the overlap: standard time.
    CHECK(show(tz::to_utc(zoned(2024, 10, 27, 3, 0, "Europe/Berlin"))) == show(utc(2024, 10, 27, 2, 0)));
}

TEST_CASE("to_utc and from_utc: every hour of 2024 in Berlin goes there and back") {
    static const int month_lengths[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    std::vector<std::string> mismatches;
    for (int month = 1; month <= 12; ++month) {
        for (int day = 1; day <= month_lengths[month - 1]; ++day) {
            for (int hour = 0; hour < 24; ++hour) {
                const DateTime instant = utc(2024, month, day, hour);
                const DateTime local = tz::from_utc(instant, "Europe/Berlin");
                if (show(tz::to_utc(local)) != show(instant)) mismatches.push_back(show(instant));
            }
        }
    }
    // 00:00Z on 27 Oct shows as 02:00 CEST and comes back as itself; 01:00Z
    // shows as 02:00 CET and comes back as the first 02:00, an hour early:
    // the one hour of 8784 that a wall clock cannot name.
    CHECK(mismatches == std::vector<std::string>{show(utc(2024, 10, 27, 1))});
}

// -------------------------------------------------------------- vCalendar --

TEST_CASE("vcal_zone: Europe/Berlin 2023-2025 gives TZ +01:00 and three DAYLIGHT periods") {
    const std::optional<tz::VcalZone> z = tz::vcal_zone("Europe/Berlin", 2023, 2025);
    REQUIRE(z);
    CHECK(z->standard_offset == 3600);
    CHECK(tz::format_offset(z->standard_offset, true) == "+01:00");
    REQUIRE(z->daylight.size() == 3);
    const DateTime begins[] = {utc(2023, 3, 26, 1), utc(2024, 3, 31, 1), utc(2025, 3, 30, 1)};
    const DateTime ends[] = {utc(2023, 10, 29, 1), utc(2024, 10, 27, 1), utc(2025, 10, 26, 1)};
    for (std::size_t i = 0; i < 3; ++i) {
        INFO("period " << i);
        CHECK(z->daylight[i].offset == 7200);
        CHECK(tz::format_offset(z->daylight[i].offset, true) == "+02:00");
        CHECK(show(z->daylight[i].begin) == show(begins[i]));
        CHECK(show(z->daylight[i].end) == show(ends[i]));
        CHECK(z->daylight[i].standard_name == "CET");
        CHECK(z->daylight[i].daylight_name == "CEST");
    }
}

TEST_CASE("vcal_zone: America/New_York 2024 and Europe/London 2024") {
    const std::optional<tz::VcalZone> ny = tz::vcal_zone("America/New_York", 2024, 2024);
    REQUIRE(ny);
    CHECK(ny->standard_offset == -5 * 3600);
    REQUIRE(ny->daylight.size() == 1);
    CHECK(ny->daylight[0].offset == -4 * 3600);
    CHECK(show(ny->daylight[0].begin) == show(utc(2024, 3, 10, 7)));
    CHECK(show(ny->daylight[0].end) == show(utc(2024, 11, 3, 6)));
    CHECK(ny->daylight[0].standard_name == "EST");
    CHECK(ny->daylight[0].daylight_name == "EDT");

    const std::optional<tz::VcalZone> london = tz::vcal_zone("GMT Standard Time", 2024, 2024);
    REQUIRE(london);
    CHECK(london->standard_offset == 0);
    REQUIRE(london->daylight.size() == 1);
    CHECK(london->daylight[0].offset == 3600);
    CHECK(show(london->daylight[0].begin) == show(utc(2024, 3, 31, 1)));
    CHECK(show(london->daylight[0].end) == show(utc(2024, 10, 27, 1)));
    CHECK(london->daylight[0].standard_name == "GMT");
    CHECK(london->daylight[0].daylight_name == "BST");
}

TEST_CASE("vcal_zone: Australia/Sydney's periods belong to the year they begin in") {
    // 2024 alone: 2024's period (6 Oct 2024 - 6 Apr 2025) and the one in
    // force on 1 January 2024, which is 2023's (1 Oct 2023 - 7 Apr 2024).
    const std::optional<tz::VcalZone> z = tz::vcal_zone("Australia/Sydney", 2024, 2024);
    REQUIRE(z);
    CHECK(z->standard_offset == 10 * 3600);
    REQUIRE(z->daylight.size() == 2);
    CHECK(show(z->daylight[0].begin) == show(utc(2023, 9, 30, 16)));
    CHECK(show(z->daylight[0].end) == show(utc(2024, 4, 6, 16)));
    CHECK(show(z->daylight[1].begin) == show(utc(2024, 10, 5, 16)));
    CHECK(show(z->daylight[1].end) == show(utc(2025, 4, 5, 16)));
    for (const tz::DaylightPeriod& p : z->daylight) {
        CHECK(p.offset == 11 * 3600);
        CHECK(p.standard_name == "AEST");
        CHECK(p.daylight_name == "AEDT");
    }
    // 2024-2025 adds 2025's (5 Oct 2025 - 5 Apr 2026), nothing of 2026.
    const std::optional<tz::VcalZone> two = tz::vcal_zone("Australia/Sydney", 2024, 2025);
    REQUIRE(two);
    REQUIRE(two->daylight.size() == 3);
    CHECK(show(two->daylight[2].begin) == show(utc(2025, 10, 4, 16)));
    CHECK(show(two->daylight[2].end) == show(utc(2026, 4, 4, 16)));
}

TEST_CASE("vcal_zone: no DST, unknown zones, odd year ranges") {
    const std::optional<tz::VcalZone> tokyo = tz::vcal_zone("Asia/Tokyo", 2023, 2025);
    REQUIRE(tokyo);
    CHECK(tokyo->standard_offset == 9 * 3600);
    CHECK(tokyo->daylight.empty());
    CHECK_FALSE(tz::vcal_zone("Nowhere/Special", 2024, 2024));
    CHECK_FALSE(tz::vcal_zone("", 2024, 2024));
    // last < first is read as first alone.
    const std::optional<tz::VcalZone> backwards = tz::vcal_zone("Europe/Berlin", 2024, 2000);
    REQUIRE(backwards);
    REQUIRE(backwards->daylight.size() == 1);
    CHECK(show(backwards->daylight[0].begin) == show(utc(2024, 3, 31, 1)));
    // Brazil ended DST in 2019: 2018's period (4 Nov 2018 - 17 Feb 2019) is the last.
    const std::optional<tz::VcalZone> brazil = tz::vcal_zone("America/Sao_Paulo", 2018, 2024);
    REQUIRE(brazil);
    REQUIRE(brazil->daylight.size() == 2);  // the one in force on 1 Jan 2018, and 2018's
    CHECK(show(brazil->daylight[1].begin) == show(utc(2018, 11, 4, 3)));
    CHECK(show(brazil->daylight[1].end) == show(utc(2019, 2, 17, 2)));
    // Whole range of years: bounded work, no crash.
    const std::optional<tz::VcalZone> all = tz::vcal_zone("Europe/Berlin", -100, 100000);
    REQUIRE(all);
    CHECK(all->daylight.size() > 100);
}

TEST_CASE("match_vcal_zone: TZ and DAYLIGHT lines back to a zone") {
    // The zone CLDR and Windows both name for central Europe is Paris; it
    // has Berlin's rules exactly.
    const VcalZone lines = berlin_lines();
    const std::string found = tz::match_vcal_zone(lines);
    CHECK(found == "Europe/Paris");
    const std::optional<tz::VcalZone> again = tz::vcal_zone(found, 2023, 2025);
    REQUIRE(again);
    REQUIRE(again->daylight.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(show(again->daylight[i].begin) == show(lines.daylight[i].begin));
        CHECK(show(again->daylight[i].end) == show(lines.daylight[i].end));
    }
    // The user's zone comes first when it fits, whatever its name.
    CHECK(tz::match_vcal_zone(lines, "Europe/Zurich") == "Europe/Zurich");
    CHECK(tz::match_vcal_zone(lines, "Europe/Berlin") == "Europe/Berlin");
    CHECK(tz::match_vcal_zone(lines, "W. Europe Standard Time") == "Europe/Berlin");
    // ... and not when it does not.
    CHECK(tz::match_vcal_zone(lines, "America/New_York") == "Europe/Paris");
    CHECK(tz::match_vcal_zone(lines, "Europe/London") == "Europe/Paris");
    CHECK(tz::match_vcal_zone(lines, "Nowhere/Special") == "Europe/Paris");

    // Lines read back from our own vcal_zone for other zones.
    CHECK(tz::match_vcal_zone(*tz::vcal_zone("America/New_York", 2024, 2025)) == "America/New_York");
    CHECK(tz::match_vcal_zone(*tz::vcal_zone("Australia/Sydney", 2024, 2024)) == "Australia/Sydney");
    CHECK(tz::match_vcal_zone(*tz::vcal_zone("Europe/London", 2024, 2024)) == "Europe/London");
    CHECK(tz::match_vcal_zone(*tz::vcal_zone("Europe/London", 2024, 2024), "Europe/Lisbon") == "Europe/Lisbon");
}

TEST_CASE("match_vcal_zone: end times a second early, local times") {
    // "DAYLIGHT:TRUE;+02;20240331T010000Z;20241027T005959Z;CET;CEST"
    VcalZone lines;
    lines.standard_offset = 3600;
    lines.daylight = {period(7200, utc(2024, 3, 31, 1), utc(2024, 10, 27, 0, 59, 59))};
    CHECK(tz::match_vcal_zone(lines, "Europe/Berlin") == "Europe/Berlin");
    // Local times (zoned) are instants too.
    lines.daylight = {period(7200, zoned(2024, 3, 31, 2, 0, "Europe/Berlin"), zoned(2024, 10, 27, 2, 0, "Etc/GMT-1"))};
    CHECK(tz::match_vcal_zone(lines, "Europe/Berlin") == "Europe/Berlin");
    // Floating times are local, in standard or in daylight time: the spec's
    // own example style "20240331T020000;20241027T030000" and the other
    // reading "20240331T030000;20241027T020000".
    lines.daylight = {period(7200, floating(2024, 3, 31, 2), floating(2024, 10, 27, 3))};
    CHECK(tz::match_vcal_zone(lines, "Europe/Berlin") == "Europe/Berlin");
    lines.daylight = {period(7200, floating(2024, 3, 31, 3), floating(2024, 10, 27, 2))};
    CHECK(tz::match_vcal_zone(lines, "Europe/Berlin") == "Europe/Berlin");
    lines.daylight = {period(7200, floating(2024, 3, 31, 4), floating(2024, 10, 27, 3))};
    CHECK(tz::match_vcal_zone(lines, "Europe/Berlin") == "");
}

TEST_CASE("match_vcal_zone: inconsistent lines match no zone") {
    VcalZone wrong_tz = berlin_lines();
    wrong_tz.standard_offset = 7200;
    CHECK(tz::match_vcal_zone(wrong_tz) == "");
    CHECK(tz::match_vcal_zone(wrong_tz, "Europe/Berlin") == "");

    VcalZone wrong_dst_offset = berlin_lines();
    wrong_dst_offset.daylight[1].offset = 3 * 3600;
    CHECK(tz::match_vcal_zone(wrong_dst_offset, "Europe/Berlin") == "");

    VcalZone an_hour_late = berlin_lines();
    an_hour_late.daylight[2].begin.hour = 2;
    CHECK(tz::match_vcal_zone(an_hour_late) == "");

    VcalZone two_minutes_early = berlin_lines();
    two_minutes_early.daylight[0].end = utc(2023, 10, 29, 0, 58);
    CHECK(tz::match_vcal_zone(two_minutes_early, "Europe/Berlin") == "");

    // EU dates with US offsets.
    VcalZone mixed = berlin_lines();
    mixed.standard_offset = -5 * 3600;
    for (tz::DaylightPeriod& p : mixed.daylight) p.offset = -4 * 3600;
    CHECK(tz::match_vcal_zone(mixed) == "");

    VcalZone garbage;
    garbage.standard_offset = 3600;
    garbage.daylight = {period(7200, DateTime{}, DateTime{})};
    CHECK(tz::match_vcal_zone(garbage) == "");

    VcalZone far_away;
    far_away.standard_offset = 20 * 3600;
    CHECK(tz::match_vcal_zone(far_away) == "");
}

TEST_CASE("match_vcal_zone: TZ without DAYLIGHT") {
    VcalZone z;
    // The user's zone fits by its standard offset: the phone may just not
    // have said anything about DST.
    z.standard_offset = 3600;
    CHECK(tz::match_vcal_zone(z, "Europe/Berlin") == "Europe/Berlin");
    // Otherwise a fixed offset zone (Etc/GMT-1 is UTC+1).
    CHECK(tz::match_vcal_zone(z) == "Etc/GMT-1");
    CHECK(tz::match_vcal_zone(z, "America/New_York") == "Etc/GMT-1");
    z.standard_offset = 9 * 3600;
    CHECK(tz::match_vcal_zone(z, "Asia/Tokyo") == "Asia/Tokyo");
    CHECK(tz::match_vcal_zone(z) == "Etc/GMT-9");
    z.standard_offset = -5 * 3600;
    CHECK(tz::match_vcal_zone(z) == "Etc/GMT+5");
    z.standard_offset = 0;
    CHECK(tz::match_vcal_zone(z) == "Etc/UTC");
    // No Etc zone for these: a location zone without DST.
    z.standard_offset = 19800;
    CHECK(tz::match_vcal_zone(z) == "Asia/Kolkata");
    z.standard_offset = 20700;
    CHECK(tz::match_vcal_zone(z) == "Asia/Kathmandu");
    z.standard_offset = 3600 + 7;
    CHECK(tz::match_vcal_zone(z) == "");
}

// ---------------------------------------------------------------- VTIMEZONE --

TEST_CASE("vtimezone: Europe/Berlin 2024-2026") {
    const std::string text = tz::vtimezone("Europe/Berlin", 2024, 2026);
    INFO(text);
    REQUIRE(!text.empty());
    CHECK(text.rfind("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n", 0) == 0);
    CHECK(text.size() >= 17);
    CHECK(text.substr(text.size() - 15) == "END:VTIMEZONE\r\n");
    CHECK(text.find("X-TZINFO") == std::string::npos);
    CHECK(text.find("(STD)") == std::string::npos);
    // CRLF only, lines within 75 octets.
    std::size_t start = 0;
    for (std::size_t end; (end = text.find("\r\n", start)) != std::string::npos; start = end + 2) {
        CHECK(end - start <= 75);
        CHECK(text.substr(start, end - start).find('\n') == std::string::npos);
    }
    CHECK(start == text.size());

    const std::vector<ContentLine> lines = lex(text);
    CHECK(values_in(lines, "DAYLIGHT", "TZOFFSETFROM") == std::vector<std::string>{"+0100"});
    CHECK(values_in(lines, "DAYLIGHT", "TZOFFSETTO") == std::vector<std::string>{"+0200"});
    CHECK(values_in(lines, "DAYLIGHT", "TZNAME") == std::vector<std::string>{"CEST"});
    CHECK(values_in(lines, "DAYLIGHT", "RRULE") == std::vector<std::string>{"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"});
    CHECK(values_in(lines, "STANDARD", "TZOFFSETFROM") == std::vector<std::string>{"+0200"});
    CHECK(values_in(lines, "STANDARD", "TZOFFSETTO") == std::vector<std::string>{"+0100"});
    CHECK(values_in(lines, "STANDARD", "TZNAME") == std::vector<std::string>{"CET"});
    CHECK(values_in(lines, "STANDARD", "RRULE") == std::vector<std::string>{"FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"});
    // Small: starts the year before (so that 1 January 2024 lies inside an
    // observance), no history back to 1893.
    const std::vector<std::string> starts = values_in(lines, "STANDARD", "DTSTART");
    REQUIRE(starts.size() == 1);
    CHECK(starts[0] == "20231029T030000");
    CHECK(values_in(lines, "DAYLIGHT", "DTSTART") == std::vector<std::string>{"20230326T020000"});
}

TEST_CASE("vtimezone: ICU reads our text back with the zone's offsets") {
    const char* zones[] = {"Europe/Berlin", "America/New_York",  "Australia/Sydney",  "Asia/Tokyo",
                           "Europe/London", "America/Sao_Paulo", "Africa/Casablanca", "Asia/Kolkata"};
    for (const char* zone : zones) {
        const std::string text = tz::vtimezone(zone, 2024, 2026);
        INFO(zone << "\n" << text);
        REQUIRE(!text.empty());
        UErrorCode status = U_ZERO_ERROR;
        std::unique_ptr<icu::VTimeZone> parsed(
            icu::VTimeZone::createVTimeZone(icu::UnicodeString::fromUTF8(text), status));
        REQUIRE(U_SUCCESS(status));
        REQUIRE(parsed);
        // Every 6 hours through 2024-2026.
        std::unique_ptr<icu::TimeZone> original(
            icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(tz::canonical_zone(zone))));
        int wrong = 0;
        for (int day = 0; day < 3 * 365; ++day) {
            for (int quarter = 0; quarter < 4; ++quarter) {
                const double millis = udate(utc(2024, 1, 1, 0)) + (day * 86400.0 + quarter * 21600.0) * 1000.0;
                int32_t raw = 0, dst = 0, raw_parsed = 0, dst_parsed = 0;
                original->getOffset(millis, false, raw, dst, status);
                parsed->getOffset(millis, false, raw_parsed, dst_parsed, status);
                if (raw + dst != raw_parsed + dst_parsed) ++wrong;
            }
        }
        CHECK(U_SUCCESS(status));
        CHECK(wrong == 0);
    }
}

TEST_CASE("vtimezone: other zones, the caller's TZID, unknown zones") {
    const std::vector<ContentLine> sydney = lex(tz::vtimezone("Australia/Sydney", 2024, 2024));
    CHECK(values_in(sydney, "DAYLIGHT", "TZOFFSETTO") == std::vector<std::string>{"+1100"});
    CHECK(values_in(sydney, "DAYLIGHT", "RRULE") == std::vector<std::string>{"FREQ=YEARLY;BYMONTH=10;BYDAY=1SU"});
    CHECK(values_in(sydney, "DAYLIGHT", "TZNAME") == std::vector<std::string>{"AEDT"});
    CHECK(values_in(sydney, "STANDARD", "TZOFFSETTO") == std::vector<std::string>{"+1000"});
    CHECK(values_in(sydney, "STANDARD", "RRULE") == std::vector<std::string>{"FREQ=YEARLY;BYMONTH=4;BYDAY=1SU"});

    // No DST: one STANDARD observance, no name CLDR would not give.
    const std::vector<ContentLine> tokyo = lex(tz::vtimezone("Asia/Tokyo", 2024, 2026));
    CHECK(values_in(tokyo, "STANDARD", "TZOFFSETFROM") == std::vector<std::string>{"+0900"});
    CHECK(values_in(tokyo, "STANDARD", "TZOFFSETTO") == std::vector<std::string>{"+0900"});
    CHECK(values_in(tokyo, "STANDARD", "TZNAME").empty());
    CHECK(values_in(tokyo, "DAYLIGHT", "DTSTART").empty());

    // The TZID is the caller's (items refer to the zone by it).
    const std::string eastern = tz::vtimezone("US/Eastern", 2024, 2024);
    CHECK(eastern.rfind("BEGIN:VTIMEZONE\r\nTZID:US/Eastern\r\n", 0) == 0);
    const std::string windows = tz::vtimezone("W. Europe Standard Time", 2024, 2024);
    CHECK(windows.rfind("BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n", 0) == 0);
    const std::string mozilla =
        tz::vtimezone("/mozilla.org/20070129_1/a-rather-long-path/to-make-it-fold/Europe/Berlin", 2024, 2024);
    CHECK(mozilla.find("TZID:/mozilla.org/20070129_1/a-rather-long-path/to-make-it-fold/Europe/Berl\r\n in\r\n") !=
          std::string::npos);

    CHECK(tz::vtimezone("Nowhere/Special", 2024, 2026) == "");
    CHECK(tz::vtimezone("", 2024, 2026) == "");
    // Casablanca has a DST break every Ramadan until 2087: only those of
    // the years asked for are written.
    const std::string casablanca = tz::vtimezone("Africa/Casablanca", 2024, 2025);
    CHECK(casablanca.size() < 3000);
    CHECK(casablanca.find("DTSTART:2030") == std::string::npos);
    // Any years: no crash, still a VTIMEZONE.
    CHECK(tz::vtimezone("Europe/Berlin", -5, 100000).rfind("BEGIN:VTIMEZONE\r\n", 0) == 0);
}

// ---------------------------------------------------------------- offsets --

TEST_CASE("parse_offset: the forms vCalendar and iCalendar producers write") {
    CHECK(tz::parse_offset("+01:00") == 3600);
    CHECK(tz::parse_offset("+0100") == 3600);
    CHECK(tz::parse_offset("+01") == 3600);
    CHECK(tz::parse_offset("+1") == 3600);
    CHECK(tz::parse_offset("-05") == -18000);
    CHECK(tz::parse_offset("-0500") == -18000);
    CHECK(tz::parse_offset("-05:00") == -18000);
    CHECK(tz::parse_offset("+05:30") == 19800);
    CHECK(tz::parse_offset("+0545") == 20700);
    CHECK(tz::parse_offset("+013045") == 5445);
    CHECK(tz::parse_offset("+01:30:45") == 5445);
    CHECK(tz::parse_offset(" +02 ") == 7200);
    CHECK(tz::parse_offset("-0000") == 0);
    CHECK(tz::parse_offset("+1400") == 50400);

    CHECK_FALSE(tz::parse_offset("Z"));
    CHECK_FALSE(tz::parse_offset(""));
    CHECK_FALSE(tz::parse_offset("+"));
    CHECK_FALSE(tz::parse_offset("0100"));
    CHECK_FALSE(tz::parse_offset("01:00"));
    CHECK_FALSE(tz::parse_offset("+1:0"));
    CHECK_FALSE(tz::parse_offset("+0160"));
    CHECK_FALSE(tz::parse_offset("+2400"));
    CHECK_FALSE(tz::parse_offset("+012"));
    CHECK_FALSE(tz::parse_offset("+01:00:00:00"));
    CHECK_FALSE(tz::parse_offset("+0a"));
    CHECK_FALSE(tz::parse_offset("+01:"));
    CHECK_FALSE(tz::parse_offset("+:00"));
    CHECK_FALSE(tz::parse_offset("+-1"));
    CHECK_FALSE(tz::parse_offset("+99999999999999999999"));
}

TEST_CASE("format_offset: vCalendar and iCalendar forms") {
    CHECK(tz::format_offset(3600, true) == "+01:00");
    CHECK(tz::format_offset(3600, false) == "+0100");
    CHECK(tz::format_offset(-18000, true) == "-05:00");
    CHECK(tz::format_offset(-18000, false) == "-0500");
    CHECK(tz::format_offset(0, true) == "+00:00");
    CHECK(tz::format_offset(0, false) == "+0000");
    CHECK(tz::format_offset(19800, true) == "+05:30");
    CHECK(tz::format_offset(-1800, false) == "-0030");
    CHECK(tz::format_offset(5445, false) == "+013045");
    CHECK(tz::format_offset(5445, true) == "+01:30:45");
    CHECK(tz::format_offset(-5445, false) == "-013045");
    CHECK(tz::format_offset(50400, false) == "+1400");
    // Each form reads back.
    for (int seconds = -12 * 3600; seconds <= 14 * 3600; seconds += 15 * 60 + 7) {
        CHECK(tz::parse_offset(tz::format_offset(seconds, true)) == seconds);
        CHECK(tz::parse_offset(tz::format_offset(seconds, false)) == seconds);
    }
}

// ------------------------------------------------------------- robustness --

TEST_CASE("time zone functions take any input without crashing") {
    const int extremes[] = {INT_MIN, -1, 0, 1, 12, 13, 24, 60, 61, 9999, 10000, INT_MAX};
    const std::string names[] = {"",
                                 "/",
                                 "//",
                                 "Europe/",
                                 "/Europe/Berlin/",
                                 std::string(5000, '/'),
                                 std::string(300, 'x') + "/Europe/Berlin",
                                 "\xFF\xFE",
                                 "Europe/Berlin\r\nX:1",
                                 "Etc/GMT-14",
                                 "Etc/GMT+12"};
    for (int value : extremes) {
        DateTime t = make(value, value, value, value, value, value, DateTime::Kind::zoned, "Europe/Berlin");
        const DateTime back = tz::to_utc(t);
        // Either converted (then a UTC time of real fields) or returned as it was.
        CHECK((show(back) == show(t) || (back.kind == DateTime::Kind::utc && back.month >= 1 && back.month <= 12)));
        // Berlin's local mean time (+00:53:28) in the years 1 and 12; 0 for
        // fields that are no time.
        CHECK(tz::utc_offset("Europe/Berlin", t) == (value == 1 || value == 12 ? 3208 : 0));
        tz::from_utc(t, "Asia/Tokyo");
        for (const std::string& name : names) {
            tz::to_utc(t, name);
            tz::from_utc(utc(2024, 7, 1, 12), name);
            tz::vcal_zone(name, value, value);
            const std::string text = tz::vtimezone(name, value, value);
            // A name with a line break never breaks the VTIMEZONE's lines.
            CHECK(text.find("\nX:1") == std::string::npos);
        }
        const std::optional<tz::VcalZone> z = tz::vcal_zone("America/New_York", value, value);
        REQUIRE(z);
        // Years are clamped to 1..9999; before 1883 New York kept its local
        // mean time, -04:56:02.
        CHECK(z->standard_offset == (value >= 1883 ? -5 * 3600 : -17762));
    }
    // Every year there is: one period a year from 1918 (but a few war and
    // post-war years) to 9999.
    const std::optional<tz::VcalZone> all = tz::vcal_zone("America/New_York", INT_MIN, INT_MAX);
    REQUIRE(all);
    CHECK(all->daylight.size() > 8000);
    CHECK(all->daylight.size() < 8100);
    CHECK(show(all->daylight.back().begin) == show(utc(9999, 3, 14, 7)));
    VcalZone odd;
    odd.standard_offset = INT_MIN;
    odd.daylight = {period(INT_MAX, utc(2024, 3, 31, 1), utc(INT_MAX, 1, 1, 0))};
    CHECK(tz::match_vcal_zone(odd, "Europe/Berlin") == "");
    odd.standard_offset = 3600;
    CHECK(tz::match_vcal_zone(odd, "Europe/Berlin") == "");
    CHECK(tz::format_offset(INT_MIN, true) == "-596523:14:08");
    CHECK(tz::format_offset(INT_MAX, false) == "+5965231407");
}
