// Time zones through ICU. Everything about a zone's rules (offsets,
// transitions, names, Windows mapping, VTIMEZONE text) comes from ICU's
// data; this module only translates between ICU and the model, and decides
// the few questions ICU leaves open (which local time a gap or an overlap
// means, which year a vCalendar DAYLIGHT period belongs to, which of several
// identical zones a set of vCalendar lines names).
//
// Times inside this module are whole seconds since 1970-01-01T00:00:00Z
// (std::int64_t); ICU wants milliseconds as a double (UDate), converted only
// where ICU is called.
#include "pim/timezone.hpp"

#include <unicode/basictz.h>
#include <unicode/calendar.h>
#include <unicode/locid.h>
#include <unicode/strenum.h>
#include <unicode/stringoptions.h>
#include <unicode/timezone.h>
#include <unicode/tznames.h>
#include <unicode/tzrule.h>
#include <unicode/tztrans.h>
#include <unicode/ucal.h>
#include <unicode/unistr.h>
#include <unicode/ures.h>
#include <unicode/vtzone.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace smk::pim::tz {
namespace {

using Seconds = std::int64_t;

constexpr Seconds kSecondsPerDay = 86400;
// A vCalendar DAYLIGHT period matches a zone's transition when the instants
// differ by at most this much: producers write the end as 01:59:59 or 02:00.
constexpr Seconds kTransitionTolerance = 60;
// The largest offset a zone has had (LMT of Manila was about -15:56, and
// no zone is ahead of +14:00); anything beyond is not a zone's.
constexpr Seconds kLargestOffset = 16 * 3600;

// ------------------------------------------------------------ calendar math --

// Days since 1970-01-01 of a proleptic Gregorian date (the well-known
// era-based algorithm; valid for every year of a DateTime).
Seconds days_from_civil(Seconds year, Seconds month, Seconds day) {
    year -= month <= 2 ? 1 : 0;
    const Seconds era = (year >= 0 ? year : year - 399) / 400;
    const Seconds year_of_era = year - era * 400;
    const Seconds day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const Seconds day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

struct CivilDate {
    Seconds year;
    int month, day;
};

CivilDate civil_from_days(Seconds days) {
    days += 719468;
    const Seconds era = (days >= 0 ? days : days - 146096) / 146097;
    const Seconds day_of_era = days - era * 146097;
    const Seconds year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const Seconds day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const Seconds month_index = (5 * day_of_year + 2) / 153;
    const int day = static_cast<int>(day_of_year - (153 * month_index + 2) / 5 + 1);
    const int month = static_cast<int>(month_index < 10 ? month_index + 3 : month_index - 9);
    return {year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

Seconds floor_div(Seconds value, Seconds divisor) {
    Seconds quotient = value / divisor;
    if ((value % divisor != 0) && ((value < 0) != (divisor < 0))) --quotient;
    return quotient;
}

// Years outside 1..9999 and fields out of range cannot be converted: the
// callers get such a value back unchanged rather than a made-up time.
bool has_convertible_fields(const DateTime& t) {
    return t.year >= 1 && t.year <= 9999 && t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= 31 && t.hour >= 0 &&
           t.hour <= 24 && t.minute >= 0 && t.minute <= 59 && t.second >= 0 && t.second <= 60;
}

// The fields read as if they were UTC (a wall clock reading, zone not yet
// applied).
Seconds wall_seconds(const DateTime& t) {
    return days_from_civil(t.year, t.month, t.day) * kSecondsPerDay + t.hour * 3600 + t.minute * 60 + t.second;
}

DateTime date_time_at(Seconds wall, DateTime::Kind kind, std::string tzid) {
    const Seconds days = floor_div(wall, kSecondsPerDay);
    const Seconds in_day = wall - days * kSecondsPerDay;
    const CivilDate date = civil_from_days(days);
    DateTime out;
    out.year = static_cast<int>(std::clamp<Seconds>(date.year, 0, 99999));
    out.month = date.month;
    out.day = date.day;
    out.hour = static_cast<int>(in_day / 3600);
    out.minute = static_cast<int>(in_day / 60 % 60);
    out.second = static_cast<int>(in_day % 60);
    out.kind = kind;
    out.tzid = std::move(tzid);
    return out;
}

DateTime utc_at(Seconds instant) { return date_time_at(instant, DateTime::Kind::utc, {}); }

UDate to_udate(Seconds instant) { return static_cast<UDate>(instant) * 1000.0; }
Seconds from_udate(UDate millis) { return static_cast<Seconds>(std::floor(millis / 1000.0)); }

Seconds start_of_year(int year) { return days_from_civil(year, 1, 1) * kSecondsPerDay; }

// ---------------------------------------------------------- ICU strings --

icu::UnicodeString to_unicode(std::string_view text) {
    return icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
}

std::string to_utf8(const icu::UnicodeString& text) {
    std::string out;
    text.toUTF8String(out);
    return out;
}

// --------------------------------------------------------------- names --

std::string trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return std::string(text);
}

// ICU's canonical IDs are CLDR's, which keep some names IANA has since
// replaced ("Asia/Calcutta", "Europe/Kiev"). ICU's own tz data
// (zoneinfo64) stores each zone under its IANA name and the old names as
// links to it: this is that list of links, read once.
std::unordered_map<std::string, std::string> load_iana_links() {
    std::unordered_map<std::string, std::string> links;
    UErrorCode status = U_ZERO_ERROR;
    UResourceBundle* top = ures_openDirect(nullptr, "zoneinfo64", &status);
    UResourceBundle* names = ures_getByKey(top, "Names", nullptr, &status);
    UResourceBundle* zones = ures_getByKey(top, "Zones", nullptr, &status);
    const int32_t count = U_SUCCESS(status) ? ures_getSize(names) : 0;
    auto name_at = [&](int32_t index) {
        UErrorCode name_status = U_ZERO_ERROR;
        int32_t length = 0;
        const UChar* name = ures_getStringByIndex(names, index, &length, &name_status);
        return U_SUCCESS(name_status) ? to_utf8(icu::UnicodeString(name, length)) : std::string();
    };
    for (int32_t i = 0; i < count; ++i) {
        UErrorCode zone_status = U_ZERO_ERROR;
        UResourceBundle* zone = ures_getByIndex(zones, i, nullptr, &zone_status);
        if (U_SUCCESS(zone_status) && ures_getType(zone) == URES_INT) {
            const int32_t target = ures_getInt(zone, &zone_status);
            if (U_SUCCESS(zone_status) && target >= 0 && target < count) links.emplace(name_at(i), name_at(target));
        }
        ures_close(zone);
    }
    ures_close(zones);
    ures_close(names);
    ures_close(top);
    return links;
}

// The IANA name of a zone ICU knows under its CLDR canonical ID.
std::string iana_name(const std::string& cldr_id) {
    static const std::unordered_map<std::string, std::string> links = load_iana_links();
    auto found = links.find(cldr_id);
    return found == links.end() ? cldr_id : found->second;
}

// The CLDR canonical ID of a name ICU knows as a zone ID or a link; empty
// for anything else (ICU answers custom IDs like "GMT+1" too, but those
// are no IANA zones).
std::string cldr_canonical_id(const std::string& name) {
    if (name.empty()) return {};
    UErrorCode status = U_ZERO_ERROR;
    UBool is_system_id = false;
    icu::UnicodeString canonical;
    icu::TimeZone::getCanonicalID(to_unicode(name), canonical, is_system_id, status);
    if (U_FAILURE(status) || !is_system_id) return {};
    std::string id = to_utf8(canonical);
    return id == UCAL_UNKNOWN_ZONE_ID ? std::string() : id;
}

// The zone Windows means by a Windows zone name, for the world ("001")
// rather than a particular country.
std::string windows_zone(const std::string& name) {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString id;
    icu::TimeZone::getIDForWindowsID(to_unicode(name), nullptr, id, status);
    return U_SUCCESS(status) ? cldr_canonical_id(to_utf8(id)) : std::string();
}

// Zone IDs ignoring case ("europe/berlin"), for producers that lower-case
// their TZIDs; only tried when the exact name is unknown.
std::string case_insensitive_zone(const std::string& name) {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::StringEnumeration> ids(icu::TimeZone::createEnumeration(status));
    if (U_FAILURE(status) || !ids) return {};
    const icu::UnicodeString wanted = to_unicode(name);
    while (const icu::UnicodeString* id = ids->snext(status)) {
        if (U_FAILURE(status)) break;
        if (id->caseCompare(wanted, U_FOLD_CASE_DEFAULT) == 0) return cldr_canonical_id(to_utf8(*id));
    }
    return {};
}

std::string known_zone_exactly(const std::string& name) {
    std::string id = cldr_canonical_id(name);
    if (id.empty()) id = windows_zone(name);
    return id;
}

// The tails of a path-prefixed TZID that may be a zone name, longest first:
// those after each of the last three '/' (no zone name has more than two,
// "America/Argentina/Buenos_Aires").
std::vector<std::string> path_tails(const std::string& name) {
    std::vector<std::string> tails;
    std::size_t slash = name.size();
    for (int i = 0; i < 3 && slash > 0; ++i) {
        slash = name.rfind('/', slash - 1);
        if (slash == std::string::npos) break;
        if (slash + 1 < name.size()) tails.insert(tails.begin(), name.substr(slash + 1));
    }
    return tails;
}

// The CLDR canonical ID for any name we accept, empty when unknown. Besides
// IANA names, links and Windows names, this takes the path-prefixed TZIDs
// of Mozilla and libical ("/mozilla.org/20070129_1/Europe/Berlin",
// "/freeassociation.sourceforge.net/Tzfile/Europe/Berlin") and names in
// the wrong case.
std::string resolve_zone(std::string_view name) {
    const std::string whole = trimmed(name);
    if (whole.empty()) return {};
    std::string id = known_zone_exactly(whole);
    if (id.empty()) {
        for (const std::string& tail : path_tails(whole)) {
            id = cldr_canonical_id(tail);
            if (!id.empty()) break;
        }
    }
    if (id.empty()) id = case_insensitive_zone(whole);
    return id;
}

// ---------------------------------------------------------------- zones --

std::unique_ptr<icu::BasicTimeZone> open_cldr_zone(const std::string& cldr_id) {
    if (cldr_id.empty()) return nullptr;
    std::unique_ptr<icu::TimeZone> zone(icu::TimeZone::createTimeZone(to_unicode(cldr_id)));
    if (auto* basic = dynamic_cast<icu::BasicTimeZone*>(zone.get())) {
        zone.release();
        return std::unique_ptr<icu::BasicTimeZone>(basic);
    }
    // Every zone ICU builds from its data is a BasicTimeZone; should that
    // ever change, a VTimeZone wraps the same rules.
    return std::unique_ptr<icu::BasicTimeZone>(icu::VTimeZone::createVTimeZoneByID(to_unicode(cldr_id)));
}

struct OpenZone {
    std::string cldr_id;  ///< empty: unknown
    std::unique_ptr<icu::BasicTimeZone> rules;
};

// Conversions come in bursts for one zone (every occurrence of a series),
// so each thread keeps the zones it opened (ICU zone objects are not meant
// to be shared between threads). Shared pointers: a caller's zone outlives
// the cache being emptied under it.
std::shared_ptr<const OpenZone> cached_zone(std::string_view name) {
    thread_local std::map<std::string, std::shared_ptr<const OpenZone>, std::less<>> cache;
    auto found = cache.find(name);
    if (found != cache.end()) return found->second;
    if (cache.size() >= 64) cache.clear();  // many distinct names: only a bound
    auto zone = std::make_shared<OpenZone>();
    zone->cldr_id = resolve_zone(name);
    zone->rules = open_cldr_zone(zone->cldr_id);
    if (!zone->rules) zone->cldr_id.clear();
    cache.emplace(std::string(name), zone);
    return zone;
}

// Offset (seconds) at a UTC instant: raw (standard) and daylight saving.
struct Offsets {
    Seconds raw = 0, dst = 0;
    Seconds total() const { return raw + dst; }
};

Offsets offsets_at(const icu::TimeZone& zone, Seconds instant) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t raw = 0, dst = 0;
    zone.getOffset(to_udate(instant), false, raw, dst, status);
    if (U_FAILURE(status)) return {};
    return {raw / 1000, dst / 1000};
}

// The offset that applies to a wall clock reading. RFC 5545 §3.3.5: a time
// that does not exist (skipped by a transition to daylight saving time) is
// read with the offset before the gap, which moves it forward by the gap
// (02:30 on the day Berlin skips 02:00-03:00 is 01:30Z = 03:30 CEST); a time
// that exists twice means its first occurrence, the one before the
// transition (02:30 on the day Berlin repeats 02:00-03:00 is 00:30Z, still
// CEST). ICU's "former" option gives both.
Seconds offset_for_wall_time(const icu::BasicTimeZone& zone, Seconds wall) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t raw = 0, dst = 0;
    zone.getOffsetFromLocal(to_udate(wall), UCAL_TZ_LOCAL_FORMER, UCAL_TZ_LOCAL_FORMER, raw, dst, status);
    if (U_FAILURE(status)) return 0;
    return (raw + dst) / 1000;
}

// The UTC instant a date-time stands for: a UTC time as it is, a zoned one
// through its zone, a floating one (no zone to say otherwise) and a date
// (its midnight) read as UTC.
std::optional<Seconds> instant_of(const DateTime& t) {
    if (!has_convertible_fields(t)) return std::nullopt;
    if (t.kind == DateTime::Kind::zoned) {
        const DateTime utc = to_utc(t);
        if (utc.kind != DateTime::Kind::utc) return std::nullopt;
        return wall_seconds(utc);
    }
    if (t.kind == DateTime::Kind::date) return days_from_civil(t.year, t.month, t.day) * kSecondsPerDay;
    return wall_seconds(t);
}

// --------------------------------------------------------- transitions --

struct Transition {
    Seconds at = 0;
    Offsets before, after;
};

Offsets offsets_of_rule(const icu::TimeZoneRule* rule) {
    if (!rule) return {};
    return {rule->getRawOffset() / 1000, rule->getDSTSavings() / 1000};
}

Transition from_icu(const icu::TimeZoneTransition& transition) {
    return {from_udate(transition.getTime()), offsets_of_rule(transition.getFrom()),
            offsets_of_rule(transition.getTo())};
}

std::optional<Transition> next_transition(const icu::BasicTimeZone& zone, Seconds after, bool inclusive) {
    icu::TimeZoneTransition transition;
    if (!zone.getNextTransition(to_udate(after), inclusive, transition)) return std::nullopt;
    return from_icu(transition);
}

std::optional<Transition> previous_transition(const icu::BasicTimeZone& zone, Seconds before, bool inclusive) {
    icu::TimeZoneTransition transition;
    if (!zone.getPreviousTransition(to_udate(before), inclusive, transition)) return std::nullopt;
    return from_icu(transition);
}

bool starts_daylight_time(const Transition& t) { return t.before.dst == 0 && t.after.dst != 0; }
bool ends_daylight_time(const Transition& t) { return t.after.dst == 0; }

// ------------------------------------------------------ abbreviations --

const icu::TimeZoneNames* zone_names_for(const std::string& locale) {
    thread_local std::map<std::string, std::unique_ptr<icu::TimeZoneNames>> by_locale;
    auto found = by_locale.find(locale);
    if (found != by_locale.end()) return found->second.get();
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::TimeZoneNames> names(icu::TimeZoneNames::createInstance(icu::Locale(locale.c_str()), status));
    if (U_FAILURE(status)) names.reset();
    return by_locale.emplace(locale, std::move(names)).first->second.get();
}

std::string zone_region(const std::string& cldr_id) {
    UErrorCode status = U_ZERO_ERROR;
    char region[8] = {};
    icu::TimeZone::getRegion(to_unicode(cldr_id), region, sizeof region, status);
    return U_SUCCESS(status) ? std::string(region) : std::string();
}

// CLDR has abbreviations like "CET"/"CEST" or "AEST" only in the English of
// the countries that use them, so ask the English of the zone's own country
// first, then plain, European and British English. Empty when none knows
// one (Asia/Tokyo has none in CLDR).
std::string abbreviation(const std::string& cldr_id, bool daylight, Seconds when) {
    const std::string region = zone_region(cldr_id);
    const std::string locales[] = {region.empty() || region == "001" ? std::string("en") : "en_" + region, "en",
                                   "en_150", "en_GB"};
    const UTimeZoneNameType type = daylight ? UTZNM_SHORT_DAYLIGHT : UTZNM_SHORT_STANDARD;
    for (const std::string& locale : locales) {
        const icu::TimeZoneNames* names = zone_names_for(locale);
        if (!names) continue;
        icu::UnicodeString name;
        names->getDisplayName(to_unicode(cldr_id), type, to_udate(when), name);
        if (!name.isEmpty()) return to_utf8(name);
    }
    return {};
}

// An abbreviation, else ICU's localized GMT format ("GMT+9", "GMT+5:30"):
// vCalendar wants some name in a DAYLIGHT line.
std::string name_for_vcal(const icu::BasicTimeZone& zone, const std::string& cldr_id, bool daylight, Seconds when) {
    std::string name = abbreviation(cldr_id, daylight, when);
    if (!name.empty()) return name;
    icu::UnicodeString gmt;
    zone.getDisplayName(daylight, icu::TimeZone::SHORT, icu::Locale::getEnglish(), gmt);
    return to_utf8(gmt);
}

// ------------------------------------------------------ vCalendar periods --

// The transition that started the daylight saving time in force at
// `instant` (walking back over transitions inside it, which only change its
// offset); nullopt when the zone has none before.
std::optional<Transition> start_of_daylight_time_at(const icu::BasicTimeZone& zone, Seconds instant) {
    std::optional<Transition> t = previous_transition(zone, instant, true);
    for (int guard = 0; t && !starts_daylight_time(*t) && guard < 16; ++guard)
        t = previous_transition(zone, t->at, false);
    if (t && starts_daylight_time(*t)) return t;
    return std::nullopt;
}

// When the daylight saving time begun by `start` ends; `otherwise` when the
// zone never leaves it again.
Seconds end_of_daylight_time(const icu::BasicTimeZone& zone, const Transition& start, Seconds otherwise) {
    std::optional<Transition> t = next_transition(zone, start.at, false);
    for (int guard = 0; t && !ends_daylight_time(*t) && guard < 16; ++guard) t = next_transition(zone, t->at, false);
    return t && ends_daylight_time(*t) ? t->at : otherwise;
}

DaylightPeriod make_period(const icu::BasicTimeZone& zone, const std::string& cldr_id, const Transition& start,
                           Seconds end) {
    DaylightPeriod period;
    period.offset = static_cast<int>(start.after.total());
    period.begin = utc_at(start.at);
    period.end = utc_at(end);
    period.standard_name = name_for_vcal(zone, cldr_id, false, start.at);
    period.daylight_name = name_for_vcal(zone, cldr_id, true, start.at);
    return period;
}

// ------------------------------------------------------ matching vCal --

// The instants a DAYLIGHT line's begin or end may stand for. The model
// says UTC; a floating time is read as local time, in standard or in
// daylight time (producers differ: "02:00" and "03:00" both begin EU
// summer time), and either reading may match.
std::vector<Seconds> readings_of(const DateTime& t, Seconds standard_offset, Seconds daylight_offset) {
    if (t.kind == DateTime::Kind::floating && has_convertible_fields(t))
        return {wall_seconds(t) - standard_offset, wall_seconds(t) - daylight_offset};
    if (std::optional<Seconds> instant = instant_of(t)) return {*instant};
    return {};
}

bool near_any(Seconds instant, const std::vector<Seconds>& readings) {
    return std::any_of(readings.begin(), readings.end(),
                       [&](Seconds reading) { return std::llabs(instant - reading) <= kTransitionTolerance; });
}

// The zone's transition within the tolerance of one of the readings.
std::optional<Transition> transition_near(const icu::BasicTimeZone& zone, const std::vector<Seconds>& readings) {
    for (Seconds reading : readings) {
        std::optional<Transition> t = previous_transition(zone, reading + kTransitionTolerance, true);
        if (t && near_any(t->at, {reading})) return t;
    }
    return std::nullopt;
}

// Whether `zone` has this daylight saving period: DST begins at `begin`
// (from standard time, to the period's offset) and ends at `end` (back to
// standard time), each within the tolerance, with nothing in between.
bool has_period(const icu::BasicTimeZone& zone, Seconds standard_offset, const DaylightPeriod& period) {
    const std::optional<Transition> start =
        transition_near(zone, readings_of(period.begin, standard_offset, period.offset));
    if (!start || !starts_daylight_time(*start) || start->before.total() != standard_offset ||
        start->after.total() != period.offset)
        return false;
    const std::optional<Transition> stop = next_transition(zone, start->at, false);
    return stop && near_any(stop->at, readings_of(period.end, standard_offset, period.offset)) &&
           ends_daylight_time(*stop) && stop->after.total() == standard_offset;
}

Seconds now_seconds() { return from_udate(icu::Calendar::getNow()); }

// A zone fits vCalendar lines when it has every DAYLIGHT period they give.
// Without DAYLIGHT lines only TZ is known (the producer may simply not have
// said), so a zone fits when its standard offset is TZ's today.
bool fits(const icu::BasicTimeZone& zone, const VcalZone& lines) {
    if (lines.daylight.empty()) return offsets_at(zone, now_seconds()).raw == lines.standard_offset;
    return std::all_of(lines.daylight.begin(), lines.daylight.end(),
                       [&](const DaylightPeriod& period) { return has_period(zone, lines.standard_offset, period); });
}

// The IDs (CLDR, in ICU's order: alphabetical) of the location zones whose
// standard offset today is `offset`.
std::vector<std::string> zones_with_standard_offset(Seconds offset) {
    std::vector<std::string> ids;
    UErrorCode status = U_ZERO_ERROR;
    const int32_t raw_millis = static_cast<int32_t>(offset * 1000);
    std::unique_ptr<icu::StringEnumeration> found(
        icu::TimeZone::createTimeZoneIDEnumeration(UCAL_ZONE_TYPE_CANONICAL_LOCATION, nullptr, &raw_millis, status));
    if (U_FAILURE(status) || !found) return ids;
    while (const icu::UnicodeString* id = found->snext(status)) {
        if (U_FAILURE(status)) break;
        ids.push_back(to_utf8(*id));
    }
    return ids;
}

// Whether CLDR names this zone the reference of its metazone (the zone that
// stands for "Central European Time": Europe/Paris).
bool is_metazone_reference(const std::string& cldr_id, Seconds when) {
    const icu::TimeZoneNames* names = zone_names_for("en");
    if (!names) return false;
    icu::UnicodeString metazone, reference;
    names->getMetaZoneID(to_unicode(cldr_id), to_udate(when), metazone);
    if (metazone.isEmpty()) return false;
    names->getReferenceZoneID(metazone, "001", reference);
    return reference == to_unicode(cldr_id);
}

// Whether Windows maps one of its zone names to this zone for the world
// ("GMT Standard Time" -> Europe/London).
bool is_windows_reference(const std::string& cldr_id) {
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString windows_id, reference;
    icu::TimeZone::getWindowsID(to_unicode(cldr_id), windows_id, status);
    if (U_FAILURE(status) || windows_id.isEmpty()) return false;
    icu::TimeZone::getIDForWindowsID(windows_id, nullptr, reference, status);
    return U_SUCCESS(status) && reference == to_unicode(cldr_id);
}

// Several zones share rules (all of central Europe, all of US Eastern);
// the choice among them is deterministic: the zone Windows names for the
// world and CLDR makes the reference of its metazone beats one that is
// only Windows' (Europe/London: its metazone's reference is Reykjavik,
// which has no DST), which beats one that is only CLDR's (Atlantic/Canary),
// then ICU's (alphabetical) order. So central European lines give
// Europe/Paris, US Eastern America/New_York, UK lines Europe/London.
std::string best_known(const std::vector<std::string>& cldr_ids, Seconds when) {
    std::string best;
    int best_rank = -1;
    for (const std::string& id : cldr_ids) {
        const int rank = (is_windows_reference(id) ? 2 : 0) + (is_metazone_reference(id, when) ? 1 : 0);
        if (rank > best_rank) {
            best = id;
            best_rank = rank;
        }
    }
    return best;
}

std::vector<std::string> fitting_zones(const std::vector<std::string>& candidates, const VcalZone& lines,
                                       bool without_daylight_time) {
    std::vector<std::string> fitting;
    const Seconds now = now_seconds();
    for (const std::string& id : candidates) {
        std::unique_ptr<icu::BasicTimeZone> zone = open_cldr_zone(id);
        if (!zone || !fits(*zone, lines)) continue;
        if (without_daylight_time && (zone->useDaylightTime() || offsets_at(*zone, now).dst != 0)) continue;
        fitting.push_back(id);
    }
    return fitting;
}

// TZ without DAYLIGHT: a zone that never has daylight saving time. For
// whole hours that is "Etc/GMT-1" (POSIX sign: UTC+1), which says exactly
// "this fixed offset"; other offsets (+05:30) take a location zone without
// DST.
std::string zone_without_daylight_time(const VcalZone& lines) {
    const Seconds offset = lines.standard_offset;
    if (offset == 0) return "Etc/UTC";
    if (offset % 3600 == 0 && offset >= -12 * 3600 && offset <= 14 * 3600) {
        const Seconds hours = offset / 3600;
        return std::string("Etc/GMT") + (hours > 0 ? "-" : "+") + std::to_string(std::llabs(hours));
    }
    return best_known(fitting_zones(zones_with_standard_offset(offset), lines, true), now_seconds());
}

// ----------------------------------------------------------- VTIMEZONE --

std::vector<std::string> split_crlf_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) lines.push_back(std::move(line));
        start = end + 1;
    }
    return lines;
}

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// One STANDARD or DAYLIGHT block of ICU's VTIMEZONE.
struct Observance {
    bool daylight = false;
    std::vector<std::string> lines;  ///< without BEGIN/END
    int start_year = 0;
    Seconds start = 0;  ///< DTSTART read as UTC (good enough to pick a name)
};

std::optional<Seconds> parse_dtstart(std::string_view value) {
    if (value.size() < 8) return std::nullopt;
    for (int i = 0; i < 8; ++i)
        if (!std::isdigit(static_cast<unsigned char>(value[i]))) return std::nullopt;
    const int year = std::atoi(std::string(value.substr(0, 4)).c_str());
    const int month = std::atoi(std::string(value.substr(4, 2)).c_str());
    const int day = std::atoi(std::string(value.substr(6, 2)).c_str());
    return days_from_civil(year, month, day) * kSecondsPerDay;
}

// ICU's text cut into what lies outside the observances and the observances.
std::vector<Observance> observances_of(const std::string& text) {
    std::vector<Observance> observances;
    Observance* open = nullptr;
    for (const std::string& line : split_crlf_lines(text)) {
        if (line == "BEGIN:STANDARD" || line == "BEGIN:DAYLIGHT") {
            observances.push_back({line == "BEGIN:DAYLIGHT", {}, 0, 0});
            open = &observances.back();
        } else if (line == "END:STANDARD" || line == "END:DAYLIGHT") {
            open = nullptr;
        } else if (open) {
            if (starts_with(line, "DTSTART:")) {
                if (std::optional<Seconds> start = parse_dtstart(line.substr(8))) {
                    open->start = *start;
                    open->start_year = static_cast<int>(civil_from_days(floor_div(*start, kSecondsPerDay)).year);
                }
            }
            open->lines.push_back(line);
        }
    }
    return observances;
}

// Observances that begin after the years asked for are of no use to the
// item (Africa/Casablanca has one per Ramadan until 2087); the first one is
// always kept so that the zone has at least one.
void drop_observances_after(std::vector<Observance>& observances, int last_year) {
    if (observances.empty()) return;
    auto unused = std::remove_if(observances.begin() + 1, observances.end(),
                                 [&](const Observance& o) { return o.start_year > last_year; });
    observances.erase(unused, observances.end());
}

// A TZID value on one or more lines of at most 75 octets, never split
// inside a UTF-8 sequence (the name is the caller's, it may be long).
void append_folded(std::string& out, const std::string& line) {
    std::size_t start = 0, limit = 75;
    while (line.size() - start > limit) {
        std::size_t cut = start + limit;
        while (cut > start + 1 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
        out += line.substr(start, cut - start) + "\r\n ";
        start = cut;
        limit = 74;  // the fold's space counts
    }
    out += line.substr(start) + "\r\n";
}

// A TZID is text on one content line: control characters cannot be in it.
std::string without_controls(std::string_view text) {
    std::string out;
    for (char c : text)
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) out += c;
    return out;
}

// ICU writes offsets with seconds ("+020000"); RFC 5545 allows that, but
// the usual form ("+0200") is what every reader knows.
std::string offset_in_short_form(const std::string& line) {
    const std::size_t colon = line.find(':');
    const std::optional<int> offset = parse_offset(std::string_view(line).substr(colon + 1));
    return offset ? line.substr(0, colon + 1) + format_offset(*offset, false) : line;
}

// ICU writes "TZNAME:(STD)" / "(DST)" placeholders and an X-TZINFO line
// naming its data version (which would make the text change with every
// ICU update): the observances get the real abbreviation (or no TZNAME
// when CLDR has none), the X-TZINFO goes.
std::string render_vtimezone(std::string_view tzid, const std::string& cldr_id,
                             const std::vector<Observance>& observances) {
    std::string out = "BEGIN:VTIMEZONE\r\n";
    append_folded(out, "TZID:" + without_controls(tzid));
    for (const Observance& o : observances) {
        const char* kind = o.daylight ? "DAYLIGHT" : "STANDARD";
        out += std::string("BEGIN:") + kind + "\r\n";
        for (const std::string& line : o.lines) {
            if (starts_with(line, "TZNAME:")) {
                const std::string name = abbreviation(cldr_id, o.daylight, o.start + kSecondsPerDay);
                if (!name.empty()) out += "TZNAME:" + name + "\r\n";
            } else if (starts_with(line, "TZOFFSETFROM:") || starts_with(line, "TZOFFSETTO:")) {
                out += offset_in_short_form(line) + "\r\n";
            } else {
                out += line + "\r\n";
            }
        }
        out += std::string("END:") + kind + "\r\n";
    }
    out += "END:VTIMEZONE\r\n";
    return out;
}

}  // namespace

// ================================================================ public ==

namespace {

// Answers worth remembering: a phone sends the same TZ and DAYLIGHT lines
// with every item, and an item's TZID recurs in every item of a calendar,
// while finding the answer walks ICU's zone data (up to milliseconds). A
// bounded number of answers, shared by all threads.
template <typename Value>
class Memo {
public:
    std::optional<Value> find(const std::string& key) {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = answers_.find(key);
        if (it == answers_.end()) return std::nullopt;
        return it->second;
    }
    void remember(const std::string& key, const Value& answer) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (answers_.size() >= kCapacity) answers_.clear();  // rare: many distinct zones at once
        answers_.emplace(key, answer);
    }

private:
    static constexpr std::size_t kCapacity = 512;
    std::mutex mutex_;
    std::unordered_map<std::string, Value> answers_;
};

std::string date_time_key(const DateTime& t) {
    return std::to_string(t.year) + "-" + std::to_string(t.month) + "-" + std::to_string(t.day) + "T" +
           std::to_string(t.hour) + ":" + std::to_string(t.minute) + ":" + std::to_string(t.second) + "/" +
           std::to_string(static_cast<int>(t.kind));
}

std::string vcal_zone_key(const VcalZone& zone, std::string_view preferred) {
    std::string key = std::to_string(zone.standard_offset) + "|" + std::string(preferred);
    for (const DaylightPeriod& p : zone.daylight)
        key += "|" + std::to_string(p.offset) + "," + date_time_key(p.begin) + "," + date_time_key(p.end);
    return key;
}

}  // namespace

std::string canonical_zone(std::string_view name) {
    static Memo<std::string> memo;
    const std::string key(name);
    if (std::optional<std::string> known = memo.find(key)) return *known;
    const std::string cldr_id = resolve_zone(name);
    std::string answer = cldr_id.empty() ? std::string() : iana_name(cldr_id);
    memo.remember(key, answer);
    return answer;
}

DateTime to_utc(const DateTime& local, std::string_view tzid) {
    if (local.kind == DateTime::Kind::date || local.kind == DateTime::Kind::utc) return local;
    if (!has_convertible_fields(local)) return local;
    const std::string_view zone_name = tzid.empty() ? std::string_view(local.tzid) : tzid;
    const Seconds wall = wall_seconds(local);
    // An unknown zone (or none: a floating time with no zone given) is read
    // as UTC; the callers warn about the zone.
    const std::shared_ptr<const OpenZone> zone = cached_zone(zone_name);
    const Seconds offset = zone->rules ? offset_for_wall_time(*zone->rules, wall) : 0;
    return utc_at(wall - offset);
}

DateTime from_utc(const DateTime& utc, std::string_view tzid) {
    if (utc.kind == DateTime::Kind::date) return utc;
    const std::optional<Seconds> instant = instant_of(utc);
    if (!instant) return utc;
    if (tzid.empty()) return utc_at(*instant);
    // Unknown zone: the time stays UTC's, labelled with the zone asked for.
    const std::shared_ptr<const OpenZone> zone = cached_zone(tzid);
    const Seconds offset = zone->rules ? offsets_at(*zone->rules, *instant).total() : 0;
    return date_time_at(*instant + offset, DateTime::Kind::zoned, std::string(tzid));
}

int utc_offset(std::string_view tzid, const DateTime& utc) {
    const std::optional<Seconds> instant = instant_of(utc);
    const std::shared_ptr<const OpenZone> zone = cached_zone(tzid);
    if (!instant || !zone->rules) return 0;
    return static_cast<int>(offsets_at(*zone->rules, *instant).total());
}

std::string vtimezone(std::string_view tzid, int first_year, int last_year) {
    const std::string cldr_id = resolve_zone(tzid);
    if (cldr_id.empty()) return {};
    std::unique_ptr<icu::VTimeZone> zone(icu::VTimeZone::createVTimeZoneByID(to_unicode(cldr_id)));
    if (!zone) return {};
    first_year = std::clamp(first_year, 2, 9999);
    last_year = std::clamp(last_year, first_year, 9999);
    // The rules in force from the year before on: the observance that is
    // current on 1 January of `first_year` then starts before it (readers
    // differ on what applies before the first observance).
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString text;
    zone->write(to_udate(start_of_year(first_year - 1)), text, status);
    if (U_FAILURE(status)) return {};
    std::vector<Observance> observances = observances_of(to_utf8(text));
    if (observances.empty()) return {};
    // ICU's observances run on for ever (RRULEs without UNTIL); only those
    // that begin after the years asked for are dropped.
    drop_observances_after(observances, last_year);
    return render_vtimezone(tzid, cldr_id, observances);
}

// Which year a DAYLIGHT period belongs to: the year in which it begins, in
// the zone's standard time. Australia/Sydney's period from October 2024 to
// April 2025 is 2024's. Besides the periods of `first_year` .. `last_year`
// the result also holds the period in force on 1 January of `first_year`
// (Sydney's from October of the year before), so that every instant of the
// years asked for is covered.
namespace {
std::optional<VcalZone> vcal_zone_uncached(std::string_view tzid, int first_year, int last_year);
}

std::optional<VcalZone> vcal_zone(std::string_view tzid, int first_year, int last_year) {
    static Memo<std::optional<VcalZone>> memo;
    const std::string key = std::string(tzid) + "|" + std::to_string(first_year) + "|" + std::to_string(last_year);
    if (std::optional<std::optional<VcalZone>> known = memo.find(key)) return *known;
    std::optional<VcalZone> answer = vcal_zone_uncached(tzid, first_year, last_year);
    memo.remember(key, answer);
    return answer;
}

namespace {
std::optional<VcalZone> vcal_zone_uncached(std::string_view tzid, int first_year, int last_year) {
    const std::shared_ptr<const OpenZone> open = cached_zone(tzid);
    if (!open->rules) return std::nullopt;
    const icu::BasicTimeZone& zone = *open->rules;
    first_year = std::clamp(first_year, 1, 9999);
    last_year = std::clamp(last_year, first_year, 9999);

    VcalZone out;
    out.standard_offset = static_cast<int>(offsets_at(zone, start_of_year(first_year)).raw);
    const Seconds range_begin = start_of_year(first_year) - out.standard_offset;
    const Seconds range_end = start_of_year(last_year + 1) - out.standard_offset;

    std::optional<Transition> next = next_transition(zone, range_begin, true);
    if (offsets_at(zone, range_begin).dst != 0) {
        if (std::optional<Transition> current = start_of_daylight_time_at(zone, range_begin)) next = current;
    }
    // Zones have at most a few transitions a year (Casablanca four).
    const int guard_limit = 8 * (last_year - first_year + 1) + 16;
    for (int guard = 0; next && next->at < range_end && guard < guard_limit; ++guard) {
        if (!starts_daylight_time(*next)) {
            next = next_transition(zone, next->at, false);
            continue;
        }
        const Seconds end = end_of_daylight_time(zone, *next, range_end);
        out.daylight.push_back(make_period(zone, open->cldr_id, *next, end));
        next = next_transition(zone, end, false);
    }
    return out;
}
}  // namespace

// The user's zone (`preferred`) first, when it fits. Without DAYLIGHT lines
// the user's zone fits by its standard offset alone, else a zone without
// DST is the answer (Etc/GMT-1 for +01:00). With DAYLIGHT lines the zones
// whose standard offset is TZ's today are tried, and of those that have
// every period the best known one is chosen (see best_known()). Zones
// whose standard offset has changed since the years of the lines are not
// found: the caller keeps a fixed-offset zone of its own.
namespace {

std::string match_vcal_zone_uncached(const VcalZone& zone, std::string_view preferred);

}  // namespace

std::string match_vcal_zone(const VcalZone& zone, std::string_view preferred) {
    static Memo<std::string> memo;
    const std::string key = vcal_zone_key(zone, preferred);
    if (std::optional<std::string> known = memo.find(key)) return *known;
    std::string answer = match_vcal_zone_uncached(zone, preferred);
    memo.remember(key, answer);
    return answer;
}

namespace {

std::string match_vcal_zone_uncached(const VcalZone& zone, std::string_view preferred) {
    if (std::llabs(static_cast<Seconds>(zone.standard_offset)) > kLargestOffset) return {};
    if (!preferred.empty()) {
        const std::string cldr_id = resolve_zone(preferred);
        std::unique_ptr<icu::BasicTimeZone> rules = open_cldr_zone(cldr_id);
        if (rules && fits(*rules, zone)) return iana_name(cldr_id);
    }
    if (zone.daylight.empty()) return iana_name(zone_without_daylight_time(zone));
    const std::optional<Seconds> first_begin = instant_of(zone.daylight.front().begin);
    if (!first_begin) return {};
    const std::vector<std::string> fitting =
        fitting_zones(zones_with_standard_offset(zone.standard_offset), zone, false);
    const std::string best = best_known(fitting, *first_begin);
    return best.empty() ? std::string() : iana_name(best);
}

}  // namespace

std::optional<int> parse_offset(std::string_view text) {
    const std::string value = trimmed(text);
    if (value.size() < 2 || (value[0] != '+' && value[0] != '-')) return std::nullopt;
    const bool negative = value[0] == '-';
    // Fields of hours, minutes, seconds: split at ':' or by position.
    std::vector<std::string> fields;
    const std::string digits = value.substr(1);
    if (digits.find(':') != std::string::npos) {
        std::size_t start = 0;
        for (std::size_t colon; (colon = digits.find(':', start)) != std::string::npos; start = colon + 1)
            fields.push_back(digits.substr(start, colon - start));
        fields.push_back(digits.substr(start));
        if (fields.size() > 3 || fields[0].empty() || fields[0].size() > 2) return std::nullopt;
        for (std::size_t i = 1; i < fields.size(); ++i)
            if (fields[i].size() != 2) return std::nullopt;
    } else if (digits.size() <= 2) {
        fields = {digits};
    } else if (digits.size() == 4 || digits.size() == 6) {
        for (std::size_t i = 0; i < digits.size(); i += 2) fields.push_back(digits.substr(i, 2));
    } else {
        return std::nullopt;
    }
    int parts[3] = {0, 0, 0};
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (!std::all_of(fields[i].begin(), fields[i].end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        parts[i] = std::atoi(fields[i].c_str());
    }
    if (parts[0] > 23 || parts[1] > 59 || parts[2] > 59) return std::nullopt;
    const int seconds = parts[0] * 3600 + parts[1] * 60 + parts[2];
    return negative ? -seconds : seconds;
}

std::string format_offset(int seconds, bool with_colon) {
    // RFC 5545 forbids "-0000": zero is "+".
    const Seconds magnitude = std::llabs(static_cast<Seconds>(seconds));
    auto two_digits = [](Seconds n) {
        std::string s = std::to_string(n);
        return s.size() < 2 ? "0" + s : s;
    };
    const char* separator = with_colon ? ":" : "";
    std::string out(1, seconds < 0 ? '-' : '+');
    out += two_digits(magnitude / 3600) + separator + two_digits(magnitude / 60 % 60);
    if (magnitude % 60 != 0) out += separator + two_digits(magnitude % 60);
    return out;
}

}  // namespace smk::pim::tz
