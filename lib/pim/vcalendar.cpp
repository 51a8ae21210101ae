// vCalendar 1.0: one VCALENDAR object to the model and back.
//
// Time zones. A vCalendar object has at most one zone, said by TZ (the
// standard offset) and one DAYLIGHT line per daylight-saving period. On
// reading, the lines are matched against the IANA zones (the user's zone
// first) and local times become zoned times in the zone found; when none
// fits, local times are put in UTC with the offsets the lines give (and a
// warning says so); without TZ, local times are placed in the host's zone
// (Profile::time_zone) or stay floating. On writing, times are UTC when the
// client asks for it (Profile::times_in_utc); otherwise local times of one
// zone (the items' own, else the host's), with TZ and a DAYLIGHT line for
// every year the items and their series touch.
//
// All-day events have no value type of their own in vCalendar; producers
// write them as date-only values (Funambol, end date inclusive), as
// 00:00:00 to 00:00:00 of a later day, as 00:00 to 23:59(:59), or mark them
// with X-FUNAMBOL-ALLDAY:1 or X-MICROSOFT-CDO-ALLDAYEVENT:TRUE. Any of these
// gives a Kind::date start and an exclusive date end; a start at midnight
// with any other end (a meeting from 00:00 to 01:00) stays a timed event.
// We write all-day events as local DTSTART:<day>T000000 and
// DTEND:<last day>T235900, the form most phones and Outlook recognise, plus
// X-FUNAMBOL-ALLDAY:1 for Funambol clients; never in UTC, since a day has no
// instant.
//
// Alarms (AALARM, DALARM, MALARM, PALARM: "runtime;snooze;repeat;content")
// carry an absolute run time; it is read back as an offset from the start
// (or from the due date of a task without a start) and written from the
// offset as a UTC time. An empty "AALARM:" (Funambol's "no reminder") gives
// no alarm and records AALARM and VALARM in sent_empty.
#include <algorithm>
#include <cctype>

#include "pim/calendar_common.hpp"
#include "pim/content_line.hpp"
#include "pim/formats.hpp"
#include "pim/recurrence.hpp"
#include "pim/text_codec.hpp"
#include "pim/timezone.hpp"
#include "wire/text.hpp"

namespace smk::pim::detail {
namespace {

using cal::Component;

constexpr Dialect kDialect = Dialect::old_mime_dir;

void warn(std::vector<Warning>* warnings, int line, std::string message) {
    if (warnings) warnings->push_back({line, std::move(message)});
}

bool is_midnight(const DateTime& v) { return v.hour == 0 && v.minute == 0 && v.second == 0; }

bool is_end_of_day(const DateTime& v) { return v.hour == 23 && v.minute == 59 && (v.second == 0 || v.second == 59); }

const char* alarm_property_for(std::string_view action) {
    if (action == "AUDIO") return "AALARM";
    if (action == "EMAIL") return "MALARM";
    if (action == "PROCEDURE") return "PALARM";
    return "DALARM";
}

std::string alarm_action_for(std::string_view property) {
    if (property == "AALARM") return "AUDIO";
    if (property == "MALARM") return "EMAIL";
    if (property == "PALARM") return "PROCEDURE";
    return "DISPLAY";
}

bool is_alarm_property(std::string_view name) {
    return name == "AALARM" || name == "DALARM" || name == "MALARM" || name == "PALARM";
}

// ================================================================ reading ==

/// The zone of an object's local times, from TZ/DAYLIGHT or the host.
struct LocalZone {
    std::string iana;                    ///< the zone local times are in; empty: none known
    std::optional<tz::VcalZone> offsets; ///< TZ/DAYLIGHT that matched no IANA zone

    // A floating time in this zone: zoned in the IANA zone, or UTC by the
    // offsets, or floating still.
    DateTime place(const DateTime& v) const {
        if (v.kind != DateTime::Kind::floating) return v;
        if (!iana.empty()) {
            DateTime zoned = v;
            zoned.kind = DateTime::Kind::zoned;
            zoned.tzid = iana;
            return zoned;
        }
        if (offsets) return cal::add_seconds(as_kind(v, DateTime::Kind::utc), -offset_at_local(v));
        return v;
    }

    // The wall-clock time in this zone of any time (floating as it is).
    DateTime wall_clock(const DateTime& v) const {
        if (v.kind == DateTime::Kind::date || v.kind == DateTime::Kind::floating) return v;
        std::optional<DateTime> utc = cal::to_utc(v, {});
        if (!utc) return as_kind(v, DateTime::Kind::floating);
        if (!iana.empty()) return as_kind(tz::from_utc(*utc, iana), DateTime::Kind::floating);
        if (offsets) return as_kind(cal::add_seconds(*utc, offset_at_utc(*utc)), DateTime::Kind::floating);
        return as_kind(*utc, DateTime::Kind::floating);
    }

    static DateTime as_kind(DateTime v, DateTime::Kind kind) {
        v.kind = kind;
        v.tzid.clear();
        return v;
    }

    int offset_at_utc(const DateTime& utc) const {
        for (const tz::DaylightPeriod& p : offsets->daylight)
            if (cal::compare_wall(utc, p.begin) >= 0 && cal::compare_wall(utc, p.end) < 0) return p.offset;
        return offsets->standard_offset;
    }

    int offset_at_local(const DateTime& local) const {
        for (const tz::DaylightPeriod& p : offsets->daylight) {
            DateTime utc = cal::add_seconds(local, -p.offset);
            if (cal::compare_wall(utc, p.begin) >= 0 && cal::compare_wall(utc, p.end) < 0) return p.offset;
        }
        return offsets->standard_offset;
    }
};

/// What an item's properties said, before the all-day conventions and the
/// zone are applied (they need the whole item).
struct RawItem {
    DateTime start, end, due, recurrence_id;
    std::vector<DateTime> exception_dates, recurrence_dates;
    bool all_day_flag = false;
    std::vector<const ContentLine*> rules, alarms;
};

class VCalendarReader {
public:
    VCalendarReader(const Profile& profile, std::vector<Warning>* warnings) : profile_(profile), warnings_(warnings) {}

    std::optional<Calendar> read(std::string_view text) {
        std::vector<ContentLine> lines = lex_content_lines(text, kDialect, warnings_);
        for (ContentLine& cl : lines) cl = codec::without_nokia_junk(cl, warnings_);
        std::vector<Component> top = cal::build_components(lines, warnings_);
        auto vcalendar = std::find_if(top.begin(), top.end(), [](const Component& c) { return c.name == "VCALENDAR"; });
        if (vcalendar == top.end()) {
            warn(warnings_, 1, "no BEGIN:VCALENDAR: read the components found");
            read_zone({});
            read_components(top);
        } else {
            read_zone(vcalendar->properties);
            read_calendar_properties(vcalendar->properties);
            read_components(vcalendar->children);
        }
        if (calendar_.items.empty()) {
            warn(warnings_, 1, "no VEVENT or VTODO: nothing read");
            return std::nullopt;
        }
        return std::move(calendar_);
    }

private:
    const Profile& profile_;
    std::vector<Warning>* warnings_;
    Calendar calendar_;
    LocalZone zone_;

    // ------------------------------------------------------------- zone --

    void read_zone(const std::vector<ContentLine>& properties) {
        std::optional<int> standard;
        int first_line = 0;
        tz::VcalZone lines;
        for (const ContentLine& cl : properties) {
            if (cl.name == "TZ") {
                standard = tz::parse_offset(wire::trim(cl.value));
                if (!standard) warn(warnings_, cl.line, "TZ \"" + cl.value + "\" is not an offset: ignored");
                first_line = first_line ? first_line : cl.line;
            } else if (cl.name == "DAYLIGHT") {
                first_line = first_line ? first_line : cl.line;
                if (auto period = read_daylight(cl, standard)) lines.daylight.push_back(*period);
            }
        }
        if (!standard && !lines.daylight.empty()) {
            // DAYLIGHT without TZ: the usual one hour of daylight saving.
            standard = lines.daylight.front().offset - 3600;
            warn(warnings_, first_line, "DAYLIGHT without TZ: standard time taken as one hour less");
        }
        if (!standard) {
            zone_.iana = cal::computable_zone(profile_.time_zone);
            return;
        }
        lines.standard_offset = *standard;
        zone_.iana = tz::match_vcal_zone(lines, profile_.time_zone);
        if (zone_.iana.empty()) {
            zone_.offsets = lines;
            warn(warnings_, first_line, "TZ/DAYLIGHT match no known zone: local times converted to UTC with their offsets");
        }
    }

    // "TRUE;+02;20240331T010000Z;20241027T010000Z;CET;CEST"; local begin and
    // end times are in standard and daylight time respectively.
    std::optional<tz::DaylightPeriod> read_daylight(const ContentLine& cl, std::optional<int> standard) {
        std::vector<std::string> parts = codec::split_unescape(cl.value, ';', kDialect);
        std::string flag = wire::to_upper(wire::trim(parts[0]));
        if (flag == "FALSE" || flag == "0") return std::nullopt;
        tz::DaylightPeriod p;
        std::optional<int> offset = parts.size() > 1 ? tz::parse_offset(wire::trim(parts[1])) : std::nullopt;
        std::optional<DateTime> begin = parts.size() > 2 ? cal::parse_date_time(parts[2]) : std::nullopt;
        std::optional<DateTime> end = parts.size() > 3 ? cal::parse_date_time(parts[3]) : std::nullopt;
        if ((flag != "TRUE" && flag != "1") || !offset || !begin || !end) {
            warn(warnings_, cl.line, "DAYLIGHT \"" + cl.value + "\" cannot be read: ignored");
            return std::nullopt;
        }
        p.offset = *offset;
        const int standard_offset = standard ? *standard : p.offset - 3600;
        p.begin = as_utc(*begin, standard_offset);
        p.end = as_utc(*end, p.offset);
        if (parts.size() > 4) p.standard_name = std::string(wire::trim(parts[4]));
        if (parts.size() > 5) p.daylight_name = std::string(wire::trim(parts[5]));
        return p;
    }

    static DateTime as_utc(DateTime v, int offset) {
        if (v.kind == DateTime::Kind::utc) return v;
        if (v.kind == DateTime::Kind::date) v = cal::midnight_of(v);
        v.kind = DateTime::Kind::utc;
        return cal::add_seconds(v, -offset);
    }

    // ----------------------------------------------------- calendar level --

    void read_calendar_properties(const std::vector<ContentLine>& properties) {
        for (const ContentLine& cl : properties) {
            if (cl.name == "VERSION") {
                if (wire::trim(cl.value) != "1.0") warn(warnings_, cl.line, "VERSION " + cl.value + ": read as 1.0");
            } else if (cl.name != "PRODID" && cl.name != "TZ" && cl.name != "DAYLIGHT") {
                calendar_.extra.push_back(codec::to_extra(cl, kDialect, warnings_));
            }
        }
    }

    void read_components(const std::vector<Component>& components) {
        for (const Component& c : components) {
            if (c.name == "VEVENT") calendar_.items.push_back(read_item(c, CalendarItem::Type::event));
            else if (c.name == "VTODO") calendar_.items.push_back(read_item(c, CalendarItem::Type::task));
            else warn(warnings_, c.line, c.name + " is not an event or a task: skipped");
        }
    }

    // ----------------------------------------------------------- values --

    std::string decoded(const ContentLine& cl) { return codec::decode_value(cl, warnings_).text; }

    std::string text_of(const ContentLine& cl) { return codec::unescape(decoded(cl), kDialect); }

    std::vector<std::string> list_of(const ContentLine& cl) {
        std::vector<std::string> out;
        for (std::string& s : codec::split_unescape(decoded(cl), ';', kDialect))
            if (!wire::trim(s).empty()) out.emplace_back(wire::trim(s));
        return out;
    }

    // ------------------------------------------------------------ items --

    CalendarItem read_item(const Component& c, CalendarItem::Type type) {
        CalendarItem item;
        item.type = type;
        RawItem raw;
        for (const ContentLine& cl : c.properties) {
            if (is_empty(cl)) {
                note_empty(cl, item);
                continue;
            }
            if (!read_property(cl, item, raw)) item.extra.push_back(codec::to_extra(cl, kDialect, warnings_));
        }
        for (const Component& child : c.children)
            warn(warnings_, child.line, child.name + " inside " + c.name + ": skipped");
        place_times(raw, item);
        for (const ContentLine* rule : raw.rules) read_rule(*rule, item);
        for (const ContentLine* alarm : raw.alarms) read_alarm(*alarm, item);
        return item;
    }

    bool is_empty(const ContentLine& cl) {
        std::string value = decoded(cl);
        if (is_alarm_property(cl.name))
            return std::all_of(value.begin(), value.end(), [](char ch) { return ch == ';' || ch == ' '; });
        return wire::trim(value).empty();
    }

    void note_empty(const ContentLine& cl, CalendarItem& item) {
        cal::note_sent_empty(item.sent_empty, cal::ical_name_of(cl.name));
        if (is_alarm_property(cl.name)) cal::note_sent_empty(item.sent_empty, "VALARM");
    }

    // false: not a property of the model (or unreadable), to be kept as extra.
    bool read_property(const ContentLine& cl, CalendarItem& item, RawItem& raw) {
        const std::string& n = cl.name;
        if (n == "UID") item.uid = text_of(cl);
        else if (n == "SUMMARY") item.summary = text_of(cl);
        else if (n == "DESCRIPTION") item.description = text_of(cl);
        else if (n == "LOCATION") item.location = text_of(cl);
        else if (n == "URL") item.url = std::string(wire::trim(decoded(cl)));
        else if (n == "CLASS") item.classification = wire::to_upper(wire::trim(text_of(cl)));
        else if (n == "CATEGORIES") append(item.categories, list_of(cl));
        else if (n == "STATUS") item.status = cal::status_from_vcal(text_of(cl), item.type);
        else if (n == "TRANSP") return read_transparency(cl, item);
        else if (n == "PRIORITY") return read_priority(cl, item);
        else if (n == "SEQUENCE") return read_number(cl, item.sequence, 0, 1 << 30);
        else if (n == "PERCENT-COMPLETE") return read_number(cl, item.percent_complete, 0, 100);
        else if (n == "DTSTART") return read_date(cl, raw.start);
        else if (n == "DTEND") return read_date(cl, raw.end);
        else if (n == "DUE") return read_date(cl, raw.due);
        else if (n == "RECURRENCE-ID") return read_date(cl, raw.recurrence_id);
        else if (n == "COMPLETED") return read_stamp(cl, item.completed);
        else if (n == "DCREATED" || n == "CREATED") return read_stamp(cl, item.created);
        else if (n == "LAST-MODIFIED") return read_stamp(cl, item.last_modified);
        else if (n == "DTSTAMP") return read_stamp(cl, item.stamp);
        else if (n == "EXDATE") return read_date_list(cl, raw.exception_dates);
        else if (n == "RDATE") return read_date_list(cl, raw.recurrence_dates);
        else if (n == "RRULE") raw.rules.push_back(&cl);
        else if (is_alarm_property(n)) raw.alarms.push_back(&cl);
        else if (n == "ATTENDEE") read_attendee(cl, item);
        else if (n == "RESOURCES") item.extra.push_back(resources_as_list(cl));
        else if (n == "X-FUNAMBOL-ALLDAY" || n == "X-MICROSOFT-CDO-ALLDAYEVENT") read_all_day_flag(cl, raw);
        else return false;
        return true;
    }

    static void append(std::vector<std::string>& to, std::vector<std::string> more) {
        for (std::string& s : more) to.push_back(std::move(s));
    }

    bool read_number(const ContentLine& cl, int& field, int low, int high) {
        std::optional<int> n = cal::parse_int(decoded(cl));
        if (!n || *n < low || *n > high) {
            warn(warnings_, cl.line, cl.name + " \"" + cl.value + "\" is not a number from " + std::to_string(low) +
                                         " to " + std::to_string(high) + ": kept as an unknown property");
            return false;
        }
        field = *n;
        return true;
    }

    bool read_priority(const ContentLine& cl, CalendarItem& item) {
        int vcal = 0;
        if (!read_number(cl, vcal, 0, 9)) return false;
        item.priority = cal::priority_from_vcal(vcal);
        return true;
    }

    bool read_transparency(const ContentLine& cl, CalendarItem& item) {
        std::string t = cal::transparency_from_vcal(decoded(cl));
        if (t.empty()) {
            warn(warnings_, cl.line, "TRANSP \"" + cl.value + "\" is not 0, 1, OPAQUE or TRANSPARENT: kept as an unknown property");
            return false;
        }
        item.transparency = t;
        return true;
    }

    bool read_date(const ContentLine& cl, DateTime& field) {
        std::optional<DateTime> v = cal::parse_date_time(decoded(cl));
        if (!v) {
            warn(warnings_, cl.line, cl.name + " \"" + cl.value + "\" is not a date-time: kept as an unknown property");
            return false;
        }
        field = *v;
        return true;
    }

    // Time stamps: placed in the zone at once (no all-day reading applies).
    bool read_stamp(const ContentLine& cl, DateTime& field) {
        if (!read_date(cl, field)) return false;
        field = zone_.place(field);
        return true;
    }

    // ';'-separated in vCalendar; some phones use ',' as iCalendar does.
    bool read_date_list(const ContentLine& cl, std::vector<DateTime>& field) {
        std::string value = decoded(cl);
        std::replace(value.begin(), value.end(), ',', ';');
        std::vector<DateTime> values;
        for (const std::string& part : codec::split_unescape(value, ';', kDialect)) {
            if (wire::trim(part).empty()) continue;
            std::optional<DateTime> v = cal::parse_date_time(part);
            if (!v) {
                warn(warnings_, cl.line, cl.name + " \"" + cl.value + "\" has values that are not dates: kept as an unknown property");
                return false;
            }
            values.push_back(*v);
        }
        field.insert(field.end(), values.begin(), values.end());
        return true;
    }

    void read_all_day_flag(const ContentLine& cl, RawItem& raw) {
        std::string v = wire::to_upper(wire::trim(decoded(cl)));
        if (v == "1" || v == "TRUE") raw.all_day_flag = true;
    }

    // RESOURCES is ';'-separated here, ','-separated in iCalendar, and the
    // extra keeps the iCalendar form.
    ExtraProperty resources_as_list(const ContentLine& cl) {
        ExtraProperty p = codec::to_extra(cl, kDialect, warnings_);
        std::string joined;
        for (const std::string& r : list_of(cl)) {
            if (!joined.empty()) joined += ',';
            joined += codec::escape(r, Dialect::new_mime_dir, false);
        }
        p.value = joined;
        return p;
    }

    // --------------------------------------------------- times and zones --

    void place_times(const RawItem& raw, CalendarItem& item) {
        if (all_day(raw, item.type)) {
            place_all_day(raw, item);
            return;
        }
        item.start = zone_.place(raw.start);
        item.end = zone_.place(raw.end);
        item.due = zone_.place(raw.due);
        if (raw.recurrence_id.valid()) item.recurrence_id = zone_.place(raw.recurrence_id);
        for (const DateTime& v : raw.exception_dates) item.exception_dates.push_back(zone_.place(v));
        for (const DateTime& v : raw.recurrence_dates) item.recurrence_dates.push_back(zone_.place(v));
    }

    // The conventions of the header comment; a task is all-day by its flag
    // or its date-only start.
    bool all_day(const RawItem& raw, CalendarItem::Type type) const {
        if (!raw.start.valid()) return raw.all_day_flag && type == CalendarItem::Type::task && raw.due.valid();
        if (raw.start.kind == DateTime::Kind::date || raw.all_day_flag) return true;
        if (type == CalendarItem::Type::task || !raw.end.valid()) return false;
        DateTime start = zone_.wall_clock(raw.start), end = zone_.wall_clock(raw.end);
        if (!is_midnight(start) || end.kind == DateTime::Kind::date) return end.kind == DateTime::Kind::date && is_midnight(start);
        if (is_midnight(end)) return cal::compare_wall(cal::date_of(end), cal::date_of(start)) > 0;
        return is_end_of_day(end) && cal::compare_wall(cal::date_of(end), cal::date_of(start)) >= 0;
    }

    void place_all_day(const RawItem& raw, CalendarItem& item) {
        auto day = [&](const DateTime& v) { return v.valid() ? cal::date_of(zone_.wall_clock(v)) : DateTime{}; };
        item.start = day(raw.start);
        item.due = day(raw.due);
        item.end = exclusive_end(raw, item.start);
        if (raw.recurrence_id.valid()) item.recurrence_id = day(raw.recurrence_id);
        for (const DateTime& v : raw.exception_dates) item.exception_dates.push_back(day(v));
        for (const DateTime& v : raw.recurrence_dates) item.recurrence_dates.push_back(day(v));
    }

    // A date-only end is the last day (Funambol); a midnight end on a later
    // day is already exclusive; any other end time ends within its day.
    DateTime exclusive_end(const RawItem& raw, const DateTime& start) const {
        if (!raw.end.valid() || !start.valid()) return {};
        DateTime end = zone_.wall_clock(raw.end);
        DateTime last_day = cal::date_of(end);
        if (end.kind != DateTime::Kind::date && is_midnight(end) && cal::compare_wall(last_day, start) > 0) return last_day;
        if (cal::compare_wall(last_day, start) < 0) last_day = start;
        return cal::add_days(last_day, 1);
    }

    // ------------------------------------------------------- recurrence --

    void read_rule(const ContentLine& cl, CalendarItem& item) {
        if (item.recurrence) {
            warn(warnings_, cl.line, "a second RRULE: kept as an unknown property");
            item.extra.push_back(codec::to_extra(cl, kDialect, warnings_));
            return;
        }
        std::optional<Recurrence> rule = recurrence::parse_vcal_rule(decoded(cl), item.start, profile_, cl.line, warnings_);
        if (!rule) {
            warn(warnings_, cl.line, "RRULE \"" + cl.value + "\" cannot be read: kept as an unknown property");
            item.extra.push_back(codec::to_extra(cl, kDialect, warnings_));
            return;
        }
        if (rule->until && rule->until->valid()) rule->until = until_for(*rule->until, item.start);
        item.recurrence = std::move(*rule);
    }

    // The end of a series in the form RFC 5545 wants for the start's kind.
    DateTime until_for(const DateTime& until, const DateTime& start) const {
        if (start.kind == DateTime::Kind::date) return cal::date_of(zone_.wall_clock(until));
        if (until.kind == DateTime::Kind::date) return until;
        DateTime placed = zone_.place(until);
        if (start.kind == DateTime::Kind::floating) return placed;
        return cal::to_utc(placed, {}).value_or(placed);
    }

    // ----------------------------------------------------------- alarms --

    // "runtime;snooze;repeat;content" (MALARM: ";address;note").
    void read_alarm(const ContentLine& cl, CalendarItem& item) {
        std::vector<std::string> parts = codec::split_unescape(decoded(cl), ';', kDialect);
        parts.resize(std::max<std::size_t>(parts.size(), 5));
        std::optional<DateTime> runtime = cal::parse_date_time(parts[0]);
        if (!runtime) {
            warn(warnings_, cl.line, cl.name + " run time \"" + parts[0] + "\" is not a date-time: kept as an unknown property");
            item.extra.push_back(codec::to_extra(cl, kDialect, warnings_));
            return;
        }
        Alarm alarm;
        alarm.action = alarm_action_for(cl.name);
        set_trigger(zone_.place(*runtime), item, alarm);
        if (auto snooze = cal::parse_duration(parts[1])) alarm.snooze = *snooze;
        else if (!wire::trim(parts[1]).empty()) warn(warnings_, cl.line, cl.name + " snooze \"" + parts[1] + "\" is not a duration: ignored");
        if (auto repeat = cal::parse_int(parts[2]); repeat && *repeat > 0) alarm.repeat = *repeat;
        set_content(cl.name, parts, alarm);
        item.alarms.push_back(std::move(alarm));
    }

    void set_content(const std::string& name, const std::vector<std::string>& parts, Alarm& alarm) {
        std::string content(wire::trim(parts[3]));
        if (name == "DALARM") {
            alarm.description = content;
        } else if (name == "MALARM") {
            if (!content.empty()) alarm.extra.push_back({"", "ATTENDEE", {}, "mailto:" + content, false});
            alarm.description = parts[4];
        } else {
            alarm.attachment = content;
        }
    }

    // Relative to the start (or to the due date of a task without one) when
    // both can be put on one clock; absolute otherwise.
    void set_trigger(const DateTime& runtime, const CalendarItem& item, Alarm& alarm) {
        bool to_due = !item.start.valid() && item.due.valid();
        const DateTime& base = to_due ? item.due : item.start;
        if (!base.valid()) {
            alarm.at = runtime;
            return;
        }
        DateTime placed_base = base.kind == DateTime::Kind::date ? zone_.place(cal::midnight_of(base)) : base;
        std::optional<DateTime> base_utc = cal::to_utc(placed_base, {});
        std::optional<DateTime> run_utc = cal::to_utc(runtime, {});
        if (base_utc && run_utc) {
            alarm.offset = Duration{cal::wall_seconds(*run_utc) - cal::wall_seconds(*base_utc)};
        } else if (placed_base.kind == DateTime::Kind::floating && runtime.kind == DateTime::Kind::floating) {
            alarm.offset = Duration{cal::wall_seconds(runtime) - cal::wall_seconds(placed_base)};
        } else {
            alarm.at = runtime;
            return;
        }
        alarm.relative_to_end = to_due;
    }

    // ------------------------------------------------------- attendees --

    // "ATTENDEE;ROLE=ORGANIZER;STATUS=CONFIRMED;RSVP=YES:John Smith <js@host>"
    void read_attendee(const ContentLine& cl, CalendarItem& item) {
        Attendee a = attendee_address(text_of(cl));
        std::string role;
        for (const RawParam& p : cl.params) {
            std::string value = wire::to_upper(wire::trim(p.value));
            if (p.name == "ROLE") role = value;
            else if (p.name == "STATUS") a.partstat = cal::partstat_from_vcal(value);
            else if (p.name == "RSVP") a.rsvp = value == "YES" || value == "TRUE";
            else if (p.name == "EXPECT") a.role = cal::role_from_vcal_expect(value);
            else if (!p.name.empty() && p.name != "CHARSET" && p.name != "ENCODING") a.other_params.push_back({p.name, {p.value}});
        }
        if (role == "ORGANIZER" && !item.organizer) {
            item.organizer = std::move(a);
            return;
        }
        if (role == "OWNER" || role == "ORGANIZER") a.role = "CHAIR";
        item.attendees.push_back(std::move(a));
    }

    static Attendee attendee_address(const std::string& value) {
        Attendee a;
        std::string address(wire::trim(value));
        std::size_t open = address.rfind('<');
        std::size_t close = address.rfind('>');
        if (open != std::string::npos && close != std::string::npos && close > open) {
            a.common_name = std::string(wire::trim(std::string_view(address).substr(0, open)));
            if (a.common_name.size() >= 2 && a.common_name.front() == '"' && a.common_name.back() == '"')
                a.common_name = a.common_name.substr(1, a.common_name.size() - 2);
            address = address.substr(open + 1, close - open - 1);
        }
        bool has_scheme = address.find(':') != std::string::npos;
        a.address = has_scheme || address.empty() ? address : "mailto:" + address;
        return a;
    }
};

// ================================================================ writing ==

class VCalendarWriter {
public:
    VCalendarWriter(const Calendar& calendar, const Profile& profile, std::vector<Warning>* losses)
        : calendar_(calendar), profile_(profile), losses_(losses) {
        style_.dialect = kDialect;
        style_.charset = profile.charset;
        style_.blank_line_after_base64 = profile.blank_line_after_base64;
    }

    std::string write() {
        choose_zone();
        out_ = "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nPRODID:-//SyncMLKit//EN\r\n";
        write_zone();
        for (const ExtraProperty& p : calendar_.extra) codec::write_extra(out_, p, style_);
        for (const CalendarItem& item : calendar_.items) write_item(item);
        out_ += "END:VCALENDAR\r\n";
        return std::move(out_);
    }

private:
    const Calendar& calendar_;
    const Profile& profile_;
    std::vector<Warning>* losses_;
    codec::LineStyle style_;
    std::string out_;
    std::string zone_;  // the IANA zone of the local times written; empty: none
    std::optional<tz::VcalZone> zone_lines_;
    std::vector<std::string> zones_lost_;

    void lose(std::string message) {
        if (losses_) losses_->push_back({0, std::move(message)});
    }

    // ------------------------------------------------------------- zone --

    void choose_zone() {
        if (profile_.times_in_utc) return;
        for (const CalendarItem& item : calendar_.items)
            for (const DateTime* v : {&item.start, &item.end, &item.due})
                if (zone_.empty() && v->kind == DateTime::Kind::zoned) zone_ = cal::computable_zone(v->tzid);
        if (zone_.empty()) zone_ = cal::computable_zone(profile_.time_zone);
        if (zone_.empty()) return;
        auto [first, last] = years_touched();
        if (first > 0) zone_lines_ = tz::vcal_zone(zone_, first, last);
        if (!zone_lines_) {
            if (first > 0) lose("zone " + zone_ + " has no vCalendar form: times written in UTC");
            zone_.clear();
        }
    }

    std::pair<int, int> years_touched() const {
        int first = 0, last = 0;
        auto touch = [&](const DateTime& v, int until_year) {
            if (!v.valid()) return;
            first = first ? std::min(first, v.year) : v.year;
            last = std::max({last, v.year, until_year});
        };
        for (const CalendarItem& item : calendar_.items) {
            int series_end = item.recurrence && item.start.valid() ? cal::series_last_year(*item.recurrence, item.start) : 0;
            touch(item.start, series_end);
            touch(item.end, 0);
            touch(item.due, 0);
            for (const DateTime& v : item.recurrence_dates) touch(v, 0);
            if (item.recurrence_id) touch(*item.recurrence_id, 0);
        }
        return {first, last};
    }

    void write_zone() {
        if (!zone_lines_) return;
        out_ += "TZ:" + tz::format_offset(zone_lines_->standard_offset, true) + "\r\n";
        if (zone_lines_->daylight.empty()) out_ += "DAYLIGHT:FALSE\r\n";
        for (const tz::DaylightPeriod& p : zone_lines_->daylight)
            out_ += "DAYLIGHT:TRUE;" + tz::format_offset(p.offset, true) + ";" + cal::format_date_time(utc(p.begin)) +
                    ";" + cal::format_date_time(utc(p.end)) + ";" + p.standard_name + ";" + p.daylight_name + "\r\n";
    }

    static DateTime utc(DateTime v) {
        v.kind = DateTime::Kind::utc;
        v.tzid.clear();
        return v;
    }

    // A time as written: UTC, or the local time of the object's zone, or
    // floating as it came.
    DateTime written(const DateTime& v) {
        if (v.kind == DateTime::Kind::date) return cal::midnight_of(v);
        std::optional<DateTime> in_utc = cal::to_utc(v, zone_.empty() ? profile_.time_zone : zone_);
        if (!in_utc && v.kind == DateTime::Kind::zoned) lose_zone(v.tzid);
        if (!in_utc) return LocalZone::as_kind(v, v.kind == DateTime::Kind::utc ? DateTime::Kind::utc : DateTime::Kind::floating);
        if (zone_.empty()) return v.kind == DateTime::Kind::floating && !profile_.times_in_utc ? v : *in_utc;
        return LocalZone::as_kind(tz::from_utc(*in_utc, zone_), DateTime::Kind::floating);
    }

    void lose_zone(const std::string& tzid) {
        if (std::find(zones_lost_.begin(), zones_lost_.end(), tzid) != zones_lost_.end()) return;
        zones_lost_.push_back(tzid);
        lose("zone " + tzid + " is unknown: its times written as local times without a zone");
    }

    std::string text_value(const DateTime& v) { return cal::format_date_time(written(v)); }

    // ----------------------------------------------------------- values --

    void property(std::string_view name, const std::vector<Param>& params, std::string_view value) {
        codec::write_property(out_, {}, name, params, value, style_);
    }

    // ';' is escaped in every text value, not only in compound ones: readers
    // built on the vCalendar reference parser (libical's, many phones')
    // split every value at ';'.
    void text(std::string_view name, const std::string& value) {
        if (!value.empty()) property(name, {}, codec::escape(value, kDialect, true));
    }

    void date_time(std::string_view name, const DateTime& v) {
        if (v.valid()) property(name, {}, text_value(v));
    }

    // Stamps are instants: UTC where the zone is known.
    void stamp(std::string_view name, const DateTime& v) {
        if (!v.valid()) return;
        std::optional<DateTime> in_utc = cal::to_utc(v, zone_.empty() ? profile_.time_zone : zone_);
        property(name, {}, cal::format_date_time(in_utc ? *in_utc : written(v)));
    }

    void date_list(std::string_view name, const std::vector<DateTime>& values) {
        std::string joined;
        for (const DateTime& v : values) {
            if (!v.valid()) continue;
            if (!joined.empty()) joined += ';';
            joined += text_value(v);
        }
        if (!joined.empty()) property(name, {}, joined);
    }

    // ------------------------------------------------------------ items --

    void write_item(const CalendarItem& item) {
        const char* component = item.type == CalendarItem::Type::task ? "VTODO" : "VEVENT";
        out_ += std::string("BEGIN:") + component + "\r\n";
        text("UID", item.uid);
        text("SUMMARY", item.summary);
        text("DESCRIPTION", item.description);
        text("LOCATION", item.location);
        if (item.all_day() && item.type == CalendarItem::Type::event) write_all_day_times(item);
        else write_times(item);
        if (item.recurrence_id) date_time("RECURRENCE-ID", *item.recurrence_id);
        write_recurrence(item);
        text("STATUS", cal::status_to_vcal(item.status));
        if (int p = cal::priority_to_vcal(item.priority); p > 0) property("PRIORITY", {}, std::to_string(p));
        if (!item.transparency.empty()) property("TRANSP", {}, cal::transparency_to_vcal(item.transparency));
        text("CLASS", item.classification);
        write_categories(item.categories);
        if (item.organizer) write_attendee(*item.organizer, true);
        for (const Attendee& a : item.attendees) write_attendee(a, false);
        stamp("COMPLETED", item.completed);
        if (item.percent_complete >= 0) property("PERCENT-COMPLETE", {}, std::to_string(item.percent_complete));
        stamp("DCREATED", item.created);
        stamp("LAST-MODIFIED", item.last_modified);
        if (item.sequence >= 0) property("SEQUENCE", {}, std::to_string(item.sequence));
        if (!item.url.empty()) property("URL", {}, item.url);
        for (const ExtraProperty& p : item.extra) codec::write_extra(out_, p, style_);
        for (const Alarm& alarm : item.alarms) write_alarm(alarm, item);
        out_ += std::string("END:") + component + "\r\n";
    }

    void write_all_day_times(const CalendarItem& item) {
        DateTime last_day = item.start;
        if (item.end.valid() && cal::compare_wall(item.end, item.start) > 0) last_day = cal::add_days(cal::date_of(item.end), -1);
        else if (!item.end.valid() && item.duration && item.duration->seconds > 86400)
            last_day = cal::add_seconds(item.start, item.duration->seconds - 86400);
        DateTime end_of_day = cal::midnight_of(last_day);
        end_of_day.hour = 23, end_of_day.minute = 59;
        property("DTSTART", {}, cal::format_date_time(cal::midnight_of(item.start)));
        property("DTEND", {}, cal::format_date_time(end_of_day));
        if (profile_.funambol_extensions) property("X-FUNAMBOL-ALLDAY", {}, "1");
    }

    void write_times(const CalendarItem& item) {
        date_time("DTSTART", item.start);
        const bool task = item.type == CalendarItem::Type::task;
        DateTime end = task ? item.due : item.end;
        if (!end.valid() && item.duration && item.start.valid()) end = cal::add_seconds(item.start, item.duration->seconds);
        date_time(task ? "DUE" : "DTEND", end);
        if (task && item.all_day() && profile_.funambol_extensions) property("X-FUNAMBOL-ALLDAY", {}, "1");
    }

    // --------------------------------------------------------- recurrence --

    void write_recurrence(const CalendarItem& item) {
        std::vector<DateTime> extra_dates = item.recurrence_dates;
        if (item.recurrence && item.start.valid()) {
            Recurrence rule = *item.recurrence;
            if (rule.until && rule.until->valid() && rule.until->kind != DateTime::Kind::date)
                rule.until = written(*rule.until);
            DateTime start = written(item.start);
            // Its own loss says the rule was left out; ours says how it was written instead.
            std::vector<Warning> rule_losses;
            if (std::optional<std::string> text = recurrence::format_vcal_rule(rule, start, profile_, &rule_losses)) {
                property("RRULE", {}, *text);
                if (losses_) losses_->insert(losses_->end(), rule_losses.begin(), rule_losses.end());
            } else {
                append_occurrences(item, extra_dates);
            }
        }
        date_list("EXDATE", item.exception_dates);
        date_list("RDATE", extra_dates);
    }

    // A rule the basic grammar cannot say: its occurrences as RDATEs (an
    // endless one through the current year + 5).
    void append_occurrences(const CalendarItem& item, std::vector<DateTime>& dates) {
        const Recurrence& rule = *item.recurrence;
        int last_year = cal::series_last_year(rule, item.start);
        std::vector<DateTime> all = recurrence::expand(rule, item.start, 1000, last_year);
        for (std::size_t i = 1; i < all.size(); ++i) dates.push_back(all[i]);
        bool endless = rule.count == 0 && !rule.until;
        lose("RRULE " + recurrence::format_rrule(rule) + " has no vCalendar 1.0 form: written as " +
             std::to_string(all.size() > 0 ? all.size() - 1 : 0) + " RDATEs" +
             (endless ? " through " + std::to_string(last_year) : std::string()));
    }

    void write_categories(const std::vector<std::string>& categories) {
        std::string joined;
        for (const std::string& c : categories) {
            if (!joined.empty()) joined += ';';
            joined += codec::escape(c, kDialect, true);
        }
        if (!joined.empty()) property("CATEGORIES", {}, joined);
    }

    // ------------------------------------------------------- attendees --

    void write_attendee(const Attendee& a, bool organizer) {
        std::vector<Param> params;
        params.push_back({"ROLE", {organizer ? "ORGANIZER" : a.role == "CHAIR" ? "OWNER" : "ATTENDEE"}});
        if (!a.partstat.empty()) params.push_back({"STATUS", {cal::partstat_to_vcal(a.partstat)}});
        if (a.rsvp) params.push_back({"RSVP", {"YES"}});
        if (std::string expect = cal::role_to_vcal_expect(a.role); !expect.empty() && !organizer)
            params.push_back({"EXPECT", {expect}});
        if (!a.cutype.empty() || !a.other_params.empty())
            lose("ATTENDEE " + a.address + ": CUTYPE and other parameters have no vCalendar 1.0 form");
        std::string address = a.address;
        if (wire::to_upper(address.substr(0, 7)) == "MAILTO:") address = address.substr(7);
        std::string value = a.common_name.empty() ? address : a.common_name + " <" + address + ">";
        property("ATTENDEE", params, codec::escape(value, kDialect, true));
    }

    // ----------------------------------------------------------- alarms --

    void write_alarm(const Alarm& alarm, const CalendarItem& item) {
        std::optional<DateTime> runtime = run_time(alarm, item);
        if (!runtime) {
            lose("an alarm relative to a start or end the item does not have: not written");
            return;
        }
        std::string action = wire::to_upper(alarm.action);
        const char* name = alarm_property_for(action);
        if (action != "AUDIO" && action != "DISPLAY" && action != "EMAIL" && action != "PROCEDURE")
            lose("alarm ACTION " + alarm.action + ": written as DALARM");
        std::string value = cal::format_date_time(*runtime) + ";";
        if (alarm.repeat > 0 || alarm.snooze.seconds != 0) value += cal::format_duration(alarm.snooze);
        value += ";";
        if (alarm.repeat > 0) value += std::to_string(alarm.repeat);
        value += ";" + alarm_content(action, alarm);
        property(name, alarm_params(action, alarm), value);
    }

    // vCalendar 1.0 2.4.2: content that is a reference is marked VALUE=URL
    // (libical drops an AALARM's sound without it).
    static std::vector<Param> alarm_params(const std::string& action, const Alarm& alarm) {
        if (action != "AUDIO" && action != "PROCEDURE") return {};
        std::size_t colon = alarm.attachment.find(':');
        bool is_uri = colon != std::string::npos && colon > 1 &&
                      std::all_of(alarm.attachment.begin(), alarm.attachment.begin() + static_cast<std::ptrdiff_t>(colon),
                                  [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'; });
        if (!is_uri) return {};
        return {{"VALUE", {"URL"}}};
    }

    std::string alarm_content(const std::string& action, const Alarm& alarm) {
        auto escaped = [](const std::string& s) { return codec::escape(s, kDialect, true); };
        if (action == "AUDIO" || action == "PROCEDURE") return escaped(alarm.attachment);
        if (action != "EMAIL") return escaped(alarm.description);
        std::string address;
        for (const ExtraProperty& p : alarm.extra)
            if (p.name == "ATTENDEE" && address.empty()) address = p.value;
        if (wire::to_upper(address.substr(0, 7)) == "MAILTO:") address = address.substr(7);
        return escaped(address) + ";" + escaped(alarm.description);
    }

    // Absolute run times: UTC where the zone is known.
    std::optional<DateTime> run_time(const Alarm& alarm, const CalendarItem& item) {
        std::string fallback = zone_.empty() ? profile_.time_zone : zone_;
        if (alarm.at && alarm.at->valid()) return cal::to_utc(*alarm.at, fallback).value_or(written(*alarm.at));
        if (!alarm.offset) return std::nullopt;
        DateTime base = alarm_base(alarm, item);
        if (!base.valid()) return std::nullopt;
        if (base.kind == DateTime::Kind::date) base = cal::midnight_of(base);
        if (std::optional<DateTime> in_utc = cal::to_utc(base, fallback)) return cal::add_seconds(*in_utc, alarm.offset->seconds);
        return cal::add_seconds(written(base), alarm.offset->seconds);
    }

    static DateTime alarm_base(const Alarm& alarm, const CalendarItem& item) {
        if (item.type == CalendarItem::Type::task) {
            if (alarm.relative_to_end || !item.start.valid()) return item.due.valid() ? item.due : item.start;
            return item.start;
        }
        if (!alarm.relative_to_end) return item.start;
        if (item.end.valid()) return item.end;
        if (item.duration && item.start.valid()) return cal::add_seconds(item.start, item.duration->seconds);
        return item.start;
    }
};

}  // namespace

std::optional<Calendar> read_vcalendar(std::string_view text, const Profile& profile, std::vector<Warning>* warnings) {
    return VCalendarReader(profile, warnings).read(text);
}

std::string write_vcalendar(const Calendar& calendar, const Profile& profile, std::vector<Warning>* losses) {
    return VCalendarWriter(calendar, profile, losses).write();
}

}  // namespace smk::pim::detail
