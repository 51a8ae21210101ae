// An item changed on both sides since the version they last shared, merged
// field by field. Each field is compared in the model's JSON form (to_json of
// an item holding that field alone), so every kind of value compares the
// same way and no field needs a comparison of its own.
#include <functional>
#include <map>

#include "syncmlkit/pim.hpp"

namespace smk::pim {
namespace {

template <typename T>
struct Field {
    const char* name;
    std::function<void(T& to, const T& from)> copy;
};

#define SMK_FIELD(T, NAME, ...) \
    Field<T> { NAME, [](T& to, const T& from) { __VA_ARGS__; } }

const std::vector<Field<Contact>>& contact_fields() {
    static const std::vector<Field<Contact>> fields = {
        SMK_FIELD(Contact, "FN", to.formatted_name = from.formatted_name),
        SMK_FIELD(Contact, "N", to.name = from.name),
        SMK_FIELD(Contact, "NICKNAME", to.nicknames = from.nicknames),
        SMK_FIELD(Contact, "ORG", to.organization = from.organization; to.org_units = from.org_units),
        SMK_FIELD(Contact, "TITLE", to.title = from.title),
        SMK_FIELD(Contact, "ROLE", to.role = from.role),
        SMK_FIELD(Contact, "TEL", to.phones = from.phones),
        SMK_FIELD(Contact, "EMAIL", to.emails = from.emails),
        SMK_FIELD(Contact, "ADR", to.addresses = from.addresses),
        SMK_FIELD(Contact, "URL", to.urls = from.urls),
        SMK_FIELD(Contact, "BDAY", to.birthday = from.birthday),
        SMK_FIELD(Contact, "ANNIVERSARY", to.anniversary = from.anniversary),
        SMK_FIELD(Contact, "NOTE", to.note = from.note),
        SMK_FIELD(Contact, "CATEGORIES", to.categories = from.categories),
        SMK_FIELD(Contact, "PHOTO", to.photo = from.photo),
    };
    return fields;
}

const std::vector<Field<CalendarItem>>& calendar_fields() {
    static const std::vector<Field<CalendarItem>> fields = {
        SMK_FIELD(CalendarItem, "SUMMARY", to.summary = from.summary),
        SMK_FIELD(CalendarItem, "DESCRIPTION", to.description = from.description),
        SMK_FIELD(CalendarItem, "LOCATION", to.location = from.location),
        SMK_FIELD(CalendarItem, "DTSTART", to.start = from.start),
        SMK_FIELD(CalendarItem, "DTEND", to.end = from.end; to.duration = from.duration),
        SMK_FIELD(CalendarItem, "DUE", to.due = from.due),
        SMK_FIELD(CalendarItem, "RRULE", to.recurrence = from.recurrence),
        SMK_FIELD(CalendarItem, "EXDATE", to.exception_dates = from.exception_dates),
        SMK_FIELD(CalendarItem, "RDATE", to.recurrence_dates = from.recurrence_dates),
        SMK_FIELD(CalendarItem, "VALARM", to.alarms = from.alarms),
        SMK_FIELD(CalendarItem, "ORGANIZER", to.organizer = from.organizer),
        SMK_FIELD(CalendarItem, "ATTENDEE", to.attendees = from.attendees),
        SMK_FIELD(CalendarItem, "STATUS", to.status = from.status),
        SMK_FIELD(CalendarItem, "PRIORITY", to.priority = from.priority),
        SMK_FIELD(CalendarItem, "TRANSP", to.transparency = from.transparency),
        SMK_FIELD(CalendarItem, "CLASS", to.classification = from.classification),
        SMK_FIELD(CalendarItem, "CATEGORIES", to.categories = from.categories),
        SMK_FIELD(CalendarItem, "COMPLETED", to.completed = from.completed),
        SMK_FIELD(CalendarItem, "PERCENT-COMPLETE", to.percent_complete = from.percent_complete),
        SMK_FIELD(CalendarItem, "URL", to.url = from.url),
    };
    return fields;
}

const std::vector<Field<Note>>& note_fields() {
    static const std::vector<Field<Note>> fields = {
        SMK_FIELD(Note, "SUMMARY", to.subject = from.subject),
        SMK_FIELD(Note, "BODY", to.body = from.body),
        SMK_FIELD(Note, "CATEGORIES", to.categories = from.categories),
        SMK_FIELD(Note, "CLASS", to.classification = from.classification),
        SMK_FIELD(Note, "COLOR", to.color = from.color),
    };
    return fields;
}

#undef SMK_FIELD

// A field's value in comparable form: the JSON of an otherwise empty item.
template <typename T>
std::string value_of(const Field<T>& f, const T& from) {
    T alone;
    f.copy(alone, from);
    if constexpr (std::is_same_v<T, CalendarItem>) {
        Calendar holder;
        alone.type = from.type;
        holder.items.push_back(std::move(alone));
        return to_json(Item(std::move(holder)));
    } else {
        return to_json(Item(std::move(alone)));
    }
}

// The three-way rule for one value. `take` copies the client's value into
// the result (which starts as the server's).
struct Decider {
    std::vector<std::string>* clashes;
    bool has_base;

    void decide(const std::string& name, const std::string& base, const std::string& server,
                const std::string& client, const std::string& empty, const std::function<void()>& take) const {
        if (server == client) return;
        if (has_base) {
            if (client == base) return;  // changed on the server only
            if (server == base) {        // changed on the client only
                take();
                return;
            }
        } else {
            if (client == empty) return;
            if (server == empty) {
                take();
                return;
            }
        }
        clashes->push_back(name);
    }
};

// X- and unknown properties, by name.
std::map<std::string, std::vector<ExtraProperty>> by_name(const std::vector<ExtraProperty>& extra) {
    std::map<std::string, std::vector<ExtraProperty>> out;
    for (const ExtraProperty& p : extra)
        if (p.name != "PRODID") out[p.name].push_back(p);
    return out;
}

std::string extra_value(const std::vector<ExtraProperty>* props) {
    if (!props) return "";
    Note holder;  // any item type serializes extras the same way
    holder.extra = *props;
    return to_json(Item(std::move(holder)));
}

std::vector<ExtraProperty> merge_extra(const Decider& d, const std::vector<ExtraProperty>* base,
                                       const std::vector<ExtraProperty>& server,
                                       const std::vector<ExtraProperty>& client) {
    auto b = base ? by_name(*base) : std::map<std::string, std::vector<ExtraProperty>>{};
    auto s = by_name(server), c = by_name(client);
    std::map<std::string, bool> names;
    for (const auto& m : {s, c, b})
        for (const auto& [name, _] : m) names[name] = true;
    std::vector<ExtraProperty> out;
    for (const auto& entry : names) {
        const std::string& name = entry.first;  // not a structured binding: lambdas capture it (C++17)
        auto find = [&](const std::map<std::string, std::vector<ExtraProperty>>& m)
            -> const std::vector<ExtraProperty>* {
            auto it = m.find(name);
            return it == m.end() ? nullptr : &it->second;
        };
        const std::vector<ExtraProperty>* chosen = find(s);
        d.decide(name, extra_value(find(b)), extra_value(find(s)), extra_value(find(c)), extra_value(nullptr),
                 [&] { chosen = find(c); });
        if (chosen) out.insert(out.end(), chosen->begin(), chosen->end());
    }
    return out;
}

template <typename T>
void merge_fields(const Decider& d, const std::vector<Field<T>>& fields, const T* base, const T& server,
                  const T& client, T& result) {
    T nothing;
    if constexpr (std::is_same_v<T, CalendarItem>) nothing.type = server.type;
    for (const Field<T>& f : fields)
        d.decide(f.name, base ? value_of(f, *base) : "", value_of(f, server), value_of(f, client),
                 value_of(f, nothing), [&] { f.copy(result, client); });
    result.extra = merge_extra(d, base ? &base->extra : nullptr, server.extra, client.extra);
}

const CalendarItem* master_of(const Calendar& c) {
    for (const CalendarItem& item : c.items)
        if (!item.recurrence_id) return &item;
    return nullptr;
}

}  // namespace

MergeOutcome merge_three_way(const Item* base, const Item& server, const Item& client) {
    MergeOutcome out{server, {}};
    if (server.index() != client.index() || (base && base->index() != server.index())) {
        out.clashes.push_back("kind");
        return out;
    }
    Decider d{&out.clashes, base != nullptr};
    if (const Contact* s = std::get_if<Contact>(&server)) {
        Contact& r = std::get<Contact>(out.item);
        const Contact& c = std::get<Contact>(client);
        merge_fields(d, contact_fields(), base ? &std::get<Contact>(*base) : nullptr, *s, c, r);
        if (c.revision > r.revision) r.revision = c.revision;  // REV: the later of the two
        r.sent_empty.clear();
        return out;
    }
    if (const Calendar* s = std::get_if<Calendar>(&server)) {
        Calendar& r = std::get<Calendar>(out.item);
        const Calendar& c = std::get<Calendar>(client);
        const Calendar* b = base ? &std::get<Calendar>(*base) : nullptr;
        const CalendarItem* sm = master_of(*s);
        const CalendarItem* cm = master_of(c);
        const CalendarItem* bm = b ? master_of(*b) : nullptr;
        if (!sm || !cm || sm->type != cm->type || (b && (!bm || bm->type != sm->type))) {
            out.clashes.push_back("kind");
            return out;
        }
        CalendarItem merged = *sm;
        merge_fields(d, calendar_fields(), bm, *sm, *cm, merged);
        merged.sent_empty.clear();
        // Changed instances as one value: the series' exceptions go together.
        auto instances = [](const Calendar& cal) {
            Calendar only;
            for (const CalendarItem& item : cal.items)
                if (item.recurrence_id) only.items.push_back(item);
            return only;
        };
        Calendar chosen = instances(*s);
        d.decide("RECURRENCE-ID", b ? to_json(Item(instances(*b))) : "", to_json(Item(instances(*s))),
                 to_json(Item(instances(c))), to_json(Item(Calendar{})), [&] { chosen = instances(c); });
        r.items.clear();
        r.items.push_back(std::move(merged));
        for (CalendarItem& i : chosen.items) r.items.push_back(std::move(i));
        for (const TimeZoneDefinition& z : c.time_zones) {
            bool present = false;
            for (const TimeZoneDefinition& q : r.time_zones) present = present || q.tzid == z.tzid;
            if (!present) r.time_zones.push_back(z);
        }
        return out;
    }
    Note& r = std::get<Note>(out.item);
    merge_fields(d, note_fields(), base ? &std::get<Note>(*base) : nullptr, std::get<Note>(server),
                 std::get<Note>(client), r);
    r.sent_empty.clear();
    return out;
}

}  // namespace smk::pim
