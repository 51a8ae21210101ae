// The engine alone, without HTTP or a real client: a scripted client uploads
// N contacts by slow sync through smk::Server::process, then a second device
// downloads them by refresh from server, in messages of the size SyncEvolution
// uses; a third device holding the same contacts in another form slow syncs
// and pairs them. What counts is the server's CPU alone: the CPU time of the
// calling thread inside each Server::process call (CLOCK_THREAD_CPUTIME_ID),
// so the scripted client's encoding and decoding stay out. The process's CPU
// (getrusage, user plus system) is printed beside it.
//
// Each item count runs in a child process of its own, so that its peak RSS
// is its own. glibc's malloc runs with its default settings.
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "engine_client.hpp"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

using namespace smk;
using namespace smk::wire;
using smk::test::TestClient;
using smk::test::TestServer;

namespace {

double process_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// VmHWM of this process, in MB; reset_peak() starts it afresh (Linux >= 4.0).
double peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    return 0;
}

void reset_peak() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
}

std::string contact(std::size_t i) {
    std::string k = std::to_string(i);
    return "BEGIN:VCARD\nVERSION:3.0\nN:Lastname" + k + ";Firstname" + k + ";;;\nFN:Firstname" + k + " Lastname" + k +
           "\nEMAIL;TYPE=INTERNET:person" + k + "@example.com\nTEL;TYPE=CELL:+49 170 555" + k +
           "\nORG:Example GmbH;Sales;;\nNOTE:benchmark contact number " + k + "\nEND:VCARD\n";
}

// The server's CPU: summed over every Server::process call. `profiled`:
// callgrind collects inside those calls (--profile).
struct ServerClock {
    double seconds = 0;
    bool profiled = false;
};

TestClient timed_client(TestServer& ts, ServerClock& clock, const std::string& device, Encoding enc) {
    Server& server = *ts.server;
    return TestClient(
        [&server, &clock](const Request& req) {
            if (clock.profiled) CALLGRIND_TOGGLE_COLLECT;
            double t0 = thread_cpu_seconds();
            Response r = server.process(req);
            clock.seconds += thread_cpu_seconds() - t0;
            if (clock.profiled) CALLGRIND_TOGGLE_COLLECT;
            return r;
        },
        device, enc);
}

// Sends the rest of a package until the server's Final, answering each
// message with statuses and a Map of the server's Adds, as clients do;
// returns the number of server items received and leaves the last reply in
// `reply`.
std::size_t drain(TestClient& c, Message& reply) {
    std::size_t received = 0;
    for (;;) {
        Command map;
        map.kind = CommandKind::Map;
        map.cmd_id = "999";
        map.target.uri = "contacts";
        map.source.uri = "./contacts";
        for (const Command& cmd : reply.body)
            if (cmd.kind == CommandKind::Sync) {
                received += cmd.children.size();
                for (const Command& op : cmd.children)
                    for (const Item& it : op.items)
                        if (op.kind == CommandKind::Add)
                            map.map_items.push_back(MapItem{{it.source.uri, ""}, {"luid-" + it.source.uri, ""}});
            }
        Message next = c.message(reply.final);
        next.body = c.statuses_for(reply);
        if (!map.map_items.empty()) next.body.push_back(std::move(map));
        bool was_final = reply.final;
        reply = c.send(next);
        if (was_final) return received;
    }
}

// Sends `count` items as `kind` commands in messages of `per_message`,
// then the rest of the session; returns what the server sent back.
std::size_t send_items(TestClient& c, Message reply, std::size_t count, std::size_t per_message, CommandKind kind,
                       const std::string& prefix, bool rewrite) {
    std::size_t sent = 0;
    while (sent < count) {
        Message msg = c.message(false);
        msg.body = c.statuses_for(reply);
        std::vector<Command> ops;
        for (std::size_t i = 0; i < per_message && sent < count; ++i, ++sent) {
            std::string card = contact(sent);
            // Another form of the same contact: PRODID, REV, empty properties.
            if (rewrite) card.insert(card.find("\nN:") + 1, "PRODID:-//bench//EN\nREV:20260101T000000Z\nTITLE:\nURL:\n");
            ops.push_back(TestClient::item_command(kind, prefix + std::to_string(sent), card));
        }
        msg.body.push_back(TestClient::sync("contacts", std::move(ops), 900));
        msg.final = sent == count;
        reply = c.send(msg);
    }
    return drain(c, reply);
}

struct Row {
    std::string metric, unit, note;
    double value;
    bool has_target;
    double target;
};

std::string json_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    return out;
}

std::string row_json(const Row& r) {
    char value[64];
    std::snprintf(value, sizeof value, "%.3f", r.value);
    char target[64] = "null";
    if (r.has_target) std::snprintf(target, sizeof target, "%g", r.target);
    return std::string("{\"bench\": \"engine\", \"metric\": \"") + json_escape(r.metric) + "\", \"value\": " + value +
           ", \"unit\": \"" + r.unit + "\", \"target\": " + target + ", \"better\": \"lower\", \"note\": \"" +
           json_escape(r.note) + "\"}";
}

// One item count, every phase, both encodings; rows as JSON lines to `out`,
// the human-readable lines to stdout unless `json`.
// `profile`: "up", "down" or "paired" (WBXML only, that phase's server
// calls collected by callgrind, run with --collect-atstart=no).
int run_count(std::size_t count, std::size_t per_message, bool json, FILE* out, const std::string& profile) {
    TestServer ts;
    auto emit = [&](Row r) { std::fprintf(out, "%s\n", row_json(r).c_str()); };
    std::string items = std::to_string(count) + " items";
    std::string note = std::to_string(per_message) + " items per client message, 150 kB messages, SQLite store on disk";
    double refresh_peak = 0;
    for (Encoding enc : {Encoding::wbxml, Encoding::xml}) {
        const char* name = enc == Encoding::wbxml ? "WBXML" : "XML";
        std::string user = enc == Encoding::wbxml ? "alice" : "bob";
        std::string password = user == "alice" ? "secret" : "hunter2";
        if (!profile.empty() && enc != Encoding::wbxml) break;
        ServerClock up_clock, down_clock, again_clock;
        up_clock.profiled = profile == "up";
        down_clock.profiled = profile == "down";
        again_clock.profiled = profile == "paired";

        TestClient up = timed_client(ts, up_clock, std::string("bench-up-") + name, enc);
        up.user = user;
        up.password = password;
        double p0 = process_cpu_seconds();
        Message m = up.message();
        m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "B1"));
        Message reply = up.send(m);
        send_items(up, reply, count, per_message, CommandKind::Add, "", false);
        double p1 = process_cpu_seconds();

        reset_peak();
        TestClient down = timed_client(ts, down_clock, std::string("bench-down-") + name, enc);
        down.user = user;
        down.password = password;
        m = down.message();
        m.body.push_back(TestClient::alert("205", "contacts", "./contacts", "", "B2"));
        reply = down.send(m);
        Message pkg3 = down.message();
        pkg3.body = down.statuses_for(reply);
        pkg3.body.push_back(TestClient::sync("contacts", {}, 900));
        reply = down.send(pkg3);
        std::size_t received = drain(down, reply);
        double p2 = process_cpu_seconds();
        refresh_peak = std::max(refresh_peak, peak_rss_mb());

        // A third device that holds the same contacts, written back in
        // another form (PRODID, REV, empty properties), slow syncs: every
        // item must pair with the server's, none is added.
        TestClient again = timed_client(ts, again_clock, std::string("bench-again-") + name, enc);
        again.user = user;
        again.password = password;
        m = again.message();
        m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "B3"));
        reply = again.send(m);
        std::size_t sent_back = send_items(again, reply, count, per_message, CommandKind::Replace, "w", true);
        double p3 = process_cpu_seconds();
        std::size_t stored = 0;  // counted through a cursor: the bench's own memory stays out of the peak
        auto cursor = ts.stores->open(user, Category::contacts)->list();
        for (ItemVersion v; cursor->next(v);) ++stored;

        double n = static_cast<double>(count);
        double us_up = up_clock.seconds / n * 1e6, us_down = down_clock.seconds / n * 1e6,
               us_again = again_clock.seconds / n * 1e6;
        if (!json) {
            std::printf("%-6s upload   %zu items: server %6.1f us CPU per item (process %6.1f)\n", name, count, us_up,
                        (p1 - p0) / n * 1e6);
            std::printf("%-6s download %zu items: server %6.1f us CPU per item (process %6.1f), %zu received\n", name,
                        count, us_down, (p2 - p1) / n * 1e6, received);
            std::printf("%-6s paired   %zu items: server %6.1f us CPU per item (process %6.1f), %zu sent back, "
                        "store holds %zu\n",
                        name, count, us_again, (p3 - p2) / n * 1e6, sent_back, stored);
        }
        if (received != count || stored != count) {
            std::fprintf(stderr, "engine_bench: %s %zu items: %zu received, %zu stored, %zu sent back\n", name, count,
                         received, stored, sent_back);
            return 1;
        }
        emit({std::string("server CPU per item, slow-sync upload, ") + name + ", " + items, "µs", note, us_up, true,
              10});
        emit({std::string("server CPU per item, refresh-from-server download, ") + name + ", " + items, "µs", note,
              us_down, true, 10});
        emit({std::string("server CPU per item, slow-sync pairing (third device), ") + name + ", " + items, "µs", note,
              us_again, false, 0});
    }
    if (!json) std::printf("peak RSS, refresh of %zu items: %.1f MB\n", count, refresh_peak);
    emit({"peak RSS, refresh of " + items, "MB", "VmHWM during the refresh-from-server download (WBXML, XML)",
          refresh_peak, false, 0});
    return 0;
}

void usage(FILE* to) {
    std::fprintf(to,
                 "usage: engine_bench [--json] [--per-message N] [ITEMS...]\n"
                 "  ITEMS          item counts, each run in a process of its own (default: 1000)\n"
                 "  --per-message  items per client message (default 300, about SyncEvolution's 150 kB)\n"
                 "  --json         print only a JSON array of result rows\n"
                 "  --profile up|down|paired\n"
                 "                 WBXML only; callgrind collects that phase's Server::process calls\n"
                 "                 (valgrind --tool=callgrind --collect-atstart=no engine_bench --profile down)\n");
}

}  // namespace

int main(int argc, char** argv) {
    bool json = false;
    std::size_t per_message = 300;
    std::vector<std::size_t> counts;
    std::string profile;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            usage(stdout);
            return 0;
        }
        if (a == "--json") {
            json = true;
            continue;
        }
        if (a == "--profile" && i + 1 < argc) {
            profile = argv[++i];
            if (profile != "up" && profile != "down" && profile != "paired") {
                usage(stderr);
                return 2;
            }
            continue;
        }
        char* end = nullptr;
        const char* number = a.c_str();
        if (a == "--per-message") {
            if (++i >= argc) {
                usage(stderr);
                return 2;
            }
            number = argv[i];
        }
        unsigned long long v = std::strtoull(number, &end, 10);
        if (!*number || *end || v == 0 || v > 10000000) {
            std::fprintf(stderr, "engine_bench: not a count: %s\n", number);
            usage(stderr);
            return 2;
        }
        if (a == "--per-message") per_message = static_cast<std::size_t>(v);
        else counts.push_back(static_cast<std::size_t>(v));
    }
    if (counts.empty()) counts.push_back(1000);

    std::vector<std::string> rows;
    for (std::size_t count : counts) {
        int fds[2];
        if (pipe(fds) != 0) return 1;
        std::fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            close(fds[0]);
            FILE* out = fdopen(fds[1], "w");
            int rc = 1;
            try {
                rc = run_count(count, per_message, json, out, profile);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "engine_bench: %s\n", e.what());
            }
            std::fclose(out);
            std::fflush(stdout);
            _exit(rc);
        }
        close(fds[1]);
        FILE* in = fdopen(fds[0], "r");
        char line[4096];
        while (std::fgets(line, sizeof line, in)) {
            std::string s = line;
            while (!s.empty() && s.back() == '\n') s.pop_back();
            if (!s.empty()) rows.push_back(s);
        }
        std::fclose(in);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::fprintf(stderr, "engine_bench: the run of %zu items failed\n", count);
            return 1;
        }
    }
    if (json) {
        std::printf("[\n");
        for (std::size_t i = 0; i < rows.size(); ++i) std::printf("  %s%s\n", rows[i].c_str(), i + 1 < rows.size() ? "," : "");
        std::printf("]\n");
    }
    return 0;
}
