// syncmlkit-convert [--from F] [--to F] [--profile P] FILE: rewrites the
// contacts, calendar items or notes of a file in another format, through the
// same model and converters the server uses between its clients. Warnings
// (what the input got wrong, what the output format cannot carry) go to
// stderr with line numbers; the exit status is non-zero only when nothing
// could be converted.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "../common/read_input.hpp"
#include "syncmlkit/pim.hpp"

namespace pim = smk::pim;

namespace {

const char* kUsage =
    "usage: syncmlkit-convert [--from FORMAT] [--to FORMAT] [--profile PROFILE] FILE\n"
    "Reads FILE ('-' for standard input; its format detected unless --from names\n"
    "it) and writes it in --to (default: vcard30 for contacts, ical20 for calendar\n"
    "items, vnote11 for notes) on standard output.\n"
    "FORMAT: vcard21 vcard30 vcard40 vcal10 ical20 sifc sife sift sifn vnote11 text,\n"
    "        or json for the normalized model.\n"
    "PROFILE: generic (default), funambol-outlook, syncevolution, nokia, sonyericsson.\n"
    "--time-zone ZONE places floating vCalendar times in ZONE (an IANA name).\n"
    "Warnings, with line numbers, go to standard error. Exit status 1 when nothing\n"
    "could be converted, 2 for a usage error.\n";

// One object of the input and the line it starts on. A file of vCards holds
// many (each BEGIN:VCARD ... END:VCARD); every other format one.
struct Piece {
    std::string text;
    int first_line;
};

bool starts_with_ci(const std::string& line, const char* word) {
    std::size_t i = 0;
    for (; word[i]; ++i)
        if (i >= line.size() || std::toupper(static_cast<unsigned char>(line[i])) != word[i]) return false;
    return true;
}

// Lines end in CRLF, LF or a lone CR; a byte-order mark before the first
// is not part of it.
std::vector<std::string> lines_of(std::string_view text) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\r' && text[i] != '\n') continue;
        lines.emplace_back(text.substr(start, i - start));
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        start = i + 1;
    }
    if (start < text.size()) lines.emplace_back(text.substr(start));
    return lines;
}

// Cards may nest (a vCard 2.1 AGENT holds one): a card ends at its own END.
std::vector<Piece> split_vcards(const std::string& all) {
    std::vector<Piece> pieces;
    std::string current;
    int number = 0, first = 0, depth = 0;
    for (const std::string& line : lines_of(all)) {
        ++number;
        if (starts_with_ci(line, "BEGIN:VCARD")) {
            if (depth++ == 0) {
                first = number;
                current.clear();
            }
        }
        if (depth > 0) current += line + "\r\n";
        if (depth > 0 && starts_with_ci(line, "END:VCARD") && --depth == 0) pieces.push_back({current, first});
    }
    return pieces;
}

pim::Format default_target(pim::Kind kind) {
    switch (kind) {
    case pim::Kind::contact: return pim::Format::vcard30;
    case pim::Kind::calendar: return pim::Format::ical20;
    default: return pim::Format::vnote11;
    }
}


}  // namespace

int main(int argc, char** argv) {
    std::optional<pim::Format> from, to;
    bool to_json = false;
    pim::Profile profile;
    std::string path, time_zone;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        bool has_value = i + 1 < argc;
        if (a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if ((a == "--to" || a == "--from") && has_value) {
            std::string v = argv[++i];
            if (a == "--to" && v == "json") {
                to_json = true;
                continue;
            }
            std::optional<pim::Format> f = pim::format_named(v);
            if (!f) {
                std::fprintf(stderr, "syncmlkit-convert: no format \"%s\"\n%s", v.c_str(), kUsage);
                return 2;
            }
            (a == "--to" ? to : from) = f;
        } else if (a == "--profile" && has_value) {
            std::string v = argv[++i];
            profile = pim::profile_named(v);
            if (profile.name != v) {
                std::fprintf(stderr, "syncmlkit-convert: no profile \"%s\"\n%s", v.c_str(), kUsage);
                return 2;
            }
        } else if (a == "--time-zone" && has_value) {
            time_zone = argv[++i];
        } else if (path.empty() && (a == "-" || a.rfind("--", 0) != 0)) {
            path = a;
        } else {
            std::fputs(kUsage, stderr);
            return 2;
        }
    }
    if (path.empty()) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    if (!time_zone.empty()) profile.time_zone = time_zone;
    std::string all;
    if (!smk::tools::read_input(path, all)) {
        std::fprintf(stderr, "%s: cannot read\n", path.c_str());
        return 1;
    }
    pim::Format source = from ? *from : pim::detect_format(all);
    bool is_vcard = source == pim::Format::vcard21 || source == pim::Format::vcard30 || source == pim::Format::vcard40;
    std::vector<Piece> pieces = is_vcard ? split_vcards(all) : std::vector<Piece>{{all, 1}};
    pim::Format target = to ? *to : default_target(pim::kind_of(source));

    int converted = 0;
    for (const Piece& piece : pieces) {
        pim::ReadResult r = pim::read(piece.text, source, profile);
        for (const pim::Warning& w : r.warnings)
            std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), piece.first_line + (w.line ? w.line - 1 : 0),
                         w.message.c_str());
        if (!r.item) {
            std::fprintf(stderr, "%s:%d: nothing could be read as %s\n", path.c_str(), piece.first_line,
                         pim::format_name(source).c_str());
            continue;
        }
        std::string out;
        if (to_json) {
            out = pim::to_json(*r.item) + "\n";
        } else {
            std::vector<pim::Warning> losses;
            out = pim::write(*r.item, target, profile, &losses);
            for (const pim::Warning& w : losses)
                std::fprintf(stderr, "%s: %s: %s\n", path.c_str(), pim::format_name(target).c_str(), w.message.c_str());
            if (out.empty()) continue;
        }
        std::fwrite(out.data(), 1, out.size(), stdout);
        ++converted;
    }
    if (converted == 0) {
        if (is_vcard && pieces.empty())
            std::fprintf(stderr, "%s: no vCard (BEGIN:VCARD ... END:VCARD) found\n", path.c_str());
        return 1;
    }
    return 0;
}
