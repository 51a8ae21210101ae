// PIM conversion throughput: N generated contacts (vCard 3.0 and 2.1) and N
// generated events (iCalendar 2.0 with a VTIMEZONE, TZID, RRULE and VALARM,
// and vCalendar 1.0 with TZ/DAYLIGHT, a vCal rule and alarms), read into the
// model and written back in the same format through the public API
// (smk::pim::read / smk::pim::write), beside libical's own parser on the
// same iCalendar input in the same run. Prints a table; no assertion beyond
// "every generated item could be read": a benchmark of the error path would
// mislead.
//
//     pim_bench [--json] [--only WORD] [N [min_seconds]]   (defaults: 1000 items, 1 s per row)
//
// --json prints only a JSON array of rows (issue 12's one table); --only runs
// the rows whose corpus label holds WORD ("vcard30", "vcal10", ...), for a
// profiler.
#include <libical/ical.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "syncmlkit/pim.hpp"
#include "syncmlkit/version.hpp"

namespace pim = smk::pim;
using Clock = std::chrono::steady_clock;

namespace {

// ------------------------------------------------------------- test data --

std::string two_digits(std::size_t n) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02zu", n % 100);
    return buf;
}

std::string contact_30(std::size_t i) {
    std::string k = std::to_string(i);
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bench-contact-" + k + "\r\nN:Lastname" + k + ";Firstname" + k +
           ";Middle;Dr.;\r\nFN:Dr. Firstname" + k + " Lastname" + k +
           "\r\nORG:Example GmbH;Sales\r\nTITLE:Account manager\r\n"
           "TEL;TYPE=WORK,VOICE:+49 30 555 " + k + "\r\nTEL;TYPE=CELL:+49 170 555 " + k +
           "\r\nEMAIL;TYPE=INTERNET,PREF:person" + k + "@example.com\r\n"
           "ADR;TYPE=WORK:;;Hauptstr. " + k + ";Berlin;;10115;Germany\r\n"
           "item1.URL:https://example.com/people/" + k + "\r\nitem1.X-ABLabel:profile\r\n"
           "BDAY:1980-04-" + two_digits(i % 28 + 1) + "\r\n"
           "NOTE:Met at the fair\\, booth " + k + ".\\nCall back in spring\\; ask for the catalogue.\r\n"
           "CATEGORIES:Customers,Berlin\r\nX-BENCH-SERIAL:" + k + "\r\nEND:VCARD\r\n";
}

std::string contact_21(std::size_t i) {
    std::string k = std::to_string(i);
    return "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8:M\xc3\xbcller" + k + ";J\xc3\xb6rg" + k +
           ";;;\r\nFN;CHARSET=UTF-8:J\xc3\xb6rg" + k + " M\xc3\xbcller" + k +
           "\r\nORG:Example GmbH;Sales\r\nTEL;WORK;VOICE:+49 30 555 " + k + "\r\nTEL;CELL:+49 170 555 " + k +
           "\r\nEMAIL;INTERNET;PREF:person" + k + "@example.com\r\n"
           "ADR;WORK:;;Hauptstr. " + k + "\\;Hinterhaus;Berlin;;10115;Germany\r\n"
           "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Met at the fair, booth " + k +
           ".=0D=0ACall back in spring; =C3=BCber the catalogue.\r\n"
           "BDAY:198004" + two_digits(i % 28 + 1) + "\r\nX-IRMC-LUID:" + k + "\r\nEND:VCARD\r\n";
}

const char* kBerlin =
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"
    "BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

// Three kinds of rule so that no single path of the recurrence code dominates.
const char* ical_rule(std::size_t i) {
    static const char* rules[] = {"FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
                                  "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;UNTIL=20251231T230000Z",
                                  "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH"};
    return rules[i % 3];
}

const char* vcal_rule(std::size_t i) {
    static const char* rules[] = {"W1 MO WE #10", "MP1 1- FR 20251231T230000Z", "YM1 6 7 #4"};
    return rules[i % 3];
}

std::string event_day(std::size_t i) { return "2024" + two_digits(i % 12 + 1) + two_digits(i % 28 + 1); }

std::string event_ical(std::size_t i) {
    std::string k = std::to_string(i), day = event_day(i);
    return std::string("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//SyncMLKit//pim_bench//EN\r\n") + kBerlin +
           "BEGIN:VEVENT\r\nUID:bench-event-" + k + "@syncmlkit.test\r\nDTSTAMP:20240101T120000Z\r\n"
           "DTSTART;TZID=Europe/Berlin:" + day + "T093000\r\nDTEND;TZID=Europe/Berlin:" + day + "T110000\r\n"
           "RRULE:" + ical_rule(i) + "\r\nEXDATE;TZID=Europe/Berlin:" + day + "T093000\r\n"
           "SUMMARY:Planning " + k + "\\, budget\\; travel\r\n"
           "DESCRIPTION:Agenda:\\n1. numbers\\n2. hiring\r\nLOCATION:Room " + k + "\r\n"
           "CATEGORIES:Business,Meeting\r\nCLASS:PRIVATE\r\nPRIORITY:5\r\nSEQUENCE:1\r\n"
           "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Planning\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n";
}

std::string event_vcal(std::size_t i) {
    std::string k = std::to_string(i), day = event_day(i);
    return "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nTZ:+01\r\n"
           "DAYLIGHT:TRUE;+02;20240331T020000;20241027T030000;CET;CEST\r\n"
           "DAYLIGHT:TRUE;+02;20250330T020000;20251026T030000;CET;CEST\r\n"
           "BEGIN:VEVENT\r\nUID:bench-vcal-" + k + "\r\nDTSTART:" + day + "T073000Z\r\nDTEND:" + day +
           "T090000Z\r\nRRULE:" + vcal_rule(i) + "\r\nEXDATE:" + day + "T073000Z\r\n"
           "SUMMARY;CHARSET=UTF-8:Planung " + k + " f\xc3\xbcr das Budget\r\n"
           "DESCRIPTION;ENCODING=QUOTED-PRINTABLE:Agenda:=0D=0A1. numbers=0D=0A2. hiring\r\n"
           "LOCATION:Room " + k + "\r\nCATEGORIES:BUSINESS;MEETING\r\nCLASS:PRIVATE\r\nPRIORITY:2\r\n"
           "DALARM:" + day + "T071500Z;PT5M;1;Planning\r\nAALARM:" + day + "T071500Z;;0;\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n";
}

// ----------------------------------------------------------- measurement --

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `batch` (one pass over all N items) repeatedly for at least
// `min_seconds` after one warm-up pass; returns seconds per pass. A warm-up
// pass that alone takes `min_seconds` is measurement enough: caches matter
// little over that long, and the slow formats keep the run near 10 s.
double seconds_per_pass(const std::function<void()>& batch, double min_seconds) {
    auto warm_up = Clock::now();
    batch();
    double first = seconds_since(warm_up);
    if (first >= min_seconds) return first;
    std::size_t passes = 0;
    auto start = Clock::now();
    double elapsed = 0;
    do {
        batch();
        ++passes;
        elapsed = seconds_since(start);
    } while (elapsed < min_seconds);
    return elapsed / static_cast<double>(passes);
}

bool json = false;          // --json: rows go to `json_rows`, printed at the end
std::string json_rows;

void header() {
    if (json) return;
    std::printf("%-40s %7s %10s %9s %11s %8s\n", "operation", "items", "bytes", "us/item", "items/s", "MB/s");
}

// `metric` names the row in the JSON table ("read vCard 3.0"); `target` is
// items/s, 0 for none.
void row(const std::string& what, const std::string& metric, double target, std::size_t items, std::size_t bytes,
         double seconds) {
    double n = static_cast<double>(items);
    if (!json) {
        std::printf("%-40s %7zu %10zu %9.1f %11.0f %8.1f\n", what.c_str(), items, bytes, seconds / n * 1e6,
                    n / seconds, static_cast<double>(bytes) / seconds / 1e6);
        return;
    }
    char buf[512];
    char target_text[32] = "null";
    if (target > 0) std::snprintf(target_text, sizeof target_text, "%.0f", target);
    std::snprintf(buf, sizeof buf,
                  "%s\n  {\"bench\": \"pim\", \"metric\": \"%s\", \"value\": %.0f, \"unit\": \"items/s\", "
                  "\"target\": %s, \"better\": \"higher\", \"note\": \"%zu generated items, %.1f us/item, %zu bytes\"}",
                  json_rows.empty() ? "" : ",", metric.c_str(), n / seconds, target_text, items, seconds / n * 1e6,
                  bytes);
    json_rows += buf;
}

std::size_t total_size(const std::vector<std::string>& texts) {
    std::size_t bytes = 0;
    for (const std::string& t : texts) bytes += t.size();
    return bytes;
}

struct Corpus {
    std::string label;
    std::string name;  // in the JSON metric: "vCard 3.0"
    double target;     // items/s read and written, 0 for none
    pim::Format format;
    std::vector<std::string> texts;
    std::vector<pim::Item> items;  // the texts as read, for the write rows
};

// Reads every text once; the benchmark refuses to time a reader that fails.
bool read_all(Corpus& corpus) {
    std::size_t warnings = 0;
    for (const std::string& text : corpus.texts) {
        pim::ReadResult r = pim::read(text, corpus.format);
        warnings += r.warnings.size();
        if (!r.item) {
            std::fprintf(stderr, "pim_bench: %s: a generated item could not be read:\n%s", corpus.label.c_str(),
                         text.c_str());
            for (const pim::Warning& w : r.warnings) std::fprintf(stderr, "  line %d: %s\n", w.line, w.message.c_str());
            return false;
        }
        corpus.items.push_back(std::move(*r.item));
    }
    if (warnings)
        std::fprintf(json ? stderr : stdout, "note: %s: %zu warnings on reading the generated items\n",
                     corpus.label.c_str(), warnings);
    return true;
}

std::size_t sink = 0;  // keeps the optimiser from dropping work

void measure_read(const Corpus& c, double min_seconds) {
    double s = seconds_per_pass([&] {
        for (const std::string& t : c.texts) sink += pim::read(t, c.format).warnings.size() + 1;
    }, min_seconds);
    row("SyncMLKit read  " + c.label, "read " + c.name, c.target, c.texts.size(), total_size(c.texts), s);
}

void measure_write(const Corpus& c, double min_seconds) {
    std::size_t bytes = 0;
    for (const pim::Item& item : c.items) bytes += pim::write(item, c.format).size();
    double s = seconds_per_pass([&] {
        for (const pim::Item& item : c.items) sink += pim::write(item, c.format).size();
    }, min_seconds);
    row("SyncMLKit write " + c.label, "write " + c.name, c.target, c.items.size(), bytes, s);
}

// libical's parser on the same text: parse into its component tree and free
// it, the counterpart of our read.
bool measure_libical(const Corpus& ical, double min_seconds) {
    for (const std::string& t : ical.texts) {
        icalcomponent* c = icalparser_parse_string(t.c_str());
        if (!c) {
            std::fprintf(stderr, "pim_bench: libical could not parse a generated event\n");
            return false;
        }
        icalcomponent_free(c);
    }
    double s = seconds_per_pass([&] {
        for (const std::string& t : ical.texts) {
            icalcomponent* c = icalparser_parse_string(t.c_str());
            sink += icalcomponent_count_components(c, ICAL_ANY_COMPONENT);
            icalcomponent_free(c);
        }
    }, min_seconds);
    row("libical icalparser_parse_string " + ical.label.substr(0, ical.label.find(' ')),
        "libical read " + ical.name, 0, ical.texts.size(), total_size(ical.texts), s);
    return true;
}

Corpus generate(const char* label, const char* name, double target, pim::Format format, std::size_t n,
                std::string (*make)(std::size_t)) {
    Corpus c{label, name, target, format, {}, {}};
    c.texts.reserve(n);
    for (std::size_t i = 0; i < n; ++i) c.texts.push_back(make(i));
    return c;
}

const char* kUsage =
    "usage: pim_bench [--json] [--only WORD] [N [min_seconds]]\n"
    "  N            generated items per format (default 1000)\n"
    "  min_seconds  time each row at least this long (default 1)\n"
    "  --json       print only a JSON array of rows (items/s per format, read and write)\n"
    "  --only WORD  only the formats whose label holds WORD: vcard30, vcard21, ical20, vcal10\n";

// A count or a number of seconds; false when `text` is not a number >= 0.
bool parse_number(const char* text, double& out) {
    char* end = nullptr;
    out = std::strtod(text, &end);
    return end != text && *end == '\0' && out >= 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 1000;
    double min_seconds = 1.0;
    std::string only;
    int positional = 0;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        double v = 0;
        if (a == "--help" || a == "-h") {
            std::printf("%s", kUsage);
            return 0;
        } else if (a == "--json") {
            json = true;
        } else if (a == "--only" && i + 1 < argc) {
            only = argv[++i];
        } else if (a[0] != '-' && positional < 2 && parse_number(argv[i], v)) {
            if (positional++ == 0) n = static_cast<std::size_t>(v);
            else min_seconds = v;
        } else {
            std::fprintf(stderr, "pim_bench: bad argument \"%s\"\n%s", argv[i], kUsage);
            return 2;
        }
    }
    if (n == 0) n = 1;

    std::vector<Corpus> corpora;
    corpora.push_back(generate("vcard30 contacts", "vCard 3.0", 200000, pim::Format::vcard30, n, contact_30));
    corpora.push_back(generate("vcard21 contacts", "vCard 2.1", 200000, pim::Format::vcard21, n, contact_21));
    corpora.push_back(generate("ical20 events", "iCalendar 2.0", 0, pim::Format::ical20, n, event_ical));
    corpora.push_back(generate("vcal10 events", "vCalendar 1.0", 0, pim::Format::vcal10, n, event_vcal));
    if (!only.empty()) {
        corpora.erase(std::remove_if(corpora.begin(), corpora.end(),
                                     [&](const Corpus& c) { return c.label.find(only) == std::string::npos; }),
                      corpora.end());
        if (corpora.empty()) {
            std::fprintf(stderr, "pim_bench: no format matches \"%s\"\n", only.c_str());
            return 2;
        }
    }
    for (Corpus& c : corpora)
        if (!read_all(c)) return 1;

    if (!json)
        std::printf("SyncMLKit %s PIM conversion benchmark: %zu items per format, generic profile, "
                    "at least %.2g s per row\n\n", smk::version(), n, min_seconds);
    header();
    for (const Corpus& c : corpora) {
        measure_read(c, min_seconds);
        measure_write(c, min_seconds);
        if (c.format == pim::Format::ical20 && !measure_libical(c, min_seconds)) return 1;
    }
    if (json) std::printf("[%s\n]\n", json_rows.c_str());
    else std::printf("\n(bytes: input for reads, output for writes; checksum %zu)\n", sink % 10);
    return 0;
}
