#include "pim/calendar_common.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "pim/recurrence.hpp"
#include "pim/timezone.hpp"
#include "wire/text.hpp"

namespace smk::pim::cal {
namespace {

constexpr std::int64_t kSecondsPerDay = 86400;

// Howard Hinnant's civil-calendar algorithms: proleptic Gregorian days
// since 1970-01-01, exact for every year we can meet.
std::int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

int days_in_month(int year, int month) {
    static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[month - 1];
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view digits) {
    int n = 0;
    for (char c : digits) n = n * 10 + (c - '0');
    return n;
}

// "2024-01-01T10:00:00Z" -> "20240101T100000Z": the separators of ISO 8601's
// extended form carry nothing the basic form lacks.
std::string basic_form(std::string_view text) {
    std::string out;
    for (char c : text)
        if (c != '-' && c != ':') out += c;
    return out;
}

bool plausible(const DateTime& v) {
    if (v.year < 1 || v.month < 1 || v.month > 12 || v.day < 1 || v.day > days_in_month(v.year, v.month)) return false;
    return v.hour <= 23 && v.minute <= 59 && v.second <= 60;
}

}  // namespace

std::vector<Component> build_components(const std::vector<ContentLine>& lines, std::vector<Warning>* warnings) {
    std::vector<Component> top;
    std::vector<Component> open;  // the innermost last
    auto close_innermost = [&] {
        Component done = std::move(open.back());
        open.pop_back();
        (open.empty() ? top : open.back().children).push_back(std::move(done));
    };
    for (const ContentLine& cl : lines) {
        if (cl.name == "BEGIN") {
            Component c;
            c.name = wire::to_upper(wire::trim(cl.value));
            c.line = cl.line;
            open.push_back(std::move(c));
            continue;
        }
        if (cl.name == "END") {
            std::string name = wire::to_upper(wire::trim(cl.value));
            auto match = std::find_if(open.rbegin(), open.rend(), [&](const Component& c) { return c.name == name; });
            if (match == open.rend()) {
                if (warnings) warnings->push_back({cl.line, "END:" + name + " closes nothing: ignored"});
                continue;
            }
            while (open.back().name != name) {
                if (warnings)
                    warnings->push_back({cl.line, open.back().name + " not closed before END:" + name + ": closed there"});
                close_innermost();
            }
            close_innermost();
            continue;
        }
        if (open.empty()) {
            if (warnings) warnings->push_back({cl.line, cl.name + " outside any component: dropped"});
            continue;
        }
        open.back().properties.push_back(cl);
    }
    while (!open.empty()) {
        if (warnings) warnings->push_back({open.back().line, open.back().name + " not closed: closed at the end"});
        close_innermost();
    }
    return top;
}

std::optional<DateTime> parse_date_time(std::string_view raw) {
    std::string text = basic_form(wire::trim(raw));
    DateTime v;
    if (text.size() < 8 || !all_digits(std::string_view(text).substr(0, 8))) return std::nullopt;
    v.year = number(std::string_view(text).substr(0, 4));
    v.month = number(std::string_view(text).substr(4, 2));
    v.day = number(std::string_view(text).substr(6, 2));
    if (text.size() == 8) {
        v.kind = DateTime::Kind::date;
        return plausible(v) ? std::optional<DateTime>(v) : std::nullopt;
    }
    std::string_view rest = std::string_view(text).substr(8);
    if (rest.size() < 7 || (rest[0] != 'T' && rest[0] != 't')) return std::nullopt;
    std::string_view clock = rest.substr(1, 6);
    std::string_view zone = rest.substr(7);
    if (!all_digits(clock)) return std::nullopt;
    v.hour = number(clock.substr(0, 2));
    v.minute = number(clock.substr(2, 2));
    v.second = number(clock.substr(4, 2));
    if (zone.empty()) v.kind = DateTime::Kind::floating;
    else if (zone == "Z" || zone == "z") v.kind = DateTime::Kind::utc;
    else return std::nullopt;
    return plausible(v) ? std::optional<DateTime>(v) : std::nullopt;
}

std::string format_date_time(const DateTime& v) {
    char buf[32];
    if (v.kind == DateTime::Kind::date) {
        std::snprintf(buf, sizeof buf, "%04d%02d%02d", v.year % 10000, v.month % 100, v.day % 100);
        return buf;
    }
    std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d%s", v.year % 10000, v.month % 100, v.day % 100,
                  v.hour % 100, v.minute % 100, v.second % 100, v.kind == DateTime::Kind::utc ? "Z" : "");
    return buf;
}

std::optional<Duration> parse_duration(std::string_view raw) {
    std::string text = wire::to_upper(wire::trim(raw));
    std::size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    if (i >= text.size() || text[i++] != 'P') return std::nullopt;
    bool in_time = false, any_part = false;
    std::int64_t total = 0;
    // Far beyond any real alarm or event (some 30 million years), and far
    // from overflowing when added to a time.
    constexpr std::int64_t kLimit = std::int64_t{1} << 50;
    while (i < text.size()) {
        if (text[i] == 'T') {
            if (in_time) return std::nullopt;
            in_time = true;
            ++i;
            continue;
        }
        std::int64_t n = 0;
        std::size_t digits_start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
            n = n * 10 + (text[i++] - '0');
            if (n > kLimit / (7 * kSecondsPerDay)) return std::nullopt;
        }
        if (i == digits_start || i >= text.size()) return std::nullopt;
        char unit = text[i++];
        std::int64_t scale = 0;
        if (!in_time && unit == 'W') scale = 7 * kSecondsPerDay;
        else if (!in_time && unit == 'D') scale = kSecondsPerDay;
        else if (in_time && unit == 'H') scale = 3600;
        else if (in_time && unit == 'M') scale = 60;
        else if (in_time && unit == 'S') scale = 1;
        else return std::nullopt;
        total += n * scale;
        if (total > kLimit) return std::nullopt;
        any_part = true;
    }
    if (!any_part) return std::nullopt;
    return Duration{negative ? -total : total};
}

std::string format_duration(const Duration& d) {
    std::int64_t s = d.seconds < 0 ? -d.seconds : d.seconds;
    std::string out = d.seconds < 0 ? "-P" : "P";
    if (s == 0) return "PT0S";
    if (s % (7 * kSecondsPerDay) == 0) return out + std::to_string(s / (7 * kSecondsPerDay)) + "W";
    if (s >= kSecondsPerDay) out += std::to_string(s / kSecondsPerDay) + "D";
    s %= kSecondsPerDay;
    if (s == 0) return out;
    out += 'T';
    if (s >= 3600) out += std::to_string(s / 3600) + "H";
    if (s % 3600 >= 60) out += std::to_string(s % 3600 / 60) + "M";
    if (s % 60) out += std::to_string(s % 60) + "S";
    return out;
}

std::int64_t wall_seconds(const DateTime& v) {
    std::int64_t days = days_from_civil(v.year, v.month, v.day);
    if (v.kind == DateTime::Kind::date) return days * kSecondsPerDay;
    return days * kSecondsPerDay + v.hour * 3600 + v.minute * 60 + v.second;
}

DateTime from_wall_seconds(std::int64_t seconds, DateTime::Kind kind, std::string_view tzid) {
    std::int64_t days = seconds / kSecondsPerDay;
    std::int64_t rest = seconds % kSecondsPerDay;
    if (rest < 0) rest += kSecondsPerDay, --days;
    DateTime v;
    civil_from_days(days, v.year, v.month, v.day);
    v.kind = kind;
    if (kind == DateTime::Kind::zoned) v.tzid = std::string(tzid);
    if (kind != DateTime::Kind::date) {
        v.hour = static_cast<int>(rest / 3600);
        v.minute = static_cast<int>(rest % 3600 / 60);
        v.second = static_cast<int>(rest % 60);
    }
    return v;
}

DateTime add_seconds(const DateTime& v, std::int64_t seconds) {
    return from_wall_seconds(wall_seconds(v) + seconds, v.kind, v.tzid);
}

DateTime add_days(const DateTime& v, int days) { return add_seconds(v, std::int64_t{days} * kSecondsPerDay); }

DateTime date_of(const DateTime& v) {
    DateTime d;
    d.year = v.year, d.month = v.month, d.day = v.day;
    d.kind = DateTime::Kind::date;
    return d;
}

DateTime midnight_of(const DateTime& date) {
    DateTime m = date_of(date);
    m.kind = DateTime::Kind::floating;
    return m;
}

int compare_wall(const DateTime& a, const DateTime& b) {
    std::int64_t x = wall_seconds(a), y = wall_seconds(b);
    return x < y ? -1 : x > y ? 1 : 0;
}

int current_year() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    return utc.tm_year + 1900;
}

int series_last_year(const Recurrence& rule, const DateTime& start) {
    // Beyond this a series' years are not worth a DAYLIGHT line or an
    // observance each (and a COUNT of a billion is not worth expanding).
    constexpr int kMostYears = 50;
    constexpr std::size_t kMostOccurrences = 5000;
    int last = std::max(start.year, current_year() + 5);
    if (rule.until && rule.until->valid()) last = std::max(start.year, rule.until->year);
    if (rule.count > 0) {
        std::size_t wanted = std::min(static_cast<std::size_t>(rule.count), kMostOccurrences);
        std::vector<DateTime> all = recurrence::expand(rule, start, wanted, start.year + kMostYears);
        last = all.empty() ? start.year : std::max(start.year, all.back().year);
    }
    return std::min(last, start.year + kMostYears);
}

std::string computable_zone(std::string_view tzid) {
    if (tzid.empty()) return {};
    return tz::canonical_zone(tzid);
}

std::optional<DateTime> to_utc(const DateTime& value, std::string_view fallback_zone) {
    if (!value.valid()) return std::nullopt;
    if (value.kind == DateTime::Kind::utc) return value;
    DateTime local = value.kind == DateTime::Kind::date ? midnight_of(value) : value;
    std::string zone = value.kind == DateTime::Kind::zoned ? computable_zone(value.tzid) : computable_zone(fallback_zone);
    if (zone.empty()) return std::nullopt;
    local.kind = DateTime::Kind::floating;
    local.tzid.clear();
    DateTime utc = tz::to_utc(local, zone);
    if (utc.kind != DateTime::Kind::utc || !utc.valid()) return std::nullopt;
    return utc;
}

// ------------------------------------------------------------ enumerations --

std::string status_from_vcal(std::string_view vcal, CalendarItem::Type type) {
    std::string s = wire::to_upper(wire::trim(vcal));
    const bool task = type == CalendarItem::Type::task;
    if (s == "NEEDS ACTION" || s == "NEEDS-ACTION") return "NEEDS-ACTION";
    if (s == "ACCEPTED") return task ? "IN-PROCESS" : "CONFIRMED";
    if (s == "DECLINED") return "CANCELLED";
    if (s == "SENT" || s == "DELEGATED") return task ? "NEEDS-ACTION" : "TENTATIVE";
    return s;
}

std::string status_to_vcal(std::string_view ical) {
    std::string s = wire::to_upper(ical);
    if (s == "NEEDS-ACTION") return "NEEDS ACTION";
    if (s == "IN-PROCESS") return "ACCEPTED";
    if (s == "CANCELLED") return "DECLINED";
    return s;
}

std::string partstat_from_vcal(std::string_view vcal) {
    std::string s = wire::to_upper(wire::trim(vcal));
    if (s == "NEEDS ACTION" || s == "SENT") return "NEEDS-ACTION";
    if (s == "CONFIRMED") return "ACCEPTED";
    return s;
}

std::string partstat_to_vcal(std::string_view ical) {
    std::string s = wire::to_upper(ical);
    if (s == "NEEDS-ACTION") return "NEEDS ACTION";
    if (s == "IN-PROCESS") return "ACCEPTED";
    return s;
}

int priority_from_vcal(int vcal) {
    switch (vcal) {
        case 1: return 1;
        case 2: return 5;
        case 3: return 9;
        default: return vcal >= 4 && vcal <= 9 ? vcal : 0;
    }
}

int priority_to_vcal(int ical) {
    if (ical <= 0 || ical > 9) return 0;
    if (ical <= 4) return 1;
    return ical == 5 ? 2 : 3;
}

std::string transparency_from_vcal(std::string_view vcal) {
    std::string s = wire::to_upper(wire::trim(vcal));
    if (s == "OPAQUE" || s == "TRANSPARENT") return s;
    auto n = parse_int(s);
    if (!n || *n < 0) return {};
    return *n == 0 ? "OPAQUE" : "TRANSPARENT";
}

std::string transparency_to_vcal(std::string_view ical) {
    std::string s = wire::to_upper(ical);
    if (s == "OPAQUE") return "0";
    if (s == "TRANSPARENT") return "1";
    return {};
}

std::string role_from_vcal_expect(std::string_view expect) {
    std::string s = wire::to_upper(wire::trim(expect));
    if (s == "REQUIRE" || s == "IMMEDIATE") return "REQ-PARTICIPANT";
    if (s == "REQUEST") return "OPT-PARTICIPANT";
    if (s == "FYI") return "NON-PARTICIPANT";
    return {};
}

std::string role_to_vcal_expect(std::string_view role) {
    std::string s = wire::to_upper(role);
    if (s == "REQ-PARTICIPANT" || s == "CHAIR") return "REQUIRE";
    if (s == "OPT-PARTICIPANT") return "REQUEST";
    if (s == "NON-PARTICIPANT") return "FYI";
    return {};
}

std::string ical_name_of(std::string_view vcal_name) {
    if (vcal_name == "DCREATED") return "CREATED";
    return std::string(vcal_name);
}

void note_sent_empty(std::vector<std::string>& sent_empty, std::string_view name) {
    if (std::find(sent_empty.begin(), sent_empty.end(), name) == sent_empty.end()) sent_empty.emplace_back(name);
}

std::optional<int> parse_int(std::string_view raw) {
    std::string_view text = wire::trim(raw);
    bool negative = false;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    if (!all_digits(text) || text.size() > 9) return std::nullopt;
    int n = number(text);
    return negative ? -n : n;
}

}  // namespace smk::pim::cal
