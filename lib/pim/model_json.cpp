// The normalized model as JSON: the form the fixture corpus stores its
// expectations in and the oracle tests compare. Keys in model order, empty
// fields left out, so that a fixture names only what its case is about.
#include <cstdio>

#include "syncmlkit/pim.hpp"

namespace smk::pim {
namespace {

class Json {
public:
    std::string take() { return std::move(out_); }

    void open(char bracket) {
        comma();
        out_ += bracket;
        first_ = true;
    }
    void close(char bracket) {
        out_ += bracket;
        first_ = false;
    }
    void key(std::string_view k) {
        comma();
        string(k);
        out_ += ':';
        first_ = true;  // the value follows without a comma
    }
    void value(std::string_view s) {
        comma();
        string(s);
    }
    void value(long long n) {
        comma();
        out_ += std::to_string(n);
    }
    void value(bool b) {
        comma();
        out_ += b ? "true" : "false";
    }

private:
    void comma() {
        if (!first_) out_ += ',';
        first_ = false;
    }
    void string(std::string_view s) {
        out_ += '"';
        for (unsigned char c : s) {
            if (c == '"' || c == '\\') {
                out_ += '\\';
                out_ += static_cast<char>(c);
            } else if (c == '\n') {
                out_ += "\\n";
            } else if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out_ += buf;
            } else {
                out_ += static_cast<char>(c);
            }
        }
        out_ += '"';
    }

    std::string out_;
    bool first_ = true;
};

// Field helpers: each writes "key": value only when there is something.
void text(Json& j, std::string_view k, const std::string& v) {
    if (v.empty()) return;
    j.key(k);
    j.value(v);
}
void number(Json& j, std::string_view k, long long v, long long unset) {
    if (v == unset) return;
    j.key(k);
    j.value(v);
}
void flag(Json& j, std::string_view k, bool v) {
    if (!v) return;
    j.key(k);
    j.value(true);
}
void strings(Json& j, std::string_view k, const std::vector<std::string>& v) {
    if (v.empty()) return;
    j.key(k);
    j.open('[');
    for (const std::string& s : v) j.value(s);
    j.close(']');
}
void ints(Json& j, std::string_view k, const std::vector<int>& v) {
    if (v.empty()) return;
    j.key(k);
    j.open('[');
    for (int i : v) j.value(static_cast<long long>(i));
    j.close(']');
}

// "key": [ ... ] with `write(j, element)` for each element, or nothing.
template <typename T, typename Write>
void list(Json& j, std::string_view k, const std::vector<T>& v, Write write) {
    if (v.empty()) return;
    j.key(k);
    j.open('[');
    for (const T& element : v) write(j, element);
    j.close(']');
}

std::string date_time_text(const DateTime& d) {
    char buf[40];
    if (d.kind == DateTime::Kind::date) {
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
        return buf;
    }
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%s", d.year, d.month, d.day, d.hour, d.minute,
                  d.second, d.kind == DateTime::Kind::utc ? "Z" : "");
    std::string s = buf;
    if (d.kind == DateTime::Kind::zoned) s += "[" + d.tzid + "]";
    return s;
}

void date_time(Json& j, std::string_view k, const DateTime& d) {
    if (!d.valid()) return;
    j.key(k);
    j.value(date_time_text(d));
}

void params(Json& j, const std::vector<Param>& ps) {
    if (ps.empty()) return;
    j.key("params");
    j.open('{');
    for (const Param& p : ps) strings(j, p.name, p.values);
    j.close('}');
}

void extras(Json& j, const std::vector<ExtraProperty>& v) {
    list(j, "extra", v, [](Json& j, const ExtraProperty& p) {
        j.open('{');
        text(j, "group", p.group);
        text(j, "name", p.name);
        params(j, p.params);
        text(j, "value", p.value);
        flag(j, "binary", p.binary);
        j.close('}');
    });
}

void typed(Json& j, const Typed& t) {
    strings(j, "types", t.types);
    number(j, "pref", t.pref, 0);
    text(j, "group", t.group);
    text(j, "label", t.label);
}

void partial_date(Json& j, std::string_view k, const std::optional<PartialDate>& d) {
    if (!d) return;
    char buf[16];
    if (d->year) std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d->year, d->month, d->day);
    else std::snprintf(buf, sizeof buf, "--%02d-%02d", d->month, d->day);
    j.key(k);
    j.value(std::string(buf));
}

void contact(Json& j, const Contact& c) {
    j.key("contact");
    j.open('{');
    text(j, "uid", c.uid);
    text(j, "fn", c.formatted_name);
    const Name& n = c.name;
    if (!(n.family + n.given + n.additional + n.prefixes + n.suffixes).empty()) {
        j.key("n");
        j.open('{');
        text(j, "family", n.family);
        text(j, "given", n.given);
        text(j, "additional", n.additional);
        text(j, "prefixes", n.prefixes);
        text(j, "suffixes", n.suffixes);
        j.close('}');
    }
    strings(j, "nicknames", c.nicknames);
    text(j, "org", c.organization);
    strings(j, "org_units", c.org_units);
    text(j, "title", c.title);
    text(j, "role", c.role);
    list(j, "tel", c.phones, [](Json& j, const Phone& p) {
        j.open('{');
        text(j, "number", p.number);
        typed(j, p);
        j.close('}');
    });
    list(j, "email", c.emails, [](Json& j, const Email& e) {
        j.open('{');
        text(j, "address", e.address);
        typed(j, e);
        j.close('}');
    });
    list(j, "adr", c.addresses, [](Json& j, const Address& a) {
        j.open('{');
        text(j, "po_box", a.po_box);
        text(j, "extended", a.extended);
        text(j, "street", a.street);
        text(j, "locality", a.locality);
        text(j, "region", a.region);
        text(j, "postal_code", a.postal_code);
        text(j, "country", a.country);
        text(j, "delivery_label", a.delivery_label);
        typed(j, a);
        j.close('}');
    });
    list(j, "url", c.urls, [](Json& j, const Url& u) {
        j.open('{');
        text(j, "uri", u.uri);
        typed(j, u);
        j.close('}');
    });
    partial_date(j, "bday", c.birthday);
    partial_date(j, "anniversary", c.anniversary);
    text(j, "note", c.note);
    strings(j, "categories", c.categories);
    if (c.photo) {
        j.key("photo");
        j.open('{');
        number(j, "bytes", static_cast<long long>(c.photo->data.size()), 0);
        text(j, "uri", c.photo->uri);
        text(j, "media_type", c.photo->media_type);
        j.close('}');
    }
    text(j, "rev", c.revision);
    extras(j, c.extra);
    strings(j, "sent_empty", c.sent_empty);
    j.close('}');
}

const char* frequency_name(Recurrence::Frequency f) {
    static const char* names[] = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"};
    return names[static_cast<int>(f)];
}

void recurrence(Json& j, const Recurrence& r) {
    static const char* days[] = {"SU", "MO", "TU", "WE", "TH", "FR", "SA"};
    j.key("rrule");
    j.open('{');
    text(j, "freq", frequency_name(r.frequency));
    number(j, "interval", r.interval, 1);
    number(j, "count", r.count, 0);
    if (r.until) date_time(j, "until", *r.until);
    if (!r.by_day.empty()) {
        std::vector<std::string> by_day;
        for (const auto& d : r.by_day)
            by_day.push_back((d.ordinal ? std::to_string(d.ordinal) : "") + days[d.weekday % 7]);
        strings(j, "by_day", by_day);
    }
    ints(j, "by_month_day", r.by_month_day);
    ints(j, "by_year_day", r.by_year_day);
    ints(j, "by_week_no", r.by_week_no);
    ints(j, "by_month", r.by_month);
    ints(j, "by_set_pos", r.by_set_pos);
    ints(j, "by_hour", r.by_hour);
    ints(j, "by_minute", r.by_minute);
    ints(j, "by_second", r.by_second);
    if (r.week_start != 1) text(j, "wkst", days[r.week_start % 7]);
    j.close('}');
}

void attendee(Json& j, const Attendee& a) {
    j.open('{');
    text(j, "address", a.address);
    text(j, "cn", a.common_name);
    text(j, "role", a.role);
    text(j, "partstat", a.partstat);
    text(j, "cutype", a.cutype);
    flag(j, "rsvp", a.rsvp);
    params(j, a.other_params);
    j.close('}');
}

void alarm(Json& j, const Alarm& a) {
    j.open('{');
    text(j, "action", a.action);
    if (a.offset) {
        j.key("offset_seconds");
        j.value(static_cast<long long>(a.offset->seconds));
    }
    flag(j, "relative_to_end", a.relative_to_end);
    if (a.at) date_time(j, "at", *a.at);
    number(j, "repeat", a.repeat, 0);
    number(j, "snooze_seconds", a.snooze.seconds, 0);
    text(j, "description", a.description);
    text(j, "attachment", a.attachment);
    extras(j, a.extra);
    j.close('}');
}

void dates(Json& j, std::string_view k, const std::vector<DateTime>& v) {
    if (v.empty()) return;
    std::vector<std::string> texts;
    for (const DateTime& d : v) texts.push_back(date_time_text(d));
    strings(j, k, texts);
}

void calendar_item(Json& j, const CalendarItem& e) {
    j.open('{');
    text(j, "type", e.type == CalendarItem::Type::event ? "event" : "task");
    text(j, "uid", e.uid);
    text(j, "summary", e.summary);
    text(j, "description", e.description);
    text(j, "location", e.location);
    date_time(j, "start", e.start);
    date_time(j, "end", e.end);
    date_time(j, "due", e.due);
    if (e.duration) {
        j.key("duration_seconds");
        j.value(static_cast<long long>(e.duration->seconds));
    }
    if (e.recurrence) recurrence(j, *e.recurrence);
    dates(j, "exdate", e.exception_dates);
    dates(j, "rdate", e.recurrence_dates);
    if (e.recurrence_id) date_time(j, "recurrence_id", *e.recurrence_id);
    list(j, "alarms", e.alarms, alarm);
    if (e.organizer) {
        j.key("organizer");
        attendee(j, *e.organizer);
    }
    list(j, "attendees", e.attendees, attendee);
    text(j, "status", e.status);
    number(j, "priority", e.priority, 0);
    text(j, "transparency", e.transparency);
    text(j, "class", e.classification);
    strings(j, "categories", e.categories);
    date_time(j, "completed", e.completed);
    number(j, "percent_complete", e.percent_complete, -1);
    date_time(j, "created", e.created);
    date_time(j, "last_modified", e.last_modified);
    date_time(j, "stamp", e.stamp);
    number(j, "sequence", e.sequence, -1);
    text(j, "url", e.url);
    extras(j, e.extra);
    strings(j, "sent_empty", e.sent_empty);
    j.close('}');
}

void calendar(Json& j, const Calendar& c) {
    j.key("calendar");
    j.open('{');
    list(j, "items", c.items, calendar_item);
    if (!c.time_zones.empty()) {
        std::vector<std::string> ids;
        for (const TimeZoneDefinition& z : c.time_zones) ids.push_back(z.tzid);
        strings(j, "time_zones", ids);
    }
    extras(j, c.extra);
    j.close('}');
}

void note(Json& j, const Note& n) {
    j.key("note");
    j.open('{');
    text(j, "uid", n.uid);
    text(j, "subject", n.subject);
    text(j, "body", n.body);
    strings(j, "categories", n.categories);
    text(j, "class", n.classification);
    date_time(j, "created", n.created);
    date_time(j, "last_modified", n.last_modified);
    text(j, "color", n.color);
    extras(j, n.extra);
    strings(j, "sent_empty", n.sent_empty);
    j.close('}');
}

}  // namespace

std::string to_json(const Item& item) {
    Json j;
    j.open('{');
    if (const Contact* c = std::get_if<Contact>(&item)) contact(j, *c);
    else if (const Calendar* cal = std::get_if<Calendar>(&item)) calendar(j, *cal);
    else note(j, std::get<Note>(item));
    j.close('}');
    return j.take();
}

}  // namespace smk::pim
