// iCalendar 2.0 (RFC 5545): one VCALENDAR object to the model and back.
//
// Reading keeps what the model has no field for: unknown properties of an
// item or an alarm go to its `extra`, VCALENDAR-level ones (but PRODID,
// VERSION, CALSCALE and METHOD, which the writer regenerates) to the
// calendar's, and a VTIMEZONE as its text. A value that cannot be read is
// reported and kept as an unknown property, so that it is written again.
//
// Writing regenerates PRODID ("-//SyncMLKit//EN") and emits a VTIMEZONE
// for every TZID the items use: the one that came with the calendar, else
// one made by ICU for the years the items touch, else the loss is reported.
// DTSTAMP and UID are written when the item has them and never invented:
// a made-up stamp would make every conversion of the same item differ, and
// a made-up UID would not be stable; a host that needs strictly valid RFC
// 5545 output sets both.
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

constexpr Dialect kDialect = Dialect::new_mime_dir;

void warn(std::vector<Warning>* warnings, int line, std::string message) {
    if (warnings) warnings->push_back({line, std::move(message)});
}

const RawParam* find_param(const ContentLine& cl, std::string_view name) {
    for (const RawParam& p : cl.params)
        if (p.name == name) return &p;
    return nullptr;
}

std::string param_upper(const ContentLine& cl, std::string_view name) {
    const RawParam* p = find_param(cl, name);
    return p ? wire::to_upper(wire::trim(p->value)) : std::string();
}

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        std::size_t comma = text.find(',', start);
        std::string part(wire::trim(text.substr(start, comma == std::string_view::npos ? comma : comma - start)));
        if (!part.empty()) parts.push_back(part);
        if (comma == std::string_view::npos) return parts;
        start = comma + 1;
    }
}

// ================================================================ reading ==

class ICalendarReader {
public:
    explicit ICalendarReader(std::vector<Warning>* warnings) : warnings_(warnings) {}

    std::optional<Calendar> read(std::string_view text) {
        std::vector<ContentLine> lines = lex_content_lines(text, kDialect, warnings_);
        std::vector<Component> top = cal::build_components(lines, warnings_);
        const Component* vcalendar = nullptr;
        for (const Component& c : top) {
            if (c.name == "VCALENDAR" && !vcalendar) vcalendar = &c;
            else if (c.name == "VCALENDAR") warn(warnings_, c.line, "a second VCALENDAR: ignored");
        }
        if (vcalendar) {
            read_calendar_properties(*vcalendar);
            read_components(vcalendar->children);
        } else {
            // Items without their VCALENDAR wrapper: still worth reading.
            warn(warnings_, 1, "no BEGIN:VCALENDAR: read the components found");
            read_components(top);
        }
        report_unknown_zones();
        if (calendar_.items.empty()) {
            warn(warnings_, 1, "no VEVENT or VTODO: nothing read");
            return std::nullopt;
        }
        return std::move(calendar_);
    }

private:
    std::vector<Warning>* warnings_;
    Calendar calendar_;
    std::vector<std::pair<std::string, int>> zones_used_;  // tzid, first line

    // ------------------------------------------------------ calendar level --

    void read_calendar_properties(const Component& vcalendar) {
        for (const ContentLine& cl : vcalendar.properties) {
            if (cl.name == "VERSION") {
                if (wire::trim(cl.value) != "2.0") warn(warnings_, cl.line, "VERSION " + cl.value + ": read as 2.0");
            } else if (cl.name == "PRODID" || cl.name == "CALSCALE" || cl.name == "METHOD") {
                continue;  // regenerated, or meaningless outside a scheduling message
            } else {
                calendar_.extra.push_back(codec::to_extra(cl, kDialect, warnings_));
            }
        }
    }

    void read_components(const std::vector<Component>& components) {
        for (const Component& c : components) {
            if (c.name == "VEVENT") calendar_.items.push_back(read_item(c, CalendarItem::Type::event));
            else if (c.name == "VTODO") calendar_.items.push_back(read_item(c, CalendarItem::Type::task));
            else if (c.name == "VTIMEZONE") read_time_zone(c);
            else warn(warnings_, c.line, c.name + " is not an event or a task: skipped");
        }
    }

    void read_time_zone(const Component& c) {
        TimeZoneDefinition def;
        for (const ContentLine& cl : c.properties)
            if (cl.name == "TZID") def.tzid = std::string(wire::trim(cl.value));
        if (def.tzid.empty()) {
            warn(warnings_, c.line, "VTIMEZONE without TZID: skipped");
            return;
        }
        def.vtimezone = component_text(c);
        calendar_.time_zones.push_back(std::move(def));
    }

    // The component written back as it came (unfolded lines folded again).
    static std::string component_text(const Component& c) {
        std::string out = "BEGIN:" + c.name + "\r\n";
        codec::LineStyle style;
        for (const ContentLine& cl : c.properties) {
            std::vector<Param> params;
            for (const RawParam& p : cl.params) params.push_back({p.name, {p.value}});
            codec::write_property(out, cl.group, cl.name, params, cl.value, style);
        }
        for (const Component& child : c.children) out += component_text(child);
        return out + "END:" + c.name + "\r\n";
    }

    void report_unknown_zones() {
        for (const auto& used : zones_used_) {
            const std::string& tzid = used.first;  // a named reference: clang 14 cannot capture a binding
            const auto& line = used.second;
            bool defined = std::any_of(calendar_.time_zones.begin(), calendar_.time_zones.end(),
                                       [&](const TimeZoneDefinition& d) { return d.tzid == tzid; });
            if (!defined && cal::computable_zone(tzid).empty())
                warn(warnings_, line, "TZID " + tzid + " has no VTIMEZONE and is no known zone: kept as written");
        }
    }

    // ----------------------------------------------------------- values --

    std::string text_of(const ContentLine& cl) {
        codec::DecodedValue v = codec::decode_value(cl, warnings_);
        if (v.binary) return v.text;
        return codec::split_unescape(v.text, '\0', kDialect, cl.line, warnings_).front();
    }

    std::vector<std::string> list_of(const ContentLine& cl) {
        codec::DecodedValue v = codec::decode_value(cl, warnings_);
        std::vector<std::string> out;
        for (std::string& s : codec::split_unescape(v.text, ',', kDialect, cl.line, warnings_))
            if (!s.empty()) out.push_back(std::move(s));
        return out;
    }

    void note_zone(const std::string& tzid, int line) {
        for (const auto& used : zones_used_)
            if (used.first == tzid) return;
        zones_used_.emplace_back(tzid, line);
    }

    // One date or date-time of a property, with its TZID.
    std::optional<DateTime> date_time_of(const ContentLine& cl, std::string_view text) {
        std::optional<DateTime> v = cal::parse_date_time(text);
        if (!v) return std::nullopt;
        const RawParam* tzid = find_param(cl, "TZID");
        if (tzid && v->kind == DateTime::Kind::floating && !tzid->value.empty()) {
            v->kind = DateTime::Kind::zoned;
            v->tzid = tzid->value;
            note_zone(v->tzid, cl.line);
        }
        return v;
    }

    std::vector<DateTime> date_times_of(const ContentLine& cl, bool& all_read) {
        std::vector<DateTime> out;
        all_read = true;
        for (const std::string& part : split_commas(cl.value)) {
            if (auto v = date_time_of(cl, part)) out.push_back(*v);
            else all_read = false;
        }
        return out;
    }

    // ------------------------------------------------------------ items --

    CalendarItem read_item(const Component& c, CalendarItem::Type type) {
        CalendarItem item;
        item.type = type;
        for (const ContentLine& cl : c.properties) {
            if (wire::trim(cl.value).empty()) {
                cal::note_sent_empty(item.sent_empty, cl.name);
                continue;
            }
            if (!read_property(cl, item)) item.extra.push_back(codec::to_extra(cl, kDialect, warnings_));
        }
        for (const Component& child : c.children) {
            if (child.name != "VALARM") {
                warn(warnings_, child.line, child.name + " inside " + c.name + ": skipped");
                continue;
            }
            if (auto alarm = read_alarm(child)) item.alarms.push_back(std::move(*alarm));
        }
        if (item.end.valid() && item.duration) {
            warn(warnings_, c.line, "both DTEND and DURATION: DURATION ignored");
            item.duration.reset();
        }
        return item;
    }

    // false: not a property of the model (or unreadable), to be kept as extra.
    bool read_property(const ContentLine& cl, CalendarItem& item) {
        const std::string& n = cl.name;
        if (n == "UID") item.uid = text_of(cl);
        else if (n == "SUMMARY") item.summary = text_of(cl);
        else if (n == "DESCRIPTION") item.description = text_of(cl);
        else if (n == "LOCATION") item.location = text_of(cl);
        else if (n == "URL") item.url = std::string(wire::trim(cl.value));
        else if (n == "STATUS") item.status = wire::to_upper(wire::trim(text_of(cl)));
        else if (n == "CLASS") item.classification = wire::to_upper(wire::trim(text_of(cl)));
        else if (n == "TRANSP") item.transparency = wire::to_upper(wire::trim(text_of(cl)));
        else if (n == "CATEGORIES") append(item.categories, list_of(cl));
        else if (n == "PRIORITY") return read_number(cl, item.priority, 0, 9);
        else if (n == "PERCENT-COMPLETE") return read_number(cl, item.percent_complete, 0, 100);
        else if (n == "SEQUENCE") return read_number(cl, item.sequence, 0, 1 << 30);
        else if (n == "DTSTART") return read_single_date(cl, item.start);
        else if (n == "DTEND") return read_single_date(cl, item.end);
        else if (n == "DUE") return read_single_date(cl, item.due);
        else if (n == "COMPLETED") return read_single_date(cl, item.completed);
        else if (n == "CREATED") return read_single_date(cl, item.created);
        else if (n == "LAST-MODIFIED") return read_single_date(cl, item.last_modified);
        else if (n == "DTSTAMP") return read_single_date(cl, item.stamp);
        else if (n == "RECURRENCE-ID") return read_recurrence_id(cl, item);
        else if (n == "EXDATE") return read_date_list(cl, item.exception_dates);
        else if (n == "RDATE") return read_date_list(cl, item.recurrence_dates);
        else if (n == "DURATION") return read_duration(cl, item);
        else if (n == "RRULE") return read_rule(cl, item);
        else if (n == "ORGANIZER") item.organizer = read_attendee(cl);
        else if (n == "ATTENDEE") item.attendees.push_back(read_attendee(cl));
        else return false;
        return true;
    }

    static void append(std::vector<std::string>& to, std::vector<std::string> more) {
        for (std::string& s : more) to.push_back(std::move(s));
    }

    bool read_number(const ContentLine& cl, int& field, int low, int high) {
        std::optional<int> n = cal::parse_int(cl.value);
        if (!n || *n < low || *n > high) {
            warn(warnings_, cl.line, cl.name + " \"" + cl.value + "\" is not a number from " + std::to_string(low) +
                                         " to " + std::to_string(high) + ": kept as an unknown property");
            return false;
        }
        field = *n;
        return true;
    }

    bool read_single_date(const ContentLine& cl, DateTime& field) {
        std::optional<DateTime> v = date_time_of(cl, cl.value);
        if (!v) {
            warn(warnings_, cl.line, cl.name + " \"" + cl.value + "\" is not a date-time: kept as an unknown property");
            return false;
        }
        if (param_upper(cl, "VALUE") == "DATE" && v->kind != DateTime::Kind::date)
            warn(warnings_, cl.line, cl.name + ": VALUE=DATE with a date-time: read as the date-time");
        field = *v;
        return true;
    }

    bool read_recurrence_id(const ContentLine& cl, CalendarItem& item) {
        DateTime v;
        if (!read_single_date(cl, v)) return false;
        item.recurrence_id = v;
        // RANGE=THISANDFUTURE has no field in the model.
        if (find_param(cl, "RANGE")) warn(warnings_, cl.line, "RECURRENCE-ID;RANGE: the range is not kept");
        return true;
    }

    bool read_date_list(const ContentLine& cl, std::vector<DateTime>& field) {
        if (param_upper(cl, "VALUE") == "PERIOD") return false;  // no field for periods: kept whole
        bool all_read = true;
        std::vector<DateTime> values = date_times_of(cl, all_read);
        if (!all_read) {
            warn(warnings_, cl.line, cl.name + " \"" + cl.value + "\" has values that are not dates: kept as an unknown property");
            return false;
        }
        field.insert(field.end(), values.begin(), values.end());
        return true;
    }

    bool read_duration(const ContentLine& cl, CalendarItem& item) {
        std::optional<Duration> d = cal::parse_duration(cl.value);
        if (!d) {
            warn(warnings_, cl.line, "DURATION \"" + cl.value + "\" is not a duration: kept as an unknown property");
            return false;
        }
        item.duration = *d;
        return true;
    }

    bool read_rule(const ContentLine& cl, CalendarItem& item) {
        if (item.recurrence) {
            warn(warnings_, cl.line, "a second RRULE: kept as an unknown property");
            return false;
        }
        std::optional<Recurrence> rule = recurrence::parse_rrule(cl.value, cl.line, warnings_);
        if (!rule) {
            warn(warnings_, cl.line, "RRULE \"" + cl.value + "\" cannot be read: kept as an unknown property");
            return false;
        }
        item.recurrence = std::move(*rule);
        return true;
    }

    Attendee read_attendee(const ContentLine& cl) {
        Attendee a;
        a.address = std::string(wire::trim(cl.value));
        for (const RawParam& p : cl.params) {
            if (p.name == "CN") a.common_name = p.value;
            else if (p.name == "ROLE") a.role = wire::to_upper(p.value);
            else if (p.name == "PARTSTAT") a.partstat = wire::to_upper(p.value);
            else if (p.name == "CUTYPE") a.cutype = wire::to_upper(p.value);
            else if (p.name == "RSVP") a.rsvp = wire::to_upper(p.value) == "TRUE";
            else if (!p.name.empty()) a.other_params.push_back({p.name, split_commas(p.value)});
        }
        return a;
    }

    // ----------------------------------------------------------- alarms --

    std::optional<Alarm> read_alarm(const Component& c) {
        Alarm alarm;
        bool has_trigger = false;
        for (const ContentLine& cl : c.properties) {
            const std::string& n = cl.name;
            if (n == "ACTION") {
                std::string action = wire::to_upper(wire::trim(cl.value));
                if (!action.empty()) alarm.action = action;
            } else if (n == "TRIGGER") {
                has_trigger = read_trigger(cl, alarm);
                if (!has_trigger) warn(warnings_, cl.line, "TRIGGER \"" + cl.value + "\" cannot be read");
            } else if (n == "REPEAT" && cal::parse_int(cl.value).value_or(-1) >= 0) {
                alarm.repeat = *cal::parse_int(cl.value);
            } else if (n == "DURATION" && cal::parse_duration(cl.value)) {
                alarm.snooze = *cal::parse_duration(cl.value);
            } else if (n == "DESCRIPTION") {
                alarm.description = text_of(cl);
            } else if (n == "ATTACH" && !find_param(cl, "ENCODING") && alarm.attachment.empty()) {
                alarm.attachment = std::string(wire::trim(cl.value));
            } else {
                alarm.extra.push_back(codec::to_extra(cl, kDialect, warnings_));
            }
        }
        if (!has_trigger) {
            warn(warnings_, c.line, "VALARM without a readable TRIGGER: dropped");
            return std::nullopt;
        }
        return alarm;
    }

    bool read_trigger(const ContentLine& cl, Alarm& alarm) {
        std::string_view value = wire::trim(cl.value);
        if (param_upper(cl, "VALUE") == "DATE-TIME" || (!value.empty() && std::isdigit(static_cast<unsigned char>(value[0])))) {
            std::optional<DateTime> at = date_time_of(cl, value);
            if (!at) return false;
            alarm.at = *at;
            return true;
        }
        std::optional<Duration> offset = cal::parse_duration(value);
        if (!offset) return false;
        alarm.offset = *offset;
        alarm.relative_to_end = param_upper(cl, "RELATED") == "END";
        return true;
    }
};

// ================================================================ writing ==

class ICalendarWriter {
public:
    ICalendarWriter(const Calendar& calendar, const Profile& profile, std::vector<Warning>* losses)
        : calendar_(calendar), profile_(profile), losses_(losses) {}

    std::string write() {
        out_ = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//SyncMLKit//EN\r\n";
        for (const ExtraProperty& p : calendar_.extra) codec::write_extra(out_, p, style_);
        write_time_zones();
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

    void lose(std::string message) {
        if (losses_) losses_->push_back({0, std::move(message)});
    }

    // ------------------------------------------------------- time zones --

    struct ZoneUse {
        std::string tzid;
        int first_year = 0, last_year = 0;
    };

    static void widen(std::vector<ZoneUse>& uses, const DateTime& v, int last_year) {
        if (!v.valid() || v.kind != DateTime::Kind::zoned) return;
        auto it = std::find_if(uses.begin(), uses.end(), [&](const ZoneUse& u) { return u.tzid == v.tzid; });
        if (it == uses.end()) {
            uses.push_back({v.tzid, v.year, std::max(v.year, last_year)});
            return;
        }
        it->first_year = std::min(it->first_year, v.year);
        it->last_year = std::max({it->last_year, v.year, last_year});
    }

    std::vector<ZoneUse> zones_used() const {
        std::vector<ZoneUse> uses;
        for (const CalendarItem& item : calendar_.items) {
            int series_end = item.recurrence && item.start.valid() ? cal::series_last_year(*item.recurrence, item.start) : 0;
            widen(uses, item.start, series_end);
            for (const DateTime* v : {&item.end, &item.due, &item.completed, &item.created, &item.last_modified, &item.stamp})
                widen(uses, *v, 0);
            if (item.recurrence_id) widen(uses, *item.recurrence_id, 0);
            for (const DateTime& v : item.exception_dates) widen(uses, v, 0);
            for (const DateTime& v : item.recurrence_dates) widen(uses, v, 0);
            for (const Alarm& a : item.alarms)
                if (a.at) widen(uses, *a.at, 0);
        }
        return uses;
    }

    void write_time_zones() {
        for (const ZoneUse& use : zones_used()) {
            auto kept = std::find_if(calendar_.time_zones.begin(), calendar_.time_zones.end(),
                                     [&](const TimeZoneDefinition& d) { return d.tzid == use.tzid; });
            if (kept != calendar_.time_zones.end()) {
                out_ += with_crlf(kept->vtimezone);
                continue;
            }
            std::string zone = cal::computable_zone(use.tzid);
            std::string generated = zone.empty() ? std::string() : tz::vtimezone(zone, use.first_year, use.last_year);
            if (generated.empty()) {
                lose("TZID " + use.tzid + ": no VTIMEZONE came with it and the zone is unknown: written without one");
                continue;
            }
            out_ += with_tzid(with_crlf(generated), use.tzid);
        }
    }

    static std::string with_crlf(std::string_view text) {
        std::string out;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '\r' || text[i] == '\n') {
                out += "\r\n";
                if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            } else {
                out += text[i];
            }
        }
        if (!out.empty() && out.back() != '\n') out += "\r\n";
        return out;
    }

    // A generated VTIMEZONE names the IANA zone; the items use the TZID as
    // they had it ("W. Europe Standard Time"), and the two must agree.
    static std::string with_tzid(std::string text, const std::string& tzid) {
        std::size_t at = text.find("\r\nTZID");
        if (at == std::string::npos) return text;
        at += 2;
        std::size_t colon = text.find(':', at);
        std::size_t end = text.find("\r\n", at);
        if (colon == std::string::npos || end == std::string::npos || colon > end) return text;
        return text.substr(0, colon + 1) + tzid + text.substr(end);
    }

    // ----------------------------------------------------------- values --

    void property(std::string_view name, const std::vector<Param>& params, std::string_view value) {
        codec::write_property(out_, {}, name, params, value, style_);
    }

    void text(std::string_view name, const std::string& value) {
        if (!value.empty()) property(name, {}, codec::escape(value, kDialect, false));
    }

    static std::vector<Param> date_params(const DateTime& v) {
        if (v.kind == DateTime::Kind::date) return {{"VALUE", {"DATE"}}};
        if (v.kind == DateTime::Kind::zoned) return {{"TZID", {v.tzid}}};
        return {};
    }

    void date_time(std::string_view name, const DateTime& v) {
        if (v.valid()) property(name, date_params(v), cal::format_date_time(v));
    }

    // CREATED, LAST-MODIFIED, DTSTAMP and COMPLETED must be UTC.
    void utc_date_time(std::string_view name, const DateTime& v) {
        if (!v.valid()) return;
        std::optional<DateTime> utc = cal::to_utc(v, profile_.time_zone);
        if (utc) property(name, {}, cal::format_date_time(*utc));
        else date_time(name, v);
    }

    // One line per kind and zone, the values of each joined by ','.
    void date_list(std::string_view name, const std::vector<DateTime>& values) {
        std::vector<bool> written(values.size(), false);
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (written[i] || !values[i].valid()) continue;
            std::string joined;
            for (std::size_t k = i; k < values.size(); ++k) {
                if (written[k] || values[k].kind != values[i].kind || values[k].tzid != values[i].tzid) continue;
                if (!joined.empty()) joined += ',';
                joined += cal::format_date_time(values[k]);
                written[k] = true;
            }
            property(name, date_params(values[i]), joined);
        }
    }

    void number(std::string_view name, int value, int least) {
        if (value >= least) property(name, {}, std::to_string(value));
    }

    // ------------------------------------------------------------ items --

    void write_item(const CalendarItem& item) {
        const char* component = item.type == CalendarItem::Type::task ? "VTODO" : "VEVENT";
        out_ += std::string("BEGIN:") + component + "\r\n";
        text("UID", item.uid);
        utc_date_time("DTSTAMP", item.stamp);
        write_times(item);
        write_recurrence(item);
        text("SUMMARY", item.summary);
        text("DESCRIPTION", item.description);
        text("LOCATION", item.location);
        text("STATUS", item.status);
        number("PRIORITY", item.priority, 1);
        text("TRANSP", item.transparency);
        text("CLASS", item.classification);
        write_categories(item.categories);
        if (item.organizer) write_attendee("ORGANIZER", *item.organizer);
        for (const Attendee& a : item.attendees) write_attendee("ATTENDEE", a);
        utc_date_time("COMPLETED", item.completed);
        number("PERCENT-COMPLETE", item.percent_complete, 0);
        utc_date_time("CREATED", item.created);
        utc_date_time("LAST-MODIFIED", item.last_modified);
        number("SEQUENCE", item.sequence, 0);
        if (!item.url.empty()) property("URL", {}, item.url);
        for (const ExtraProperty& p : item.extra) codec::write_extra(out_, p, style_);
        for (const Alarm& alarm : item.alarms) write_alarm(alarm);
        out_ += std::string("END:") + component + "\r\n";
    }

    void write_times(const CalendarItem& item) {
        date_time("DTSTART", item.start);
        if (item.type == CalendarItem::Type::task) date_time("DUE", item.due);
        else date_time("DTEND", item.end);
        if (item.type == CalendarItem::Type::event && item.due.valid()) lose("DUE of an event: not written");
        if (item.type == CalendarItem::Type::task && item.end.valid()) lose("DTEND of a task: not written");
        const DateTime& end = item.type == CalendarItem::Type::task ? item.due : item.end;
        if (item.duration && !end.valid()) property("DURATION", {}, cal::format_duration(*item.duration));
        if (item.recurrence_id) date_time("RECURRENCE-ID", *item.recurrence_id);
    }

    void write_recurrence(const CalendarItem& item) {
        if (item.recurrence) property("RRULE", {}, recurrence::format_rrule(rule_for(*item.recurrence, item.start)));
        date_list("EXDATE", item.exception_dates);
        date_list("RDATE", item.recurrence_dates);
    }

    // RFC 5545 3.3.10: UNTIL is a date for a date start, and UTC for a
    // zoned or UTC start.
    Recurrence rule_for(Recurrence rule, const DateTime& start) const {
        if (!rule.until || !rule.until->valid() || !start.valid()) return rule;
        DateTime& until = *rule.until;
        if (start.kind == DateTime::Kind::date) {
            until = cal::date_of(until);
        } else if (start.kind != DateTime::Kind::floating && until.kind != DateTime::Kind::utc) {
            DateTime local = until.kind == DateTime::Kind::date ? cal::add_seconds(cal::midnight_of(until), 86399) : until;
            if (local.kind != DateTime::Kind::zoned) {
                local.kind = DateTime::Kind::zoned;
                local.tzid = start.tzid;
            }
            if (std::optional<DateTime> utc = cal::to_utc(local, profile_.time_zone)) until = *utc;
        } else if (start.kind == DateTime::Kind::floating && until.kind == DateTime::Kind::date) {
            until = cal::add_seconds(cal::midnight_of(until), 86399);
        }
        return rule;
    }

    void write_categories(const std::vector<std::string>& categories) {
        if (categories.empty()) return;
        std::string joined;
        for (const std::string& c : categories) {
            if (!joined.empty()) joined += ',';
            joined += codec::escape(c, kDialect, false);
        }
        property("CATEGORIES", {}, joined);
    }

    void write_attendee(std::string_view name, const Attendee& a) {
        std::vector<Param> params;
        if (!a.common_name.empty()) params.push_back({"CN", {a.common_name}});
        if (!a.role.empty()) params.push_back({"ROLE", {a.role}});
        if (!a.partstat.empty()) params.push_back({"PARTSTAT", {a.partstat}});
        if (a.rsvp) params.push_back({"RSVP", {"TRUE"}});
        if (!a.cutype.empty()) params.push_back({"CUTYPE", {a.cutype}});
        for (const Param& p : a.other_params) params.push_back(p);
        property(name, params, a.address);
    }

    void write_alarm(const Alarm& alarm) {
        out_ += "BEGIN:VALARM\r\n";
        property("ACTION", {}, alarm.action.empty() ? "DISPLAY" : alarm.action);
        write_trigger(alarm);
        if (alarm.repeat > 0) {
            property("REPEAT", {}, std::to_string(alarm.repeat));
            property("DURATION", {}, cal::format_duration(alarm.snooze));
        }
        text("DESCRIPTION", alarm.description);
        if (!alarm.attachment.empty()) property("ATTACH", {}, alarm.attachment);
        for (const ExtraProperty& p : alarm.extra) codec::write_extra(out_, p, style_);
        out_ += "END:VALARM\r\n";
    }

    void write_trigger(const Alarm& alarm) {
        if (alarm.offset) {
            std::vector<Param> params;
            if (alarm.relative_to_end) params.push_back({"RELATED", {"END"}});
            property("TRIGGER", params, cal::format_duration(*alarm.offset));
            return;
        }
        if (alarm.at && alarm.at->valid()) {
            std::optional<DateTime> utc = cal::to_utc(*alarm.at, profile_.time_zone);
            if (!utc) lose("an absolute alarm time that cannot be put in UTC: written as it is");
            property("TRIGGER", {{"VALUE", {"DATE-TIME"}}}, cal::format_date_time(utc ? *utc : *alarm.at));
            return;
        }
        lose("an alarm without a trigger: written to go off at the start");
        property("TRIGGER", {}, "PT0S");
    }
};

}  // namespace

// iCalendar says what it means: no client quirk changes how it is read
// (floating times stay floating, unlike vCalendar's).
std::optional<Calendar> read_icalendar(std::string_view text, const Profile&, std::vector<Warning>* warnings) {
    return ICalendarReader(warnings).read(text);
}

std::string write_icalendar(const Calendar& calendar, const Profile& profile, std::vector<Warning>* losses) {
    return ICalendarWriter(calendar, profile, losses).write();
}

}  // namespace smk::pim::detail
