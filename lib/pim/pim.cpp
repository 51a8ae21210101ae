// pim.hpp's entry points: format names and detection, client profiles, and
// read()/write() dispatching to each format's module (formats.hpp).
#include "syncmlkit/pim.hpp"

#include <algorithm>
#include <cctype>

#include "pim/formats.hpp"
#include "pim/timezone.hpp"
#include "wire/text.hpp"

namespace smk::pim {
namespace {

struct FormatInfo {
    Format format;
    const char* name;
    const char* mime;
    const char* version;
};

constexpr FormatInfo kFormats[] = {
    {Format::vcard21, "vcard21", "text/x-vcard", "2.1"},     {Format::vcard30, "vcard30", "text/vcard", "3.0"},
    {Format::vcard40, "vcard40", "text/vcard", "4.0"},       {Format::vcal10, "vcal10", "text/x-vcalendar", "1.0"},
    {Format::ical20, "ical20", "text/calendar", "2.0"},      {Format::sifc, "sifc", "text/x-s4j-sifc", "1.0"},
    {Format::sife, "sife", "text/x-s4j-sife", "1.0"},        {Format::sift, "sift", "text/x-s4j-sift", "1.0"},
    {Format::sifn, "sifn", "text/x-s4j-sifn", "1.0"},        {Format::vnote11, "vnote11", "text/x-vnote", "1.1"},
    {Format::text, "text", "text/plain", "1.0"},
};

const FormatInfo& info(Format f) {
    for (const FormatInfo& i : kFormats)
        if (i.format == f) return i;
    return kFormats[0];
}

std::string_view skip_space_and_bom(std::string_view s) {
    if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && wire::equals_ignore_case(s.substr(0, prefix.size()), prefix);
}

// The VERSION value of a MIME-DIR object, or "".
std::string declared_version(std::string_view text) {
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        std::string_view line = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        line = skip_space_and_bom(line);
        if (starts_with_ci(line, "VERSION:")) return std::string(wire::trim(line.substr(8)));
        if (end == std::string_view::npos) break;
        at = end + 1;
    }
    return {};
}

// Funambol clients may send SIF base64-encoded ("b64"); anything that is
// all base64 and decodes to XML is taken as such.
std::optional<std::string> sif_from_base64(std::string_view data) {
    std::string compact;
    for (char c : data)
        if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
    if (compact.empty() || compact.front() == '<') return std::nullopt;
    auto decoded = wire::base64_decode(compact);
    if (!decoded || skip_space_and_bom(*decoded).substr(0, 1) != "<") return std::nullopt;
    return decoded;
}

std::optional<Format> sif_root(std::string_view xml) {
    std::size_t at = 0;
    while ((at = xml.find('<', at)) != std::string_view::npos) {
        ++at;
        if (at < xml.size() && (xml[at] == '?' || xml[at] == '!')) continue;
        std::size_t end = xml.find_first_of(" \t\r\n/>", at);
        std::string_view root = xml.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        if (root == "contact") return Format::sifc;
        if (root == "appointment" || root == "event") return Format::sife;
        if (root == "task") return Format::sift;
        if (root == "note") return Format::sifn;
        return std::nullopt;
    }
    return std::nullopt;
}

void lose(std::vector<Warning>* losses, std::string message) {
    if (losses) losses->push_back({0, std::move(message)});
}

}  // namespace

// ---------------------------------------------------------------- formats --

std::optional<Format> format_for_mime(std::string_view type, std::string_view version) {
    std::string t = wire::to_upper(wire::trim(type));
    std::string v(wire::trim(version));
    if (t == "TEXT/X-VCARD") return Format::vcard21;
    if (t == "TEXT/VCARD") return v == "4.0" ? Format::vcard40 : (v == "2.1" ? Format::vcard21 : Format::vcard30);
    if (t == "TEXT/X-VCALENDAR") return Format::vcal10;
    if (t == "TEXT/CALENDAR") return v == "1.0" ? Format::vcal10 : Format::ical20;
    if (t == "TEXT/X-S4J-SIFC") return Format::sifc;
    if (t == "TEXT/X-S4J-SIFE") return Format::sife;
    if (t == "TEXT/X-S4J-SIFT") return Format::sift;
    if (t == "TEXT/X-S4J-SIFN") return Format::sifn;
    if (t == "TEXT/X-VNOTE") return Format::vnote11;
    if (t == "TEXT/PLAIN") return Format::text;
    return std::nullopt;
}

std::string mime_type(Format format) { return info(format).mime; }
std::string mime_version(Format format) { return info(format).version; }
std::string format_name(Format format) { return info(format).name; }

std::optional<Format> format_named(std::string_view name) {
    for (const FormatInfo& i : kFormats)
        if (wire::equals_ignore_case(name, i.name)) return i.format;
    return std::nullopt;
}

Kind kind_of(Format format) {
    switch (format) {
    case Format::vcard21:
    case Format::vcard30:
    case Format::vcard40:
    case Format::sifc:
        return Kind::contact;
    case Format::vcal10:
    case Format::ical20:
    case Format::sife:
    case Format::sift:
        return Kind::calendar;
    default:
        return Kind::note;
    }
}

Format detect_format(std::string_view data) {
    std::string_view s = skip_space_and_bom(data);
    if (s.substr(0, 1) == "<") {
        if (auto f = sif_root(s)) return *f;
        return Format::text;
    }
    if (starts_with_ci(s, "BEGIN:VCARD")) {
        std::string v = declared_version(s);
        return v == "2.1" ? Format::vcard21 : v == "4.0" ? Format::vcard40 : Format::vcard30;
    }
    if (starts_with_ci(s, "BEGIN:VCALENDAR")) return declared_version(s) == "1.0" ? Format::vcal10 : Format::ical20;
    if (starts_with_ci(s, "BEGIN:VNOTE")) return Format::vnote11;
    if (auto xml = sif_from_base64(s))
        if (auto f = sif_root(*xml)) return *f;
    return Format::text;
}

// --------------------------------------------------------------- profiles --

Profile profile_named(std::string_view name) {
    Profile p;
    if (name == "funambol-outlook") {
        p.name = "funambol-outlook";
        p.last_week_is_5_plus = true;       // WinRecurrence: Instance 5 is "last"
        p.funambol_extensions = true;       // X-FUNAMBOL-*, empty property = cleared
        p.blank_line_after_base64 = true;   // Outlook's vCard reader needs it
    } else if (name == "syncevolution") {
        p.name = "syncevolution";
        p.vcal_count_is_intervals = true;   // libsynthesis reads "#N" as intervals
    } else if (name == "nokia") {
        p.name = "nokia";
        p.vcal_count_is_intervals = false;  // Series 40/60 count occurrences
    } else if (name == "sonyericsson") {
        p.name = "sonyericsson";
        p.charset = "ISO-8859-1";           // its phones read 2.1/vCal text as Latin-1
        p.times_in_utc = true;              // and expect alarms and times in UTC
    }
    return p;
}

Profile profile_for(std::string_view manufacturer, std::string_view model, std::string_view device_id) {
    auto has = [](std::string_view hay, std::string_view needle) {
        std::string h = wire::to_upper(hay), n = wire::to_upper(needle);
        return h.find(n) != std::string::npos;
    };
    if (has(manufacturer, "Funambol")) {
        // The Outlook plug-in's DevID starts "fol-"; its Mod names Outlook.
        if (has(model, "Outlook") || starts_with_ci(device_id, "fol-")) return profile_named("funambol-outlook");
        Profile p = profile_named("generic");
        p.name = "funambol";
        p.funambol_extensions = true;
        return p;
    }
    if (has(manufacturer, "SyncEvolution") || has(model, "SyncEvolution")) return profile_named("syncevolution");
    if (has(manufacturer, "Nokia")) return profile_named("nokia");
    if (has(manufacturer, "Sony Ericsson") || has(manufacturer, "SonyEricsson")) return profile_named("sonyericsson");
    return profile_named("generic");
}

std::string canonical_time_zone(std::string_view name) { return tz::canonical_zone(name); }

// ------------------------------------------------------------ conversions --

ReadResult read(std::string_view data, Format format, const Profile& profile) {
    ReadResult result;
    std::vector<Warning>* w = &result.warnings;
    std::string decoded;
    bool sif = format == Format::sifc || format == Format::sife || format == Format::sift || format == Format::sifn;
    if (sif) {
        if (auto xml = sif_from_base64(data)) {
            decoded = std::move(*xml);
            data = decoded;
        }
    }
    switch (format) {
    case Format::vcard21:
    case Format::vcard30:
    case Format::vcard40:
        if (auto c = detail::read_vcard(data, profile, w)) result.item = std::move(*c);
        break;
    case Format::vcal10:
    case Format::ical20:
        // Clients mislabel: the VERSION inside decides.
        if (declared_version(data) == "1.0") {
            if (auto c = detail::read_vcalendar(data, profile, w)) result.item = std::move(*c);
        } else if (auto c = detail::read_icalendar(data, profile, w)) {
            result.item = std::move(*c);
        }
        break;
    case Format::sifc:
        if (auto c = detail::read_sif_contact(data, profile, w)) result.item = std::move(*c);
        break;
    case Format::sife:
    case Format::sift:
        if (auto c = detail::read_sif_calendar(data, profile, w)) result.item = std::move(*c);
        break;
    case Format::sifn:
        if (auto n = detail::read_sif_note(data, profile, w)) result.item = std::move(*n);
        break;
    case Format::vnote11:
        if (auto n = detail::read_vnote(data, profile, w)) result.item = std::move(*n);
        break;
    case Format::text:
        if (auto n = detail::read_text_note(data, w)) result.item = std::move(*n);
        break;
    }
    return result;
}

std::string write(const Item& item, Format format, const Profile& profile, std::vector<Warning>* losses) {
    Kind wanted = kind_of(format);
    if (const Contact* c = std::get_if<Contact>(&item)) {
        if (wanted != Kind::contact) return lose(losses, "a contact cannot be written as " + format_name(format)), "";
        if (format == Format::sifc) return detail::write_sif_contact(*c, profile, losses);
        return detail::write_vcard(*c, format, profile, losses);
    }
    if (const Calendar* cal = std::get_if<Calendar>(&item)) {
        if (wanted != Kind::calendar)
            return lose(losses, "a calendar item cannot be written as " + format_name(format)), "";
        if (format == Format::ical20) return detail::write_icalendar(*cal, profile, losses);
        if (format == Format::vcal10) return detail::write_vcalendar(*cal, profile, losses);
        bool task = !cal->items.empty() && cal->items.front().type == CalendarItem::Type::task;
        if (task != (format == Format::sift))
            lose(losses, std::string("a ") + (task ? "task" : "event") + " is written as " + (task ? "SIF-T" : "SIF-E"));
        return detail::write_sif_calendar(*cal, profile, losses);
    }
    const Note& n = std::get<Note>(item);
    if (wanted != Kind::note) return lose(losses, "a note cannot be written as " + format_name(format)), "";
    if (format == Format::sifn) return detail::write_sif_note(n, profile, losses);
    if (format == Format::vnote11) return detail::write_vnote(n, profile, losses);
    return detail::write_text_note(n, losses);
}

std::string convert(std::string_view data, Format from, Format to, const Profile& profile,
                    std::vector<Warning>* warnings) {
    ReadResult r = read(data, from, profile);
    if (warnings) warnings->insert(warnings->end(), r.warnings.begin(), r.warnings.end());
    if (!r.item) return {};
    return write(*r.item, to, profile, warnings);
}

}  // namespace smk::pim
