// Recurrence rules: RFC 5545 RECUR values, the vCalendar 1.0 basic grammar,
// and an RFC 5545 expander working on calendar fields only (no time zones:
// an occurrence is the start's wall-clock time on another day, in the
// start's kind and zone; the calendar modules convert before and after).
#include "pim/recurrence.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstdint>
#include <functional>
#include <limits>
#include <set>

#include "wire/text.hpp"

namespace smk::pim::recurrence {
namespace {

using Frequency = Recurrence::Frequency;
using WeekdayNum = Recurrence::WeekdayNum;

void warn(std::vector<Warning>* warnings, int line, std::string message) {
    if (warnings) warnings->push_back({line, std::move(message)});
}

// ------------------------------------------------------ civil calendar --

constexpr std::int64_t kSecondsPerDay = 86400;
constexpr int kLastWritableYear = 9999;  // four digits in every format we write

struct CivilDate {
    int year = 0, month = 0, day = 0;
};

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
    static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

int days_in_year(int year) { return is_leap_year(year) ? 366 : 365; }

// Days since 1970-01-01. Years are counted from 1 March so that the leap
// day is the last day of its year, and in 400-year cycles of 146097 days.
std::int64_t days_from_civil(int year, int month, int day) {
    const std::int64_t y = month <= 2 ? year - 1 : year;
    const std::int64_t cycle = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t year_of_cycle = y - cycle * 400;
    const std::int64_t month_from_march = (month + 9) % 12;
    const std::int64_t day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    const std::int64_t day_of_cycle = year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 + day_of_year;
    return cycle * 146097 + day_of_cycle - 719468;  // 719468: days from 0000-03-01 to 1970-01-01
}

CivilDate civil_from_days(std::int64_t days) {
    days += 719468;
    const std::int64_t cycle = (days >= 0 ? days : days - 146096) / 146097;
    const std::int64_t day_of_cycle = days - cycle * 146097;
    const std::int64_t year_of_cycle =
        (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36524 - day_of_cycle / 146096) / 365;
    const std::int64_t day_of_year = day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    const std::int64_t month_from_march = (5 * day_of_year + 2) / 153;
    const int day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    const int month = static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    const int year = static_cast<int>(year_of_cycle + cycle * 400 + (month <= 2 ? 1 : 0));
    return {year, month, day};
}

// 0 = Sunday; 1970-01-01 was a Thursday.
int weekday_of(std::int64_t days) { return static_cast<int>(((days % 7) + 7 + 4) % 7); }

int day_of_year(const CivilDate& date) {
    return static_cast<int>(days_from_civil(date.year, date.month, date.day) - days_from_civil(date.year, 1, 1)) + 1;
}

bool valid_civil(int year, int month, int day) {
    return year >= 1 && year <= kLastWritableYear && month >= 1 && month <= 12 && day >= 1 &&
           day <= days_in_month(year, month);
}

bool valid_date_time(const DateTime& dt) {
    return valid_civil(dt.year, dt.month, dt.day) && dt.hour >= 0 && dt.hour <= 23 && dt.minute >= 0 &&
           dt.minute <= 59 && dt.second >= 0 && dt.second <= 60;
}

std::int64_t day_number(const DateTime& dt) { return days_from_civil(dt.year, dt.month, dt.day); }

// The first day of week 1 of `year`: weeks begin on `week_start`, and week 1
// is the first one with at least four days in the year (RFC 5545 BYWEEKNO).
std::int64_t first_day_of_week_one(int year, int week_start) {
    const std::int64_t jan1 = days_from_civil(year, 1, 1);
    const int into_week = (weekday_of(jan1) - week_start + 7) % 7;
    return into_week <= 3 ? jan1 - into_week : jan1 - into_week + 7;
}

// Whether `day` lies in a week `by_week_no` names (negative: from the end
// of the week-numbering year the day belongs to).
bool week_number_matches(std::int64_t day, int year, int week_start, const std::vector<int>& by_week_no) {
    int week_year = year;
    if (day < first_day_of_week_one(year, week_start))
        week_year = year - 1;
    else if (day >= first_day_of_week_one(year + 1, week_start))
        week_year = year + 1;
    const std::int64_t week_one = first_day_of_week_one(week_year, week_start);
    const int week = static_cast<int>((day - week_one) / 7) + 1;
    const int weeks_in_year = static_cast<int>((first_day_of_week_one(week_year + 1, week_start) - week_one) / 7);
    for (int n : by_week_no)
        if (n == week || n == week - weeks_in_year - 1) return true;
    return false;
}

bool contains(const std::vector<int>& values, int value) {
    return std::find(values.begin(), values.end(), value) != values.end();
}

// ------------------------------------------------------ text of values --

const char* const kWeekdayNames[7] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};

std::optional<int> weekday_named(std::string_view name) {
    for (int i = 0; i < 7; ++i)
        if (name == kWeekdayNames[i]) return i;
    return std::nullopt;
}

// A whole decimal number with an optional sign, nothing else.
std::optional<int> parse_int(std::string_view text) {
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
        if (!text.empty() && text.front() == '-') return std::nullopt;
    }
    if (text.empty() || text.front() == '+') return std::nullopt;
    int value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

bool all_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int digits_value(std::string_view digits) {
    int value = 0;
    for (char c : digits) value = value * 10 + (c - '0');
    return value;
}

// "YYYYMMDD" (a date), "YYYYMMDDTHHMMSS" (floating), "...Z" (UTC).
std::optional<DateTime> parse_date_time(std::string_view text) {
    DateTime dt;
    if (text.size() < 8 || !all_digits(text.substr(0, 8))) return std::nullopt;
    dt.year = digits_value(text.substr(0, 4));
    dt.month = digits_value(text.substr(4, 2));
    dt.day = digits_value(text.substr(6, 2));
    if (text.size() == 8) {
        dt.kind = DateTime::Kind::date;
    } else {
        if (text.size() < 15 || (text[8] != 'T' && text[8] != 't') || !all_digits(text.substr(9, 6)))
            return std::nullopt;
        dt.hour = digits_value(text.substr(9, 2));
        dt.minute = digits_value(text.substr(11, 2));
        dt.second = digits_value(text.substr(13, 2));
        if (text.size() == 15)
            dt.kind = DateTime::Kind::floating;
        else if (text.size() == 16 && (text[15] == 'Z' || text[15] == 'z'))
            dt.kind = DateTime::Kind::utc;
        else
            return std::nullopt;
    }
    if (!valid_date_time(dt)) return std::nullopt;
    return dt;
}

std::string two_digits(int n) {
    return std::string{static_cast<char>('0' + n / 10 % 10), static_cast<char>('0' + n % 10)};
}

std::string format_date(const DateTime& dt) {
    std::string year = std::to_string(dt.year);
    return std::string(year.size() < 4 ? 4 - year.size() : 0, '0') + year + two_digits(dt.month) + two_digits(dt.day);
}

// A date as YYYYMMDD, anything else as a basic date-time, "Z" for UTC (a
// zoned time is written as its local time: the calendar modules convert
// zoned ends to UTC before they get here).
std::string format_date_time(const DateTime& dt) {
    if (dt.kind == DateTime::Kind::date) return format_date(dt);
    std::string out = format_date(dt) + "T" + two_digits(dt.hour) + two_digits(dt.minute) + two_digits(dt.second);
    if (dt.kind == DateTime::Kind::utc) out += 'Z';
    return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t from = 0;
    for (;;) {
        std::size_t at = text.find(separator, from);
        parts.push_back(text.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
        if (at == std::string_view::npos) return parts;
        from = at + 1;
    }
}

std::string join_ints(const std::vector<int>& values) {
    std::string out;
    for (int v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
    return out;
}

// ------------------------------------------------------------- RFC 5545 --

const char* const kFrequencyNames[7] = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"};

std::optional<Frequency> frequency_named(std::string_view name) {
    for (int i = 0; i < 7; ++i)
        if (name == kFrequencyNames[i]) return static_cast<Frequency>(i);
    return std::nullopt;
}

const char* frequency_name(Frequency f) { return kFrequencyNames[static_cast<int>(f)]; }

// Reads one RRULE at a time; each rule part has its own small reader.
class RruleReader {
public:
    RruleReader(int line, std::vector<Warning>* warnings) : line_(line), warnings_(warnings) {}

    std::optional<Recurrence> read(std::string_view value) {
        for (std::string_view part : split(value, ';')) read_part(wire::trim(part));
        if (!frequency_) {
            warn(warnings_, line_, "RRULE \"" + std::string(value) + "\" has no usable FREQ; the rule is dropped");
            return std::nullopt;
        }
        rule_.frequency = *frequency_;
        if (rule_.count > 0 && rule_.until) {
            warn(warnings_, line_, "RRULE has both COUNT and UNTIL; UNTIL is kept");
            rule_.count = 0;
        }
        return rule_;
    }

private:
    void read_part(std::string_view part) {
        if (part.empty()) return;  // a trailing or doubled ';'
        std::size_t equals = part.find('=');
        if (equals == std::string_view::npos) {
            warn(warnings_, line_, "RRULE part \"" + std::string(part) + "\" has no '='; skipped");
            return;
        }
        const std::string name = wire::to_upper(wire::trim(part.substr(0, equals)));
        const std::string value = wire::to_upper(wire::trim(part.substr(equals + 1)));
        if (!seen_.insert(name).second) {
            warn(warnings_, line_, "RRULE part " + name + " repeated; the first one is kept");
            return;
        }
        if (!read_known_part(name, value))
            warn(warnings_, line_, "RRULE part \"" + std::string(part) + "\" is unknown; skipped");
    }

    bool read_known_part(const std::string& name, const std::string& value) {
        if (name == "FREQ") read_frequency(value);
        else if (name == "INTERVAL") rule_.interval = read_positive(name, value, 1);
        else if (name == "COUNT") rule_.count = read_positive(name, value, 0);
        else if (name == "UNTIL") read_until(value);
        else if (name == "BYDAY") read_by_day(value);
        else if (name == "BYMONTHDAY") rule_.by_month_day = read_list(name, value, -31, 31);
        else if (name == "BYYEARDAY") rule_.by_year_day = read_list(name, value, -366, 366);
        else if (name == "BYWEEKNO") rule_.by_week_no = read_list(name, value, -53, 53);
        else if (name == "BYMONTH") rule_.by_month = read_list(name, value, 1, 12);
        else if (name == "BYSETPOS") rule_.by_set_pos = read_list(name, value, -366, 366);
        else if (name == "BYHOUR") rule_.by_hour = read_list(name, value, 0, 23);
        else if (name == "BYMINUTE") rule_.by_minute = read_list(name, value, 0, 59);
        else if (name == "BYSECOND") rule_.by_second = read_list(name, value, 0, 60);
        else if (name == "WKST") read_week_start(value);
        else return false;
        return true;
    }

    void read_frequency(const std::string& value) {
        frequency_ = frequency_named(value);
        if (!frequency_) warn(warnings_, line_, "RRULE FREQ \"" + value + "\" is unknown");
    }

    int read_positive(const std::string& name, const std::string& value, int fallback) {
        std::optional<int> n = parse_int(value);
        if (n && *n > 0) return *n;
        warn(warnings_, line_,
             "RRULE " + name + " \"" + value + "\" is not a positive number; " +
                 (fallback > 0 ? "1 is kept" : "the part is skipped"));
        return fallback;
    }

    void read_until(const std::string& value) {
        rule_.until = parse_date_time(value);
        if (!rule_.until) warn(warnings_, line_, "RRULE UNTIL \"" + value + "\" is not a date or date-time; skipped");
    }

    // Zero is never a valid BYxxx value except for the time parts, whose
    // ranges start at 0.
    std::vector<int> read_list(const std::string& name, const std::string& value, int lowest, int highest) {
        std::vector<int> values;
        for (std::string_view item : split(value, ',')) {
            std::optional<int> n = parse_int(wire::trim(item));
            if (n && *n >= lowest && *n <= highest && (*n != 0 || lowest == 0)) {
                if (!contains(values, *n)) values.push_back(*n);
            } else {
                warn(warnings_, line_, "RRULE " + name + " value \"" + std::string(item) + "\" is out of range; skipped");
            }
        }
        return values;
    }

    void read_by_day(const std::string& value) {
        for (std::string_view item : split(value, ',')) {
            item = wire::trim(item);
            std::optional<int> weekday = item.size() >= 2 ? weekday_named(item.substr(item.size() - 2)) : std::nullopt;
            std::string_view ordinal_text = item.substr(0, item.size() >= 2 ? item.size() - 2 : 0);
            std::optional<int> ordinal = ordinal_text.empty() ? std::optional<int>(0) : parse_int(ordinal_text);
            if (!weekday || !ordinal || *ordinal < -53 || *ordinal > 53 || (*ordinal == 0 && !ordinal_text.empty())) {
                warn(warnings_, line_, "RRULE BYDAY value \"" + std::string(item) + "\" is not a weekday; skipped");
                continue;
            }
            WeekdayNum wd{*ordinal, *weekday};
            if (std::find(rule_.by_day.begin(), rule_.by_day.end(), wd) == rule_.by_day.end()) rule_.by_day.push_back(wd);
        }
    }

    void read_week_start(const std::string& value) {
        std::optional<int> weekday = weekday_named(value);
        if (weekday)
            rule_.week_start = *weekday;
        else
            warn(warnings_, line_, "RRULE WKST \"" + value + "\" is not a weekday; MO is kept");
    }

    int line_;
    std::vector<Warning>* warnings_;
    Recurrence rule_;
    std::optional<Frequency> frequency_;
    std::set<std::string> seen_;
};

std::string format_by_day(const std::vector<WeekdayNum>& by_day) {
    std::string out;
    for (const WeekdayNum& wd : by_day) {
        if (!out.empty()) out += ',';
        if (wd.ordinal != 0) out += std::to_string(wd.ordinal);
        out += kWeekdayNames[((wd.weekday % 7) + 7) % 7];
    }
    return out;
}

// ------------------------------------------------------------ expansion --

// A moment on the start's wall clock: days since 1970 * 86400 + second of
// the day. Comparing these is comparing calendar fields.
using Moment = std::int64_t;

Moment moment_of(const DateTime& dt) {
    return day_number(dt) * kSecondsPerDay + dt.hour * 3600 + dt.minute * 60 + dt.second;
}

// The day a moment falls on (rounding down: moments before 1970 are negative).
std::int64_t day_of_moment(Moment moment) {
    return moment >= 0 ? moment / kSecondsPerDay : (moment - kSecondsPerDay + 1) / kSecondsPerDay;
}

DateTime date_time_at(Moment moment, const DateTime& start) {
    const std::int64_t day = day_of_moment(moment);
    const int second_of_day = static_cast<int>(moment - day * kSecondsPerDay);
    const CivilDate date = civil_from_days(day);
    DateTime dt = start;
    dt.year = date.year;
    dt.month = date.month;
    dt.day = date.day;
    if (start.kind != DateTime::Kind::date) {
        dt.hour = second_of_day / 3600;
        dt.minute = second_of_day / 60 % 60;
        dt.second = second_of_day % 60;
    }
    return dt;
}

// The last moment UNTIL allows. A date UNTIL covers its whole day. A UTC
// UNTIL against a floating or zoned start is compared as if it were on the
// start's clock: that is off by the zone's offset, which is why the
// calendar modules convert UNTIL to the start's frame before expanding.
Moment until_moment(const DateTime& until) {
    if (until.kind == DateTime::Kind::date) return day_number(until) * kSecondsPerDay + kSecondsPerDay - 1;
    return moment_of(until);
}

void sort_unique(std::vector<int>& values) {
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
}

bool is_sub_daily(Frequency f) {
    return f == Frequency::secondly || f == Frequency::minutely || f == Frequency::hourly;
}

// An empty limiting part allows every value.
bool allows(const std::vector<int>& limit, int value) { return limit.empty() || contains(limit, value); }

// RFC 5545's implicit parts: a rule with no day-level part repeats on the
// start's day of year / month / week; the time parts default to the start's.
Recurrence with_start_defaults(Recurrence rule, const DateTime& start) {
    const bool has_day_part = !rule.by_week_no.empty() || !rule.by_year_day.empty() || !rule.by_month_day.empty() ||
                              !rule.by_day.empty();
    if (!has_day_part) {
        if (rule.frequency == Frequency::yearly) {
            if (rule.by_month.empty()) rule.by_month = {start.month};
            rule.by_month_day = {start.day};
        } else if (rule.frequency == Frequency::monthly) {
            rule.by_month_day = {start.day};
        } else if (rule.frequency == Frequency::weekly) {
            rule.by_day = {{0, weekday_of(day_number(start))}};
        }
    }
    // In an hourly rule the hour comes from the period, not from the start
    // (and likewise for minutes and seconds): only finer parts default.
    const Frequency f = rule.frequency;
    if (rule.by_hour.empty() && !is_sub_daily(f)) rule.by_hour = {start.hour};
    if (rule.by_minute.empty() && f != Frequency::minutely && f != Frequency::secondly) rule.by_minute = {start.minute};
    if (rule.by_second.empty() && f != Frequency::secondly) rule.by_second = {start.second};
    if (start.kind == DateTime::Kind::date) rule.by_hour = rule.by_minute = rule.by_second = {0};
    sort_unique(rule.by_month);
    sort_unique(rule.by_hour);
    sort_unique(rule.by_minute);
    sort_unique(rule.by_second);
    rule.interval = std::max(1, rule.interval);
    rule.week_start = ((rule.week_start % 7) + 7) % 7;
    return rule;
}

// BYDAY with an ordinal counts within the month (MONTHLY, or YEARLY with
// BYMONTH) or the year (YEARLY); in other frequencies the ordinal has no
// meaning and the weekday alone counts.
bool by_day_matches(const Recurrence& rule, const CivilDate& date, int weekday) {
    for (const WeekdayNum& wd : rule.by_day) {
        if (wd.weekday != weekday) continue;
        const bool counted = wd.ordinal != 0 &&
                             (rule.frequency == Frequency::monthly || rule.frequency == Frequency::yearly);
        if (!counted) return true;
        const bool in_month = rule.frequency == Frequency::monthly || !rule.by_month.empty();
        const int position = in_month ? date.day : day_of_year(date);
        const int length = in_month ? days_in_month(date.year, date.month) : days_in_year(date.year);
        const int from_start = (position - 1) / 7 + 1;
        const int from_end = -((length - position) / 7 + 1);
        if (wd.ordinal == from_start || wd.ordinal == from_end) return true;
    }
    return false;
}

// `date` is civil_from_days(day), known to the caller.
bool day_matches(const Recurrence& rule, std::int64_t day, const CivilDate& date) {
    if (!rule.by_month.empty() && !contains(rule.by_month, date.month)) return false;
    if (!rule.by_week_no.empty() && !week_number_matches(day, date.year, rule.week_start, rule.by_week_no))
        return false;
    if (!rule.by_year_day.empty()) {
        const int yd = day_of_year(date);
        if (!contains(rule.by_year_day, yd) && !contains(rule.by_year_day, yd - days_in_year(date.year) - 1))
            return false;
    }
    if (!rule.by_month_day.empty()) {
        const int from_end = date.day - days_in_month(date.year, date.month) - 1;
        if (!contains(rule.by_month_day, date.day) && !contains(rule.by_month_day, from_end)) return false;
    }
    if (!rule.by_day.empty() && !by_day_matches(rule, date, weekday_of(day))) return false;
    return true;
}

bool day_matches(const Recurrence& rule, std::int64_t day) { return day_matches(rule, day, civil_from_days(day)); }

// The day after `date`.
void next_civil_day(CivilDate& date) {
    if (++date.day <= days_in_month(date.year, date.month)) return;
    date.day = 1;
    if (++date.month <= 12) return;
    date.month = 1;
    ++date.year;
}

// BYSETPOS picks from the sorted occurrences of one period.
std::vector<Moment> pick_set_positions(std::vector<Moment> sorted, const std::vector<int>& positions) {
    if (positions.empty()) return sorted;
    std::vector<Moment> picked;
    const int size = static_cast<int>(sorted.size());
    for (int pos : positions) {
        const int index = pos > 0 ? pos - 1 : size + pos;
        if (index >= 0 && index < size) picked.push_back(sorted[static_cast<std::size_t>(index)]);
    }
    std::sort(picked.begin(), picked.end());
    picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
    return picked;
}

int seconds_per_unit(Frequency f) {
    return f == Frequency::hourly ? 3600 : f == Frequency::minutely ? 60 : 1;
}

// Empty periods in a row after which a rule can never produce anything:
// the Gregorian calendar repeats every 400 years (146097 days, exactly
// 20871 weeks), so by then every phase of the interval has been seen.
std::int64_t empty_period_limit(Frequency f) {
    switch (f) {
    case Frequency::yearly: return 400;
    case Frequency::monthly: return 4800;
    case Frequency::weekly: return 20871;
    case Frequency::daily: return 146097;
    default: return std::numeric_limits<std::int64_t>::max();  // sub-daily: kWorkLimit bounds it
    }
}

// No expansion walks more periods than this, whatever the rule: enough for
// an hourly rule over a century or a minutely one over two years.
constexpr std::int64_t kWorkLimit = 1'000'000;

// Walks the periods of a series (years, months, weeks, days, or hours,
// minutes, seconds), each giving its occurrences in order.
class Expander {
public:
    Expander(const Recurrence& rule, const DateTime& start, int last_year)
        : rule_(with_start_defaults(rule, start)), start_(start), start_moment_(moment_of(start)) {
        end_ = days_from_civil(std::min(last_year, kLastWritableYear) + 1, 1, 1) * kSecondsPerDay - 1;
        if (rule.until && valid_date_time(*rule.until)) end_ = std::min(end_, until_moment(*rule.until));
        cursor_ = first_cursor();
    }

    // Calls `emit` with each occurrence after the start until it returns
    // false, the series ends, or `max_periods` periods (-1: any) are done.
    // False only in the last case (or at the work limit): the walk was cut
    // short and what follows is not known.
    bool run(std::int64_t max_periods, const std::function<bool(Moment)>& emit) {
        if (set_positions_unreachable()) return true;
        std::int64_t empty_run = 0;
        for (std::int64_t periods = 0; periods < kWorkLimit; ++periods) {
            if (max_periods >= 0 && periods >= max_periods) return false;
            if (period_begin() > end_) return true;
            bool produced = false;
            for (Moment m : pick_set_positions(candidates(), rule_.by_set_pos)) {
                if (m <= start_moment_) continue;
                if (m > end_) return true;
                produced = true;
                if (!emit(m)) return true;
            }
            empty_run = produced ? 0 : empty_run + 1;
            if (empty_run > empty_period_limit(rule_.frequency)) return true;
            advance();
        }
        return false;
    }

private:
    // At most how many candidates one period can hold.
    std::int64_t period_capacity() const {
        const std::int64_t times = static_cast<std::int64_t>(rule_.by_hour.size()) *
                                   std::max<std::size_t>(rule_.by_minute.size(), 1) *
                                   std::max<std::size_t>(rule_.by_second.size(), 1);
        switch (rule_.frequency) {
        case Frequency::yearly: return 366 * times;
        case Frequency::monthly: return 31 * times;
        case Frequency::weekly: return 7 * times;
        case Frequency::daily: return times;
        case Frequency::hourly:
            return static_cast<std::int64_t>(std::max<std::size_t>(rule_.by_minute.size(), 1) *
                                             std::max<std::size_t>(rule_.by_second.size(), 1));
        case Frequency::minutely: return static_cast<std::int64_t>(std::max<std::size_t>(rule_.by_second.size(), 1));
        default: return 1;
        }
    }

    // "BYSETPOS=2" in an hourly rule with one candidate per hour picks
    // nothing, ever: no need to walk a million hours to find that out.
    bool set_positions_unreachable() const {
        if (rule_.by_set_pos.empty()) return false;
        const std::int64_t capacity = period_capacity();
        return std::all_of(rule_.by_set_pos.begin(), rule_.by_set_pos.end(),
                           [capacity](int pos) { return std::abs(std::int64_t{pos}) > capacity; });
    }

    std::int64_t first_cursor() const {
        const std::int64_t day = day_number(start_);
        switch (rule_.frequency) {
        case Frequency::yearly: return start_.year;
        case Frequency::monthly: return std::int64_t{start_.year} * 12 + start_.month - 1;
        case Frequency::weekly: return day - (weekday_of(day) - rule_.week_start + 7) % 7;
        case Frequency::daily: return day;
        default: {
            const int unit = seconds_per_unit(rule_.frequency);
            return start_moment_ - (start_moment_ - day * kSecondsPerDay) % unit;
        }
        }
    }

    // The first day of the current period and how many days it has (for
    // frequencies of a day or more).
    std::pair<std::int64_t, int> period_days() const {
        switch (rule_.frequency) {
        case Frequency::yearly: {
            const int year = static_cast<int>(cursor_);
            return {days_from_civil(year, 1, 1), days_in_year(year)};
        }
        case Frequency::monthly: {
            const int year = static_cast<int>(cursor_ / 12), month = static_cast<int>(cursor_ % 12) + 1;
            return {days_from_civil(year, month, 1), days_in_month(year, month)};
        }
        case Frequency::weekly: return {cursor_, 7};
        default: return {cursor_, 1};
        }
    }

    Moment period_begin() const {
        if (is_sub_daily(rule_.frequency)) return cursor_;
        if (rule_.frequency == Frequency::yearly && cursor_ > kLastWritableYear) return end_ + 1;
        if (rule_.frequency == Frequency::monthly && cursor_ / 12 > kLastWritableYear) return end_ + 1;
        return period_days().first * kSecondsPerDay;
    }

    void advance() {
        const std::int64_t interval = rule_.interval;
        switch (rule_.frequency) {
        case Frequency::weekly: cursor_ += 7 * interval; break;
        case Frequency::yearly:
        case Frequency::monthly:
        case Frequency::daily: cursor_ += interval; break;
        default: advance_sub_daily(interval * seconds_per_unit(rule_.frequency)); break;
        }
    }

    // A day the date parts rule out is skipped as a whole, so that an
    // hourly rule limited to one month does not walk every hour of the year.
    void advance_sub_daily(std::int64_t step) {
        const std::int64_t day = day_of_moment(cursor_);
        if (day_matches(rule_, day)) {
            cursor_ += step;
            return;
        }
        const Moment next_day = (day + 1) * kSecondsPerDay;
        cursor_ += (next_day - cursor_ + step - 1) / step * step;
    }

    std::vector<Moment> candidates() const {
        return is_sub_daily(rule_.frequency) ? sub_daily_candidates() : day_candidates();
    }

    std::vector<Moment> day_candidates() const {
        std::vector<Moment> out;
        const auto [first, length] = period_days();
        if (rule_.frequency == Frequency::yearly && !rule_.by_month.empty()) {
            // Only the months BYMONTH names can match: no need to test the others' days.
            const int year = static_cast<int>(cursor_);
            for (int month : rule_.by_month)
                add_matching_days(days_from_civil(year, month, 1), days_in_month(year, month), out);
        } else {
            add_matching_days(first, length, out);
        }
        return out;
    }

    void add_matching_days(std::int64_t first, int length, std::vector<Moment>& out) const {
        // The date counted along with the day: no division per day.
        CivilDate date = civil_from_days(first);
        for (std::int64_t day = first; day < first + length; ++day, next_civil_day(date)) {
            if (!day_matches(rule_, day, date)) continue;
            for (int h : rule_.by_hour)
                for (int m : rule_.by_minute)
                    for (int s : rule_.by_second) out.push_back(day * kSecondsPerDay + h * 3600 + m * 60 + s);
        }
    }

    // Time parts coarser than or as coarse as the frequency limit the
    // period's own value; finer ones expand (RFC 5545 §3.3.10's table).
    std::vector<Moment> sub_daily_candidates() const {
        const std::int64_t day = day_of_moment(cursor_);
        if (start_.kind == DateTime::Kind::date || !day_matches(rule_, day)) return {};
        const int second_of_day = static_cast<int>(cursor_ - day * kSecondsPerDay);
        const int hour = second_of_day / 3600, minute = second_of_day / 60 % 60, second = second_of_day % 60;
        const bool minute_fixed = rule_.frequency != Frequency::hourly;
        const bool second_fixed = rule_.frequency == Frequency::secondly;
        if (!allows(rule_.by_hour, hour) || (minute_fixed && !allows(rule_.by_minute, minute)) ||
            (second_fixed && !allows(rule_.by_second, second)))
            return {};
        std::vector<Moment> out;
        for (int m : minute_fixed ? std::vector<int>{minute} : rule_.by_minute)
            for (int s : second_fixed ? std::vector<int>{second} : rule_.by_second)
                out.push_back(day * kSecondsPerDay + hour * 3600 + m * 60 + s);
        return out;
    }

    Recurrence rule_;
    DateTime start_;
    Moment start_moment_;
    Moment end_ = 0;
    std::int64_t cursor_ = 0;
};

bool rule_start_usable(const DateTime& start) { return valid_date_time(start); }

// A whole day has no hours to repeat in.
bool expandable(const Recurrence& rule, const DateTime& start) {
    return rule_start_usable(start) && !(start.kind == DateTime::Kind::date && is_sub_daily(rule.frequency));
}

// expand() with a bound on the number of periods (-1: none), which reading
// "#N" as a number of intervals needs.
std::vector<DateTime> expand_periods(const Recurrence& rule, const DateTime& start, std::size_t limit, int last_year,
                                     std::int64_t max_periods) {
    std::vector<DateTime> out;
    if (limit == 0 || !rule_start_usable(start) || start.year > last_year) return out;
    if (rule.count > 0) limit = std::min(limit, static_cast<std::size_t>(rule.count));
    out.push_back(start);  // DTSTART is always the first occurrence
    if (out.size() >= limit || !expandable(rule, start)) return out;
    Expander(rule, start, last_year).run(max_periods, [&](Moment m) {
        out.push_back(date_time_at(m, start));
        return out.size() < limit;
    });
    return out;
}

// The number of occurrences (the start included) in the first
// `max_periods` periods, without keeping them.
std::int64_t count_in_periods(const Recurrence& rule, const DateTime& start, std::int64_t max_periods) {
    std::int64_t n = 1;
    if (expandable(rule, start)) Expander(rule, start, kLastWritableYear).run(max_periods, [&n](Moment) {
        ++n;
        return n < std::numeric_limits<int>::max();
    });
    return n;
}

// The last occurrence of a rule with a COUNT, without keeping the others.
DateTime last_of_count(const Recurrence& rule, const DateTime& start) {
    Moment last = moment_of(start);
    std::int64_t n = 1;
    if (rule.count > 1 && expandable(rule, start)) Expander(rule, start, kLastWritableYear).run(-1, [&](Moment m) {
        last = m;
        return ++n < rule.count;
    });
    return date_time_at(last, start);
}

// ----------------------------------------------------- vCalendar 1.0 read --

enum class VcalKind { daily, weekly, monthly_by_position, monthly_by_day, yearly_by_month, yearly_by_day };

struct VcalKindName {
    const char* prefix;
    VcalKind kind;
};
const VcalKindName kVcalKinds[] = {{"D", VcalKind::daily},
                                   {"W", VcalKind::weekly},
                                   {"MP", VcalKind::monthly_by_position},
                                   {"MD", VcalKind::monthly_by_day},
                                   {"YM", VcalKind::yearly_by_month},
                                   {"YD", VcalKind::yearly_by_day}};

struct VcalHead {
    VcalKind kind;
    std::string interval;  // the digits after the letters, maybe empty
};

// "MP2" -> monthly by position, "2".
std::optional<VcalHead> vcal_head(std::string_view token) {
    std::size_t letters = 0;
    while (letters < token.size() && std::isalpha(static_cast<unsigned char>(token[letters]))) ++letters;
    for (const VcalKindName& k : kVcalKinds)
        if (token.substr(0, letters) == k.prefix) return VcalHead{k.kind, std::string(token.substr(letters))};
    return std::nullopt;
}

// Another rule's head ("W1", "MD2") after the first rule's tokens.
bool looks_like_rule_head(std::string_view token) {
    std::optional<VcalHead> head = vcal_head(token);
    return head && all_digits(head->interval);
}

Frequency frequency_of(VcalKind kind) {
    switch (kind) {
    case VcalKind::daily: return Frequency::daily;
    case VcalKind::weekly: return Frequency::weekly;
    case VcalKind::monthly_by_position:
    case VcalKind::monthly_by_day: return Frequency::monthly;
    default: return Frequency::yearly;
    }
}

// "3", "3+", "3-": the number and whether it counts from the end.
struct SignedNumber {
    int value = 0;
    bool from_end = false;
};
std::optional<SignedNumber> parse_signed_number(std::string_view token) {
    SignedNumber n;
    if (!token.empty() && (token.back() == '+' || token.back() == '-')) {
        n.from_end = token.back() == '-';
        token.remove_suffix(1);
    }
    if (!all_digits(token) || token.size() > 3) return std::nullopt;
    n.value = digits_value(token);
    return n;
}

// Reads one vCalendar 1.0 rule: the head, the list that belongs to it, and
// the end (a "#N" duration or an end date).
class VcalReader {
public:
    VcalReader(const DateTime& start, const Profile& profile, int line, std::vector<Warning>* warnings)
        : start_(start), profile_(profile), line_(line), warnings_(warnings) {}

    std::optional<Recurrence> read(std::string_view value) {
        std::vector<std::string> tokens = tokenize(value);
        if (tokens.empty()) {
            warn(warnings_, line_, "vCalendar RRULE is empty; no rule kept");
            return std::nullopt;
        }
        std::optional<VcalHead> head = vcal_head(tokens.front());
        if (!head) {
            warn(warnings_, line_, "vCalendar RRULE \"" + std::string(value) + "\" has no known frequency; no rule kept");
            return std::nullopt;
        }
        kind_ = head->kind;
        rule_.frequency = frequency_of(kind_);
        rule_.interval = read_interval(head->interval);
        for (std::size_t i = 1; i < tokens.size(); ++i) {
            if (!read_token(tokens[i])) {
                warn(warnings_, line_, "vCalendar RRULE holds several rules; only the first is read, \"" +
                                           rest_of(tokens, i) + "\" is ignored");
                break;
            }
        }
        flush_position();
        fill_from_start();
        apply_end();
        return rule_;
    }

private:
    static std::vector<std::string> tokenize(std::string_view value) {
        std::vector<std::string> tokens;
        std::string current;
        for (char c : value) {
            if (std::isspace(static_cast<unsigned char>(c))) {
                if (!current.empty()) tokens.push_back(wire::to_upper(current));
                current.clear();
            } else {
                current += c;
            }
        }
        if (!current.empty()) tokens.push_back(wire::to_upper(current));
        return tokens;
    }

    static std::string rest_of(const std::vector<std::string>& tokens, std::size_t from) {
        std::string out;
        for (std::size_t i = from; i < tokens.size(); ++i) out += (out.empty() ? "" : " ") + tokens[i];
        return out;
    }

    int read_interval(const std::string& digits) {
        if (all_digits(digits) && digits.size() <= 6 && digits_value(digits) > 0) return digits_value(digits);
        warn(warnings_, line_, "vCalendar RRULE interval \"" + digits + "\" is not a positive number; 1 is kept");
        return 1;
    }

    // False when the token starts another rule.
    bool read_token(std::string token) {
        if (token.size() > 1 && token.back() == '$') {
            // "$" marks an occurrence the client flagged; the basic grammar
            // gives it no meaning we can keep.
            warn(warnings_, line_, "vCalendar RRULE marker \"$\" in \"" + token + "\" ignored");
            token.pop_back();
        }
        if (token.front() == '#') {
            read_duration(token);
            return true;
        }
        if (token.size() >= 8 && all_digits(token.substr(0, 8))) {
            read_end_date(token);
            return true;
        }
        if (looks_like_rule_head(token)) return false;
        if (ended()) {
            warn(warnings_, line_, "vCalendar RRULE: \"" + token + "\" after the end ignored");
            return true;
        }
        if (!read_list_token(token))
            warn(warnings_, line_, "vCalendar RRULE: \"" + token + "\" does not belong to this rule; skipped");
        return true;
    }

    bool ended() const { return duration_ || end_date_; }

    void read_duration(const std::string& token) {
        std::string digits = token.substr(1);
        if (!all_digits(digits) || digits.size() > 6) {
            warn(warnings_, line_, "vCalendar RRULE duration \"" + token + "\" is not a number; ignored");
            return;
        }
        if (duration_ || end_date_) {
            warn(warnings_, line_, "vCalendar RRULE has a second end \"" + token + "\"; ignored");
            return;
        }
        duration_ = digits_value(digits);
    }

    void read_end_date(const std::string& token) {
        std::optional<DateTime> end = parse_date_time(token);
        if (!end) {
            warn(warnings_, line_, "vCalendar RRULE end \"" + token + "\" is not a date-time; ignored");
            return;
        }
        if (end_date_) {
            warn(warnings_, line_, "vCalendar RRULE has a second end date \"" + token + "\"; ignored");
            return;
        }
        if (duration_) {
            warn(warnings_, line_, "vCalendar RRULE has both a duration and an end date; the end date is kept");
            duration_.reset();
        }
        end_date_ = end;
    }

    bool read_list_token(const std::string& token) {
        switch (kind_) {
        case VcalKind::weekly: return read_weekday(token);
        case VcalKind::monthly_by_day: return read_month_day(token);
        case VcalKind::monthly_by_position: return read_position_or_weekday(token);
        case VcalKind::yearly_by_month: return read_number(token, 1, 12, rule_.by_month);
        case VcalKind::yearly_by_day: return read_year_day(token);
        default: return false;
        }
    }

    bool read_weekday(const std::string& token) {
        std::optional<int> weekday = weekday_named(token);
        if (!weekday) return false;
        add_unique(rule_.by_day, WeekdayNum{0, *weekday});
        return true;
    }

    bool read_month_day(const std::string& token) {
        if (token == "LD") {
            add_unique(rule_.by_month_day, -1);
            return true;
        }
        std::optional<SignedNumber> n = parse_signed_number(token);
        if (!n || n->value < 1 || n->value > 31) return false;
        add_unique(rule_.by_month_day, n->from_end ? -n->value : n->value);
        return true;
    }

    bool read_year_day(const std::string& token) {
        std::optional<SignedNumber> n = parse_signed_number(token);
        if (!n || n->value < 1 || n->value > 366) return false;
        add_unique(rule_.by_year_day, n->from_end ? -n->value : n->value);
        return true;
    }

    bool read_number(const std::string& token, int lowest, int highest, std::vector<int>& into) {
        if (!all_digits(token) || token.size() > 3) return false;
        int n = digits_value(token);
        if (n < lowest || n > highest) return false;
        add_unique(into, n);
        return true;
    }

    // MP's list: positions, each followed by its weekdays ("1+ SU 1- SU").
    bool read_position_or_weekday(const std::string& token) {
        if (std::optional<int> weekday = weekday_named(token)) {
            if (!position_) {
                warn(warnings_, line_, "vCalendar RRULE weekday " + token + " without a position; the start's is used");
                position_ = start_position();
            }
            if (position_ != 0) add_unique(rule_.by_day, WeekdayNum{*position_, *weekday});
            position_has_weekday_ = true;
            return true;
        }
        std::optional<SignedNumber> n = parse_signed_number(token);
        if (!n || n->value < 1 || n->value > 5) return false;
        flush_position();
        position_ = ordinal_of_position(*n, token);
        position_has_weekday_ = false;
        return true;
    }

    // How "n+" / "n-" read: the spec's way, or Funambol Outlook's, where
    // "5+" is the last week and "n-" is Outlook's instance 5-n.
    int ordinal_of_position(const SignedNumber& n, const std::string& token) {
        if (!profile_.last_week_is_5_plus) return n.from_end ? -n.value : n.value;
        if (!n.from_end) return n.value == 5 ? -1 : n.value;
        if (n.value == 5) {
            warn(warnings_, line_, "vCalendar RRULE position \"" + token + "\" means no week in this profile; skipped");
            return 0;
        }
        return 5 - n.value;
    }

    // A position written with no weekday repeats on the start's weekday.
    void flush_position() {
        if (position_ && *position_ != 0 && !position_has_weekday_ && rule_start_usable(start_))
            add_unique(rule_.by_day, WeekdayNum{*position_, weekday_of(day_number(start_))});
        position_.reset();
    }

    int start_position() const { return start_.valid() ? (start_.day - 1) / 7 + 1 : 1; }

    // A rule without its list repeats on the start's weekday, day, position,
    // month or day of the year; with no usable start the list stays empty,
    // which RFC 5545 reads the same way.
    void fill_from_start() {
        if (!rule_start_usable(start_)) return;
        const std::int64_t day = day_number(start_);
        switch (kind_) {
        case VcalKind::weekly:
            if (rule_.by_day.empty()) rule_.by_day = {{0, weekday_of(day)}};
            break;
        case VcalKind::monthly_by_day:
            if (rule_.by_month_day.empty()) rule_.by_month_day = {start_.day};
            break;
        case VcalKind::monthly_by_position:
            if (rule_.by_day.empty()) rule_.by_day = {{start_position(), weekday_of(day)}};
            break;
        case VcalKind::yearly_by_month:
            if (rule_.by_month.empty()) rule_.by_month = {start_.month};
            rule_.by_month_day = {start_.day};
            break;
        case VcalKind::yearly_by_day:
            if (rule_.by_year_day.empty()) rule_.by_year_day = {day_of_year({start_.year, start_.month, start_.day})};
            break;
        default: break;
        }
    }

    // No end means "#2"; "#0" means forever.
    void apply_end() {
        if (end_date_) {
            rule_.until = end_date_;
            return;
        }
        const int n = duration_.value_or(2);
        if (n == 0) return;
        rule_.count = profile_.vcal_count_is_intervals ? occurrences_in_intervals(n) : n;
    }

    // "#N" as N intervals is stored as the COUNT of the occurrences those
    // intervals hold: a COUNT, unlike an UNTIL, needs no decision about the
    // end's time zone or time of day, and it says exactly the same series.
    int occurrences_in_intervals(int intervals) {
        if (!rule_start_usable(start_)) {
            warn(warnings_, line_, "vCalendar RRULE \"#" + std::to_string(intervals) +
                                       "\" counts intervals but the item has no start; read as occurrences");
            return intervals;
        }
        Recurrence endless = rule_;
        endless.count = 0;
        endless.until.reset();
        return static_cast<int>(count_in_periods(endless, start_, intervals));
    }

    template <class T>
    static void add_unique(std::vector<T>& values, const T& value) {
        if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
    }

    const DateTime& start_;
    const Profile& profile_;
    int line_;
    std::vector<Warning>* warnings_;
    VcalKind kind_ = VcalKind::daily;
    Recurrence rule_;
    std::optional<int> duration_;
    std::optional<DateTime> end_date_;
    std::optional<int> position_;  // the MP position weekdays attach to (0: a skipped one)
    bool position_has_weekday_ = false;
};

// ---------------------------------------------------- vCalendar 1.0 write --

// Builds the head and list of a vCalendar rule ("MP1 1+ FR"), or says in
// `missing` what the basic grammar cannot say.
class VcalWriter {
public:
    VcalWriter(const Recurrence& rule, const DateTime& start, const Profile& profile)
        : rule_(rule), start_(start), profile_(profile) {}

    std::optional<std::string> body() {
        if (!common_parts_writable()) return std::nullopt;
        switch (rule_.frequency) {
        case Frequency::daily: return daily();
        case Frequency::weekly: return weekly(rule_.interval);
        case Frequency::monthly: return monthly();
        case Frequency::yearly: return yearly();
        default: return fail(std::string(frequency_name(rule_.frequency)) + " frequency");
        }
    }

    const std::string& missing() const { return missing_; }

private:
    std::nullopt_t fail(std::string what) {
        missing_ = std::move(what);
        return std::nullopt;
    }
    bool refuse(std::string what) {
        missing_ = std::move(what);
        return false;
    }

    bool start_usable() const { return rule_start_usable(start_); }

    // A time part equal to the start's says nothing new; any other cannot
    // be written.
    bool time_part_is_start(const std::vector<int>& values, int start_value) const {
        return values.empty() || (values.size() == 1 && values.front() == start_value && start_usable());
    }

    bool common_parts_writable() {
        if (!rule_.by_week_no.empty()) return refuse("BYWEEKNO");
        if (!time_part_is_start(rule_.by_hour, start_.hour) || !time_part_is_start(rule_.by_minute, start_.minute) ||
            !time_part_is_start(rule_.by_second, start_.second))
            return refuse("BYHOUR/BYMINUTE/BYSECOND");
        if (rule_.by_set_pos.size() > 1) return refuse("BYSETPOS with several values");
        return true;
    }

    std::string interval_text(int interval) const { return std::to_string(std::max(1, interval)); }

    std::string weekday_list(const std::vector<WeekdayNum>& days) const {
        std::string out;
        for (const WeekdayNum& wd : days) out += std::string(" ") + kWeekdayNames[((wd.weekday % 7) + 7) % 7];
        return out;
    }

    bool only_plain_weekdays() const {
        return std::all_of(rule_.by_day.begin(), rule_.by_day.end(), [](const WeekdayNum& wd) { return wd.ordinal == 0; });
    }

    // Every weekday of a daily rule with BYDAY is a weekly rule on those
    // days ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR": every workday).
    std::optional<std::string> daily() {
        if (!rule_.by_month.empty() || !rule_.by_month_day.empty() || !rule_.by_year_day.empty() ||
            !rule_.by_set_pos.empty())
            return fail("a daily rule with BYMONTH/BYMONTHDAY/BYYEARDAY/BYSETPOS");
        if (rule_.by_day.empty()) return "D" + interval_text(rule_.interval);
        if (rule_.interval > 1 || !only_plain_weekdays()) return fail("a daily rule with BYDAY");
        return weekly(1);
    }

    std::optional<std::string> weekly(int interval) {
        if (!rule_.by_month.empty() || !rule_.by_month_day.empty() || !rule_.by_year_day.empty() ||
            !rule_.by_set_pos.empty())
            return fail("a weekly rule with BYMONTH/BYMONTHDAY/BYYEARDAY/BYSETPOS");
        if (!only_plain_weekdays()) return fail("BYDAY with positions in a weekly rule");
        std::vector<WeekdayNum> days = rule_.by_day;
        if (days.empty() && start_usable()) days = {{0, weekday_of(day_number(start_))}};
        return "W" + interval_text(interval) + weekday_list(days);
    }

    // "n+" / "n-", or Funambol Outlook's "5+" for the last week (it reads
    // any "n-" wrongly, and "5+" as last, so neither a 5th nor an "n-" can
    // be written for it).
    std::optional<std::string> position_text(int ordinal) const {
        if (profile_.last_week_is_5_plus) {
            if (ordinal == -1) return std::string("5+");
            if (ordinal >= 1 && ordinal <= 4) return std::to_string(ordinal) + "+";
            return std::nullopt;
        }
        if (ordinal >= 1 && ordinal <= 5) return std::to_string(ordinal) + "+";
        if (ordinal <= -1 && ordinal >= -5) return std::to_string(-ordinal) + "-";
        return std::nullopt;
    }

    // The weekdays with their positions, a plain weekday with one BYSETPOS
    // counting as that position ("BYDAY=MO;BYSETPOS=2" = "2+ MO").
    std::optional<std::vector<WeekdayNum>> positioned_weekdays() {
        std::vector<WeekdayNum> days = rule_.by_day;
        if (!rule_.by_set_pos.empty()) {
            if (days.size() != 1 || days.front().ordinal != 0) return fail("BYSETPOS over several weekdays");
            days.front().ordinal = rule_.by_set_pos.front();
        }
        for (const WeekdayNum& wd : days)
            if (wd.ordinal == 0) return fail("BYDAY without a position in a monthly or yearly rule");
        return days;
    }

    // "1+ SU MO 1- SU": consecutive weekdays of the same position share it.
    std::optional<std::string> position_list(const std::vector<WeekdayNum>& days) {
        std::string out;
        std::optional<int> current;
        for (const WeekdayNum& wd : days) {
            if (current != wd.ordinal) {
                std::optional<std::string> position = position_text(wd.ordinal);
                if (!position) return fail("BYDAY position " + std::to_string(wd.ordinal));
                out += " " + *position;
                current = wd.ordinal;
            }
            out += std::string(" ") + kWeekdayNames[((wd.weekday % 7) + 7) % 7];
        }
        return out;
    }

    std::optional<std::string> month_day_list() {
        std::string out;
        for (int day : rule_.by_month_day) {
            if (day == -1)
                out += " LD";
            else if (day >= 1 && day <= 31)
                out += " " + std::to_string(day);
            else if (day <= -2 && day >= -31)
                out += " " + std::to_string(-day) + "-";
            else
                return fail("BYMONTHDAY " + std::to_string(day));
        }
        return out;
    }

    std::optional<std::string> monthly() {
        if (!rule_.by_month.empty() || !rule_.by_year_day.empty())
            return fail("a monthly rule with BYMONTH/BYYEARDAY");
        if (!rule_.by_month_day.empty() && !rule_.by_day.empty()) return fail("BYMONTHDAY together with BYDAY");
        const std::string interval = interval_text(rule_.interval);
        if (!rule_.by_day.empty()) {
            std::optional<std::vector<WeekdayNum>> days = positioned_weekdays();
            if (!days) return std::nullopt;
            std::optional<std::string> list = position_list(*days);
            if (!list) return std::nullopt;
            return "MP" + interval + *list;
        }
        if (!rule_.by_set_pos.empty()) return fail("BYSETPOS with BYMONTHDAY");
        if (rule_.by_month_day.empty())
            return "MD" + interval + (start_usable() ? " " + std::to_string(start_.day) : std::string());
        std::optional<std::string> list = month_day_list();
        if (!list) return std::nullopt;
        return "MD" + interval + *list;
    }

    std::optional<std::string> yearly() {
        const std::string interval = interval_text(rule_.interval);
        if (!rule_.by_year_day.empty()) return yearly_by_day(interval);
        if (!rule_.by_day.empty()) return yearly_by_position();
        if (!rule_.by_set_pos.empty()) return fail("BYSETPOS in a yearly rule without BYDAY");
        const bool day_is_start =
            rule_.by_month_day.empty() ||
            (rule_.by_month_day.size() == 1 && start_usable() && rule_.by_month_day.front() == start_.day);
        if (!day_is_start) return fail("a yearly BYMONTHDAY other than the start's day");
        std::vector<int> months = rule_.by_month;
        if (months.empty() && start_usable()) months = {start_.month};
        std::string out = "YM" + interval;
        for (int m : months) out += " " + std::to_string(m);
        return out;
    }

    std::optional<std::string> yearly_by_day(const std::string& interval) {
        if (!rule_.by_month.empty() || !rule_.by_month_day.empty() || !rule_.by_day.empty() ||
            !rule_.by_set_pos.empty())
            return fail("BYYEARDAY with other BYxxx parts");
        std::string out = "YD" + interval;
        for (int day : rule_.by_year_day) {
            if (day < 1) return fail("a BYYEARDAY counted from the end");
            out += " " + std::to_string(day);
        }
        return out;
    }

    // A yearly rule on a weekday position in one month is a monthly-by-
    // position rule every 12 months, when the series starts in that month.
    std::optional<std::string> yearly_by_position() {
        if (rule_.by_month.size() != 1 || !rule_.by_month_day.empty())
            return fail("a yearly BYDAY rule without exactly one BYMONTH");
        if (!start_usable() || start_.month != rule_.by_month.front())
            return fail("a yearly BYDAY rule starting outside its month");
        std::optional<std::vector<WeekdayNum>> days = positioned_weekdays();
        if (!days) return std::nullopt;
        if (days->size() != 1) return fail("several BYDAY positions in a yearly rule");
        std::optional<std::string> list = position_list(*days);
        if (!list) return std::nullopt;
        return "MP" + std::to_string(12 * std::max(1, rule_.interval)) + *list;
    }

    const Recurrence& rule_;
    const DateTime& start_;
    const Profile& profile_;
    std::string missing_;
};

// The end of a written vCalendar rule: "#0" for none, else an end date. A
// COUNT becomes the last occurrence, written like the start (a date for an
// all-day series, "Z" when the start is UTC), so that no reader has to
// guess what "#N" counts.
std::optional<std::string> vcal_end(const Recurrence& rule, const DateTime& start) {
    if (rule.until) {
        DateTime until = *rule.until;
        if (until.kind == DateTime::Kind::date && start.kind != DateTime::Kind::date) {
            until.hour = 23;  // a whole-day UNTIL against timed occurrences
            until.minute = 59;
            until.second = 59;
            until.kind = DateTime::Kind::floating;
        }
        return format_date_time(until);
    }
    if (rule.count <= 0) return std::string("#0");
    if (!rule_start_usable(start)) return std::nullopt;
    return format_date_time(last_of_count(rule, start));
}

// Whether the written rule, read back as a client of this profile reads
// it, gives the same series; the last safety net for the equivalences the
// writer uses (MP12 for yearly, W1 for daily on weekdays...).
bool reads_back_the_same(const std::string& body, const Recurrence& rule, const DateTime& start,
                         const Profile& profile) {
    if (!rule_start_usable(start)) return true;  // nothing to compare with; the writer used no start default
    std::optional<Recurrence> back = parse_vcal_rule(body + " #0", start, profile, 0, nullptr);
    if (!back) return false;
    // 60 occurrences within 40 years show any difference of pattern (a
    // yearly rule repeats its shape every year; the Gregorian leap pattern
    // inside 40 years is all a month-day rule can meet); a longer look
    // costs every item written, and walks day by day.
    const int last_year = std::min(start.year + 40, kLastWritableYear);
    Recurrence endless = rule;  // the end was written separately
    endless.count = 0;
    endless.until = std::nullopt;
    return expand(endless, start, 60, last_year) == expand(*back, start, 60, last_year);
}

}  // namespace

// ---------------------------------------------------------------- public --

std::optional<Recurrence> parse_rrule(std::string_view value, int line, std::vector<Warning>* warnings) {
    return RruleReader(line, warnings).read(value);
}

std::string format_rrule(const Recurrence& rule) {
    std::string out = std::string("FREQ=") + frequency_name(rule.frequency);
    if (rule.interval > 1) out += ";INTERVAL=" + std::to_string(rule.interval);
    if (rule.count > 0)
        out += ";COUNT=" + std::to_string(rule.count);
    else if (rule.until)
        out += ";UNTIL=" + format_date_time(*rule.until);
    auto list = [&out](const char* name, const std::vector<int>& values) {
        if (!values.empty()) out += std::string(";") + name + "=" + join_ints(values);
    };
    list("BYSECOND", rule.by_second);
    list("BYMINUTE", rule.by_minute);
    list("BYHOUR", rule.by_hour);
    if (!rule.by_day.empty()) out += ";BYDAY=" + format_by_day(rule.by_day);
    list("BYMONTHDAY", rule.by_month_day);
    list("BYYEARDAY", rule.by_year_day);
    list("BYWEEKNO", rule.by_week_no);
    list("BYMONTH", rule.by_month);
    list("BYSETPOS", rule.by_set_pos);
    if (rule.week_start != 1) out += std::string(";WKST=") + kWeekdayNames[((rule.week_start % 7) + 7) % 7];
    return out;
}

std::optional<Recurrence> parse_vcal_rule(std::string_view value, const DateTime& start, const Profile& profile,
                                          int line, std::vector<Warning>* warnings) {
    std::optional<Recurrence> rule = VcalReader(start, profile, line, warnings).read(value);
    // "W1 WE" on a Wednesday start is what RFC 5545 says without BYDAY; the
    // short form is what iCalendar clients wrote before a vCalendar client
    // passed the rule on, so that is what they get back.
    if (rule && rule->frequency == Recurrence::Frequency::weekly && rule->by_day.size() == 1 &&
        rule->by_day[0].ordinal == 0 && rule_start_usable(start) && rule->by_day[0].weekday == weekday_of(day_number(start)))
        rule->by_day.clear();
    return rule;
}

std::optional<std::string> format_vcal_rule(const Recurrence& rule, const DateTime& start, const Profile& profile,
                                            std::vector<Warning>* losses) {
    VcalWriter writer(rule, start, profile);
    std::optional<std::string> body = writer.body();
    std::string missing = writer.missing();
    if (body && !reads_back_the_same(*body, rule, start, profile)) {
        body.reset();
        missing = "this rule in a way its clients read back the same";
    }
    std::optional<std::string> end = body ? vcal_end(rule, start) : std::nullopt;
    if (body && !end) missing = "a COUNT without a usable start";
    if (!body || !end) {
        warn(losses, 0, "vCalendar 1.0 RRULE cannot say " + missing + "; rule " + format_rrule(rule) + " left out");
        return std::nullopt;
    }
    return *body + " " + *end;
}

std::vector<DateTime> expand(const Recurrence& rule, const DateTime& start, std::size_t limit, int last_year) {
    return expand_periods(rule, start, limit, last_year, -1);
}

bool visit_from(const Recurrence& rule, const DateTime& start, const DateTime& from, std::int64_t max_periods,
                const std::function<bool(const DateTime&)>& visit) {
    if (!rule_start_usable(start)) return false;
    const Moment from_moment = moment_of(from);
    if (moment_of(start) >= from_moment && !visit(start)) return true;  // DTSTART is always the first occurrence
    if (rule.count == 1 || !expandable(rule, start)) return true;
    std::int64_t seen = 1;
    return Expander(rule, start, kLastWritableYear).run(max_periods, [&](Moment m) {
        ++seen;
        if (m >= from_moment && !visit(date_time_at(m, start))) return false;
        return rule.count <= 0 || seen < rule.count;
    });
}

}  // namespace smk::pim::recurrence
