// A client's Replace merged into the stored item, field by field, so that a
// Replace never wipes what the client could not hold. Fields are named by
// their vCard / iCalendar / vNote property names, which is what CTCap lists
// and what the readers record in sent_empty.
#include <algorithm>

#include "syncmlkit/pim.hpp"

namespace smk::pim {
namespace {

bool contains(const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// The properties a format has a place for. vCard, iCalendar and vCalendar
// carry every field of the model; SIF and plain text only some.
bool format_carries(Format f, std::string_view property) {
    static const std::vector<std::string> sifc = {"FN", "N", "NICKNAME", "ORG", "TITLE", "ROLE", "TEL", "EMAIL", "ADR",
                                                  "URL", "BDAY", "ANNIVERSARY", "NOTE", "CATEGORIES", "PHOTO"};
    static const std::vector<std::string> sif_calendar = {
        "SUMMARY", "DESCRIPTION", "LOCATION", "DTSTART", "DTEND", "DUE", "RRULE", "EXDATE", "RDATE", "VALARM",
        "STATUS", "PRIORITY", "TRANSP", "CLASS", "CATEGORIES", "COMPLETED", "PERCENT-COMPLETE"};
    static const std::vector<std::string> sifn = {"SUMMARY", "BODY", "CATEGORIES", "COLOR"};
    static const std::vector<std::string> vnote = {"SUMMARY", "BODY", "CATEGORIES", "CLASS", "DCREATED",
                                                   "LAST-MODIFIED"};
    switch (f) {
    case Format::sifc:
        return contains(sifc, property);
    case Format::sife:
    case Format::sift:
        return contains(sif_calendar, property);
    case Format::sifn:
        return contains(sifn, property);
    case Format::vnote11:
        return contains(vnote, property);
    case Format::text:
        return property == "SUMMARY" || property == "BODY";
    default:
        return true;
    }
}

// The rule for one field: what the client sent wins; a field it sent empty
// is cleared; a field it could have sent but did not was deleted on its
// side; a field it cannot hold keeps the stored value.
class FieldMerger {
public:
    FieldMerger(const MergeInput& how, const std::vector<std::string>& sent_empty)
        : how_(how), sent_empty_(sent_empty) {}

    template <typename T>
    void field(std::string_view property, T& result, const T& stored, const T& incoming, bool incoming_has) const {
        if (incoming_has || contains(sent_empty_, property) || client_can_hold(property)) result = incoming;
        else result = stored;
    }

    bool client_can_hold(std::string_view property) const {
        if (!format_carries(how_.client_format, property)) return false;
        return how_.client_knows.empty() || contains(how_.client_knows, property);
    }

    // X- and unknown properties: the client's win by name; the stored ones
    // it did not send stay unless its CTCap says it knows them (clients
    // drop X- properties they do not know, silently).
    std::vector<ExtraProperty> extras(const std::vector<ExtraProperty>& stored,
                                      const std::vector<ExtraProperty>& incoming) const {
        std::vector<ExtraProperty> out = incoming;
        for (const ExtraProperty& p : stored) {
            bool sent = std::any_of(incoming.begin(), incoming.end(),
                                    [&](const ExtraProperty& q) { return q.name == p.name; });
            if (sent || contains(sent_empty_, p.name) || contains(how_.client_knows, p.name)) continue;
            out.push_back(p);
        }
        return out;
    }

private:
    const MergeInput& how_;
    const std::vector<std::string>& sent_empty_;
};

template <typename T>
bool has(const std::vector<T>& v) {
    return !v.empty();
}
bool has(const std::string& s) { return !s.empty(); }
template <typename T>
bool has(const std::optional<T>& o) {
    return o.has_value();
}
bool has(const DateTime& d) { return d.valid(); }
bool has(const Name& n) { return !(n.family + n.given + n.additional + n.prefixes + n.suffixes).empty(); }

Contact merge_contact(const Contact& s, const Contact& in, const MergeInput& how) {
    FieldMerger m(how, in.sent_empty);
    Contact r;
    r.uid = has(in.uid) ? in.uid : s.uid;
    m.field("FN", r.formatted_name, s.formatted_name, in.formatted_name, has(in.formatted_name));
    m.field("N", r.name, s.name, in.name, has(in.name));
    m.field("NICKNAME", r.nicknames, s.nicknames, in.nicknames, has(in.nicknames));
    m.field("ORG", r.organization, s.organization, in.organization, has(in.organization) || has(in.org_units));
    m.field("ORG", r.org_units, s.org_units, in.org_units, has(in.organization) || has(in.org_units));
    m.field("TITLE", r.title, s.title, in.title, has(in.title));
    m.field("ROLE", r.role, s.role, in.role, has(in.role));
    m.field("TEL", r.phones, s.phones, in.phones, has(in.phones));
    m.field("EMAIL", r.emails, s.emails, in.emails, has(in.emails));
    m.field("ADR", r.addresses, s.addresses, in.addresses, has(in.addresses));
    m.field("URL", r.urls, s.urls, in.urls, has(in.urls));
    m.field("BDAY", r.birthday, s.birthday, in.birthday, has(in.birthday));
    m.field("ANNIVERSARY", r.anniversary, s.anniversary, in.anniversary, has(in.anniversary));
    m.field("NOTE", r.note, s.note, in.note, has(in.note));
    m.field("CATEGORIES", r.categories, s.categories, in.categories, has(in.categories));
    m.field("PHOTO", r.photo, s.photo, in.photo, has(in.photo));
    r.revision = in.revision;
    r.extra = m.extras(s.extra, in.extra);
    return r;
}

CalendarItem merge_calendar_item(const CalendarItem& s, const CalendarItem& in, const MergeInput& how) {
    FieldMerger m(how, in.sent_empty);
    CalendarItem r = in;  // type, uid, recurrence id, stamps: the client's
    if (!has(in.uid)) r.uid = s.uid;
    m.field("SUMMARY", r.summary, s.summary, in.summary, has(in.summary));
    m.field("DESCRIPTION", r.description, s.description, in.description, has(in.description));
    m.field("LOCATION", r.location, s.location, in.location, has(in.location));
    m.field("DTSTART", r.start, s.start, in.start, has(in.start));
    m.field("DTEND", r.end, s.end, in.end, has(in.end) || in.duration.has_value());
    m.field("DUE", r.due, s.due, in.due, has(in.due) || in.duration.has_value());
    m.field("RRULE", r.recurrence, s.recurrence, in.recurrence, has(in.recurrence));
    m.field("EXDATE", r.exception_dates, s.exception_dates, in.exception_dates, has(in.exception_dates));
    m.field("RDATE", r.recurrence_dates, s.recurrence_dates, in.recurrence_dates, has(in.recurrence_dates));
    m.field("VALARM", r.alarms, s.alarms, in.alarms, has(in.alarms));
    m.field("ORGANIZER", r.organizer, s.organizer, in.organizer, has(in.organizer));
    m.field("ATTENDEE", r.attendees, s.attendees, in.attendees, has(in.attendees));
    m.field("STATUS", r.status, s.status, in.status, has(in.status));
    m.field("PRIORITY", r.priority, s.priority, in.priority, in.priority != 0);
    m.field("TRANSP", r.transparency, s.transparency, in.transparency, has(in.transparency));
    m.field("CLASS", r.classification, s.classification, in.classification, has(in.classification));
    m.field("CATEGORIES", r.categories, s.categories, in.categories, has(in.categories));
    m.field("COMPLETED", r.completed, s.completed, in.completed, has(in.completed));
    m.field("PERCENT-COMPLETE", r.percent_complete, s.percent_complete, in.percent_complete,
            in.percent_complete >= 0);
    m.field("URL", r.url, s.url, in.url, has(in.url));
    if (!has(in.created)) r.created = s.created;
    r.extra = m.extras(s.extra, in.extra);
    r.sent_empty.clear();
    return r;
}

const CalendarItem* find_instance(const Calendar& c, const std::optional<DateTime>& recurrence_id) {
    for (const CalendarItem& e : c.items)
        if (e.recurrence_id == recurrence_id) return &e;
    return nullptr;
}

Calendar merge_calendar(const Calendar& s, const Calendar& in, const MergeInput& how) {
    Calendar r;
    for (const CalendarItem& e : in.items) {
        const CalendarItem* stored = find_instance(s, e.recurrence_id);
        r.items.push_back(stored ? merge_calendar_item(*stored, e, how) : e);
    }
    // Changed instances the client has no way to send stay.
    bool carries_instances = how.client_format == Format::ical20;
    for (const CalendarItem& e : s.items)
        if (e.recurrence_id && !carries_instances && !find_instance(in, e.recurrence_id)) r.items.push_back(e);
    r.time_zones = in.time_zones;
    for (const TimeZoneDefinition& z : s.time_zones) {
        bool present = std::any_of(r.time_zones.begin(), r.time_zones.end(),
                                   [&](const TimeZoneDefinition& q) { return q.tzid == z.tzid; });
        if (!present) r.time_zones.push_back(z);
    }
    const std::vector<std::string> none_sent_empty;  // FieldMerger keeps a reference: no temporary
    FieldMerger m(how, none_sent_empty);
    r.extra = m.extras(s.extra, in.extra);
    return r;
}

Note merge_note(const Note& s, const Note& in, const MergeInput& how) {
    FieldMerger m(how, in.sent_empty);
    Note r = in;
    if (!has(in.uid)) r.uid = s.uid;
    m.field("SUMMARY", r.subject, s.subject, in.subject, has(in.subject));
    m.field("BODY", r.body, s.body, in.body, has(in.body));
    m.field("CATEGORIES", r.categories, s.categories, in.categories, has(in.categories));
    m.field("CLASS", r.classification, s.classification, in.classification, has(in.classification));
    m.field("COLOR", r.color, s.color, in.color, has(in.color));
    if (!has(in.created)) r.created = s.created;
    r.extra = m.extras(s.extra, in.extra);
    r.sent_empty.clear();
    return r;
}

}  // namespace

Item merge(const Item& stored, const Item& incoming, const MergeInput& how) {
    if (stored.index() != incoming.index()) return incoming;
    if (const Contact* c = std::get_if<Contact>(&incoming)) return merge_contact(std::get<Contact>(stored), *c, how);
    if (const Calendar* c = std::get_if<Calendar>(&incoming))
        return merge_calendar(std::get<Calendar>(stored), *c, how);
    return merge_note(std::get<Note>(stored), std::get<Note>(incoming), how);
}

}  // namespace smk::pim
