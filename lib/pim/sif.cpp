// Funambol's SIF ("Sync4j Interchange Format"): the XML that the Funambol
// Outlook plug-in and the sync4j Pocket PC client send as text/x-s4j-sifc
// (<contact>), -sife (<appointment>), -sift (<task>) and -sifn (<note>),
// usually base64-encoded by the client. Each element is one Outlook field;
// this module maps them to the model and back.
//
// Reading
// - Base64 is detected (the text does not start with '<' but decodes to
//   something that does) and undone.
// - An element with no model field is kept in `extra` as "X-SIF-<ELEMENT>"
//   (upper case, as every extra's name; its value in the 3.0 escaped form);
//   an element whose name is not one of Outlook's known fields also keeps
//   its spelling in a parameter X-SIF-NAME, so that it is written back as
//   it came. An element holding child elements (<Timezone>) keeps its inner
//   XML, marked with the parameter X-SIF-CONTENT=XML.
// - Funambol's vCard names for SIF-only contact fields (X-FUNAMBOL-SPOUSE,
//   -HOBBIES, -FOLDER...) are written back as those fields, so a contact
//   from a Funambol vCard client keeps them in SIF.
// - An empty element means "the user cleared this field" (the plug-in sends
//   every field it has): its vCard / iCalendar property name is recorded in
//   `sent_empty` ("TEL" when any telephone slot is empty, "X-SIF-SPOUSE" for
//   an element kept as an extra).
// - Where a SIF value has no exact model equivalent (BusyStatus 1 and 3,
//   Sensitivity 1, task Status 3 and 4) the nearest model value is set and
//   the SIF value is also kept as an X-SIF extra; writing uses that extra
//   only while it still agrees with the model field, so a change made by a
//   client of another format wins.
//
// Writing: <?xml version="1.0" encoding="UTF-8"?>, the root, SIFVersion 1.1
// (what the plug-in writes), then every field of the tables below, empty
// when the model has no value: to the plug-in a missing element means
// "unchanged" and an empty one "cleared", and the server sends whole items.
// Enumerations are written only when the model knows them. No base64: the
// engine decides the transfer encoding.
//
// Contact slots. SIF has named slots where vCard has TYPEs; the TYPE set
// of each slot is chosen so that a contact read from SIF-C, written as vCard
// 3.0 and read back lands in the same slots (two slots with the same set,
// Business/Business2 and Home/Home2, are told apart by their order). PREF is
// the model's `pref` = 1. VOICE and INTERNET are ignored when matching.
//
//   BusinessTelephoneNumber     TEL WORK,VOICE
//   Business2TelephoneNumber    TEL WORK,VOICE   (the second one)
//   BusinessFaxNumber           TEL WORK,FAX
//   CompanyMainTelephoneNumber  TEL WORK + PREF   (Funambol's own mapping)
//   HomeTelephoneNumber         TEL HOME,VOICE
//   Home2TelephoneNumber        TEL HOME,VOICE   (the second one)
//   HomeFaxNumber               TEL HOME,FAX
//   MobileTelephoneNumber       TEL CELL
//   CarTelephoneNumber          TEL CAR,VOICE
//   PagerNumber                 TEL PAGER
//   PrimaryTelephoneNumber      TEL VOICE + PREF
//   OtherTelephoneNumber        TEL VOICE
//   OtherFaxNumber              TEL FAX
//   ISDNNumber                  TEL ISDN
//   AssistantTelephoneNumber    TEL X-FUNAMBOL-ASSISTANT
//   CallbackTelephoneNumber     TEL X-FUNAMBOL-CALLBACK   (Funambol's names)
//   RadioTelephoneNumber        TEL X-FUNAMBOL-RADIO
//   TelexNumber                 TEL X-FUNAMBOL-TELEX
//   Email1Address               EMAIL INTERNET
//   Email2Address               EMAIL INTERNET,HOME
//   Email3Address               EMAIL INTERNET,WORK
//   IMAddress                   EMAIL INTERNET,HOME,X-FUNAMBOL-INSTANTMESSENGER
//   HomeAddress*                ADR HOME
//   BusinessAddress*            ADR WORK
//   OtherAddress*               ADR (no type)
//     (*PostOfficeBox, *Extended, *Street, *City, *State, *PostalCode, *Country)
//   WebPage                     URL (no type)
//   HomeWebPage                 URL HOME
//   BusinessWebPage             URL WORK
//   FirstName MiddleName LastName Title Suffix   N given, additional, family, prefixes, suffixes
//   FileAs                      FN
//   NickName                    NICKNAME
//   CompanyName Department OfficeLocation        ORG (organization, org_units[0], org_units[1])
//   JobTitle                    TITLE
//   Profession                  ROLE
//   Body                        NOTE
//   Categories                  CATEGORIES (read: ',' or ';' separated; written with ',')
//   Birthday, Anniversary       BDAY, ANNIVERSARY ("yyyy-MM-dd")
//   Photo (base64, TYPE attr.)  PHOTO
// Model values that find no free slot are reported as losses on writing.
// When nothing matches a slot's set exactly, the nearest free slot is taken
// (a FAX goes to a fax slot, CELL to Mobile, WORK to Business, Business2,
// CompanyMain, HOME to Home, Home2, anything else to Other and the rest).
//
// Events and tasks:
//   Subject Body Location Categories     SUMMARY DESCRIPTION LOCATION CATEGORIES
//   Start End AllDayEvent                DTSTART DTEND: UTC "20240101T100000Z" (a time without
//                                        'Z' is floating); all-day: dates, End inclusive in SIF
//                                        and exclusive in the model (one day added on reading);
//                                        all-day values sent as the UTC time of local midnight
//                                        are read as the nearest midnight's date. A zoned model
//                                        time is written in UTC (Outlook's form); a zone ICU does
//                                        not know is written as a local time, with a loss.
//   BusyStatus                           0 -> TRANSPARENT, else OPAQUE (1, 3, 4 also kept)
//   Importance                           0 -> PRIORITY 9, 1 -> 5, 2 -> 1
//   Sensitivity                          0 PUBLIC, 1 PRIVATE (also kept), 2 PRIVATE, 3 CONFIDENTIAL
//   ReminderSet, ReminderMinutesBeforeStart, ReminderSoundFile   a DISPLAY alarm before the start
//   ReminderTime (tasks)                 an alarm at that UTC time
//   IsRecurring RecurrenceType Interval DayOfWeekMask DayOfMonth Instance MonthOfYear
//   NoEndDate PatternStartDate PatternEndDate Occurrences         RRULE (see read_recurrence)
//   Exceptions/ExcludeDate, IncludeDate  EXDATE, RDATE
//     An exception is the local date of an occurrence; for a timed series
//     the start's time of day is put with it (and written back as the date).
//   StartDate DueDate (tasks, dates)     DTSTART DUE
//   Complete DateCompleted PercentComplete Status                 STATUS COMPLETED PERCENT-COMPLETE
//     Status 0 NEEDS-ACTION, 1 IN-PROCESS, 2 COMPLETED, 3 (waiting) IN-PROCESS and kept,
//     4 (deferred) NEEDS-ACTION and kept.
// Notes: Subject Body Categories Color; Height Width Left Top (and the rest) as extras.
#include <pugixml.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>

#include "pim/calendar_common.hpp"
#include "pim/formats.hpp"
#include "pim/text_codec.hpp"
#include "pim/timezone.hpp"
#include "wire/text.hpp"

namespace smk::pim::detail {
namespace {

using Warnings = std::vector<Warning>;

void warn(Warnings* warnings, int line, std::string message) {
    if (warnings) warnings->push_back({line, std::move(message)});
}

constexpr const char* kSifVersion = "1.1";
constexpr const char* kExtraPrefix = "X-SIF-";
constexpr const char* kNameParam = "X-SIF-NAME";
constexpr const char* kContentParam = "X-SIF-CONTENT";

// ------------------------------------------------------------ dates --

// Date arithmetic is calendar_common's (cal::); SIF needs only these.
/// 0 = Sunday .. 6 = Saturday, as the model's weekdays.
int weekday_of(const DateTime& t) {
    const long long days = cal::wall_seconds(cal::date_of(t)) / 86400;
    return static_cast<int>(((days + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
}

long long seconds_of(const DateTime& t) { return cal::wall_seconds(t); }

DateTime from_seconds(long long seconds, DateTime::Kind kind, const std::string& tzid) {
    return cal::from_wall_seconds(seconds, kind, tzid);
}

DateTime add_days(const DateTime& t, int days) { return cal::add_days(t, days); }

DateTime date_only(int year, int month, int day) {
    DateTime d;
    d.year = year, d.month = month, d.day = day;
    d.kind = DateTime::Kind::date;
    return d;
}

std::string two(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }
std::string four(int v) {
    std::string s = std::to_string(v);
    return std::string(s.size() < 4 ? 4 - s.size() : 0, '0') + s;
}

std::string sif_date(const DateTime& t) { return four(t.year) + "-" + two(t.month) + "-" + two(t.day); }

std::string sif_time(const DateTime& t) {
    std::string s = four(t.year) + two(t.month) + two(t.day) + "T" + two(t.hour) + two(t.minute) + two(t.second);
    return t.kind == DateTime::Kind::utc ? s + "Z" : s;
}

// Outlook sends some all-day values as the UTC time of local midnight
// (20061231T230000Z for 1 January in Berlin). Local midnight in a zone east
// of UTC falls on the previous day from 12:00 on, west of UTC on the same day
// before 12:00: the nearest midnight is the local date.
DateTime nearest_midnight(const DateTime& t) {
    DateTime d = date_only(t.year, t.month, t.day);
    if (t.kind == DateTime::Kind::date) return d;
    return t.hour >= 12 ? add_days(d, 1) : d;
}

// -------------------------------------------------------- the input --

// SIF is XML; a client that base64-encodes items (Funambol's "b64") sends it
// wrapped. Anything that does not start with '<' is tried as base64.
std::string unwrap_base64(std::string_view data, Warnings* warnings) {
    std::string_view trimmed = wire::trim(data);
    auto looks_like_xml = [](std::string_view s) {
        s = wire::trim(s);
        if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
        return !s.empty() && (s[0] == '<' || static_cast<unsigned char>(s[0]) == 0xFE ||
                              static_cast<unsigned char>(s[0]) == 0xFF);
    };
    if (looks_like_xml(trimmed)) return std::string(trimmed);
    if (auto decoded = wire::base64_decode(trimmed); decoded && looks_like_xml(*decoded)) return *decoded;
    warn(warnings, 1, "neither SIF XML nor base64-encoded SIF");
    return std::string(trimmed);
}

int line_at(std::string_view text, std::ptrdiff_t offset) {
    if (offset < 0) return 0;
    std::size_t end = std::min(text.size(), static_cast<std::size_t>(offset));
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
}

// Line breaks of any kind are "\n" in the model.
std::string normalize_breaks(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\r') {
            out += in[i];
            continue;
        }
        out += '\n';
        if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    }
    return out;
}

struct SifElement {
    std::string name;
    std::string value;  ///< text with "\n" line breaks, UTF-8
    std::string xml;    ///< inner XML, when it holds elements
    std::string type;   ///< the TYPE attribute (<Photo TYPE="JPEG">)
    int line = 0;
    bool taken = false;
};

/// The children of the root, read once; mappers take theirs, the rest
/// become extras.
class SifFields {
public:
    std::vector<SifElement> elements;

    /// The first element of that name (later ones are warned about when the
    /// leftovers are kept); nullptr when absent. Marks it taken.
    SifElement* take(std::string_view name) {
        SifElement* found = nullptr;
        for (SifElement& e : elements) {
            if (e.name != name) continue;
            if (!found) found = &e;
            e.taken = true;
        }
        return found;
    }
    std::optional<std::string> text(std::string_view name) {
        SifElement* e = take(name);
        if (!e) return std::nullopt;
        return e->value;
    }
    int line_of(std::string_view name) const {
        for (const SifElement& e : elements)
            if (e.name == name) return e.line;
        return 0;
    }
};

std::string inner_xml(const pugi::xml_node& node) {
    struct Sink : pugi::xml_writer {
        std::string out;
        void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
    } sink;
    for (pugi::xml_node child : node.children()) child.print(sink, "", pugi::format_raw);
    return sink.out;
}

std::string node_text(const pugi::xml_node& node) {
    std::string s;
    for (pugi::xml_node child : node.children())
        if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) s += child.value();
    return s;
}

struct ParsedSif {
    std::string root_name;
    SifFields fields;
};

/// Parses the document and reads the root's children. nullopt (with a
/// warning) for broken XML or a root that is none of `roots`.
std::optional<ParsedSif> parse_sif(std::string_view data, std::initializer_list<const char*> roots,
                                   Warnings* warnings) {
    std::string text = unwrap_base64(data, warnings);
    pugi::xml_document doc;
    pugi::xml_parse_result result = doc.load_buffer(text.data(), text.size(),
                                                    pugi::parse_default | pugi::parse_ws_pcdata_single,
                                                    pugi::encoding_auto);
    if (!result) {
        warn(warnings, line_at(text, result.offset),
             std::string("SIF is not well-formed XML (") + result.description() + "): nothing kept");
        return std::nullopt;
    }
    pugi::xml_node root = doc.document_element();
    ParsedSif parsed;
    parsed.root_name = root.name();
    bool expected = std::any_of(roots.begin(), roots.end(), [&](const char* r) { return parsed.root_name == r; });
    if (!expected) {
        warn(warnings, line_at(text, root.offset_debug()),
             "SIF root <" + parsed.root_name + "> is not <" + *roots.begin() + ">: nothing kept");
        return std::nullopt;
    }
    for (pugi::xml_node child : root.children()) {
        if (child.type() != pugi::node_element) continue;
        SifElement e;
        e.name = child.name();
        e.line = line_at(text, child.offset_debug());
        e.type = child.attribute("TYPE").value();
        if (child.find_child([](const pugi::xml_node& n) { return n.type() == pugi::node_element; }))
            e.xml = inner_xml(child);
        else
            e.value = codec::to_utf8(normalize_breaks(node_text(child)), "UTF-8", e.line, warnings);
        parsed.fields.elements.push_back(std::move(e));
    }
    return parsed;
}

// ------------------------------------------------------- extras --

// Outlook's field names, to give an extra read back from another format
// (where names are upper case) its SIF spelling again.
const char* const kKnownElements[] = {
    "ActualWork", "Anniversary", "AssistantName", "BillingInformation", "BusinessAddress", "Children",
    "Companies", "ComputerNetworkName", "ConversationTopic", "CustomerID", "Date", "Duration",
    "Email1AddressType", "Email1DisplayName", "Email2AddressType", "Email2DisplayName", "Email3AddressType",
    "Email3DisplayName", "Folder", "Gender", "GovernmentIDNumber", "Height", "Hobby", "HomeAddress", "Importance",
    "Initials", "InternetFreeBusyAddress", "Language", "Left", "MailingAddress", "ManagerName", "MeetingStatus",
    "Mileage", "NoAging", "OrganizationalIDNumber", "OtherAddress", "Private", "ReminderOptions",
    "ReminderSoundFile", "ReplyTime", "Role", "Sensitivity", "Spouse", "Status", "BusyStatus", "Subject",
    "TeamTask", "Timezone", "Top", "TotalWork", "UnRead", "User1", "User2", "User3", "User4", "Width",
    "YomiCompanyName", "YomiFirstName", "YomiLastName",
};

const char* known_spelling(std::string_view upper) {
    for (const char* name : kKnownElements)
        if (wire::equals_ignore_case(name, upper)) return name;
    return nullptr;
}

const Param* find_param(const ExtraProperty& p, std::string_view name) {
    for (const Param& q : p.params)
        if (q.name == name && !q.values.empty()) return &q;
    return nullptr;
}

ExtraProperty to_sif_extra(const SifElement& e) {
    ExtraProperty p;
    p.name = kExtraPrefix + wire::to_upper(e.name);
    if (!known_spelling(e.name)) p.params.push_back({kNameParam, {e.name}});
    if (!e.xml.empty()) {
        p.params.push_back({kContentParam, {"XML"}});
        p.value = codec::escape(e.xml, Dialect::new_mime_dir, false);
    } else {
        p.value = codec::escape(e.value, Dialect::new_mime_dir, false);
    }
    return p;
}

// The X- properties Funambol's own vCard converter gives SIF-only contact
// fields, so that a contact that came from a Funambol vCard client still
// fills those fields in SIF.
struct FunambolName {
    const char* property;
    const char* element;
};
const FunambolName kFunambolNames[] = {
    {"X-FUNAMBOL-CHILDREN", "Children"}, {"X-FUNAMBOL-COMPANIES", "Companies"}, {"X-FUNAMBOL-FOLDER", "Folder"},
    {"X-FUNAMBOL-GENDER", "Gender"},     {"X-FUNAMBOL-HOBBIES", "Hobby"},       {"X-FUNAMBOL-INITIALS", "Initials"},
    {"X-FUNAMBOL-LANGUAGES", "Language"}, {"X-FUNAMBOL-MANAGER", "ManagerName"}, {"X-FUNAMBOL-MILEAGE", "Mileage"},
    {"X-FUNAMBOL-SPOUSE", "Spouse"},     {"X-FUNAMBOL-SUBJECT", "Subject"},
};

/// The SIF element name an extra stands for ("X-SIF-SPOUSE" -> "Spouse",
/// "X-FUNAMBOL-SPOUSE" -> "Spouse"), empty when it is not a SIF field.
std::string sif_element_of(const ExtraProperty& p) {
    for (const FunambolName& f : kFunambolNames)
        if (wire::equals_ignore_case(p.name, f.property)) return f.element;
    if (p.name.size() <= 6 || !wire::equals_ignore_case(std::string_view(p.name).substr(0, 6), kExtraPrefix))
        return {};
    if (const Param* spelled = find_param(p, kNameParam)) return spelled->values.front();
    std::string upper = p.name.substr(6);
    if (const char* known = known_spelling(upper)) return known;
    return upper;
}

/// The raw SIF value kept for `element` ("1" of X-SIF-SENSITIVITY), if any.
std::optional<std::string> kept_value(const std::vector<ExtraProperty>& extra, std::string_view element) {
    for (const ExtraProperty& p : extra)
        if (wire::equals_ignore_case(sif_element_of(p), element)) return codec::unescape(p.value, Dialect::new_mime_dir);
    return std::nullopt;
}

void add_unique(std::vector<std::string>& names, const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
}

/// What no mapper took: SIFVersion is dropped, empty elements are "cleared"
/// extras, the rest kept as extras.
void keep_leftovers(SifFields& fields, std::vector<ExtraProperty>& extra, std::vector<std::string>& sent_empty,
                    Warnings* warnings) {
    std::vector<std::string> seen;
    for (SifElement& e : fields.elements) {
        if (e.name == "SIFVersion") continue;
        if (e.taken) {
            if (std::count(seen.begin(), seen.end(), e.name) == 0) seen.push_back(e.name);
            else warn(warnings, e.line, "<" + e.name + "> given twice: the first one kept");
            continue;
        }
        e.taken = true;
        if (e.value.empty() && e.xml.empty()) {
            add_unique(sent_empty, kExtraPrefix + wire::to_upper(e.name));
            continue;
        }
        extra.push_back(to_sif_extra(e));
    }
}

// --------------------------------------------------------- output --

bool valid_element_name(std::string_view name) {
    if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

// Control characters other than tab and line feed cannot be in XML 1.0.
std::string xml_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text)
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
    return out;
}

class SifWriter {
public:
    explicit SifWriter(const char* root_name) {
        pugi::xml_node decl = doc_.append_child(pugi::node_declaration);
        decl.append_attribute("version") = "1.0";
        decl.append_attribute("encoding") = "UTF-8";
        root_ = doc_.append_child(root_name);
        add("SIFVersion", kSifVersion);
    }
    pugi::xml_node add(const std::string& name, std::string_view value) {
        pugi::xml_node node = root_.append_child(name.c_str());
        std::string safe = xml_safe(value);
        if (!safe.empty()) node.append_child(pugi::node_pcdata).set_value(safe.c_str());
        return node;
    }
    void add_int(const std::string& name, long long value) { add(name, std::to_string(value)); }
    /// An element holding XML kept from the input; false when it does not parse.
    bool add_xml(const std::string& name, std::string_view xml) {
        pugi::xml_document fragment;
        if (!fragment.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_fragment)) return false;
        pugi::xml_node node = root_.append_child(name.c_str());
        for (pugi::xml_node child : fragment.children()) node.append_copy(child);
        return true;
    }
    pugi::xml_node root() { return root_; }
    std::string finish() {
        struct Sink : pugi::xml_writer {
            std::string out;
            void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
        } sink;
        // One element a line, as the plug-in writes; <X></X> rather than
        // <X />, which its string-searching parser does not know.
        doc_.save(sink, "", pugi::format_indent | pugi::format_no_empty_element_tags, pugi::encoding_utf8);
        return sink.out;
    }

private:
    pugi::xml_document doc_;
    pugi::xml_node root_;
};

/// The X-SIF extras as elements (but those in `handled`, written by a
/// mapper already); other extras cannot be carried by SIF.
void write_extras(SifWriter& out, const std::vector<ExtraProperty>& extra, std::vector<std::string> handled,
                  Warnings* losses) {
    for (const ExtraProperty& p : extra) {
        std::string element = sif_element_of(p);
        if (element.empty()) {
            warn(losses, 0, p.name + ": SIF has no element for it, left out");
            continue;
        }
        // Written already, by a mapper or as an earlier extra of the same field.
        bool is_handled = std::any_of(handled.begin(), handled.end(),
                                      [&](const std::string& h) { return wire::equals_ignore_case(h, element); });
        if (is_handled) continue;
        handled.push_back(element);
        if (!valid_element_name(element) || p.binary) {
            warn(losses, 0, p.name + ": not a SIF element, left out");
            continue;
        }
        std::string value = codec::unescape(p.value, Dialect::new_mime_dir);
        const Param* content = find_param(p, kContentParam);
        if (content && content->values.front() == "XML") {
            if (!out.add_xml(element, value)) warn(losses, 0, p.name + ": kept XML no longer parses, left out");
            continue;
        }
        out.add(element, value);
    }
}

// ------------------------------------------------- shared values --

std::optional<int> parse_int(std::string_view text) {
    text = wire::trim(text);
    if (text.empty() || text.size() > 9) return std::nullopt;
    std::size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size()) return std::nullopt;
    int value = 0;
    for (; i < text.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return text[0] == '-' ? -value : value;
}

/// An integer element; nullopt (with a warning when present but not a
/// number) otherwise.
std::optional<int> take_int(SifFields& fields, std::string_view name, Warnings* warnings) {
    SifElement* e = fields.take(name);
    if (!e || wire::trim(e->value).empty()) return std::nullopt;
    auto value = parse_int(e->value);
    if (!value) warn(warnings, e->line, "<" + std::string(name) + "> \"" + e->value + "\" is not a number: ignored");
    return value;
}

bool take_flag(SifFields& fields, std::string_view name, Warnings* warnings) {
    auto v = take_int(fields, name, warnings);
    return v && *v != 0;
}

std::optional<DateTime> take_time(SifFields& fields, std::string_view name, Warnings* warnings) {
    SifElement* e = fields.take(name);
    if (!e || wire::trim(e->value).empty()) return std::nullopt;
    auto t = cal::parse_date_time(e->value);
    if (!t) warn(warnings, e->line, "<" + std::string(name) + "> \"" + e->value + "\" is not a date: ignored");
    return t;
}

std::vector<std::string> split_categories(std::string_view text) {
    std::vector<std::string> out;
    std::string current;
    auto flush = [&] {
        std::string_view t = wire::trim(current);
        if (!t.empty()) out.emplace_back(t);
        current.clear();
    };
    for (char c : text) {
        if (c == ',' || c == ';') flush();
        else current += c;
    }
    flush();
    return out;
}

std::string join(const std::vector<std::string>& values, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out.append(separator);
        out += values[i];
    }
    return out;
}

// ============================================================ contacts ==

struct Slot {
    const char* element;
    std::vector<std::string> types;
    bool pref;
};

const std::vector<Slot>& phone_slots() {
    static const std::vector<Slot> slots = {
        {"BusinessTelephoneNumber", {"WORK", "VOICE"}, false},
        {"Business2TelephoneNumber", {"WORK", "VOICE"}, false},
        {"BusinessFaxNumber", {"WORK", "FAX"}, false},
        {"CompanyMainTelephoneNumber", {"WORK"}, true},
        {"HomeTelephoneNumber", {"HOME", "VOICE"}, false},
        {"Home2TelephoneNumber", {"HOME", "VOICE"}, false},
        {"HomeFaxNumber", {"HOME", "FAX"}, false},
        {"MobileTelephoneNumber", {"CELL"}, false},
        {"CarTelephoneNumber", {"CAR", "VOICE"}, false},
        {"PagerNumber", {"PAGER"}, false},
        {"PrimaryTelephoneNumber", {"VOICE"}, true},
        {"OtherTelephoneNumber", {"VOICE"}, false},
        {"OtherFaxNumber", {"FAX"}, false},
        {"ISDNNumber", {"ISDN"}, false},
        {"AssistantTelephoneNumber", {"X-FUNAMBOL-ASSISTANT"}, false},
        {"CallbackTelephoneNumber", {"X-FUNAMBOL-CALLBACK"}, false},
        {"RadioTelephoneNumber", {"X-FUNAMBOL-RADIO"}, false},
        {"TelexNumber", {"X-FUNAMBOL-TELEX"}, false},
    };
    return slots;
}

const std::vector<Slot>& email_slots() {
    static const std::vector<Slot> slots = {
        {"Email1Address", {"INTERNET"}, false},
        {"Email2Address", {"INTERNET", "HOME"}, false},
        {"Email3Address", {"INTERNET", "WORK"}, false},
        {"IMAddress", {"INTERNET", "HOME", "X-FUNAMBOL-INSTANTMESSENGER"}, false},
    };
    return slots;
}

const std::vector<Slot>& url_slots() {
    static const std::vector<Slot> slots = {
        {"WebPage", {}, false},
        {"HomeWebPage", {"HOME"}, false},
        {"BusinessWebPage", {"WORK"}, false},
    };
    return slots;
}

// Address slots are element prefixes.
const std::vector<Slot>& address_slots() {
    static const std::vector<Slot> slots = {
        {"HomeAddress", {"HOME"}, false},
        {"BusinessAddress", {"WORK"}, false},
        {"OtherAddress", {}, false},
    };
    return slots;
}

struct AddressPart {
    const char* suffix;
    std::string Address::*field;
};
const std::array<AddressPart, 7> kAddressParts = {{
    {"PostOfficeBox", &Address::po_box},
    {"Extended", &Address::extended},
    {"Street", &Address::street},
    {"City", &Address::locality},
    {"State", &Address::region},
    {"PostalCode", &Address::postal_code},
    {"Country", &Address::country},
}};

/// What matching compares: the types but VOICE, INTERNET and PREF, sorted,
/// and whether it is preferred.
struct SlotKey {
    std::vector<std::string> types;
    bool pref = false;
    bool operator==(const SlotKey& o) const { return types == o.types && pref == o.pref; }
};

SlotKey key_of(const std::vector<std::string>& types, bool pref) {
    SlotKey key;
    key.pref = pref;
    for (const std::string& t : types) {
        std::string upper = wire::to_upper(t);
        if (upper == "PREF") key.pref = true;
        else if (upper != "VOICE" && upper != "INTERNET" && std::count(key.types.begin(), key.types.end(), upper) == 0)
            key.types.push_back(upper);
    }
    std::sort(key.types.begin(), key.types.end());
    return key;
}

SlotKey key_of(const Typed& t) { return key_of(t.types, t.pref > 0); }
SlotKey key_of(const Slot& s) { return key_of(s.types, s.pref); }

bool has_type(const Typed& t, std::string_view type) {
    return std::any_of(t.types.begin(), t.types.end(), [&](const std::string& x) { return wire::equals_ignore_case(x, type); });
}

/// Where a phone goes when no slot has its exact types, best first.
std::vector<std::string> phone_fallbacks(const Phone& p) {
    if (has_type(p, "FAX")) {
        if (has_type(p, "HOME")) return {"HomeFaxNumber", "OtherFaxNumber", "BusinessFaxNumber"};
        if (has_type(p, "WORK")) return {"BusinessFaxNumber", "OtherFaxNumber", "HomeFaxNumber"};
        return {"OtherFaxNumber", "BusinessFaxNumber", "HomeFaxNumber"};
    }
    if (has_type(p, "CELL")) return {"MobileTelephoneNumber", "OtherTelephoneNumber"};
    if (has_type(p, "PAGER")) return {"PagerNumber", "OtherTelephoneNumber"};
    if (has_type(p, "CAR")) return {"CarTelephoneNumber", "OtherTelephoneNumber"};
    if (has_type(p, "ISDN")) return {"ISDNNumber", "OtherTelephoneNumber"};
    std::vector<std::string> out;
    if (has_type(p, "WORK"))
        out = {"BusinessTelephoneNumber", "Business2TelephoneNumber", "CompanyMainTelephoneNumber"};
    else if (has_type(p, "HOME"))
        out = {"HomeTelephoneNumber", "Home2TelephoneNumber"};
    else if (p.pref > 0)
        out = {"PrimaryTelephoneNumber"};
    for (const char* any : {"OtherTelephoneNumber", "PrimaryTelephoneNumber", "Business2TelephoneNumber",
                            "Home2TelephoneNumber", "CallbackTelephoneNumber"})
        out.push_back(any);
    return out;
}

std::vector<std::string> email_fallbacks(const Email& e) {
    if (has_type(e, "WORK")) return {"Email3Address", "Email1Address", "Email2Address"};
    if (has_type(e, "HOME")) return {"Email2Address", "Email1Address", "Email3Address"};
    return {"Email1Address", "Email2Address", "Email3Address"};
}

std::vector<std::string> address_fallbacks(const Address& a) {
    if (has_type(a, "WORK")) return {"BusinessAddress", "OtherAddress", "HomeAddress"};
    if (has_type(a, "HOME")) return {"HomeAddress", "OtherAddress", "BusinessAddress"};
    return {"OtherAddress", "HomeAddress", "BusinessAddress"};
}

std::vector<std::string> url_fallbacks(const Url& u) {
    if (has_type(u, "WORK")) return {"BusinessWebPage", "WebPage", "HomeWebPage"};
    if (has_type(u, "HOME")) return {"HomeWebPage", "WebPage", "BusinessWebPage"};
    return {"WebPage", "HomeWebPage", "BusinessWebPage"};
}

/// Puts each value in a slot: first every exact match (so that a value
/// with its own slot is never pushed out by a guess), then the fallbacks.
/// Returns the slot index of each value, -1 for none left.
template <typename T>
std::vector<int> assign_slots(const std::vector<T>& values, const std::vector<Slot>& slots,
                              const std::function<std::vector<std::string>(const T&)>& fallbacks) {
    std::vector<int> slot_of(values.size(), -1);
    std::vector<bool> used(slots.size(), false);
    for (std::size_t v = 0; v < values.size(); ++v) {
        SlotKey key = key_of(values[v]);
        for (std::size_t s = 0; s < slots.size(); ++s) {
            if (used[s] || !(key_of(slots[s]) == key)) continue;
            used[s] = true;
            slot_of[v] = static_cast<int>(s);
            break;
        }
    }
    for (std::size_t v = 0; v < values.size(); ++v) {
        if (slot_of[v] >= 0) continue;
        for (const std::string& name : fallbacks(values[v])) {
            auto it = std::find_if(slots.begin(), slots.end(), [&](const Slot& s) { return name == s.element; });
            std::size_t s = static_cast<std::size_t>(it - slots.begin());
            if (it == slots.end() || used[s]) continue;
            used[s] = true;
            slot_of[v] = static_cast<int>(s);
            break;
        }
    }
    return slot_of;
}

template <typename T>
void fill_typed(T& value, const Slot& slot) {
    for (const std::string& t : slot.types) value.types.push_back(t);
    value.pref = slot.pref ? 1 : 0;
}

// ----------------------------------------------------- contact fields --

/// A text element and the model string it fills.
struct TextField {
    const char* element;
    const char* property;  ///< for sent_empty
    std::string* (*field)(Contact&);
};

const std::array<TextField, 10> kContactText = {{
    {"FirstName", "N", [](Contact& c) { return &c.name.given; }},
    {"MiddleName", "N", [](Contact& c) { return &c.name.additional; }},
    {"LastName", "N", [](Contact& c) { return &c.name.family; }},
    {"Title", "N", [](Contact& c) { return &c.name.prefixes; }},
    {"Suffix", "N", [](Contact& c) { return &c.name.suffixes; }},
    {"FileAs", "FN", [](Contact& c) { return &c.formatted_name; }},
    {"CompanyName", "ORG", [](Contact& c) { return &c.organization; }},
    {"JobTitle", "TITLE", [](Contact& c) { return &c.title; }},
    {"Profession", "ROLE", [](Contact& c) { return &c.role; }},
    {"Body", "NOTE", [](Contact& c) { return &c.note; }},
}};

void read_contact_text(SifFields& fields, Contact& c) {
    for (const TextField& f : kContactText) {
        auto value = fields.text(f.element);
        if (!value) continue;
        if (value->empty()) add_unique(c.sent_empty, f.property);
        *f.field(c) = *value;
    }
    // ORG's units: Department, then OfficeLocation (Funambol's order).
    auto department = fields.text("Department");
    auto office = fields.text("OfficeLocation");
    if ((department && department->empty()) || (office && office->empty())) add_unique(c.sent_empty, "ORG");
    if (office && !office->empty()) c.org_units = {department.value_or(""), *office};
    else if (department && !department->empty()) c.org_units = {*department};
    if (auto nick = fields.text("NickName")) {
        if (nick->empty()) add_unique(c.sent_empty, "NICKNAME");
        else c.nicknames = {*nick};
    }
    if (auto categories = fields.text("Categories")) {
        if (categories->empty()) add_unique(c.sent_empty, "CATEGORIES");
        c.categories = split_categories(*categories);
    }
}

template <typename T, typename Fill>
void read_slots(SifFields& fields, const std::vector<Slot>& slots, const char* property, std::vector<T>& out,
                std::vector<std::string>& sent_empty, Fill fill) {
    for (const Slot& slot : slots) {
        auto value = fields.text(slot.element);
        if (!value) continue;
        std::string_view trimmed = wire::trim(*value);
        if (trimmed.empty()) {
            add_unique(sent_empty, property);
            continue;
        }
        T item;
        fill_typed(item, slot);
        fill(item, std::string(trimmed));
        out.push_back(std::move(item));
    }
}

void read_addresses(SifFields& fields, Contact& c) {
    for (const Slot& slot : address_slots()) {
        Address a;
        bool present = false, any_value = false;
        for (const AddressPart& part : kAddressParts) {
            auto value = fields.text(std::string(slot.element) + part.suffix);
            if (!value) continue;
            present = true;
            any_value |= !value->empty();
            a.*part.field = *value;
        }
        if (!present) continue;
        if (!any_value) {
            add_unique(c.sent_empty, "ADR");
            continue;
        }
        fill_typed(a, slot);
        c.addresses.push_back(std::move(a));
    }
}

std::optional<PartialDate> take_partial_date(SifFields& fields, const char* element, const char* property,
                                             Contact& c, Warnings* warnings) {
    SifElement* e = fields.take(element);
    if (!e) return std::nullopt;
    if (wire::trim(e->value).empty()) {
        add_unique(c.sent_empty, property);
        return std::nullopt;
    }
    auto t = cal::parse_date_time(e->value);
    if (!t) {
        warn(warnings, e->line, std::string("<") + element + "> \"" + e->value + "\" is not a date: ignored");
        return std::nullopt;
    }
    return PartialDate{t->year, t->month, t->day};
}

// Outlook's photo TYPE attribute ("JPEG") <-> a media type.
std::string media_type_of(std::string_view type) {
    if (type.empty()) return {};
    std::string lower;
    for (char c : type) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find('/') != std::string::npos) return lower;
    if (lower == "jpg") lower = "jpeg";
    return "image/" + lower;
}

std::string photo_type_of(std::string_view media_type) {
    std::size_t slash = media_type.find('/');
    std::string type = wire::to_upper(slash == std::string_view::npos ? media_type : media_type.substr(slash + 1));
    return type;
}

}  // namespace

std::optional<Contact> read_sif_contact(std::string_view xml, const Profile&, std::vector<Warning>* warnings) {
    auto parsed = parse_sif(xml, {"contact"}, warnings);
    if (!parsed) return std::nullopt;
    SifFields& fields = parsed->fields;
    Contact c;
    read_contact_text(fields, c);
    read_slots(fields, phone_slots(), "TEL", c.phones, c.sent_empty,
               [](Phone& p, std::string v) { p.number = std::move(v); });
    read_slots(fields, email_slots(), "EMAIL", c.emails, c.sent_empty,
               [](Email& e, std::string v) { e.address = std::move(v); });
    read_slots(fields, url_slots(), "URL", c.urls, c.sent_empty, [](Url& u, std::string v) { u.uri = std::move(v); });
    read_addresses(fields, c);
    c.birthday = take_partial_date(fields, "Birthday", "BDAY", c, warnings);
    c.anniversary = take_partial_date(fields, "Anniversary", "ANNIVERSARY", c, warnings);
    if (SifElement* photo = fields.take("Photo")) {
        std::string compact;
        for (char ch : photo->value)
            if (!std::isspace(static_cast<unsigned char>(ch))) compact += ch;
        if (compact.empty()) {
            add_unique(c.sent_empty, "PHOTO");
        } else if (auto bytes = wire::base64_decode(compact)) {
            c.photo = Binary{*bytes, {}, media_type_of(photo->type)};
        } else {
            warn(warnings, photo->line, "<Photo> is not base64: left out");
        }
    }
    keep_leftovers(fields, c.extra, c.sent_empty, warnings);
    return c;
}

namespace {

template <typename T, typename Value>
void write_slots(SifWriter& out, const std::vector<T>& values, const std::vector<Slot>& slots,
                 const std::function<std::vector<std::string>(const T&)>& fallbacks, Value value_of,
                 const char* what, Warnings* losses) {
    std::vector<int> slot_of = assign_slots(values, slots, fallbacks);
    std::vector<std::string> text(slots.size());
    for (std::size_t v = 0; v < values.size(); ++v) {
        if (slot_of[v] < 0) warn(losses, 0, std::string(what) + " \"" + value_of(values[v]) + "\": no SIF slot left");
        else text[static_cast<std::size_t>(slot_of[v])] = value_of(values[v]);
    }
    for (std::size_t s = 0; s < slots.size(); ++s) out.add(slots[s].element, text[s]);
}

void write_addresses(SifWriter& out, const std::vector<Address>& addresses, Warnings* losses) {
    const std::vector<Slot>& slots = address_slots();
    std::vector<int> slot_of = assign_slots<Address>(addresses, slots, address_fallbacks);
    std::vector<const Address*> in_slot(slots.size(), nullptr);
    for (std::size_t v = 0; v < addresses.size(); ++v) {
        if (slot_of[v] < 0) warn(losses, 0, "ADR \"" + addresses[v].street + "\": no SIF address left");
        else in_slot[static_cast<std::size_t>(slot_of[v])] = &addresses[v];
        if (!addresses[v].delivery_label.empty()) warn(losses, 0, "LABEL: SIF has no address label, left out");
    }
    for (std::size_t s = 0; s < slots.size(); ++s)
        for (const AddressPart& part : kAddressParts)
            out.add(std::string(slots[s].element) + part.suffix, in_slot[s] ? in_slot[s]->*part.field : "");
}

std::string partial_date_text(const std::optional<PartialDate>& d, const char* property, Warnings* losses) {
    if (!d) return {};
    if (d->year <= 0) {
        warn(losses, 0, std::string(property) + " without a year: SIF cannot say it, left out");
        return {};
    }
    return sif_date(date_only(d->year, d->month, d->day));
}

void write_photo(SifWriter& out, const std::optional<Binary>& photo, Warnings* losses) {
    pugi::xml_node node = out.add("Photo", photo ? wire::base64_encode(photo->data) : "");
    if (!photo) return;
    if (photo->data.empty() && !photo->uri.empty()) warn(losses, 0, "PHOTO by URI: SIF carries only inline photos");
    if (!photo->media_type.empty() && !photo->data.empty())
        node.append_attribute("TYPE") = photo_type_of(photo->media_type).c_str();
}

}  // namespace

std::string write_sif_contact(const Contact& contact, const Profile&, std::vector<Warning>* losses) {
    Contact c = contact;  // the field table hands out non-const pointers
    SifWriter out("contact");
    for (const TextField& f : kContactText) out.add(f.element, *f.field(c));
    out.add("NickName", c.nicknames.empty() ? "" : c.nicknames.front());
    if (c.nicknames.size() > 1) warn(losses, 0, "NICKNAME: SIF has one nickname, the others left out");
    out.add("Department", c.org_units.empty() ? "" : c.org_units[0]);
    out.add("OfficeLocation", c.org_units.size() > 1 ? c.org_units[1] : "");
    if (c.org_units.size() > 2) warn(losses, 0, "ORG: SIF has two organizational units, the others left out");
    out.add("Categories", join(c.categories, ","));
    out.add("Birthday", partial_date_text(c.birthday, "BDAY", losses));
    out.add("Anniversary", partial_date_text(c.anniversary, "ANNIVERSARY", losses));
    write_slots<Phone>(out, c.phones, phone_slots(), phone_fallbacks, [](const Phone& p) { return p.number; }, "TEL",
                       losses);
    write_slots<Email>(out, c.emails, email_slots(), email_fallbacks, [](const Email& e) { return e.address; },
                       "EMAIL", losses);
    write_slots<Url>(out, c.urls, url_slots(), url_fallbacks, [](const Url& u) { return u.uri; }, "URL", losses);
    write_addresses(out, c.addresses, losses);
    write_photo(out, c.photo, losses);
    write_extras(out, c.extra, {}, losses);
    return out.finish();
}

// ============================================================ calendar ==

namespace {

// ---- enumerations ----

int priority_of_importance(int importance) { return importance <= 0 ? 9 : importance == 1 ? 5 : 1; }

std::optional<int> importance_of_priority(int priority) {
    if (priority <= 0) return std::nullopt;
    return priority < 5 ? 2 : priority == 5 ? 1 : 0;
}

std::string classification_of_sensitivity(int sensitivity) {
    switch (sensitivity) {
        case 0: return "PUBLIC";
        case 1:  // personal: private in spirit; the 1 is kept too
        case 2: return "PRIVATE";
        default: return "CONFIDENTIAL";
    }
}

std::optional<int> sensitivity_of(const std::string& classification, const std::optional<std::string>& kept) {
    if (classification.empty()) return std::nullopt;
    if (classification == "PUBLIC") return 0;
    if (classification == "CONFIDENTIAL") return 3;
    if (kept && *kept == "1") return 1;
    return 2;  // PRIVATE and any X- class
}

std::optional<int> busy_status_of(const std::string& transparency, const std::optional<std::string>& kept) {
    if (transparency.empty()) return std::nullopt;
    if (transparency == "TRANSPARENT") return 0;
    if (kept) {
        auto v = parse_int(*kept);
        if (v && *v > 0) return *v;  // tentative, out of office: still opaque
    }
    return 2;
}

const char* status_of_task(int status) {
    switch (status) {
        case 0: return "NEEDS-ACTION";
        case 1: return "IN-PROCESS";
        case 2: return "COMPLETED";
        case 3: return "IN-PROCESS";    // waiting on someone else: begun
        default: return "NEEDS-ACTION";  // deferred: not begun
    }
}

std::optional<int> task_status_of(const std::string& status, const std::optional<std::string>& kept) {
    if (status.empty()) return std::nullopt;
    auto k = kept ? parse_int(*kept) : std::nullopt;
    if (k && (*k == 3 || *k == 4) && status == status_of_task(*k)) return *k;
    if (status == "IN-PROCESS") return 1;
    if (status == "COMPLETED") return 2;
    return 0;
}

void keep_raw(CalendarItem& item, const SifElement* e) {
    if (e) item.extra.push_back(to_sif_extra(*e));
}

// ---- recurrence ----

std::vector<Recurrence::WeekdayNum> days_of_mask(int mask, int ordinal) {
    std::vector<Recurrence::WeekdayNum> out;
    for (int day = 0; day < 7; ++day)
        if (mask & (1 << day)) out.push_back({ordinal, day});
    return out;
}

/// Outlook's Instance: 1..4 from the start of the month, 5 the last.
int ordinal_of_instance(int instance) { return instance >= 5 ? -1 : instance; }
int instance_of_ordinal(int ordinal) { return ordinal < 0 ? 5 : ordinal; }

// Monthly-nth: one day takes an ordinal; several days ("the first weekday")
// are a set of days with BYSETPOS.
void set_nth(Recurrence& rule, int mask, int instance) {
    int ordinal = ordinal_of_instance(instance);
    std::vector<Recurrence::WeekdayNum> days = days_of_mask(mask, 0);
    if (days.size() == 1) {
        rule.by_day = {{ordinal, days.front().weekday}};
    } else {
        rule.by_day = days;
        rule.by_set_pos = {ordinal};
    }
}

struct PatternFields {
    std::optional<int> type, interval, mask, day_of_month, instance, month_of_year, occurrences;
    bool no_end = false;
    std::optional<DateTime> pattern_end;
};

PatternFields take_pattern(SifFields& fields, Warnings* warnings) {
    PatternFields p;
    p.type = take_int(fields, "RecurrenceType", warnings);
    p.interval = take_int(fields, "Interval", warnings);
    p.mask = take_int(fields, "DayOfWeekMask", warnings);
    p.day_of_month = take_int(fields, "DayOfMonth", warnings);
    p.instance = take_int(fields, "Instance", warnings);
    p.month_of_year = take_int(fields, "MonthOfYear", warnings);
    p.occurrences = take_int(fields, "Occurrences", warnings);
    p.no_end = take_flag(fields, "NoEndDate", warnings);
    p.pattern_end = take_time(fields, "PatternEndDate", warnings);
    fields.take("PatternStartDate");  // the series starts at Start / StartDate
    return p;
}

/// Values out of Outlook's ranges are dropped, so that no impossible
/// BYMONTHDAY or BYMONTH reaches the model.
void check_pattern_ranges(PatternFields& p, int line, Warnings* warnings) {
    auto check = [&](std::optional<int>& v, int low, int high, const char* name) {
        if (!v || *v == 0 || (*v >= low && *v <= high)) return;
        warn(warnings, line, std::string("<") + name + "> " + std::to_string(*v) + " is out of range: ignored");
        v.reset();
    };
    check(p.day_of_month, 1, 31, "DayOfMonth");
    check(p.month_of_year, 1, 12, "MonthOfYear");
    check(p.instance, 1, 5, "Instance");
    check(p.interval, 1, 999, "Interval");
}

/// The end of a series: a count wins over an end date (Outlook sends both,
/// and the count is exact); an UNTIL takes the start's kind.
void set_series_end(Recurrence& rule, const PatternFields& p, const DateTime& start) {
    if (p.no_end) return;
    if (p.occurrences && *p.occurrences > 0) {
        rule.count = *p.occurrences;
        return;
    }
    if (!p.pattern_end) return;
    DateTime until = *p.pattern_end;
    if (start.kind == DateTime::Kind::date) {
        until = nearest_midnight(until);
    } else if (until.kind == DateTime::Kind::date) {
        until.hour = 23, until.minute = 59, until.second = 59;  // the whole last day
        until.kind = start.kind == DateTime::Kind::utc ? DateTime::Kind::utc : DateTime::Kind::floating;
    }
    rule.until = until;
}

std::optional<Recurrence> read_recurrence(SifFields& fields, const DateTime& start, int line, Warnings* warnings) {
    bool recurring = take_flag(fields, "IsRecurring", warnings);
    PatternFields p = take_pattern(fields, warnings);  // taken either way: they are no extras
    if (!recurring) return std::nullopt;  // the pattern fields are Outlook's defaults then
    check_pattern_ranges(p, line, warnings);
    Recurrence rule;
    rule.interval = p.interval && *p.interval > 0 ? *p.interval : 1;
    int mask = p.mask.value_or(0) & 0x7F;
    switch (p.type.value_or(-1)) {
        case 0:
            rule.frequency = Recurrence::Frequency::daily;
            // Pocket Outlook's "every weekday" is daily with a mask.
            if (mask != 0 && mask != 0x7F) rule.by_day = days_of_mask(mask, 0);
            break;
        case 1:
            rule.frequency = Recurrence::Frequency::weekly;
            rule.by_day = days_of_mask(mask, 0);
            break;
        case 2:
            rule.frequency = Recurrence::Frequency::monthly;
            if (p.day_of_month.value_or(0) > 0) rule.by_month_day = {*p.day_of_month};
            break;
        case 3:
            rule.frequency = Recurrence::Frequency::monthly;
            if (mask && p.instance.value_or(0) > 0) set_nth(rule, mask, *p.instance);
            break;
        case 5:
        case 6:
            rule.frequency = Recurrence::Frequency::yearly;
            // Some Outlook versions count a yearly interval in months.
            if (rule.interval >= 12 && rule.interval % 12 == 0) rule.interval /= 12;
            if (p.month_of_year.value_or(0) > 0) rule.by_month = {*p.month_of_year};
            if (p.type == 5 && p.day_of_month.value_or(0) > 0) rule.by_month_day = {*p.day_of_month};
            if (p.type == 6 && mask && p.instance.value_or(0) > 0) set_nth(rule, mask, *p.instance);
            break;
        default:
            warn(warnings, line, "IsRecurring without a known RecurrenceType: the item is kept as a single one");
            return std::nullopt;
    }
    set_series_end(rule, p, start);
    return rule;
}

// An Outlook exception is the local date of the occurrence; a timed series
// needs a date-time, so the start's time of day is put with it.
DateTime exception_time(const DateTime& date, const DateTime& start) {
    if (date.kind != DateTime::Kind::date || start.kind == DateTime::Kind::date || !start.valid()) {
        if (start.kind == DateTime::Kind::date) return nearest_midnight(date);
        return date;
    }
    DateTime t = date;
    t.hour = start.hour, t.minute = start.minute, t.second = start.second;
    t.kind = start.kind;
    t.tzid = start.tzid;
    return t;
}

void read_exceptions(SifFields& fields, CalendarItem& item, Warnings* warnings) {
    SifElement* e = fields.take("Exceptions");
    if (!e || e->xml.empty()) return;
    pugi::xml_document doc;
    if (!doc.load_buffer(e->xml.data(), e->xml.size(), pugi::parse_default | pugi::parse_fragment)) return;
    for (pugi::xml_node child : doc.children()) {
        std::string name = child.name();
        bool exclude = name == "ExcludeDate";
        if (!exclude && name != "IncludeDate") continue;
        std::string text(wire::trim(node_text(child)));
        if (text.empty()) continue;
        auto t = cal::parse_date_time(text);
        if (!t) {
            warn(warnings, e->line, "<" + name + "> \"" + text + "\" is not a date: ignored");
            continue;
        }
        (exclude ? item.exception_dates : item.recurrence_dates).push_back(exception_time(*t, item.start));
    }
}

// ---- shared item fields ----

void take_text(SifFields& fields, const char* element, const char* property, std::string& field,
               std::vector<std::string>& sent_empty) {
    auto value = fields.text(element);
    if (!value) return;
    if (value->empty()) add_unique(sent_empty, property);
    field = *value;
}

void read_common(SifFields& fields, CalendarItem& item, Warnings* warnings) {
    take_text(fields, "Subject", "SUMMARY", item.summary, item.sent_empty);
    take_text(fields, "Body", "DESCRIPTION", item.description, item.sent_empty);
    if (auto categories = fields.text("Categories")) {
        if (categories->empty()) add_unique(item.sent_empty, "CATEGORIES");
        item.categories = split_categories(*categories);
    }
    if (auto importance = take_int(fields, "Importance", warnings))
        item.priority = priority_of_importance(*importance);
    if (auto sensitivity = take_int(fields, "Sensitivity", warnings)) {
        item.classification = classification_of_sensitivity(*sensitivity);
        if (*sensitivity == 1) item.extra.push_back({"", "X-SIF-SENSITIVITY", {}, "1", false});
    }
}

Alarm reminder_alarm(SifFields& fields) {
    Alarm alarm;
    if (auto sound = fields.text("ReminderSoundFile")) alarm.attachment = *sound;
    return alarm;
}

void read_event_times(SifFields& fields, CalendarItem& item, Warnings* warnings) {
    bool all_day = take_flag(fields, "AllDayEvent", warnings);
    int line = fields.line_of("Start");
    auto start = take_time(fields, "Start", warnings);
    auto end = take_time(fields, "End", warnings);
    if (start) item.start = *start;
    if (end) item.end = *end;
    if (all_day && start) {
        if (start->kind != DateTime::Kind::date)
            warn(warnings, line, "all-day event with times: read as the dates of the nearest midnights");
        item.start = nearest_midnight(*start);
        // SIF's End is the last day; the model's is the day after.
        item.end = add_days(end ? nearest_midnight(*end) : item.start, 1);
        if (seconds_of(item.end) <= seconds_of(item.start)) item.end = add_days(item.start, 1);
    } else if (start && start->kind == DateTime::Kind::date) {
        item.start = *start;  // a date without AllDayEvent: all-day all the same
        item.end = add_days(end && end->kind == DateTime::Kind::date ? *end : *start, 1);
    }
}

void read_event(SifFields& fields, CalendarItem& item, Warnings* warnings) {
    read_event_times(fields, item, warnings);
    take_text(fields, "Location", "LOCATION", item.location, item.sent_empty);
    SifElement* busy = fields.take("BusyStatus");
    if (auto v = busy ? parse_int(busy->value) : std::nullopt) {
        item.transparency = *v == 0 ? "TRANSPARENT" : "OPAQUE";
        if (*v != 0 && *v != 2) keep_raw(item, busy);
    }
    bool reminder = take_flag(fields, "ReminderSet", warnings);
    auto minutes = take_int(fields, "ReminderMinutesBeforeStart", warnings);
    Alarm alarm = reminder_alarm(fields);
    if (reminder) {
        alarm.offset = Duration{-60LL * minutes.value_or(15)};
        item.alarms.push_back(alarm);
    }
}

void read_task(SifFields& fields, CalendarItem& item, Warnings* warnings) {
    item.type = CalendarItem::Type::task;
    if (auto start = take_time(fields, "StartDate", warnings)) item.start = *start;
    if (auto due = take_time(fields, "DueDate", warnings)) item.due = *due;
    if (auto done = take_time(fields, "DateCompleted", warnings)) item.completed = *done;
    if (auto percent = take_int(fields, "PercentComplete", warnings)) item.percent_complete = std::clamp(*percent, 0, 100);
    bool complete = take_flag(fields, "Complete", warnings);
    SifElement* status = fields.take("Status");
    if (auto v = status ? parse_int(status->value) : std::nullopt) {
        item.status = status_of_task(*v);
        if (*v == 3 || *v == 4) keep_raw(item, status);
    }
    if (complete) {
        item.status = "COMPLETED";
        if (item.percent_complete < 0) item.percent_complete = 100;
    }
    bool reminder = take_flag(fields, "ReminderSet", warnings);
    auto at = take_time(fields, "ReminderTime", warnings);
    Alarm alarm = reminder_alarm(fields);
    if (reminder && at) {
        alarm.at = *at;
        item.alarms.push_back(alarm);
    }
}

// Mapped elements whose emptiness clears an iCalendar property (the text
// ones record theirs as they are read).
struct ClearedName {
    const char* element;
    const char* property;
};
const ClearedName kCalendarCleared[] = {
    {"Start", "DTSTART"},       {"End", "DTEND"},       {"StartDate", "DTSTART"},
    {"DueDate", "DUE"},         {"DateCompleted", "COMPLETED"}, {"PercentComplete", "PERCENT-COMPLETE"},
    {"Importance", "PRIORITY"}, {"Sensitivity", "CLASS"},       {"BusyStatus", "TRANSP"},
    {"Status", "STATUS"},
};

void record_cleared(const SifFields& fields, std::vector<std::string>& sent_empty) {
    for (const SifElement& e : fields.elements) {
        if (!e.taken || !wire::trim(e.value).empty() || !e.xml.empty()) continue;
        for (const ClearedName& c : kCalendarCleared)
            if (e.name == c.element) add_unique(sent_empty, c.property);
    }
}

}  // namespace

std::optional<Calendar> read_sif_calendar(std::string_view xml, const Profile&, std::vector<Warning>* warnings) {
    auto parsed = parse_sif(xml, {"appointment", "task"}, warnings);
    if (!parsed) return std::nullopt;
    SifFields& fields = parsed->fields;
    CalendarItem item;
    read_common(fields, item, warnings);
    if (parsed->root_name == "task") read_task(fields, item, warnings);
    else read_event(fields, item, warnings);
    const DateTime& series_start = item.start.valid() ? item.start : item.due;
    item.recurrence = read_recurrence(fields, series_start, fields.line_of("IsRecurring"), warnings);
    if (item.recurrence) read_exceptions(fields, item, warnings);
    else fields.take("Exceptions");
    record_cleared(fields, item.sent_empty);
    keep_leftovers(fields, item.extra, item.sent_empty, warnings);
    Calendar calendar;
    calendar.items.push_back(std::move(item));
    return calendar;
}

namespace {

// ---- writing ----

int mask_of(const std::vector<Recurrence::WeekdayNum>& days) {
    int mask = 0;
    for (const auto& d : days) mask |= 1 << (d.weekday % 7);
    return mask;
}

struct PatternOut {
    int type = 0, interval = 1, mask = 0, day_of_month = 0, instance = 0, month_of_year = 0;
};

bool same_ordinal(const std::vector<Recurrence::WeekdayNum>& days) {
    return std::all_of(days.begin(), days.end(), [&](const auto& d) { return d.ordinal == days.front().ordinal; });
}

/// The nth-weekday part of a rule (BYDAY=-1SU, or BYDAY=MO..FR;BYSETPOS=1);
/// false when the rule says something else.
bool nth_of(const Recurrence& r, PatternOut& p) {
    if (r.by_day.empty() || !same_ordinal(r.by_day)) return false;
    int ordinal = r.by_day.front().ordinal;
    if (ordinal == 0) {
        if (r.by_set_pos.size() != 1) return false;
        ordinal = r.by_set_pos.front();
    } else if (!r.by_set_pos.empty()) {
        return false;
    }
    if (ordinal < -1 || ordinal == 0 || ordinal > 4) return false;  // Outlook: first..fourth, last
    p.instance = instance_of_ordinal(ordinal);
    p.mask = mask_of(r.by_day);
    return true;
}

bool has_unsayable_parts(const Recurrence& r) {
    return !r.by_year_day.empty() || !r.by_week_no.empty() || !r.by_hour.empty() || !r.by_minute.empty() ||
           !r.by_second.empty() || r.by_month.size() > 1 || r.by_month_day.size() > 1;
}

/// Outlook's pattern for a rule; nullopt when Outlook has none for it.
std::optional<PatternOut> pattern_of(const Recurrence& r, const DateTime& start) {
    if (has_unsayable_parts(r) || !start.valid()) return std::nullopt;
    PatternOut p;
    p.interval = std::max(1, r.interval);
    const int start_day = start.day;
    const int start_month = start.month;
    switch (r.frequency) {
        case Recurrence::Frequency::daily:
            if (r.by_day.empty() && r.by_month_day.empty() && r.by_month.empty()) return p;
            if (r.interval == 1 && !r.by_day.empty() && same_ordinal(r.by_day) && r.by_day.front().ordinal == 0 &&
                r.by_month_day.empty() && r.by_month.empty()) {
                p.type = 1;  // every weekday: a weekly pattern with a mask
                p.mask = mask_of(r.by_day);
                return p;
            }
            return std::nullopt;
        case Recurrence::Frequency::weekly:
            if (!r.by_month_day.empty() || !r.by_month.empty() || !r.by_set_pos.empty()) return std::nullopt;
            if (!r.by_day.empty() && !(same_ordinal(r.by_day) && r.by_day.front().ordinal == 0)) return std::nullopt;
            p.type = 1;
            p.mask = r.by_day.empty() ? 1 << weekday_of(start) : mask_of(r.by_day);
            return p;
        case Recurrence::Frequency::monthly:
            if (!r.by_month.empty()) return std::nullopt;
            if (!r.by_day.empty()) {
                p.type = 3;
                if (!r.by_month_day.empty() || !nth_of(r, p)) return std::nullopt;
                return p;
            }
            if (!r.by_set_pos.empty()) return std::nullopt;
            p.type = 2;
            p.day_of_month = r.by_month_day.empty() ? start_day : r.by_month_day.front();
            if (p.day_of_month < 1) return std::nullopt;
            return p;
        case Recurrence::Frequency::yearly:
            p.month_of_year = r.by_month.empty() ? start_month : r.by_month.front();
            if (!r.by_day.empty()) {
                p.type = 6;
                if (!r.by_month_day.empty() || !nth_of(r, p)) return std::nullopt;
                return p;
            }
            if (!r.by_set_pos.empty()) return std::nullopt;
            p.type = 5;
            p.day_of_month = r.by_month_day.empty() ? start_day : r.by_month_day.front();
            if (p.day_of_month < 1) return std::nullopt;
            return p;
        default:
            return std::nullopt;
    }
}

std::string time_text(const DateTime& t, const char* what, Warnings* losses) {
    if (!t.valid()) return {};
    if (t.kind == DateTime::Kind::date) return sif_date(t);
    if (t.kind == DateTime::Kind::zoned) {
        if (!tz::canonical_zone(t.tzid).empty()) return sif_time(tz::to_utc(t));
        warn(losses, 0, std::string(what) + " in zone " + t.tzid + ": written as a local time without zone");
    }
    return sif_time(t);
}

std::string date_text(const DateTime& t, const char* what, Warnings* losses) {
    if (!t.valid()) return {};
    if (t.kind != DateTime::Kind::date && (t.hour || t.minute || t.second))
        warn(losses, 0, std::string(what) + ": SIF-T has dates only, the time of day left out");
    return sif_date(t);
}

void write_recurrence(SifWriter& out, const CalendarItem& item, const DateTime& start, Warnings* losses) {
    std::optional<PatternOut> pattern;
    if (item.recurrence) {
        pattern = pattern_of(*item.recurrence, start);
        if (!pattern) warn(losses, 0, "RRULE: Outlook has no pattern for it, written as a single item");
    }
    out.add_int("IsRecurring", pattern ? 1 : 0);
    if (!pattern) return;
    const Recurrence& r = *item.recurrence;
    out.add_int("RecurrenceType", pattern->type);
    out.add_int("Interval", pattern->interval);
    out.add_int("DayOfWeekMask", pattern->mask);
    out.add_int("DayOfMonth", pattern->day_of_month);
    out.add_int("Instance", pattern->instance);
    out.add_int("MonthOfYear", pattern->month_of_year);
    out.add("PatternStartDate", time_text(start, "DTSTART", nullptr));
    out.add_int("NoEndDate", r.count == 0 && !r.until ? 1 : 0);
    out.add("PatternEndDate", r.until ? time_text(*r.until, "UNTIL", losses) : "");
    out.add("Occurrences", r.count > 0 ? std::to_string(r.count) : "");
}

void write_exceptions(SifWriter& out, const CalendarItem& item) {
    if (!item.recurrence) return;
    pugi::xml_node node = out.root().append_child("Exceptions");
    auto add = [&](const char* name, const DateTime& t) {
        node.append_child(name).append_child(pugi::node_pcdata).set_value(sif_date(t).c_str());
    };
    for (const DateTime& t : item.exception_dates) add("ExcludeDate", t);
    for (const DateTime& t : item.recurrence_dates) add("IncludeDate", t);
}

/// Minutes before the start of the first alarm, when it can be said so.
std::optional<long long> minutes_before(const Alarm& alarm, const CalendarItem& item) {
    if (alarm.offset && !alarm.relative_to_end) return -alarm.offset->seconds / 60;
    if (alarm.at && item.start.valid() && item.start.kind == alarm.at->kind)
        return (seconds_of(item.start) - seconds_of(*alarm.at)) / 60;
    return std::nullopt;
}

void write_event_reminder(SifWriter& out, const CalendarItem& item, Warnings* losses) {
    std::optional<long long> minutes;
    if (!item.alarms.empty()) {
        minutes = minutes_before(item.alarms.front(), item);
        if (!minutes) warn(losses, 0, "VALARM: SIF-E has reminders before the start only, left out");
        if (item.alarms.size() > 1) warn(losses, 0, "VALARM: SIF has one reminder, the others left out");
    }
    out.add_int("ReminderSet", minutes ? 1 : 0);
    if (!minutes) return;
    out.add_int("ReminderMinutesBeforeStart", std::max(0LL, *minutes));
    out.add("ReminderSoundFile", item.alarms.front().attachment);
}

/// The UTC-or-local time of a task's first alarm.
std::optional<DateTime> reminder_time(const Alarm& alarm, const CalendarItem& item) {
    if (alarm.at) return *alarm.at;
    if (!alarm.offset) return std::nullopt;
    const DateTime& base = alarm.relative_to_end || !item.start.valid() ? item.due : item.start;
    if (!base.valid()) return std::nullopt;
    return from_seconds(seconds_of(base) + alarm.offset->seconds,
                        base.kind == DateTime::Kind::date ? DateTime::Kind::floating : base.kind, base.tzid);
}

void write_task_reminder(SifWriter& out, const CalendarItem& item, Warnings* losses) {
    std::optional<DateTime> at;
    if (!item.alarms.empty()) {
        at = reminder_time(item.alarms.front(), item);
        if (!at) warn(losses, 0, "VALARM: no time to put the task's reminder at, left out");
        if (item.alarms.size() > 1) warn(losses, 0, "VALARM: SIF has one reminder, the others left out");
    }
    out.add_int("ReminderSet", at ? 1 : 0);
    if (!at) return;
    out.add("ReminderTime", time_text(*at, "reminder", losses));
    out.add("ReminderSoundFile", item.alarms.front().attachment);
}

void write_common(SifWriter& out, const CalendarItem& item, std::vector<std::string>& handled) {
    out.add("Subject", item.summary);
    out.add("Body", item.description);
    out.add("Categories", join(item.categories, ","));
    if (auto importance = importance_of_priority(item.priority)) out.add_int("Importance", *importance);
    if (auto s = sensitivity_of(item.classification, kept_value(item.extra, "Sensitivity")))
        out.add_int("Sensitivity", *s);
    handled.push_back("Sensitivity");
}

void write_event(SifWriter& out, const CalendarItem& item, std::vector<std::string>& handled, Warnings* losses) {
    out.add("Location", item.location);
    const bool all_day = item.all_day();
    DateTime end = item.end;
    if (!end.valid() && item.duration && item.start.valid())
        end = from_seconds(seconds_of(item.start) + item.duration->seconds, item.start.kind, item.start.tzid);
    out.add_int("AllDayEvent", all_day ? 1 : 0);
    if (all_day) {
        // The model's end is the day after; SIF's is the last day.
        DateTime last = end.valid() ? add_days(nearest_midnight(end), -1) : item.start;
        if (seconds_of(last) < seconds_of(item.start)) last = item.start;
        out.add("Start", sif_date(item.start));
        out.add("End", sif_date(last));
    } else {
        out.add("Start", time_text(item.start, "DTSTART", losses));
        out.add("End", time_text(end.valid() ? end : item.start, "DTEND", losses));
    }
    if (auto busy = busy_status_of(item.transparency, kept_value(item.extra, "BusyStatus")))
        out.add_int("BusyStatus", *busy);
    handled.push_back("BusyStatus");
    write_event_reminder(out, item, losses);
    handled.push_back("ReminderSoundFile");
}

void write_task(SifWriter& out, const CalendarItem& item, std::vector<std::string>& handled, Warnings* losses) {
    out.add("StartDate", date_text(item.start, "DTSTART", losses));
    out.add("DueDate", date_text(item.due, "DUE", losses));
    const bool complete = item.status == "COMPLETED" || item.completed.valid();
    out.add_int("Complete", complete ? 1 : 0);
    out.add("DateCompleted", date_text(item.completed, "COMPLETED", nullptr));
    if (item.percent_complete >= 0) out.add_int("PercentComplete", item.percent_complete);
    if (auto status = task_status_of(item.status, kept_value(item.extra, "Status"))) out.add_int("Status", *status);
    handled.push_back("Status");
    write_task_reminder(out, item, losses);
    handled.push_back("ReminderSoundFile");
}

void report_calendar_losses(const Calendar& calendar, const CalendarItem& item, Warnings* losses) {
    if (calendar.items.size() > 1) warn(losses, 0, "changed instances of a series: SIF cannot carry them, left out");
    if (item.organizer || !item.attendees.empty()) warn(losses, 0, "ORGANIZER/ATTENDEE: not written in SIF");
    if (!item.url.empty()) warn(losses, 0, "URL: SIF has no element for it, left out");
    if (item.type == CalendarItem::Type::task && !item.location.empty())
        warn(losses, 0, "LOCATION: SIF-T has no location, left out");
}

}  // namespace

std::string write_sif_calendar(const Calendar& calendar, const Profile&, std::vector<Warning>* losses) {
    if (calendar.items.empty()) {
        warn(losses, 0, "an empty calendar: no SIF written");
        return {};
    }
    auto master = std::find_if(calendar.items.begin(), calendar.items.end(),
                               [](const CalendarItem& i) { return !i.recurrence_id; });
    const CalendarItem& item = master != calendar.items.end() ? *master : calendar.items.front();
    const bool task = item.type == CalendarItem::Type::task;
    SifWriter out(task ? "task" : "appointment");
    std::vector<std::string> handled;
    write_common(out, item, handled);
    if (task) write_task(out, item, handled, losses);
    else write_event(out, item, handled, losses);
    write_recurrence(out, item, task && !item.start.valid() ? item.due : item.start, losses);
    write_exceptions(out, item);
    write_extras(out, item.extra, handled, losses);
    report_calendar_losses(calendar, item, losses);
    return out.finish();
}

// ================================================================ notes ==

std::optional<Note> read_sif_note(std::string_view xml, const Profile&, std::vector<Warning>* warnings) {
    auto parsed = parse_sif(xml, {"note"}, warnings);
    if (!parsed) return std::nullopt;
    SifFields& fields = parsed->fields;
    Note note;
    auto text = [&](const char* element, const char* property, std::string& field) {
        auto value = fields.text(element);
        if (!value) return;
        if (value->empty()) add_unique(note.sent_empty, property);
        field = *value;
    };
    text("Subject", "SUMMARY", note.subject);
    text("Body", "BODY", note.body);
    text("Color", "X-SIF-COLOR", note.color);
    if (auto categories = fields.text("Categories")) {
        if (categories->empty()) add_unique(note.sent_empty, "CATEGORIES");
        note.categories = split_categories(*categories);
    }
    keep_leftovers(fields, note.extra, note.sent_empty, warnings);
    return note;
}

std::string write_sif_note(const Note& note, const Profile&, std::vector<Warning>* losses) {
    SifWriter out("note");
    out.add("Subject", note.subject);
    out.add("Body", note.body);
    out.add("Categories", join(note.categories, ","));
    if (!note.color.empty()) out.add("Color", note.color);
    write_extras(out, note.extra, {"Color"}, losses);
    if (!note.classification.empty()) warn(losses, 0, "CLASS: SIF-N has no classification, left out");
    return out.finish();
}

}  // namespace smk::pim::detail
