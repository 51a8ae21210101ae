// vCard 2.1, 3.0 and 4.0 onto the normalized model and back. Lexing,
// transfer encodings, charsets, escaping and folding are text_codec's and
// content_line's; this module says which property means what in each
// version, and what a version cannot say.
//
// Decisions (see the converters guide, §4 A and B):
// - CATEGORIES and NICKNAME are lists in every version: 2.1 has no list
//   syntax, and phones write "Friends,Work", so a 2.1 value is split on ','
//   too. Both are kept in 2.1 output (the guide: phones accept them).
// - ANNIVERSARY is 4.0's; 2.1 and 3.0 get X-ANNIVERSARY (read back as the
//   anniversary, in every version). X-EVOLUTION-ANNIVERSARY stays an extra.
// - A 2.1/3.0 LABEL goes to the ADR with the same TYPEs; without one it is an
//   extra. 4.0 writes it as ADR;LABEL= with RFC 6868 carets.
// - N components are ','-separated lists in the model, so a 2.1 literal ','
//   in N is written unescaped in 3.0 (one list of two); in ADR, ORG and the
//   other text it is text ("Silicon Alley 5\,").
// - PREF=1 is TYPE=PREF in 2.1/3.0; PREF=2..100 has no equivalent there and
//   is a loss.
// - FN is required by 3.0 and 4.0: when empty it is built from N (or ORG,
//   or the first EMAIL); 2.1 leaves it out.
// - 2.1 output names the CHARSET of every quoted-printable value, 8-bit or
//   not (the engine's 2.1 output always did; the guide's B3 shows none).
// - A 2.1 AGENT holding a nested card is an extra whose value is that card in
//   the 3.0 escaped form; writers convert the card to their own version.
// - A property sent with an empty value (or only ';') sets nothing and is
//   named in Contact::sent_empty.
#include "syncmlkit/vcard.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "pim/content_line.hpp"
#include "pim/formats.hpp"
#include "pim/text_codec.hpp"
#include "wire/text.hpp"

namespace smk::pim {
namespace {

enum class Version { v21, v30, v40 };

Dialect dialect_of(Version v) { return v == Version::v21 ? Dialect::old_mime_dir : Dialect::new_mime_dir; }

Format format_of(Version v) {
    return v == Version::v21 ? Format::vcard21 : v == Version::v30 ? Format::vcard30 : Format::vcard40;
}

const char* version_text(Version v) { return v == Version::v21 ? "2.1" : v == Version::v30 ? "3.0" : "4.0"; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool starts_with_ignore_case(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && wire::equals_ignore_case(s.substr(0, prefix.size()), prefix);
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int to_int(std::string_view digits) {
    int n = 0;
    for (char c : digits) n = n * 10 + (c - '0');
    return n;
}

std::string two_digits(int n) {
    return std::string(1, static_cast<char>('0' + n / 10 % 10)) + static_cast<char>('0' + n % 10);
}

std::string four_digits(int n) { return two_digits(n / 100) + two_digits(n % 100); }

void warn(std::vector<Warning>* warnings, int line, std::string message) {
    if (warnings) warnings->push_back({line, std::move(message)});
}

// ------------------------------------------------------------ nested AGENT --

// A 2.1 AGENT may hold a whole vCard on the following lines; its END:VCARD
// must not end the outer card.
struct NestedCard {
    int line = 0;  ///< the AGENT property's line
    std::string text;
};


bool is_line(std::string_view line, std::string_view what) { return wire::equals_ignore_case(wire::trim(line), what); }

// "AGENT:" or "item1.AGENT;...:" with nothing after the colon.
bool is_empty_agent(std::string_view line) {
    std::string_view t = wire::trim(line);
    if (t.empty() || t.back() != ':') return false;
    std::string upper = wire::to_upper(t);
    std::size_t dot = upper.find('.');
    std::size_t name_start = dot != std::string::npos && dot < upper.find_first_of(";:") ? dot + 1 : 0;
    return upper.compare(name_start, 5, "AGENT") == 0 &&
           (upper.size() == name_start + 6 || upper[name_start + 5] == ';');
}

// Whether some line of `text` is an empty AGENT followed by BEGIN:VCARD;
// without one, cut_nested_cards() would give the same lines back.
bool holds_nested_card(std::string_view text) {
    PhysicalLineCursor lines(text);
    bool previous_is_agent = false;
    while (!lines.at_end()) {
        std::string_view line = lines.take();
        if (previous_is_agent && is_line(line, "BEGIN:VCARD")) return true;
        previous_is_agent = is_empty_agent(line);
    }
    return false;
}

// Cuts nested cards out of `text`, leaving their lines empty so that line
// numbers stay those of the input.
std::string cut_nested_cards(std::string_view text, std::vector<NestedCard>& nested) {
    std::vector<std::string_view> lines = physical_lines(text);
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < lines.size()) {
        out.append(lines[i]).append("\r\n");
        if (!is_empty_agent(lines[i]) || i + 1 >= lines.size() || !is_line(lines[i + 1], "BEGIN:VCARD")) {
            ++i;
            continue;
        }
        NestedCard card;
        card.line = static_cast<int>(i) + 1;
        int depth = 0;
        for (++i; i < lines.size(); ++i) {
            card.text.append(lines[i]).append("\r\n");
            out.append("\r\n");
            if (is_line(lines[i], "BEGIN:VCARD")) ++depth;
            if (is_line(lines[i], "END:VCARD") && --depth == 0) break;
        }
        ++i;
        nested.push_back(std::move(card));
    }
    return out;
}

// ---------------------------------------------------- 2.1 folded like 3.0 --

// Unfolds the 3.0 way (CRLF + one blank removed) before the old-dialect lexer
// sees the text; `origin` maps each line of the result to its input line.
// A line ending in '=' (a quoted-printable soft break) is left to the lexer.
std::string unfold_like_30(std::string_view text, std::vector<int>& origin) {
    std::vector<std::string_view> lines = physical_lines(text);
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        bool continues = !out.empty() && !lines[i].empty() && (lines[i][0] == ' ' || lines[i][0] == '\t') && i > 0 &&
                         !lines[i - 1].empty() && lines[i - 1].back() != '=';
        if (continues) {
            out.resize(out.size() - 2);  // the CRLF
            out.append(lines[i].substr(1)).append("\r\n");
            continue;
        }
        out.append(lines[i]).append("\r\n");
        origin.push_back(static_cast<int>(i) + 1);
    }
    return out;
}

int original_line(const std::vector<int>& origin, int line) {
    if (line < 1 || origin.empty()) return line;
    return origin[std::min(static_cast<std::size_t>(line), origin.size()) - 1];
}

// ------------------------------------------------------------- parameters --

struct Params {
    std::vector<std::string> types;  ///< upper case, without PREF
    int pref = 0;
    std::string value_type;  ///< VALUE=, upper case
    std::string media_type;  ///< MEDIATYPE= (4.0), lower case
    std::string label;       ///< ADR;LABEL= (caret-decoded)
    std::string omit_year;   ///< X-APPLE-OMIT-YEAR
    bool base64 = false;
    std::vector<std::string> ignored;  ///< names of parameters the model has no place for
};

bool is_encoding_word(std::string_view upper) {
    return upper == "QUOTED-PRINTABLE" || upper == "BASE64" || upper == "B" || upper == "8BIT" || upper == "7BIT";
}

bool is_value_word(std::string_view upper) {
    return upper == "URL" || upper == "URI" || upper == "INLINE" || upper == "CONTENT-ID" || upper == "CID";
}

// A TYPE value is a token ("WORK", "X-INTERN", "IMAGE/JPEG"): anything else
// would not survive 2.1's bare parameters.
bool is_type_token(std::string_view t) {
    for (char c : t)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '/' || c == '.' ||
              c == '+'))
            return false;
    return true;
}

void add_type(Params& p, std::string_view raw, const ContentLine& cl, std::vector<Warning>* warnings) {
    std::string t = wire::to_upper(wire::trim(raw));
    if (t.empty()) return;
    if (!is_type_token(t)) {
        warn(warnings, cl.line, cl.name + ": TYPE \"" + t + "\" is not a token: left out");
        return;
    }
    if (t == "PREF") {
        if (p.pref == 0) p.pref = 1;
        return;
    }
    if (std::find(p.types.begin(), p.types.end(), t) == p.types.end()) p.types.push_back(t);
}

// RFC 6868: ^n is a line break, ^' a double quote, ^^ a caret.
std::string caret_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '^' && i + 1 < s.size() &&
            (s[i + 1] == 'n' || s[i + 1] == 'N' || s[i + 1] == '\'' || s[i + 1] == '^')) {
            char n = s[++i];
            out += n == '\'' ? '"' : n == '^' ? '^' : '\n';
            continue;
        }
        out += s[i];
    }
    return out;
}

std::string caret_encode(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '^') out += "^^";
        else if (c == '\n') out += "^n";
        else if (c == '"') out += "^'";
        else if (c != '\r') out += c;
    }
    return out;
}

Params parse_params(const ContentLine& cl, Version version, std::vector<Warning>* warnings) {
    Params p;
    for (const RawParam& raw : cl.params) {
        const std::string_view name = raw.name;
        if (name.empty()) {
            std::string upper = wire::to_upper(raw.value);
            if (is_encoding_word(upper)) p.base64 |= upper == "BASE64" || upper == "B";
            else if (is_value_word(upper)) p.value_type = upper;
            else add_type(p, upper, cl, warnings);
        } else if (same(name, "TYPE")) {
            if (raw.value.find_first_of("\\\r") == std::string::npos) {
                // Nothing to unescape: the ','-separated pieces as they stand.
                std::string_view v = raw.value;
                for (std::size_t start = 0;;) {
                    std::size_t comma = v.find(',', start);
                    add_type(p, v.substr(start, comma == std::string_view::npos ? comma : comma - start), cl, warnings);
                    if (comma == std::string_view::npos) break;
                    start = comma + 1;
                }
            } else {
                for (const std::string& t : codec::split_unescape(raw.value, ',', Dialect::old_mime_dir))
                    add_type(p, t, cl, warnings);
            }
        } else if (same(name, "PREF")) {
            std::string_view v = wire::trim(raw.value);
            int n = all_digits(v) && v.size() <= 3 ? to_int(v) : 0;
            if (n >= 1 && n <= 100) p.pref = n;
            else warn(warnings, cl.line, cl.name + ": PREF=" + raw.value + " is not 1..100: ignored");
        } else if (same(name, "VALUE")) {
            p.value_type = wire::to_upper(raw.value);
        } else if (same(name, "ENCODING")) {
            p.base64 |= iequals(raw.value, "BASE64") || iequals(raw.value, "B");
        } else if (same(name, "MEDIATYPE")) {
            p.media_type = lower(raw.value);
        } else if (same(name, "LABEL")) {
            p.label = version == Version::v40 ? caret_decode(raw.value) : raw.value;
        } else if (same(name, "X-APPLE-OMIT-YEAR")) {
            p.omit_year = raw.value;
        } else if (!same(name, "CHARSET")) {
            p.ignored.push_back(raw.name);
        }
    }
    return p;
}

// ------------------------------------------------------------------ dates --

struct ParsedDate {
    PartialDate date;
    bool had_time = false;
};

bool valid_partial(const PartialDate& d) {
    return d.year >= 0 && d.year <= 9999 && d.month >= 0 && d.month <= 12 && d.day >= 0 && d.day <= 31 &&
           (d.year > 0 || d.month > 0 || d.day > 0) && !(d.year > 0 && d.month == 0 && d.day > 0);
}

// "1990-04-15", "19900415", "--0415", "--04-15", "---15", "--04", "1990",
// "1990-04", with or without a time after 'T' (dropped).
std::optional<ParsedDate> parse_partial_date(std::string_view text) {
    ParsedDate out;
    std::string_view s = wire::trim(text);
    if (std::size_t t = s.find_first_of("Tt"); t != std::string_view::npos) {
        out.had_time = true;
        s = s.substr(0, t);
    }
    PartialDate& d = out.date;
    if (s.substr(0, 3) == "---") {
        if (!all_digits(s.substr(3)) || s.size() != 5) return std::nullopt;
        d.day = to_int(s.substr(3));
    } else if (s.substr(0, 2) == "--") {
        std::string digits;
        for (char c : s.substr(2))
            if (c != '-') digits += c;
        if (!all_digits(digits) || (digits.size() != 4 && digits.size() != 2)) return std::nullopt;
        d.month = to_int(digits.substr(0, 2));
        if (digits.size() == 4) d.day = to_int(digits.substr(2));
    } else {
        std::string digits;
        for (char c : s)
            if (c != '-') digits += c;
        if (!all_digits(digits) || (digits.size() != 4 && digits.size() != 6 && digits.size() != 8))
            return std::nullopt;
        d.year = to_int(digits.substr(0, 4));
        if (digits.size() >= 6) d.month = to_int(digits.substr(4, 2));
        if (digits.size() == 8) d.day = to_int(digits.substr(6, 2));
        if (d.year == 0) return std::nullopt;
    }
    if (!valid_partial(d)) return std::nullopt;
    return out;
}

// -------------------------------------------------------------- the reader --

// Apple's standard labels come wrapped: "_$!<Other>!$_".
std::string unwrap_apple_label(std::string_view label) {
    if (label.size() > 8 && label.substr(0, 4) == "_$!<" && label.substr(label.size() - 4) == ">!$_")
        return std::string(label.substr(4, label.size() - 8));
    return std::string(label);
}

bool is_blank_value(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c == ';' || c == ' ' || c == '\t'; });
}

std::vector<std::string> non_empty(std::vector<std::string> values) {
    values.erase(std::remove_if(values.begin(), values.end(), [](const std::string& v) { return v.empty(); }),
                 values.end());
    return values;
}

std::string media_type_of(std::string_view type) {
    if (type.find('/') != std::string_view::npos) return lower(type);
    return "image/" + lower(type);
}

class CardReader {
public:
    CardReader(Version version, std::vector<Warning>* warnings, std::vector<NestedCard> nested)
        : version_(version), dialect_(dialect_of(version)), warnings_(warnings), nested_(std::move(nested)) {}

    void read(const ContentLine& cl);
    Contact finish();

private:
    // The line's value decoded, with the warnings decoding gives (again at
    // each call, as decoding it again would); the line read() is at is
    // decoded once.
    struct Decoded {
        std::string_view text;
        bool binary;
    };
    Decoded decoded(const ContentLine& cl) {
        if (&cl != current_) {
            scratch_ = codec::decode_value(cl, warnings_);
            return {scratch_.text, scratch_.binary};
        }
        if (warnings_) warnings_->insert(warnings_->end(), current_warnings_.begin(), current_warnings_.end());
        return {current_decoded_.text, current_decoded_.binary};
    }
    std::string text(const ContentLine& cl) { return codec::unescape(decoded(cl).text, dialect_, cl.line, warnings_); }
    std::vector<std::string> components(const ContentLine& cl, char separator) {
        return codec::split_unescape(decoded(cl).text, separator, dialect_, cl.line, warnings_);
    }
    void keep_as_extra(const ContentLine& cl) {
        Decoded d = decoded(cl);
        contact_.extra.push_back(codec::to_extra(cl, dialect_, d.text, d.binary));
    }
    void read_line(const ContentLine& cl);
    bool first_time(std::string_view name);
    static void set_typed(Typed& item, const ContentLine& cl, const Params& p);
    void report_ignored(const ContentLine& cl, const Params& p);

    void dispatch(const ContentLine& cl, const Params& p);
    void read_name(const ContentLine& cl);
    void read_org(const ContentLine& cl);
    void read_phone(const ContentLine& cl, const Params& p);
    void read_email(const ContentLine& cl, const Params& p);
    void read_url(const ContentLine& cl, const Params& p);
    void read_address(const ContentLine& cl, const Params& p);
    void read_date(const ContentLine& cl, const Params& p, std::optional<PartialDate>& into);
    void read_photo(const ContentLine& cl, const Params& p);
    void read_list(const ContentLine& cl, std::vector<std::string>& into);
    bool read_agent(const ContentLine& cl);
    void attach_labels();
    void attach_apple_labels();

    Version version_;
    Dialect dialect_;
    std::vector<Warning>* warnings_;
    std::vector<NestedCard> nested_;
    Contact contact_;
    std::vector<std::string> seen_;
    std::vector<std::pair<ContentLine, Params>> labels_;  // LABEL, attached to an ADR at the end
    std::vector<ContentLine> apple_labels_;               // X-ABLABEL, attached to its group at the end
    const ContentLine* current_ = nullptr;                // the line read() is at
    codec::DecodedView current_decoded_;
    std::vector<Warning> current_warnings_;
    codec::DecodedValue scratch_;
};

bool CardReader::first_time(std::string_view name) {
    if (std::find(seen_.begin(), seen_.end(), name) != seen_.end()) return false;
    seen_.emplace_back(name);
    return true;
}

void CardReader::report_ignored(const ContentLine& cl, const Params& p) {
    for (const std::string& name : p.ignored) warn(warnings_, cl.line, cl.name + ": parameter " + name + " not kept");
}

void CardReader::set_typed(Typed& item, const ContentLine& cl, const Params& p) {
    item.types = p.types;
    item.pref = p.pref;
    item.group = lower(cl.group);
}

void CardReader::read_name(const ContentLine& cl) {
    std::vector<std::string> parts = components(cl, ';');
    if (parts.size() > 5)
        warn(warnings_, cl.line, "N has " + std::to_string(parts.size()) + " components: the first 5 kept");
    parts.resize(5);
    contact_.name = {std::move(parts[0]), std::move(parts[1]), std::move(parts[2]), std::move(parts[3]),
                     std::move(parts[4])};
}

void CardReader::read_org(const ContentLine& cl) {
    std::vector<std::string> parts = components(cl, ';');
    contact_.organization = std::move(parts.front());
    contact_.org_units.assign(std::make_move_iterator(parts.begin() + 1), std::make_move_iterator(parts.end()));
    while (!contact_.org_units.empty() && contact_.org_units.back().empty()) contact_.org_units.pop_back();
}

void CardReader::read_phone(const ContentLine& cl, const Params& p) {
    Phone phone;
    set_typed(phone, cl, p);
    phone.number = text(cl);
    if (starts_with_ignore_case(phone.number, "tel:")) phone.number.erase(0, 4);
    contact_.phones.push_back(std::move(phone));
}

void CardReader::read_email(const ContentLine& cl, const Params& p) {
    Email email;
    set_typed(email, cl, p);
    email.address = text(cl);
    contact_.emails.push_back(std::move(email));
}

void CardReader::read_url(const ContentLine& cl, const Params& p) {
    Url url;
    set_typed(url, cl, p);
    url.uri = text(cl);
    contact_.urls.push_back(std::move(url));
}

void CardReader::read_address(const ContentLine& cl, const Params& p) {
    std::vector<std::string> parts = components(cl, ';');
    if (parts.size() > 7)
        warn(warnings_, cl.line, "ADR has " + std::to_string(parts.size()) + " components: the first 7 kept");
    parts.resize(7);
    Address a;
    set_typed(a, cl, p);
    a.po_box = std::move(parts[0]), a.extended = std::move(parts[1]), a.street = std::move(parts[2]);
    a.locality = std::move(parts[3]), a.region = std::move(parts[4]), a.postal_code = std::move(parts[5]);
    a.country = std::move(parts[6]);
    a.delivery_label = p.label;
    contact_.addresses.push_back(std::move(a));
}

void CardReader::read_date(const ContentLine& cl, const Params& p, std::optional<PartialDate>& into) {
    std::string value = text(cl);
    std::optional<ParsedDate> parsed = parse_partial_date(value);
    if (!parsed || into) {
        if (!parsed)
            warn(warnings_, cl.line, cl.name + ": \"" + value + "\" is not a date: kept as an unknown property");
        keep_as_extra(cl);
        return;
    }
    if (parsed->had_time) warn(warnings_, cl.line, cl.name + ": a date-time: only its date kept");
    if (!p.omit_year.empty() && wire::trim(p.omit_year) == four_digits(parsed->date.year)) parsed->date.year = 0;
    into = parsed->date;
}

void CardReader::read_photo(const ContentLine& cl, const Params& p) {
    Decoded d = decoded(cl);
    codec::DecodedValue v{std::string(d.text), d.binary};
    if (p.base64 && !v.binary) {
        warn(warnings_, cl.line, "PHOTO: not valid base64: kept as an unknown property");
        contact_.extra.push_back(codec::to_extra(cl, dialect_, nullptr));
        return;
    }
    Binary photo;
    if (!p.types.empty()) photo.media_type = media_type_of(p.types.front());
    if (!p.media_type.empty()) photo.media_type = p.media_type;
    if (v.binary) {
        photo.data = std::move(v.text);
    } else {
        std::string uri = codec::unescape(v.text, dialect_);
        std::size_t comma = uri.find(',');
        if (starts_with_ignore_case(uri, "data:") && comma != std::string::npos) {
            std::string header = uri.substr(5, comma - 5);  // "image/jpeg;base64"
            bool b64 = header.size() >= 7 && wire::equals_ignore_case(header.substr(header.size() - 7), ";base64");
            std::optional<std::string> bytes = b64 ? wire::base64_decode(uri.substr(comma + 1)) : std::nullopt;
            if (!bytes) {
                warn(warnings_, cl.line, "PHOTO: a data: URI that is not base64: kept as a URI");
                photo.uri = uri;
            } else {
                photo.data = std::move(*bytes);
                photo.media_type = lower(header.substr(0, header.size() - 7));
            }
        } else {
            photo.uri = uri;
        }
    }
    contact_.photo = std::move(photo);
}

void CardReader::read_list(const ContentLine& cl, std::vector<std::string>& into) {
    for (std::string& v : non_empty(components(cl, ','))) into.push_back(std::move(v));
}

// The AGENT whose card was cut out of the text: an extra holding the card in
// the 3.0 escaped form.
bool CardReader::read_agent(const ContentLine& cl) {
    for (const NestedCard& n : nested_) {
        if (n.line != cl.line) continue;
        ExtraProperty agent = codec::to_extra(cl, dialect_, warnings_);
        agent.value = codec::escape(n.text, Dialect::new_mime_dir, true);
        contact_.extra.push_back(std::move(agent));
        return true;
    }
    return false;
}

// A property name of letters, digits, '-' and '_' (upper case already).
bool plain_name(std::string_view name) {
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    return true;
}

void CardReader::read(const ContentLine& line) {
    if (!codec::has_nokia_junk(line)) return read_line(line);
    const ContentLine fixed = codec::without_nokia_junk(line, warnings_);
    read_line(fixed);
}

void CardReader::read_line(const ContentLine& cl) {
    const std::string_view name = cl.name;
    if (same(name, "BEGIN") || same(name, "END") || same(name, "VERSION")) return;
    if (same(name, "AGENT") && read_agent(cl)) return;
    if (dialect_ == Dialect::new_mime_dir)
        for (const RawParam& raw : cl.params)
            if ((raw.name.empty() || same(raw.name, "ENCODING")) && iequals(raw.value, "BASE64"))
                warn(warnings_, cl.line,
                     cl.name + ": 2.1's BASE64 in a " + version_text(version_) + " card: read as base64");
    if (!plain_name(name))
        warn(warnings_, cl.line, "odd property name \"" + cl.name + "\": kept as an unknown property");

    current_warnings_.clear();
    codec::decode_value(cl, &current_warnings_, current_decoded_);
    const codec::DecodedView& raw = current_decoded_;
    if (raw.binary ? raw.text.empty() : is_blank_value(raw.text)) {
        if (std::find(contact_.sent_empty.begin(), contact_.sent_empty.end(), name) == contact_.sent_empty.end())
            contact_.sent_empty.emplace_back(name);
        return;
    }
    current_ = &cl;
    Params p = parse_params(cl, version_, warnings_);
    const std::size_t extras_before = contact_.extra.size();
    dispatch(cl, p);
    current_ = nullptr;
    // What went to a field lost the parameters the model has no place for.
    if (contact_.extra.size() == extras_before) report_ignored(cl, p);
}

void CardReader::dispatch(const ContentLine& cl, const Params& p) {
    const std::string_view name = cl.name;
    auto single = [&](std::string& field) {
        if (first_time(name)) field = text(cl);
        else keep_as_extra(cl);
    };
    if (same(name, "FN")) single(contact_.formatted_name);
    else if (same(name, "N") && first_time(name)) read_name(cl);
    else if (same(name, "NICKNAME")) read_list(cl, contact_.nicknames);
    else if (same(name, "ORG") && first_time(name)) read_org(cl);
    else if (same(name, "TITLE")) single(contact_.title);
    else if (same(name, "ROLE")) single(contact_.role);
    else if (same(name, "TEL")) read_phone(cl, p);
    else if (same(name, "EMAIL")) read_email(cl, p);
    else if (same(name, "URL")) read_url(cl, p);
    else if (same(name, "ADR")) read_address(cl, p);
    else if (same(name, "LABEL") && version_ != Version::v40) labels_.emplace_back(cl, p);
    else if (same(name, "X-ABLABEL")) apple_labels_.push_back(cl);
    else if (same(name, "BDAY")) read_date(cl, p, contact_.birthday);
    else if (same(name, "ANNIVERSARY") || same(name, "X-ANNIVERSARY")) read_date(cl, p, contact_.anniversary);
    else if (same(name, "NOTE")) single(contact_.note);
    else if (same(name, "CATEGORIES")) read_list(cl, contact_.categories);
    else if (same(name, "PHOTO") && first_time(name)) read_photo(cl, p);
    else if (same(name, "UID")) single(contact_.uid);
    else if (same(name, "REV")) single(contact_.revision);
    else keep_as_extra(cl);
}

// A LABEL belongs to the ADR with the same types that has none yet.
void CardReader::attach_labels() {
    for (auto& [cl, p] : labels_) {
        std::vector<std::string> types = p.types;
        std::sort(types.begin(), types.end());
        auto same_types = [&](const Address& a) {
            std::vector<std::string> t = a.types;
            std::sort(t.begin(), t.end());
            return t == types && a.delivery_label.empty();
        };
        auto it = std::find_if(contact_.addresses.begin(), contact_.addresses.end(), same_types);
        if (it != contact_.addresses.end()) it->delivery_label = text(cl);
        else keep_as_extra(cl);
    }
}

void CardReader::attach_apple_labels() {
    for (const ContentLine& cl : apple_labels_) {
        std::string group = lower(cl.group);
        std::string label = unwrap_apple_label(text(cl));
        bool attached = false;
        auto attach = [&](auto& items) {
            for (Typed& t : items)
                if (!group.empty() && t.group == group) t.label = label, attached = true;
        };
        attach(contact_.phones);
        attach(contact_.emails);
        attach(contact_.addresses);
        attach(contact_.urls);
        if (!attached) keep_as_extra(cl);
    }
}

Contact CardReader::finish() {
    attach_labels();
    attach_apple_labels();
    return std::move(contact_);
}

struct VersionFound {
    Version version = Version::v30;
    bool declared = false;
    int line = 0;
};

VersionFound find_version(std::string_view text) {
    VersionFound found;
    ContentLineLexer lexer(text, Dialect::new_mime_dir, nullptr);
    for (ContentLine cl; lexer.next(cl);) {
        if (cl.name != "VERSION") continue;
        std::string_view v = wire::trim(cl.value);
        found.line = cl.line;
        found.declared = v == "2.1" || v == "3.0" || v == "4.0";
        found.version = v == "2.1" ? Version::v21 : v == "4.0" ? Version::v40 : Version::v30;
        break;
    }
    return found;
}

// -------------------------------------------------------------- the writer --

const char* const kAppleLabels[] = {"Home",    "Work",     "Other", "Main",   "HomePage",    "HomeFAX",
                                    "WorkFAX", "OtherFAX", "Pager", "Mobile", "Anniversary", "School"};

std::string wrap_apple_label(const std::string& label) {
    for (const char* known : kAppleLabels)
        if (label == known) return "_$!<" + label + ">!$_";
    return label;
}

std::string photo_type_of(std::string_view media_type) {
    std::size_t slash = media_type.rfind('/');
    return wire::to_upper(slash == std::string_view::npos ? media_type : media_type.substr(slash + 1));
}

std::string join(const std::vector<std::string>& values, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) out.append(i ? separator : "").append(values[i]);
    return out;
}

std::string formatted_name_from(const Contact& c) {
    std::vector<std::string> parts = {c.name.prefixes, c.name.given, c.name.additional, c.name.family, c.name.suffixes};
    std::string fn = join(non_empty(parts), " ");
    if (fn.empty()) fn = c.organization;
    if (fn.empty() && !c.emails.empty()) fn = c.emails.front().address;
    return fn;
}

class CardWriter {
public:
    CardWriter(Version version, const Profile& profile, std::vector<Warning>* losses)
        : version_(version), losses_(losses) {
        style_.dialect = dialect_of(version);
        style_.charset = profile.charset;
        style_.blank_line_after_base64 = profile.blank_line_after_base64;
    }
    std::string write(const Contact& c);

private:
    void loss(std::string message) { warn(losses_, 0, std::move(message)); }
    void put(std::string_view group, std::string_view name, std::vector<Param> params, std::string_view value);
    std::string escaped(std::string_view text, bool compound) const {
        return codec::escape(text, style_.dialect, compound);
    }
    void text(std::string_view name, std::string_view value) {
        if (!value.empty()) put("", name, {}, escaped(value, false));
    }
    std::string uri(std::string_view value) const;
    std::string list(const std::vector<std::string>& values, const char* what);
    std::vector<Param> typed_params(const Typed& t, std::string_view what);
    void typed(std::string_view name, const Typed& t, std::string_view value, std::vector<Param> more = {});
    void invent_groups(Contact& c);

    void name(const Contact& c);
    void organization(const Contact& c);
    void address(const Address& a);
    void date(std::string_view name, const std::optional<PartialDate>& d);
    void photo(const Binary& p);
    void extra(const ExtraProperty& p);
    std::optional<std::string> agent_card(const ExtraProperty& p) const;

    Version version_;
    std::vector<Warning>* losses_;
    codec::LineStyle style_;
    std::string out_;
};

// write_property names the charset of 8-bit text only; the engine's 2.1
// output always said CHARSET with QUOTED-PRINTABLE, and phones that assume
// their own charset for QP without one read it right that way: keep saying it.
void CardWriter::put(std::string_view group, std::string_view name, std::vector<Param> params, std::string_view value) {
    if (version_ == Version::v21) {
        bool eight_bit = false, control = false;
        for (unsigned char c : value) eight_bit |= c >= 0x80, control |= c < 0x20;
        if (control && !eight_bit) params.push_back({"CHARSET", {style_.charset.empty() ? "UTF-8" : style_.charset}});
    }
    codec::write_property(out_, group, name, params, value, style_);
}

// URIs are not text: RFC 6350/2426 do not escape them, so ',' and ';' stay
// as they are. A line break or backslash (in a URI from elsewhere) is still
// escaped, as the reader unescapes them, so that it cannot end the line.
std::string CardWriter::uri(std::string_view value) const {
    if (style_.dialect == Dialect::old_mime_dir) return escaped(value, false);  // 2.1 escapes only backslashes
    std::string out;
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c != '\r') out += c;
    }
    return out;
}

std::vector<Param> CardWriter::typed_params(const Typed& t, std::string_view what) {
    std::vector<Param> params;
    std::vector<std::string> types = t.types;
    if (version_ == Version::v40) {
        for (std::string& type : types) type = lower(type);
        if (!types.empty()) params.push_back({"TYPE", std::move(types)});
        if (t.pref > 0) params.push_back({"PREF", {std::to_string(t.pref)}});
        return params;
    }
    if (t.pref == 1) types.push_back("PREF");
    else if (t.pref > 1)
        loss(std::string(what) + ": PREF=" + std::to_string(t.pref) + " has no equivalent in vCard " +
             version_text(version_) + ": left out");
    if (!types.empty()) params.push_back({version_ == Version::v21 ? "" : "TYPE", std::move(types)});
    return params;
}

void CardWriter::typed(std::string_view name, const Typed& t, std::string_view value, std::vector<Param> more) {
    std::vector<Param> params = typed_params(t, name);
    for (Param& p : more) params.push_back(std::move(p));
    put(t.group, name, std::move(params), value);
    if (!t.label.empty()) put(t.group, "X-ABLabel", {}, escaped(wrap_apple_label(t.label), false));
}

// A label needs a group to hang on: "itemN", N not yet taken.
void CardWriter::invent_groups(Contact& c) {
    std::vector<std::string> used;
    auto note = [&](auto& items) {
        for (const auto& i : items) used.push_back(lower(i.group));
    };
    note(c.phones), note(c.emails), note(c.addresses), note(c.urls), note(c.extra);
    int next = 1;
    auto give = [&](auto& items) {
        for (Typed& t : items) {
            if (t.label.empty() || !t.group.empty()) continue;
            while (std::find(used.begin(), used.end(), "item" + std::to_string(next)) != used.end()) ++next;
            t.group = "item" + std::to_string(next);
            used.push_back(t.group);
        }
    };
    give(c.phones), give(c.emails), give(c.addresses), give(c.urls);
}

std::string CardWriter::list(const std::vector<std::string>& values, const char* what) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::string& v = values[i];
        if (version_ == Version::v21 && v.find(',') != std::string::npos)
            loss(std::string(what) + ": \"" + v + "\" holds a ',', which separates values in vCard 2.1");
        if (i) out += ',';
        codec::escape_append(out, v, style_.dialect, false);
    }
    return out;
}

void CardWriter::name(const Contact& c) {
    // Components are ','-lists in the model: their commas stay separators.
    const Name& n = c.name;
    std::string value;
    for (const std::string* part : {&n.family, &n.given, &n.additional, &n.prefixes, &n.suffixes}) {
        if (part != &n.family) value += ';';
        codec::escape_append(value, *part, style_.dialect, true, true);
    }
    put("", "N", {}, value);
    std::string fn = c.formatted_name;
    if (fn.empty() && version_ != Version::v21) fn = formatted_name_from(c);
    if (!fn.empty() || version_ != Version::v21) put("", "FN", {}, escaped(fn, false));
}

void CardWriter::organization(const Contact& c) {
    if (c.organization.empty() && c.org_units.empty()) return;
    std::string value = escaped(c.organization, true);
    for (const std::string& unit : c.org_units) {
        value += ';';
        codec::escape_append(value, unit, style_.dialect, true);
    }
    put("", "ORG", {}, value);
}

void CardWriter::address(const Address& a) {
    std::string value;
    for (const std::string* part :
         {&a.po_box, &a.extended, &a.street, &a.locality, &a.region, &a.postal_code, &a.country}) {
        if (part != &a.po_box) value += ';';
        codec::escape_append(value, *part, style_.dialect, true);
    }
    if (version_ == Version::v40 && !a.delivery_label.empty()) {
        typed("ADR", a, value, {{"LABEL", {caret_encode(a.delivery_label)}}});
        return;
    }
    typed("ADR", a, value);
    if (a.delivery_label.empty()) return;
    std::vector<Param> params;
    if (!a.types.empty()) params.push_back({version_ == Version::v21 ? "" : "TYPE", a.types});
    put("", "LABEL", params, escaped(a.delivery_label, false));
}

void CardWriter::date(std::string_view name, const std::optional<PartialDate>& d) {
    if (!d) return;
    if (!valid_partial(*d)) {
        loss(std::string(name) + ": not a valid date: left out");
        return;
    }
    const bool has_year = d->year > 0, full = d->month > 0 && d->day > 0;
    if (version_ == Version::v40) {
        std::string v = has_year ? four_digits(d->year) : "--";
        if (has_year && d->month > 0 && d->day == 0) v += "-" + two_digits(d->month);
        else if (d->month > 0) v += two_digits(d->month);
        else if (!has_year) v += "-";
        if (d->day > 0) v += two_digits(d->day);
        put("", name, {}, v);
        return;
    }
    std::string x_name = name == "ANNIVERSARY" ? "X-ANNIVERSARY" : std::string(name);
    if (!full) {
        loss(std::string(name) + ": a date without its month or day cannot be written in vCard " +
             version_text(version_));
        return;
    }
    int year = has_year ? d->year : 1604;  // the leap year Apple stands in for "no year"
    std::vector<Param> params;
    if (!has_year && version_ == Version::v30) params.push_back({"X-APPLE-OMIT-YEAR", {"1604"}});
    if (!has_year && version_ == Version::v21)
        loss(std::string(name) + ": vCard 2.1 cannot leave out the year: written as 1604");
    std::string v = version_ == Version::v21
                        ? four_digits(year) + two_digits(d->month) + two_digits(d->day)
                        : four_digits(year) + "-" + two_digits(d->month) + "-" + two_digits(d->day);
    put("", x_name, params, v);
}

void CardWriter::photo(const Binary& p) {
    std::vector<Param> params;
    if (!p.data.empty()) {
        if (version_ == Version::v40) {
            std::string uri = "data:" + p.media_type + ";base64," + wire::base64_encode(p.data);
            put("", "PHOTO", {}, uri);
            return;
        }
        if (!p.media_type.empty()) params.push_back({"TYPE", {photo_type_of(p.media_type)}});
        codec::write_binary_property(out_, "", "PHOTO", params, p.data, style_);
        return;
    }
    if (p.uri.empty()) return;
    if (version_ == Version::v40) {
        if (!p.media_type.empty()) params.push_back({"MEDIATYPE", {p.media_type}});
    } else {
        params.push_back({"VALUE", {version_ == Version::v21 ? "URL" : "uri"}});
        if (!p.media_type.empty()) params.push_back({"TYPE", {photo_type_of(p.media_type)}});
    }
    put("", "PHOTO", params, uri(p.uri));
}

// The card an AGENT holds, converted to this writer's version; nullopt when
// it holds none (a URI or text).
std::optional<std::string> CardWriter::agent_card(const ExtraProperty& p) const {
    if (p.name != "AGENT" || p.binary) return std::nullopt;
    std::string card = codec::unescape(p.value, Dialect::new_mime_dir);
    if (!starts_with_ignore_case(card, "BEGIN:VCARD")) return std::nullopt;
    std::optional<Contact> agent = detail::read_vcard(card, Profile{}, nullptr);
    if (!agent) return std::nullopt;
    return detail::write_vcard(*agent, format_of(version_), Profile{}, nullptr);
}

// An AGENT's card goes nested on the following lines in 2.1, escaped on one
// line in 3.0 and 4.0.
void CardWriter::extra(const ExtraProperty& p) {
    std::optional<std::string> card = agent_card(p);
    if (!card) {
        codec::write_extra(out_, p, style_);
    } else if (version_ == Version::v21) {
        out_ += (p.group.empty() ? "" : p.group + ".") + "AGENT:\r\n" + *card;
    } else {
        ExtraProperty one_line = p;
        one_line.value = codec::escape(*card, Dialect::new_mime_dir, true);
        codec::write_extra(out_, one_line, style_);
    }
}

std::string CardWriter::write(const Contact& contact) {
    // A copy only when a label needs a group invented for it.
    auto needs_group = [](const auto& items) {
        return std::any_of(items.begin(), items.end(),
                           [](const Typed& t) { return !t.label.empty() && t.group.empty(); });
    };
    std::optional<Contact> with_groups;
    if (needs_group(contact.phones) || needs_group(contact.emails) || needs_group(contact.addresses) ||
        needs_group(contact.urls)) {
        with_groups = contact;
        invent_groups(*with_groups);
    }
    const Contact& c = with_groups ? *with_groups : contact;
    out_.reserve(1024);
    out_ = "BEGIN:VCARD\r\nVERSION:";
    out_ += version_text(version_);
    out_ += "\r\n";
    name(c);
    if (!c.nicknames.empty()) put("", "NICKNAME", {}, list(c.nicknames, "NICKNAME"));
    organization(c);
    text("TITLE", c.title);
    text("ROLE", c.role);
    for (const Phone& p : c.phones) typed("TEL", p, escaped(p.number, false));
    for (const Email& e : c.emails) typed("EMAIL", e, escaped(e.address, false));
    for (const Address& a : c.addresses) address(a);
    text("NOTE", c.note);
    for (const Url& u : c.urls) typed("URL", u, uri(u.uri));
    date("BDAY", c.birthday);
    date("ANNIVERSARY", c.anniversary);
    if (!c.categories.empty()) put("", "CATEGORIES", {}, list(c.categories, "CATEGORIES"));
    if (c.photo) photo(*c.photo);
    text("UID", c.uid);
    text("REV", c.revision);
    for (const ExtraProperty& p : c.extra) extra(p);
    out_ += "END:VCARD\r\n";
    return std::move(out_);
}

// The content lines of a card in its version's dialect; for 2.1 producers
// that fold like 3.0, unfolded first, with line numbers still the input's.
std::vector<ContentLine> lex_card(std::string_view card, Version version, const Profile& profile,
                                  std::vector<Warning>* warnings) {
    if (version != Version::v21 || !profile.vcard21_folds_like_30)
        return lex_content_lines(card, dialect_of(version), warnings);
    std::vector<int> origin;
    std::string unfolded = unfold_like_30(card, origin);
    std::size_t first_warning = warnings ? warnings->size() : 0;
    std::vector<ContentLine> lines = lex_content_lines(unfolded, Dialect::old_mime_dir, warnings);
    for (ContentLine& cl : lines) cl.line = original_line(origin, cl.line);
    for (std::size_t i = first_warning; warnings && i < warnings->size(); ++i)
        (*warnings)[i].line = original_line(origin, (*warnings)[i].line);
    return lines;
}

bool is_card_boundary(const ContentLine& cl, std::string_view name) {
    return cl.name == name && wire::equals_ignore_case(wire::trim(cl.value), "VCARD");
}

// BEGIN:VCARD to END:VCARD through the reader; text before or after the
// card is not the card's.
std::optional<Contact> read_card(const std::vector<ContentLine>& lines, CardReader& reader,
                                 std::vector<Warning>* warnings) {
    auto begin =
        std::find_if(lines.begin(), lines.end(), [](const ContentLine& cl) { return is_card_boundary(cl, "BEGIN"); });
    if (begin == lines.end()) {
        warn(warnings, 0, "no BEGIN:VCARD: not a vCard");
        return std::nullopt;
    }
    for (auto it = lines.begin(); it != begin; ++it) warn(warnings, it->line, it->name + " before BEGIN:VCARD ignored");
    for (auto it = begin + 1; it != lines.end(); ++it) {
        if (is_card_boundary(*it, "END")) {
            if (it + 1 != lines.end()) warn(warnings, (it + 1)->line, "text after END:VCARD ignored");
            return reader.finish();
        }
        reader.read(*it);
    }
    warn(warnings, lines.back().line, "no END:VCARD: the card read up to the end of the text");
    return reader.finish();
}

}  // namespace

// ------------------------------------------------------------ entry points --

namespace detail {

std::optional<Contact> read_vcard(std::string_view text, const Profile& profile, std::vector<Warning>* warnings) {
    std::vector<NestedCard> nested;
    std::string cut;
    std::string_view card = text;
    if (holds_nested_card(text)) card = cut = cut_nested_cards(text, nested);
    VersionFound version = find_version(card);
    if (!version.declared)
        warn(warnings, version.line,
             version.line ? "unknown VERSION: read as vCard 3.0" : "no VERSION: read as vCard 3.0");
    std::vector<ContentLine> lines = lex_card(card, version.version, profile, warnings);
    CardReader reader(version.version, warnings, std::move(nested));
    return read_card(lines, reader, warnings);
}

std::string write_vcard(const Contact& contact, Format format, const Profile& profile, std::vector<Warning>* losses) {
    if (format != Format::vcard21 && format != Format::vcard30 && format != Format::vcard40) {
        warn(losses, 0, "a contact cannot be written in a calendar or note format");
        return {};
    }
    Version version = format == Format::vcard21   ? Version::v21
                      : format == Format::vcard30 ? Version::v30
                                                  : Version::v40;
    return CardWriter(version, profile, losses).write(contact);
}

}  // namespace detail

// ------------------------------------------- the older vCard 2.1/3.0 API --

VCardVersion vcard_version(std::string_view vcard) {
    ContentLineLexer lexer(vcard, Dialect::new_mime_dir, nullptr);
    for (ContentLine cl; lexer.next(cl);)
        if (cl.name == "VERSION") return cl.value.rfind("2.1", 0) == 0 ? VCardVersion::v2_1 : VCardVersion::v3_0;
    return VCardVersion::v3_0;
}

namespace {

// One property of a 3.0 card as merge_vcard handles it: kept as it is,
// TYPE lists split so that they are written TYPE=A,B again.
ExtraProperty merge_property(const ContentLine& cl) {
    ExtraProperty p = codec::to_extra(cl, Dialect::new_mime_dir, nullptr);
    for (Param& param : p.params) {
        if (param.name != "TYPE") continue;
        std::vector<std::string> split;
        for (const std::string& v : param.values)
            for (std::string& t : codec::split_unescape(v, ',', Dialect::old_mime_dir)) split.push_back(std::move(t));
        param.values = std::move(split);
    }
    return p;
}

std::vector<ExtraProperty> merge_properties(std::string_view text) {
    std::vector<ExtraProperty> out;
    for (const ContentLine& cl : lex_content_lines(text, Dialect::new_mime_dir, nullptr))
        if (cl.name != "BEGIN" && cl.name != "END" && cl.name != "VERSION") out.push_back(merge_property(cl));
    return out;
}

}  // namespace

std::string merge_vcard(std::string_view server, std::string_view client,
                        const std::vector<std::string>& client_knows) {
    codec::LineStyle style;
    std::vector<ExtraProperty> theirs = merge_properties(client);
    std::vector<std::string> sent;
    for (const ExtraProperty& p : theirs) sent.push_back(p.name);
    std::string out = "BEGIN:VCARD\r\nVERSION:3.0\r\n";
    for (const ExtraProperty& p : theirs)
        if (p.binary ? !p.value.empty() : !is_blank_value(p.value)) codec::write_extra(out, p, style);
    for (const ExtraProperty& p : merge_properties(server)) {
        bool client_has_it = std::find(sent.begin(), sent.end(), p.name) != sent.end();
        bool client_knows_it = std::find(client_knows.begin(), client_knows.end(), p.name) != client_knows.end();
        if (!client_has_it && !client_knows_it && !client_knows.empty()) codec::write_extra(out, p, style);
    }
    out += "END:VCARD\r\n";
    return out;
}

std::string convert_vcard(std::string_view vcard, VCardVersion to, std::vector<Warning>* warnings) {
    std::optional<Contact> contact = detail::read_vcard(vcard, Profile{}, warnings);
    if (!contact) return {};
    return detail::write_vcard(*contact, to == VCardVersion::v2_1 ? Format::vcard21 : Format::vcard30, Profile{},
                               warnings);
}

}  // namespace smk::pim
