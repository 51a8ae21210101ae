// What makes two copies of an item the same item, and whether two copies say
// the same thing: both read through the model, so that what a writer changes
// without changing the item (encodings, escaping, property order, empty
// properties, PRODID, REV, UID) never counts.
#include <algorithm>

#include <unicode/unistr.h>

#include "pim/calendar_common.hpp"
#include "syncmlkit/pim.hpp"

namespace smk::pim {
namespace {

// Case-folded (Unicode), spaces collapsed, ends trimmed.
std::string folded(std::string_view text) {
    std::string lowered;
    // ASCII (most names, every e-mail address) folds to its lower case;
    // the rest goes through ICU, whose case folding agrees on ASCII.
    if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
        lowered.assign(text);
        for (char& c : lowered)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    } else {
        icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())))
            .foldCase()
            .toUTF8String(lowered);
    }
    std::string out;
    bool space = false;
    for (char c : lowered) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

// The last 9 digits: "+49 30 1234567", "0049301234567" and "030 1234567"
// are one number.
std::string phone_digits(std::string_view number) {
    std::string digits;
    for (char c : number)
        if (c >= '0' && c <= '9') digits += c;
    return digits.size() > 9 ? digits.substr(digits.size() - 9) : digits;
}

// A start or due time as an instant where it can be one (UTC through its
// zone), else as written; a date stays a date.
std::string when(const DateTime& t) {
    if (!t.valid()) return "";
    if (t.kind == DateTime::Kind::zoned)
        if (auto utc = cal::to_utc(t, {})) return cal::format_date_time(*utc);
    return cal::format_date_time(t);
}

Identity contact_identity(const Contact& c) {
    Identity id;
    for (const Email& e : c.emails)
        if (!folded(e.address).empty()) id.details.push_back("e:" + folded(e.address));
    for (const Phone& p : c.phones)
        if (!phone_digits(p.number).empty()) id.details.push_back("t:" + phone_digits(p.number));
    std::sort(id.details.begin(), id.details.end());
    id.details.erase(std::unique(id.details.begin(), id.details.end()), id.details.end());
    const Name& n = c.name;
    std::string name = folded(n.family) + ";" + folded(n.given) + ";" + folded(n.additional);
    if (name != ";;") id.key = "n:" + name;
    else if (!folded(c.formatted_name).empty()) id.key = "f:" + folded(c.formatted_name);
    else if (!folded(c.organization).empty()) id.key = "o:" + folded(c.organization);
    else if (!id.details.empty()) id.key = "d:" + id.details.front();
    return id;
}

const CalendarItem* master(const Calendar& cal) {
    for (const CalendarItem& item : cal.items)
        if (!item.recurrence_id) return &item;
    return cal.items.empty() ? nullptr : &cal.items.front();
}

// Drops what every writer changes on its own, so that the rest compares.
Item without_writer_marks(Item item) {
    auto clean_extra = [](std::vector<ExtraProperty>& extra) {
        extra.erase(std::remove_if(extra.begin(), extra.end(),
                                   [](const ExtraProperty& p) {
                                       return p.value.empty() || p.name == "PRODID" || p.name == "X-REV";
                                   }),
                    extra.end());
    };
    if (Contact* c = std::get_if<Contact>(&item)) {
        c->uid.clear();
        c->revision.clear();
        c->sent_empty.clear();
        clean_extra(c->extra);
    } else if (Calendar* cal = std::get_if<Calendar>(&item)) {
        for (CalendarItem& e : cal->items) {
            e.uid.clear();
            e.created = e.last_modified = e.stamp = DateTime{};
            e.sequence = -1;
            e.sent_empty.clear();
            clean_extra(e.extra);
        }
        cal->time_zones.clear();  // the times say which zone they are in
        clean_extra(cal->extra);
    } else {
        Note& n = std::get<Note>(item);
        n.uid.clear();
        n.created = n.last_modified = DateTime{};
        n.sent_empty.clear();
        clean_extra(n.extra);
    }
    return item;
}

}  // namespace

Identity identity_of(const Item& item) {
    if (const Contact* c = std::get_if<Contact>(&item)) return contact_identity(*c);
    Identity id;
    if (const Calendar* cal = std::get_if<Calendar>(&item)) {
        const CalendarItem* m = master(*cal);
        if (!m) return id;
        const DateTime& time = m->type == CalendarItem::Type::task ? m->due : m->start;
        std::string summary = folded(m->summary);
        if (!summary.empty() || time.valid()) id.key = (m->type == CalendarItem::Type::task ? "t:" : "v:") + summary +
                                                       "|" + when(time);
        return id;
    }
    const Note& n = std::get<Note>(item);
    std::string subject = folded(n.subject), body = folded(n.body);
    if (!subject.empty() || !body.empty()) id.key = "m:" + subject + "|" + body;
    return id;
}

int pairing_score(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a == b) return 3;
    if (a.empty() || b.empty()) return 2;
    const auto& small = a.size() <= b.size() ? a : b;
    const auto& large = a.size() <= b.size() ? b : a;
    if (std::includes(large.begin(), large.end(), small.begin(), small.end())) return 2;
    for (const std::string& d : small)
        if (std::binary_search(large.begin(), large.end(), d)) return 1;
    return 0;
}

bool same_content(const Item& a, const Item& b) {
    if (a.index() != b.index()) return false;
    return to_json(without_writer_marks(a)) == to_json(without_writer_marks(b));
}

}  // namespace smk::pim
