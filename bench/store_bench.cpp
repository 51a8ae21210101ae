// The store's share of a sync, and memory against store size: a scripted
// client slow-syncs N contacts into a data directory (one process), then a
// second device downloads them by refresh from server (another process, so
// that the upload does not set its peak RSS), then a third device that holds
// the same contacts in another form slow-syncs them and every one pairs.
// Server CPU is the CPU of the thread inside Server::process only
// (CLOCK_THREAD_CPUTIME_ID around each call), not the scripted client's.
// Under `valgrind --tool=callgrind --collect-atstart=no` only those calls
// are counted, so Ir per item is the server's alone. glibc's default malloc
// settings.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine_client.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::TestClient;
using smk::test::TestServer;

namespace {

constexpr std::size_t kPerMessage = 300;  // about what fits SyncEvolution's 150 kB messages

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string contact(std::size_t i) {
    std::string k = std::to_string(i);
    return "BEGIN:VCARD\nVERSION:3.0\nN:Lastname" + k + ";Firstname" + k + ";;;\nFN:Firstname" + k + " Lastname" + k +
           "\nEMAIL;TYPE=INTERNET:person" + k + "@example.com\nTEL;TYPE=CELL:+49 170 555" + k +
           "\nORG:Example GmbH;Sales;;\nNOTE:benchmark contact number " + k + "\nEND:VCARD\n";
}

// A server on `dir` (kept when it ends), whose process() calls are timed.
struct TimedServer {
    explicit TimedServer(const std::filesystem::path& dir)
        : ts(150000, [&](ServerConfig& config) {
              stores = std::make_shared<SqliteStoreProvider>((dir / "data").string());
              config.datastores = stores;
              config.state_dir = (dir / "state").string();
          }) {}
    TestClient client(const std::string& device) {
        TestClient c(
            [this](const Request& req) {
                CALLGRIND_TOGGLE_COLLECT;
                double t0 = thread_cpu_seconds();
                Response r = ts.server->process(req);
                cpu += thread_cpu_seconds() - t0;
                CALLGRIND_TOGGLE_COLLECT;
                return r;
            },
            device, Encoding::wbxml);
        c.user = "alice";
        c.password = "secret";
        return c;
    }
    std::shared_ptr<SqliteStoreProvider> stores;
    TestServer ts;
    double cpu = 0;
};

// The rest of a package until the server's Final, answering with statuses
// and a Map of the server's Adds; returns the server items received.
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

// A slow sync of `count` cards from `device`; `variant` writes them in
// another form (as a second phone's copy of the same contacts).
std::size_t slow_sync(TimedServer& s, const std::string& device, std::size_t count, bool variant) {
    TestClient c = s.client(device);
    Message m = c.message();
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "A1"));
    Message reply = c.send(m);
    std::size_t sent = 0;
    while (sent < count) {
        Message msg = c.message(false);
        msg.body = c.statuses_for(reply);
        std::vector<Command> ops;
        for (std::size_t i = 0; i < kPerMessage && sent < count; ++i, ++sent) {
            std::string card = contact(sent);
            if (variant) card.insert(card.find("\nN:") + 1, "PRODID:-//bench//EN\nREV:20260101T000000Z\nTITLE:\nURL:\n");
            ops.push_back(TestClient::item_command(CommandKind::Add, (variant ? "w" : "") + std::to_string(sent), card));
        }
        msg.body.push_back(TestClient::sync("contacts", std::move(ops), 900));
        msg.final = sent == count;
        reply = c.send(msg);
    }
    return drain(c, reply);
}

std::size_t refresh(TimedServer& s, const std::string& device) {
    TestClient c = s.client(device);
    Message m = c.message();
    m.body.push_back(TestClient::alert("205", "contacts", "./contacts", "", "B1"));
    Message reply = c.send(m);
    Message pkg3 = c.message();
    pkg3.body = c.statuses_for(reply);
    pkg3.body.push_back(TestClient::sync("contacts", {}, 900));
    reply = c.send(pkg3);
    return drain(c, reply);
}

std::size_t stored_items(TimedServer& s) {
    std::size_t n = 0;
    auto cursor = s.stores->open("alice", Category::contacts)->list();
    for (ItemVersion v; cursor->next(v);) ++n;
    return n;
}

// One phase in this process; prints "<server cpu s> <items sent or received> <items stored>".
int run_phase(const std::string& phase, const std::filesystem::path& dir, std::size_t count) {
    TimedServer s(dir);
    std::size_t moved = 0;
    if (phase == "upload") moved = slow_sync(s, "bench-up", count, false) + count;
    else if (phase == "refresh") moved = refresh(s, "bench-down");
    else if (phase == "paired") moved = slow_sync(s, "bench-again", count, true) + count;
    else throw std::invalid_argument("unknown phase " + phase);
    std::printf("%.6f %zu %zu\n", s.cpu, moved, stored_items(s));
    return 0;
}

struct PhaseResult {
    double cpu_s = 0;
    std::size_t moved = 0, stored = 0;
    double peak_rss_mb = 0;
};

// Runs one phase in a child process of this program; its peak RSS from wait4().
PhaseResult child_phase(const std::string& phase, const std::filesystem::path& dir, std::size_t count) {
    int pipefd[2];
    if (pipe(pipefd) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        std::string n = std::to_string(count);
        execl("/proc/self/exe", "store_bench", "--phase", phase.c_str(), dir.c_str(), n.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    close(pipefd[1]);
    std::string out;
    char buf[256];
    for (ssize_t r; (r = read(pipefd[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(r));
    close(pipefd[0]);
    int status = 0;
    rusage ru{};
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("phase " + phase + " failed");
    PhaseResult r;
    if (std::sscanf(out.c_str(), "%lf %zu %zu", &r.cpu_s, &r.moved, &r.stored) != 3)
        throw std::runtime_error("phase " + phase + " printed: " + out);
    r.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;
    return r;
}

struct Row {
    std::string metric;
    double value;
    std::string unit;
    std::string target;  // a number or "null"
    std::string better, note;
};

void print_json(const std::vector<Row>& rows) {
    std::printf("[");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        std::printf("%s\n  {\"bench\": \"store\", \"metric\": \"%s\", \"value\": %.3f, \"unit\": \"%s\", \"target\": %s, "
                    "\"better\": \"%s\", \"note\": \"%s\"}",
                    i ? "," : "", r.metric.c_str(), r.value, r.unit.c_str(), r.target.c_str(), r.better.c_str(),
                    r.note.c_str());
    }
    std::printf("\n]\n");
}

void usage() {
    std::printf(
        "usage: store_bench [--json] [--items N,N,...]\n"
        "       store_bench --phase upload|refresh|paired DIR N\n"
        "For each N (default 1000,10000,50000): a slow-sync upload of N contacts (WBXML) into a fresh\n"
        "data directory, a refresh from server of them to a second device and a slow sync of the same\n"
        "contacts in another form by a third (all pair), each in its own process. Prints server CPU per\n"
        "item and the peak RSS of each process; the first and last N give the RSS growth.\n"
        "--phase runs one phase in this process (for callgrind: --collect-atstart=no counts\n"
        "Server::process only).\n");
}

}  // namespace

int main(int argc, char** argv) {
    try {
        bool json = false;
        std::vector<std::size_t> counts = {1000, 10000, 50000};
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--help" || a == "-h") {
                usage();
                return 0;
            } else if (a == "--json") {
                json = true;
            } else if (a == "--items" && i + 1 < argc) {
                counts.clear();
                std::string list = argv[++i];
                for (std::size_t pos = 0; pos < list.size();) {
                    std::size_t end = list.find(',', pos);
                    if (end == std::string::npos) end = list.size();
                    counts.push_back(std::stoul(list.substr(pos, end - pos)));
                    pos = end + 1;
                }
            } else if (a == "--phase" && i + 3 < argc) {
                return run_phase(argv[i + 1], argv[i + 2], std::stoul(argv[i + 3]));
            } else {
                usage();
                return 2;
            }
        }
        if (counts.empty()) throw std::invalid_argument("no item counts");
        std::vector<Row> rows;
        double first_rss = 0, last_rss = 0;
        for (std::size_t n : counts) {
            std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                        ("smk-store-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n));
            std::filesystem::remove_all(dir);
            PhaseResult up = child_phase("upload", dir, n);
            PhaseResult down = child_phase("refresh", dir, n);
            PhaseResult pair = child_phase("paired", dir, n);
            std::filesystem::remove_all(dir);
            if (up.stored != n || down.moved != n || pair.stored != n)
                throw std::runtime_error("items lost or duplicated: stored " + std::to_string(up.stored) +
                                         " after upload, " + std::to_string(down.moved) + " downloaded, " +
                                         std::to_string(pair.stored) + " after pairing, of " + std::to_string(n));
            std::string ns = std::to_string(n);
            auto per_item = [&](const PhaseResult& r) { return r.cpu_s / static_cast<double>(n) * 1e6; };
            if (!json)
                std::printf("%6zu items: server CPU per item upload %6.1f us, refresh %6.1f us, paired %6.1f us; "
                            "peak RSS upload %.1f MB, refresh %.1f MB, paired %.1f MB\n",
                            n, per_item(up), per_item(down), per_item(pair), up.peak_rss_mb, down.peak_rss_mb,
                            pair.peak_rss_mb);
            rows.push_back({"server CPU per item, slow-sync upload, WBXML, " + ns + " items", per_item(up), "us",
                            "null", "lower", "store_bench, empty store"});
            rows.push_back({"server CPU per item, refresh from server, WBXML, " + ns + " items", per_item(down), "us",
                            "null", "lower", "store_bench"});
            rows.push_back({"server CPU per item, paired slow sync, WBXML, " + ns + " items", per_item(pair), "us",
                            "null", "lower", "store_bench, every item pairs with a stored one"});
            rows.push_back({"peak RSS, refresh of " + ns + " items", down.peak_rss_mb, "MB", "null", "lower",
                            "process doing only the refresh"});
            if (n == counts.front()) first_rss = down.peak_rss_mb;
            last_rss = down.peak_rss_mb;
        }
        if (counts.size() > 1) {
            double growth = (last_rss / first_rss - 1.0) * 100.0;
            std::string label = "RSS growth " + std::to_string(counts.front()) + " -> " + std::to_string(counts.back());
            if (!json) std::printf("%s: %.1f %%\n", label.c_str(), growth);
            rows.push_back({label, growth, "%", "10", "lower", "peak RSS of the refresh"});
        }
        if (json) print_json(rows);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "store_bench: %s\n", e.what());
        return 1;
    }
}
