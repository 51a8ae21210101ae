// Alarms whose time has passed, left out of what a Recover sends (see
// drop_past_alarms() in pim.hpp). Times are compared as instants, seconds
// since 1970 UTC. A time whose zone is not known could be any of them: it
// is given the whole range and counts as past only when its latest reading
// is. Whatever cannot be told keeps its alarm.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "pim/calendar_common.hpp"
#include "pim/recurrence.hpp"
#include "syncmlkit/pim.hpp"

namespace smk::pim {
namespace {

// UTC offsets run from -12:00 to +14:00: a wall-clock time whose zone is
// not known is at most this far from the same digits read as UTC.
constexpr std::int64_t kWidestOffset = 14 * 3600;
// Offsets, durations and repetitions longer than this (some 35,000 years)
// are not times anyone meant: their alarm is kept as it is.
constexpr std::int64_t kLongestSpan = std::int64_t{1} << 40;
// How many periods of a rule are walked looking for an occurrence to come:
// a daily series over five centuries, an hourly one over twenty years.
constexpr std::int64_t kMostPeriods = 200000;

using Kind = DateTime::Kind;

// The earliest and the latest instant a time can mean.
struct Instant {
    std::int64_t earliest = 0, latest = 0;
};

std::optional<Instant> instant_of(const DateTime& value, std::string_view zone) {
    if (!value.valid()) return std::nullopt;
    if (std::optional<DateTime> utc = cal::to_utc(value, zone)) {
        std::int64_t t = cal::wall_seconds(*utc);
        return Instant{t, t};
    }
    std::int64_t wall = cal::wall_seconds(value);  // a date counts from its midnight
    return Instant{wall - kWidestOffset, wall + kWidestOffset};
}

// A date is read as its midnight, through the same zone as a floating time.
Kind frame_kind(const DateTime& value) { return value.kind == Kind::date ? Kind::floating : value.kind; }
bool same_frame(const DateTime& a, const DateTime& b) {
    return frame_kind(a) == frame_kind(b) && (a.kind != Kind::zoned || a.tzid == b.tzid);
}

// From the trigger to the alarm's last repetition; nullopt when absurd.
std::optional<std::int64_t> repetitions(const Alarm& alarm) {
    if (alarm.repeat <= 0 || alarm.snooze.seconds <= 0) return 0;
    if (alarm.snooze.seconds > kLongestSpan / alarm.repeat) return std::nullopt;
    return alarm.repeat * alarm.snooze.seconds;
}

std::optional<DateTime> start_plus_duration(const CalendarItem& item) {
    if (!item.duration || !item.start.valid() || std::llabs(item.duration->seconds) > kLongestSpan) return std::nullopt;
    DateTime from = item.start.kind == Kind::date ? cal::midnight_of(item.start) : item.start;
    return cal::add_seconds(from, item.duration->seconds);
}

// What a relative trigger counts from, as the calendar writers read it: the
// start, or the end (an event's end, its start + duration, or RFC 5545's
// default end: a day after a date, the start itself otherwise); a task's
// due, and a task without a start counts from its due either way.
std::optional<DateTime> trigger_base(const CalendarItem& item, const Alarm& alarm) {
    if (item.type == CalendarItem::Type::task) {
        if (!alarm.relative_to_end && item.start.valid()) return item.start;
        if (item.due.valid()) return item.due;
        return start_plus_duration(item);
    }
    if (!item.start.valid()) return std::nullopt;
    if (!alarm.relative_to_end) return item.start;
    if (item.end.valid()) return item.end;
    if (std::optional<DateTime> end = start_plus_duration(item)) return end;
    return item.start.kind == Kind::date ? cal::add_days(item.start, 1) : item.start;
}

// A rule whose UNTIL is not on the start's clock (a UTC UNTIL of a zoned
// series), widened by the widest offset so that no occurrence is lost when
// the expander compares it on the start's clock.
Recurrence on_start_clock(Recurrence rule, const DateTime& start) {
    if (!rule.until || !rule.until->valid() || same_frame(*rule.until, start) ||
        (rule.until->kind == Kind::date && start.kind == Kind::date))
        return rule;
    std::int64_t last = cal::wall_seconds(*rule.until) + (rule.until->kind == Kind::date ? 86400 : 0) + kWidestOffset;
    rule.until = cal::from_wall_seconds(last, start.kind, start.tzid);
    return rule;
}

class AlarmClock {
public:
    AlarmClock(std::int64_t now, std::string_view zone) : now_(now), zone_(zone) {}

    // Whether an alarm of `item` may still go off.
    bool still_to_fire(const CalendarItem& item, const Alarm& alarm) const {
        std::optional<std::int64_t> after = repetitions(alarm);
        if (!after) return true;
        if (alarm.at && alarm.at->valid()) {
            std::optional<Instant> at = instant_of(*alarm.at, zone_);
            return !at || at->latest + *after >= now_;
        }
        if (!alarm.offset || std::llabs(alarm.offset->seconds) > kLongestSpan) return true;
        std::optional<DateTime> base = trigger_base(item, alarm);
        if (!base) return true;
        const std::int64_t lead = alarm.offset->seconds + *after;  // from the base to the last repetition
        const DateTime& first = item.start.valid() ? item.start : item.due;
        if (!first.valid() || (!item.recurrence && item.recurrence_dates.empty())) {
            std::optional<Instant> at = instant_of(*base, zone_);
            return !at || at->latest + lead >= now_;
        }
        return series_still_to_fire(item, first, *base, lead);
    }

private:
    // A series' alarm may go off while one of its occurrences (the first
    // one, `first`, moved by the rule or an RDATE) has its trigger to come.
    bool series_still_to_fire(const CalendarItem& item, const DateTime& first, const DateTime& base,
                              std::int64_t lead) const {
        // An occurrence's base is where `base` is from `first`, on the
        // occurrence's own clock when both are on one clock, else bounded.
        const bool one_clock = same_frame(base, first);
        std::int64_t shift = cal::wall_seconds(base) - cal::wall_seconds(first);
        if (!one_clock) {
            std::optional<Instant> b = instant_of(base, zone_), f = instant_of(first, zone_);
            if (!b || !f) return true;
            shift = b->latest - f->earliest;
        }
        auto trigger = [&](const DateTime& occurrence) -> std::optional<std::int64_t> {
            if (one_clock) {
                DateTime moved = cal::from_wall_seconds(cal::wall_seconds(occurrence) + shift, frame_kind(occurrence),
                                                        occurrence.tzid);
                std::optional<Instant> at = instant_of(moved, zone_);
                if (!at) return std::nullopt;
                return at->latest + lead;
            }
            std::optional<Instant> at = instant_of(occurrence, zone_);
            if (!at) return std::nullopt;
            return at->latest + shift + lead;
        };
        auto to_come = [&](const DateTime& occurrence) {
            std::optional<std::int64_t> t = trigger(occurrence);
            return !t || *t >= now_;
        };
        for (const DateTime& extra : item.recurrence_dates)
            if (to_come(extra)) return true;
        if (!item.recurrence) return to_come(first);
        // No occurrence whose wall clock is before this can have its trigger to come.
        std::int64_t earliest = std::max(now_ - lead - shift - 2 * kWidestOffset, cal::wall_seconds(first));
        DateTime from = cal::from_wall_seconds(earliest, first.kind, first.tzid);
        bool found = false;
        bool walked = recurrence::visit_from(on_start_clock(*item.recurrence, first), first, from, kMostPeriods,
                                             [&](const DateTime& occurrence) {
                                                 if (excluded(item, occurrence)) return true;
                                                 found = to_come(occurrence);
                                                 return !found;
                                             });
        return found || !walked;
    }

    bool excluded(const CalendarItem& item, const DateTime& occurrence) const {
        for (const DateTime& ex : item.exception_dates) {
            if (ex.kind == occurrence.kind && ex.tzid == occurrence.tzid && cal::compare_wall(ex, occurrence) == 0)
                return true;
            std::optional<Instant> a = instant_of(ex, zone_), b = instant_of(occurrence, zone_);
            if (ex.kind != Kind::date && occurrence.kind != Kind::date && a && b && a->earliest == a->latest &&
                b->earliest == b->latest && a->latest == b->latest)
                return true;
        }
        return false;
    }

    std::int64_t now_;
    std::string_view zone_;
};

}  // namespace

AlarmCount drop_past_alarms(Calendar& calendar, std::int64_t now, std::string_view time_zone) {
    AlarmCount count;
    AlarmClock clock(now, time_zone);
    for (CalendarItem& item : calendar.items) {
        auto past = std::stable_partition(item.alarms.begin(), item.alarms.end(),
                                          [&](const Alarm& alarm) { return clock.still_to_fire(item, alarm); });
        count.kept += static_cast<int>(past - item.alarms.begin());
        count.dropped += static_cast<int>(item.alarms.end() - past);
        item.alarms.erase(past, item.alarms.end());
    }
    return count;
}

}  // namespace smk::pim
