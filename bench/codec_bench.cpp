// Codec throughput: XML and WBXML, decode and encode, on a 150 kB message of
// 300 contacts, beside libwbxml2's own WBXML to XML conversion of the same
// WBXML in the same run. Prints a table, or with --json the rows of the
// project's benchmark table (bench/run_all.py compares them with the targets).
//
// malloc runs with glibc's default settings unless --mallopt is given: the
// codec has to be fast without a host tuning the allocator for it. The page
// faults per message are printed beside each figure because they are what
// the allocator's settings change (a block above the mmap threshold, or a
// heap trimmed after every message, is faulted in again page by page).
#include <malloc.h>
#include <time.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "generated_messages.hpp"
#include "syncmlkit/version.hpp"
#include "syncmlkit/wire.hpp"
#include "wbxml_oracle.hpp"

using namespace smk::wire;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::size_t contacts = 300;
    double min_seconds = 1.0;
    std::size_t runs = 0;  // fixed number of runs (for callgrind); 0: run for min_seconds
    bool json = false;
    bool mallopt = false;
    std::string only;  // run only the row of this name
};

struct Result {
    double seconds_per_run = 0;  // CPU time of this thread
    double wall_per_run = 0;
    double faults_per_run = 0;
};

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long minor_faults() {
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

// Runs `f` after one warm-up run, `runs` times or for at least `min_seconds`.
Result measure(const std::function<void()>& f, const Options& opt) {
    f();
    std::size_t runs = 0;
    long faults = minor_faults();
    auto start = Clock::now();
    double cpu_start = thread_cpu_seconds();
    double cpu = 0;
    do {
        f();
        ++runs;
        cpu = thread_cpu_seconds() - cpu_start;
    } while (opt.runs ? runs < opt.runs : cpu < opt.min_seconds);
    double wall = std::chrono::duration<double>(Clock::now() - start).count();
    auto n = static_cast<double>(runs);
    return {cpu / n, wall / n, static_cast<double>(minor_faults() - faults) / n};
}

struct Row {
    std::string metric;
    std::size_t bytes;
    Result result;
    bool has_target;
};

double mb_per_s(const Row& r) { return static_cast<double>(r.bytes) / r.result.seconds_per_run / 1e6; }

void usage(const char* argv0) {
    std::printf(
        "usage: %s [--json] [--mallopt] [--contacts N] [--seconds S] [--runs N] [--only TEXT] [N [S]]\n"
        "  Decodes and encodes one SyncML message of N contacts (default 300, about 150 kB of XML)\n"
        "  in XML and WBXML, each for at least S seconds of CPU time (default 1).\n"
        "  MB/s: bytes per CPU second of the measuring thread (wall-clock MB/s beside it).\n"
        "  --json      print only the rows of the benchmark table, as a JSON array\n"
        "  --mallopt   fix glibc's mmap and trim thresholds first, as a tuned host would\n"
        "              (default: glibc's default malloc settings)\n"
        "  --runs N    run each operation exactly N times after a warm-up (for callgrind)\n"
        "  --only TEXT run only the operation named TEXT (\"WBXML decode\")\n",
        argv0);
}

bool parse_args(int argc, char** argv, Options& opt) {
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            usage(argv[0]);
            std::exit(0);
        } else if (a == "--json") opt.json = true;
        else if (a == "--mallopt") opt.mallopt = true;
        else if (a == "--glibc-default-malloc") opt.mallopt = false;  // the default now; kept for old scripts
        else if (a == "--contacts") opt.contacts = std::stoul(value());
        else if (a == "--seconds") opt.min_seconds = std::stod(value());
        else if (a == "--runs") opt.runs = std::stoul(value());
        else if (a == "--only") opt.only = value();
        else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + a);
        else positional.push_back(a);
    }
    if (positional.size() > 2) throw std::invalid_argument("too many arguments");
    if (!positional.empty()) opt.contacts = std::stoul(positional[0]);
    if (positional.size() > 1) opt.min_seconds = std::stod(positional[1]);
    if (opt.contacts == 0) throw std::invalid_argument("the message needs at least one contact");
    return true;
}

void print_json(const std::vector<Row>& rows, const Options& opt) {
    std::printf("[");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        char target[16];
        if (r.has_target) std::snprintf(target, sizeof target, "400");
        else std::snprintf(target, sizeof target, "null");
        std::printf("%s\n  {\"bench\": \"codec\", \"metric\": \"%s\", \"value\": %.1f, \"unit\": \"MB/s\", "
                    "\"target\": %s, \"better\": \"higher\", \"note\": \"%.0f kB message, %zu contacts, %s, "
                    "%.0f page faults per message, MB per CPU second\"}",
                    i ? "," : "", r.metric.c_str(), mb_per_s(r), target, static_cast<double>(r.bytes) / 1000.0,
                    opt.contacts, opt.mallopt ? "mallopt thresholds fixed" : "glibc default malloc",
                    r.result.faults_per_run);
    }
    std::printf("\n]\n");
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    try {
        parse_args(argc, argv, opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "codec_bench: %s\n", e.what());
        usage(argv[0]);
        return 2;
    }
    // glibc's malloc serves blocks above its (moving) mmap threshold, 128 kB at
    // first, with fresh mappings, and gives the top of the heap back once more
    // than the trim threshold is free there. --mallopt fixes both, as a host
    // may; the codec is measured without it by default.
    if (opt.mallopt) {
        mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
        mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
    }

    Message msg = smk::test::contacts_message(opt.contacts);
    std::string xml = encode(msg, Encoding::xml);
    std::string wbxml = encode(msg, Encoding::wbxml);
    std::size_t sink = 0;  // keeps the optimiser from dropping work
    std::string out;

    std::vector<Row> rows;
    auto run = [&](const char* metric, std::size_t bytes, bool has_target, const std::function<void()>& f) {
        if (!opt.only.empty() && opt.only != metric) return;
        rows.push_back({metric, bytes, measure(f, opt), has_target});
    };
    run("XML decode", xml.size(), true, [&] { sink += decode(xml, Encoding::xml).body.size(); });
    run("XML encode", xml.size(), false, [&] { encode(msg, Encoding::xml, out); sink += out.size(); });
    run("WBXML decode", wbxml.size(), true, [&] { sink += decode(wbxml, Encoding::wbxml).body.size(); });
    run("WBXML encode", wbxml.size(), false, [&] { encode(msg, Encoding::wbxml, out); sink += out.size(); });
    run("SyncMLKit WBXML -> XML text", wbxml.size(), false,
        [&] { sink += render_xml(wbxml, Encoding::wbxml).size(); });
    std::string error;
    bool oracle = smk::test::libwbxml_to_xml(wbxml, &error).has_value();
    if (oracle)
        run("libwbxml2 WBXML -> XML text", wbxml.size(), false,
            [&] { sink += smk::test::libwbxml_to_xml(wbxml)->size(); });

    if (opt.json) {
        print_json(rows, opt);
        return 0;
    }
    std::printf("SyncMLKit %s codec benchmark: one message of %zu contacts (XML %zu bytes, WBXML %zu bytes)\n",
                smk::version(), opt.contacts, xml.size(), wbxml.size());
    std::printf("malloc: %s\n\n", opt.mallopt ? "mmap and trim thresholds fixed (mallopt)" : "glibc defaults");
    std::printf("%-30s %9s %10s %12s %11s %14s\n", "operation", "bytes", "MB/s", "messages/s", "wall MB/s",
                "faults/message");
    for (const Row& r : rows)
        std::printf("%-30s %9zu %10.1f %12.0f %11.1f %14.1f\n", r.metric.c_str(), r.bytes, mb_per_s(r),
                    1.0 / r.result.seconds_per_run, static_cast<double>(r.bytes) / r.result.wall_per_run / 1e6,
                    r.result.faults_per_run);
    if (!oracle) std::printf("libwbxml2 refused the message: %s\n", error.c_str());
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("\npeak resident memory: %.1f MB   (checksum %zu)\n", static_cast<double>(usage.ru_maxrss) / 1024.0,
                sink % 10);
    return 0;
}
