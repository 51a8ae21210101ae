// Codec throughput: XML and WBXML, decode and encode, on a 150 kB message of
// 300 contacts, beside libwbxml2's own WBXML to XML conversion of the same
// WBXML in the same run. Prints a table; no assertion: numbers are for
// people and for the README, not for pass/fail.
#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "generated_messages.hpp"
#include "syncmlkit/version.hpp"
#include "syncmlkit/wire.hpp"
#include "wbxml_oracle.hpp"

using namespace smk::wire;
using Clock = std::chrono::steady_clock;

namespace {

struct Result {
    double seconds_per_run;
};

// Runs `f` repeatedly for at least `min_seconds` after one warm-up run.
Result measure(const std::function<void()>& f, double min_seconds) {
    f();
    std::size_t runs = 0;
    auto start = Clock::now();
    double elapsed = 0;
    do {
        f();
        ++runs;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < min_seconds);
    return {elapsed / static_cast<double>(runs)};
}

void row(const char* what, std::size_t bytes, Result r) {
    std::printf("%-34s %9zu %10.1f %12.0f\n", what, bytes, static_cast<double>(bytes) / r.seconds_per_run / 1e6,
                1.0 / r.seconds_per_run);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t contacts = 300;
    double min_seconds = 1.0;
    bool tune_malloc = true;
    int arg = 1;
    if (arg < argc && std::string(argv[arg]) == "--glibc-default-malloc") {
        tune_malloc = false;
        ++arg;
    }
    if (arg < argc) contacts = std::stoul(argv[arg++]);
    if (arg < argc) min_seconds = std::stod(argv[arg++]);
    // glibc's malloc serves blocks above its (moving) mmap threshold, 128 kB at
    // first, with fresh mappings, so the model of a large message is faulted
    // in page by page on every message and figures swing five- to tenfold
    // with the heap's history. A server host fixes the thresholds as here
    // (examples/ will); --glibc-default-malloc shows the untuned figures.
    if (tune_malloc) {
        mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
        mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
    }

    Message msg = smk::test::contacts_message(contacts);
    std::string xml = encode(msg, Encoding::xml);
    std::string wbxml = encode(msg, Encoding::wbxml);
    std::size_t sink = 0;  // keeps the optimiser from dropping work
    std::string out;

    std::printf("SyncMLKit %s codec benchmark: one message of %zu contacts (XML %zu bytes, WBXML %zu bytes)\n",
                smk::version(), contacts, xml.size(), wbxml.size());
    std::printf("malloc: %s\n\n", tune_malloc ? "mmap and trim thresholds fixed (mallopt)" : "glibc defaults");
    std::printf("%-34s %9s %10s %12s\n", "operation", "bytes", "MB/s", "messages/s");
    row("XML decode (bytes -> model)", xml.size(), measure([&] { sink += decode(xml, Encoding::xml).body.size(); }, min_seconds));
    row("XML encode (model -> bytes)", xml.size(), measure([&] { encode(msg, Encoding::xml, out); sink += out.size(); }, min_seconds));
    row("WBXML decode (bytes -> model)", wbxml.size(), measure([&] { sink += decode(wbxml, Encoding::wbxml).body.size(); }, min_seconds));
    row("WBXML encode (model -> bytes)", wbxml.size(), measure([&] { encode(msg, Encoding::wbxml, out); sink += out.size(); }, min_seconds));
    row("SyncMLKit WBXML -> XML text", wbxml.size(), measure([&] { sink += render_xml(wbxml, Encoding::wbxml).size(); }, min_seconds));
    std::string error;
    if (smk::test::libwbxml_to_xml(wbxml, &error)) {
        row("libwbxml2 WBXML -> XML text", wbxml.size(),
            measure([&] { sink += smk::test::libwbxml_to_xml(wbxml)->size(); }, min_seconds));
    } else {
        std::printf("libwbxml2 refused the message: %s\n", error.c_str());
    }
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("\npeak resident memory: %.1f MB   (checksum %zu)\n", static_cast<double>(usage.ru_maxrss) / 1024.0, sink % 10);
    return 0;
}
