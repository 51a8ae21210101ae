// Notes as vNote 1.1 (text/x-vnote) and as plain text (text/plain).
//
// vNote 1.1 is a MIME-DIR object of the old dialect, like vCard 2.1: BODY
// comes quoted-printable with a CHARSET when it has line breaks or non-ASCII
// text, and only \\ and \; are escapes. Read: BODY, SUMMARY, CATEGORIES (';'
// separated as in vCalendar 1.0; ',' is read as a separator too, since some
// phones write it), CLASS, DCREATED, LAST-MODIFIED, UID, X-SIF-COLOR (the
// SIF-N colour, when a note from a SIF client went through vNote); every
// other property (X-IRMC-LUID, X-...) is kept in `extra`. An empty property
// is recorded in sent_empty ("cleared"), as the other readers do.
// Written in the same dialect, in the profile's charset, CATEGORIES with
// ';'. UID is not in vNote 1.1, but it is written back when the note has
// one: the store keeps notes as vNote, and readers keep what they do not know.
//
// Plain text has no structure. Reading: the whole text is the body, and its
// first line is also the subject (what phones show as the note's title).
// Writing: the body, with the subject as a first line of its own only when
// the body does not already start with it, so that text -> model -> text
// gives the same text back, and a note whose subject is not in its body
// keeps it. Lines end in CRLF, as the phones that sync text/plain notes
// write them.
#include <algorithm>
#include <cctype>

#include "pim/content_line.hpp"
#include "pim/calendar_common.hpp"
#include "pim/formats.hpp"
#include "pim/text_codec.hpp"
#include "wire/text.hpp"

namespace smk::pim::detail {
namespace {

using Warnings = std::vector<Warning>;

void warn(Warnings* warnings, int line, std::string message) {
    if (warnings) warnings->push_back({line, std::move(message)});
}

// ----------------------------------------------------------- dates --

// ------------------------------------------------------------ vNote --

std::vector<std::string> split_note_categories(std::string_view value, int line, Warnings* warnings) {
    std::vector<std::string> out;
    for (const std::string& part : codec::split_unescape(value, ';', Dialect::old_mime_dir, line, warnings)) {
        std::size_t start = 0;
        while (start <= part.size()) {
            std::size_t comma = std::min(part.find(',', start), part.size());
            std::string_view one = wire::trim(std::string_view(part).substr(start, comma - start));
            if (!one.empty()) out.emplace_back(one);
            start = comma + 1;
        }
    }
    return out;
}

void read_time_property(const ContentLine& cl, const std::string& text, DateTime& field, Warnings* warnings) {
    if (auto t = cal::parse_date_time(text)) field = *t;
    else warn(warnings, cl.line, cl.name + " \"" + text + "\" is not a date-time: ignored");
}

/// One property of the note; false when it is not one the model has a field for.
bool read_note_property(const ContentLine& cl, const std::string& text, Note& note, Warnings* warnings) {
    const std::string& name = cl.name;
    if (name == "BODY") note.body = codec::unescape(text, Dialect::old_mime_dir);
    else if (name == "SUMMARY") note.subject = codec::unescape(text, Dialect::old_mime_dir);
    else if (name == "CATEGORIES") note.categories = split_note_categories(text, cl.line, warnings);
    else if (name == "CLASS") note.classification = wire::to_upper(wire::trim(text));
    else if (name == "UID") note.uid = codec::unescape(text, Dialect::old_mime_dir);
    else if (name == "X-SIF-COLOR") note.color = codec::unescape(text, Dialect::old_mime_dir);
    else if (name == "DCREATED") read_time_property(cl, text, note.created, warnings);
    else if (name == "LAST-MODIFIED") read_time_property(cl, text, note.last_modified, warnings);
    else return false;
    return true;
}

// The lines between BEGIN:VNOTE and its END; nullopt without a BEGIN:VNOTE.
std::optional<std::vector<ContentLine>> vnote_lines(std::string_view text, Warnings* warnings) {
    std::vector<ContentLine> all = lex_content_lines(text, Dialect::old_mime_dir, warnings);
    for (ContentLine& cl : all) cl = codec::without_nokia_junk(cl, warnings);
    auto begin = std::find_if(all.begin(), all.end(), [](const ContentLine& cl) {
        return cl.name == "BEGIN" && wire::equals_ignore_case(wire::trim(cl.value), "VNOTE");
    });
    if (begin == all.end()) {
        warn(warnings, 1, "no BEGIN:VNOTE: not a vNote, nothing kept");
        return std::nullopt;
    }
    auto end = std::find_if(begin + 1, all.end(), [](const ContentLine& cl) { return cl.name == "END"; });
    if (end == all.end()) warn(warnings, all.back().line, "no END:VNOTE: read to the end of the text");
    return std::vector<ContentLine>(begin + 1, end);
}

}  // namespace

std::optional<Note> read_vnote(std::string_view text, const Profile& /*profile*/, std::vector<Warning>* warnings) {
    auto lines = vnote_lines(text, warnings);
    if (!lines) return std::nullopt;
    Note note;
    for (const ContentLine& cl : *lines) {
        if (cl.name == "VERSION") {
            if (wire::trim(cl.value) != "1.1")
                warn(warnings, cl.line, "vNote VERSION " + cl.value + ": read as 1.1");
            continue;
        }
        if (cl.name == "BEGIN" || cl.name == "END") {
            warn(warnings, cl.line, cl.name + ":" + cl.value + " inside a vNote: skipped");
            continue;
        }
        codec::DecodedValue value = codec::decode_value(cl, warnings);
        if (value.text.empty() && !value.binary) {
            if (std::find(note.sent_empty.begin(), note.sent_empty.end(), cl.name) == note.sent_empty.end())
                note.sent_empty.push_back(cl.name);
            continue;
        }
        if (value.binary || !read_note_property(cl, value.text, note, warnings))
            note.extra.push_back(codec::to_extra(cl, Dialect::old_mime_dir, warnings));
    }
    return note;
}

std::string write_vnote(const Note& note, const Profile& profile, std::vector<Warning>*) {
    codec::LineStyle style;
    style.dialect = Dialect::old_mime_dir;
    style.charset = profile.charset;
    style.blank_line_after_base64 = profile.blank_line_after_base64;
    auto text = [](std::string_view value) { return codec::escape(value, Dialect::old_mime_dir, false); };
    std::string out = "BEGIN:VNOTE\r\nVERSION:1.1\r\n";
    if (!note.uid.empty()) codec::write_property(out, "", "UID", {}, text(note.uid), style);
    if (!note.subject.empty()) codec::write_property(out, "", "SUMMARY", {}, text(note.subject), style);
    if (!note.body.empty()) codec::write_property(out, "", "BODY", {}, text(note.body), style);
    if (!note.categories.empty()) {
        std::string value;
        for (std::size_t i = 0; i < note.categories.size(); ++i)
            value += (i ? ";" : "") + codec::escape(note.categories[i], Dialect::old_mime_dir, true);
        codec::write_property(out, "", "CATEGORIES", {}, value, style);
    }
    if (!note.classification.empty()) codec::write_property(out, "", "CLASS", {}, note.classification, style);
    if (note.created.valid()) codec::write_property(out, "", "DCREATED", {}, cal::format_date_time(note.created), style);
    if (note.last_modified.valid())
        codec::write_property(out, "", "LAST-MODIFIED", {}, cal::format_date_time(note.last_modified), style);
    if (!note.color.empty()) codec::write_property(out, "", "X-SIF-COLOR", {}, text(note.color), style);
    for (const ExtraProperty& p : note.extra) codec::write_extra(out, p, style);
    out += "END:VNOTE\r\n";
    return out;
}

// ------------------------------------------------------- plain text --

std::optional<Note> read_text_note(std::string_view text, std::vector<Warning>* warnings) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a BOM
    std::string utf8 = codec::to_utf8(text, "UTF-8", 1, warnings);
    Note note;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        if (utf8[i] != '\r') {
            note.body += utf8[i];
            continue;
        }
        note.body += '\n';
        if (i + 1 < utf8.size() && utf8[i + 1] == '\n') ++i;
    }
    note.subject = note.body.substr(0, note.body.find('\n'));
    return note;
}

std::string write_text_note(const Note& note, std::vector<Warning>* losses) {
    std::string first_line = note.body.substr(0, note.body.find('\n'));
    std::string text = note.body;
    if (!note.subject.empty() && first_line != note.subject)
        text = note.body.empty() ? note.subject : note.subject + "\n" + note.body;
    if (losses) {
        if (!note.categories.empty()) losses->push_back({0, "CATEGORIES: a plain text note has none, left out"});
        if (!note.classification.empty()) losses->push_back({0, "CLASS: a plain text note has none, left out"});
        if (!note.color.empty()) losses->push_back({0, "Color: a plain text note has none, left out"});
        for (const ExtraProperty& p : note.extra)
            losses->push_back({0, p.name + ": a plain text note has no properties, left out"});
    }
    std::string out;
    out.reserve(text.size() + 16);
    for (char c : text) {
        if (c == '\n') out += "\r\n";
        else if (c != '\r') out += c;
    }
    return out;
}

}  // namespace smk::pim::detail
