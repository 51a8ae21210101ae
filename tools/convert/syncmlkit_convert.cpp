// syncmlkit-convert [--to vcard21|vcard30] FILE: rewrites the vCards of a
// file in another vCard version, as the server does between its clients.
// Warnings go to stderr with line numbers; the exit status is non-zero only
// when nothing could be converted. (vCalendar, iCalendar, SIF and vNote come
// with the rest of the converters.)
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "syncmlkit/vcard.hpp"

namespace {

const char* kUsage =
    "usage: syncmlkit-convert [--to vcard21|vcard30] FILE\n"
    "Writes the vCards of FILE ('-' for standard input) in the version --to\n"
    "names (vcard30 by default) on standard output; warnings, with line\n"
    "numbers, on standard error. Exit status 1 when no vCard could be read.\n";

// The vCards of a file: BEGIN:VCARD ... END:VCARD runs, with the line each starts on.
struct Card {
    std::string text;
    int first_line;
};

std::vector<Card> split_cards(const std::string& all) {
    std::vector<Card> cards;
    std::istringstream in(all);
    std::string line, current;
    int number = 0, first = 0;
    bool inside = false;
    auto starts = [](const std::string& l, const char* word) {
        std::size_t n = std::strlen(word);
        if (l.size() < n) return false;
        for (std::size_t i = 0; i < n; ++i)
            if (std::toupper(static_cast<unsigned char>(l[i])) != word[i]) return false;
        return true;
    };
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!inside && starts(line, "BEGIN:VCARD")) {
            inside = true;
            first = number;
            current.clear();
        }
        if (inside) current += line + "\r\n";
        if (inside && starts(line, "END:VCARD")) {
            cards.push_back({current, first});
            inside = false;
        }
    }
    return cards;
}

}  // namespace

int main(int argc, char** argv) {
    smk::pim::VCardVersion to = smk::pim::VCardVersion::v3_0;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--to" && i + 1 < argc) {
            std::string v = argv[++i];
            if (v == "vcard21") to = smk::pim::VCardVersion::v2_1;
            else if (v == "vcard30") to = smk::pim::VCardVersion::v3_0;
            else {
                std::fprintf(stderr, "syncmlkit-convert: cannot write %s yet (vcard21, vcard30)\n", v.c_str());
                return 2;
            }
        } else if (path.empty()) {
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
    std::ostringstream buf;
    if (path == "-") {
        buf << std::cin.rdbuf();
    } else {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "%s: cannot read\n", path.c_str());
            return 1;
        }
        buf << in.rdbuf();
    }
    std::vector<Card> cards = split_cards(buf.str());
    if (cards.empty()) {
        std::fprintf(stderr, "%s: no vCard (BEGIN:VCARD ... END:VCARD) found\n", path.c_str());
        return 1;
    }
    for (const Card& card : cards) {
        std::vector<smk::pim::Warning> warnings;
        std::string out = smk::pim::convert_vcard(card.text, to, &warnings);
        std::fwrite(out.data(), 1, out.size(), stdout);
        for (const auto& w : warnings)
            std::fprintf(stderr, "%s:%d: %s\n", path.c_str(), card.first_line + w.line - 1, w.message.c_str());
    }
    return 0;
}
