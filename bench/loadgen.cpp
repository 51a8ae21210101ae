// loadgen: many SyncML clients at once against syncmlkit-httpd over real
// HTTP/1.1 sockets on loopback. Each client is a device of a user: a first
// slow sync of M contacts, then S two-way syncs with K changes each (Replace,
// Add, Delete of its own contacts), MD5 authentication, WBXML or XML, with a
// think time between messages as a real client has, and keep-alive. At the end
// every device makes one more two-way sync and must hold exactly its user's
// contacts (what all the user's devices made, each once, in its last version).
// Messages are built and read with the library's own codec (smk::wire),
// through the scripted client of the engine tests (tests/support).
//
// Prints sessions/s, messages/s, p50/p99 latency per message, errors and the
// host's peak RSS; --idle N measures what an idle session costs the host.
// --json prints only the rows of issue 12's table. See usage() below.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine_client.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::TestClient;
using Clock = std::chrono::steady_clock;

namespace {

std::string usage() {
    return R"(Usage: loadgen [OPTION]...
Plays many SyncML clients at once against syncmlkit-httpd over HTTP/1.1 on
loopback and checks what every device ends up with.

Each client is one device of a user. It runs, one session after the other:
a first slow sync of M contacts of its own, then S two-way syncs with K
changes each (Replace, Add, Delete of its own contacts, in turn), with MD5
authentication (its very first message is refused with a challenge, as
SyncEvolution's is), then, once every client is done, one more two-way sync
after which it must hold exactly its user's contacts: each contact any of the
user's devices made, once, in its last version.

Concurrency: C clients run at once, each in its own thread with its own
keep-alive connection (a client whose connection the host closed while it
was thinking opens a new one). Between two messages a client waits the think
time (ms, +-50 % at random), as a real client parses, writes its own store
and sends the next message, so "C concurrent sessions" means C sessions open
at once on the host, not C messages in flight; the "concurrent sessions" row
is the most sessions seen open at once. U x D clients in all; when C is
smaller, each thread plays several devices one after the other.

  --httpd PATH          start this syncmlkit-httpd on a free loopback port
                        (own users file and data directory in a temporary
                        directory), measure it and stop it
  --host-arg ARG        with --httpd: one more argument for the host
                        (repeat it: --host-arg --workers --host-arg 32);
                        with more than 8 devices a user the host gets
                        --max-sessions-per-user and --max-devices-per-user
                        of at least D too
  --port N              or use a running host on 127.0.0.1:N ...
  --host-pid PID        ... whose peak RSS (VmHWM) is read from /proc
  --users-prefix P      with --port: users are P0, P1, ... with password
                        "pw-" plus the name (default "load")
  -U, --users N         users (default 250)
  -D, --devices N       devices per user (default 4; the host keeps 8
                        sessions per user open at most)
  -C, --clients N       clients at once (default U x D)
  -M, --items N         contacts of the first slow sync (default 20)
  -S, --syncs N         two-way syncs after it (default 2)
  -K, --changes N       changes per two-way sync (default 6)
  --think MS            think time between messages (default 1000)
  --ramp S              start the clients evenly over S seconds instead of
                        all at once (default 0: a burst, as at 9 a.m.)
  --per-message N       contacts per client message at most (default 200)
  --xml                 XML instead of WBXML
  --timeout S           seconds for one reply (default 30)
  --idle LIST           instead of the load: open this many sessions (their
                        first message answered), keep them idle, and read the
                        host's RSS at each count, e.g. 0,500,1000; prints the
                        memory per idle session (kB). Needs --httpd or
                        --host-pid
  --idle-close          with --idle: each client closes its connection once
                        answered (the session alone, without a connection)
  --json                print only a JSON array of rows (issue 12's table)
  -h, --help            this text

Errors counted: connections refused or reset, HTTP statuses other than 200,
SyncML statuses of 300 and above (but the MD5 challenge of a device's very
first message), replies later than the timeout, and every device that does
not end with exactly its user's contacts. Exit status 0 when there was none.
)";
}

struct Config {
    std::string httpd;
    int port = 0;
    long host_pid = 0;
    std::string users_prefix = "load";
    unsigned users = 250, devices = 4, clients = 0, items = 20, syncs = 2, changes = 6;
    unsigned think_ms = 1000, per_message = 200, timeout_s = 30, ramp_s = 0;
    Encoding enc = Encoding::wbxml;
    std::vector<unsigned> idle;
    std::vector<std::string> host_args;
    bool idle_close = false;
    bool json = false;
};

unsigned long parse_number(const std::string& option, const std::string& text) {
    unsigned long v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size())
        throw std::runtime_error(option + ": expected a whole number, got \"" + text + "\"");
    return v;
}

// --- the host's memory ---------------------------------------------------

// A field of /proc/PID/status in kB; -1 if unreadable.
long proc_status_kb(long pid, const char* field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const std::size_t n = std::strlen(field);
    while (std::getline(in, line))
        if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') return std::atol(line.c_str() + n + 1);
    return -1;
}

// CPU seconds (user plus system) of process `pid` so far, all its threads.
double proc_cpu_seconds(long pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t paren = text.rfind(')');
    if (paren == std::string::npos) return 0;
    std::istringstream fields(text.substr(paren + 2));
    std::string f;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14) utime = std::stoul(f);
        if (i == 15) stime = std::stoul(f);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// --- errors and figures --------------------------------------------------

struct ConnectError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct TimeoutError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Closed by the host before a byte of the reply came.
struct StaleConnection {};
struct HttpError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct SyncMLError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Figures {
    std::mutex mutex;
    std::vector<double> latencies_ms;  // every message of the measured phase
    std::atomic<unsigned long> sessions{0}, messages{0};
    std::atomic<unsigned long> connect_errors{0}, http_errors{0}, syncml_errors{0}, timeouts{0}, other_errors{0};
    std::atomic<unsigned long> reconnects{0};
    std::atomic<long> open_sessions{0}, max_open_sessions{0};
    std::vector<std::string> samples;  // the first few error texts

    void note(const std::string& what) {
        std::lock_guard<std::mutex> lock(mutex);
        if (samples.size() < 8) samples.push_back(what);
    }
    unsigned long errors() const {
        return connect_errors + http_errors + syncml_errors + timeouts + other_errors;
    }
    void session_opened() {
        long now = ++open_sessions;
        long seen = max_open_sessions.load();
        while (now > seen && !max_open_sessions.compare_exchange_weak(seen, now)) {
        }
    }
};

// --- HTTP/1.1 over one keep-alive connection -------------------------------

// The path and query of a URL ("http://host:port/sync?x" -> "/sync?x").
std::string url_target(const std::string& url) {
    std::size_t scheme = url.find("://");
    std::size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return slash == std::string::npos ? "/" : url.substr(slash);
}

class HttpConnection {
public:
    HttpConnection(int port, std::string source_address, unsigned timeout_s, Figures& figures)
        : port_(port), source_(std::move(source_address)), timeout_s_(timeout_s), figures_(figures) {}
    ~HttpConnection() { close(); }
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    Response post(const Request& req) {
        // A connection the host closed while the client was thinking (its
        // idle timeout) reads as end of file: open a new one, as browsers
        // and SyncML clients do.
        if (fd_ >= 0) {
            pollfd p{fd_, POLLIN | POLLRDHUP, 0};
            if (::poll(&p, 1, 0) > 0) {
                close();
                ++figures_.reconnects;
            }
        }
        const bool reused = fd_ >= 0;
        if (fd_ < 0) connect();
        std::string head = "POST " + url_target(req.url) + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                           "\r\nContent-Type: " + req.content_type + "\r\nContent-Length: " +
                           std::to_string(req.body.size()) + "\r\nUser-Agent: smk-loadgen\r\n\r\n";
        head += req.body;
        try {
            send_all(head);
            return read_reply();
        } catch (const StaleConnection&) {
            // The host closed the kept-alive connection as the request went
            // out (its idle timeout): nothing of it was answered, so it is
            // sent again on a new connection, as HTTP clients do.
            if (!reused) throw ConnectError("connection closed before the reply");
            ++figures_.reconnects;
            connect();
            try {
                send_all(head);
                return read_reply();
            } catch (const StaleConnection&) {
                throw ConnectError("connection closed before the reply");
            }
        }
    }

private:
    void connect() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw ConnectError(std::string("socket: ") + std::strerror(errno));
        timeval tv{static_cast<time_t>(timeout_s_), 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int one = 1;
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        // Clients come from many loopback addresses (127.0.0.0/8 is all
        // this machine's), as from many machines: no per-address limit or
        // throttle of the host sees them as one.
        sockaddr_in src{};
        src.sin_family = AF_INET;
        inet_pton(AF_INET, source_.c_str(), &src.sin_addr);
        setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
            std::string e = std::strerror(errno);
            close();
            throw ConnectError("bind " + source_ + ": " + e);
        }
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(port_));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
            std::string e = std::strerror(errno);
            close();
            throw ConnectError("connect: " + e);
        }
    }

    void send_all(const std::string& bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                std::string e = std::strerror(errno);
                bool timeout = errno == EAGAIN || errno == EWOULDBLOCK;
                bool reset = errno == EPIPE || errno == ECONNRESET;
                close();
                if (timeout) throw TimeoutError("send timed out");
                if (reset) throw StaleConnection();
                throw ConnectError("send: " + e);
            }
            done += static_cast<std::size_t>(n);
        }
    }

    // Reads more into buf_; false at end of file.
    bool fill() {
        char chunk[65536];
        for (;;) {
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                std::string e = std::strerror(errno);
                bool timeout = errno == EAGAIN || errno == EWOULDBLOCK;
                bool stale = errno == ECONNRESET && buf_.empty();
                close();
                if (timeout) throw TimeoutError("no reply within " + std::to_string(timeout_s_) + " s");
                if (stale) throw StaleConnection();
                throw ConnectError("recv: " + e);
            }
            if (n == 0) return false;
            buf_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
    }

    Response read_reply() {
        buf_.clear();
        std::size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
            if (!fill()) {
                close();
                if (buf_.empty()) throw StaleConnection();
                throw ConnectError("connection closed within the reply's header");
            }
        }
        std::string head = buf_.substr(0, end);
        Response r;
        if (head.compare(0, 9, "HTTP/1.1 ") != 0 && head.compare(0, 9, "HTTP/1.0 ") != 0) {
            close();
            throw HttpError("not an HTTP reply");
        }
        r.http_status = std::atoi(head.c_str() + 9);
        std::size_t length = 0;
        bool keep = head.compare(0, 8, "HTTP/1.1") == 0;
        std::istringstream lines(head);
        std::string line;
        std::getline(lines, line);
        while (std::getline(lines, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            std::size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon), value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
            if (name == "content-length") length = std::strtoul(value.c_str(), nullptr, 10);
            else if (name == "content-type") r.content_type = value;
            else if (name == "connection" && strcasecmp(value.c_str(), "close") == 0) keep = false;
        }
        while (buf_.size() < end + 4 + length)
            if (!fill()) {
                close();
                throw ConnectError("connection closed within the reply");
            }
        r.body = buf_.substr(end + 4, length);
        if (!keep) close();
        return r;
    }

    int port_;
    std::string source_;
    unsigned timeout_s_;
    Figures& figures_;
    int fd_ = -1;
    std::string buf_;
};

// --- one device ------------------------------------------------------------

std::string card(const std::string& name, unsigned rev) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Load;;;\r\nFN:Load " + name +
           "\r\nEMAIL;TYPE=INTERNET:" + name + "@load.example.com\r\nTEL;TYPE=CELL:+49 170 555 0100\r\n"
           "ORG:Example GmbH;Sales;;\r\nNOTE:revision " + std::to_string(rev) + "\r\nEND:VCARD\r\n";
}

// name -> revision of a card made by card(); false if it is none.
bool read_card(const std::string& data, std::string& name, unsigned& rev) {
    std::size_t fn = data.find("FN:Load ");
    std::size_t note = data.find("NOTE:revision ");
    if (fn == std::string::npos || note == std::string::npos) return false;
    std::size_t fn_end = data.find_first_of("\r\n", fn);
    name = data.substr(fn + 8, fn_end - fn - 8);
    rev = static_cast<unsigned>(std::strtoul(data.c_str() + note + 14, nullptr, 10));
    return true;
}

struct Device {
    std::string user, password, id;
    unsigned index = 0;            // among all devices
    std::map<std::string, std::pair<std::string, unsigned>> held;  // LUID -> (name, revision)
    std::vector<std::string> own;  // LUIDs of the cards this device made, oldest first
    unsigned made = 0;             // cards made so far
    unsigned anchor = 0;
    bool logged_in_before = false;
    bool failed = false;
    unsigned duplicates = 0;  // a card received while already held
    // One client for all its sessions (session IDs count up, as a real
    // client's do: the host answers a repeated one as a resend).
    std::unique_ptr<HttpConnection> conn;
    std::unique_ptr<TestClient> client;
};

struct Run {
    const Config& cfg;
    Figures& figures;
    int port;
    bool measuring = true;  // the verification syncs are not in the figures
    unsigned think_ms = cfg.think_ms;

    // Sends one message (after the think time), timed; the reply decoded.
    Message send(TestClient& c, const Message& m, bool think) {
        if (think && think_ms) {
            thread_local std::mt19937 rng(std::random_device{}());
            std::uniform_int_distribution<unsigned> d(think_ms / 2, think_ms + think_ms / 2);
            std::this_thread::sleep_for(std::chrono::milliseconds(d(rng)));
        }
        auto start = Clock::now();
        Message reply = c.send(m);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (measuring) {
            ++figures.messages;
            std::lock_guard<std::mutex> lock(figures.mutex);
            figures.latencies_ms.push_back(ms);
        }
        return reply;
    }

    // Every status of `reply` must say success.
    static void check_statuses(const Message& reply, bool allow_challenge) {
        for (const Command& s : reply.body) {
            if (s.kind != CommandKind::Status) continue;
            auto code = to_number(s.data).value_or(999);
            if (code == 401 && allow_challenge && s.cmd == "SyncHdr") continue;
            if (code >= 300)
                throw SyncMLError("status " + s.data + " for " + s.cmd + " " + s.cmd_ref + " (message " + s.msg_ref + ")");
        }
    }

    // Applies the server's Sync commands to the device, and returns the Map
    // of its Adds.
    static Command apply(Device& d, const Message& reply) {
        Command map;
        map.kind = CommandKind::Map;
        map.cmd_id = "999";
        map.target.uri = "contacts";
        map.source.uri = "./contacts";
        for (const Command& sync : reply.body) {
            if (sync.kind != CommandKind::Sync) continue;
            for (const Command& op : sync.children) {
                for (const Item& it : op.items) {
                    if (op.kind == CommandKind::Add) {
                        std::string name;
                        unsigned rev = 0;
                        if (!read_card(it.data, name, rev)) throw SyncMLError("an Add that is no card of loadgen");
                        std::string luid = "s" + it.source.uri;
                        if (d.held.count(luid)) ++d.duplicates;
                        for (const auto& [l, v] : d.held)
                            if (v.first == name) ++d.duplicates;
                        d.held[luid] = {name, rev};
                        map.map_items.push_back(MapItem{{it.source.uri, ""}, {luid, ""}});
                    } else if (op.kind == CommandKind::Replace) {
                        std::string luid = it.target.uri.empty() ? "s" + it.source.uri : it.target.uri;
                        std::string name;
                        unsigned rev = 0;
                        if (!read_card(it.data, name, rev)) throw SyncMLError("a Replace that is no card of loadgen");
                        d.held[luid] = {name, rev};
                    } else if (op.kind == CommandKind::Delete) {
                        std::string luid = it.target.uri.empty() ? "s" + it.source.uri : it.target.uri;
                        d.held.erase(luid);
                    }
                }
            }
        }
        return map;
    }

    // One session: "201" slow sync of everything the device holds, "200"
    // two-way with `changes` of its own.
    void session(TestClient& c, Device& d, const std::string& code, unsigned changes, bool& think) {
        std::string last = d.anchor ? "A" + std::to_string(d.anchor) : "";
        std::string next = "A" + std::to_string(d.anchor + 1);
        Message reply;
        for (int attempt = 0;; ++attempt) {
            c.new_session();
            Message m = c.message();
            if (!d.logged_in_before) {
                smk::test::steps::ClientDescription desc;
                desc.device = d.id;
                desc.type = "text/vcard";
                desc.version = "3.0";
                desc.man = "SyncMLKit";
                desc.mod = "loadgen";
                m.body.push_back(smk::test::steps::devinf_put(desc));
            }
            m.body.push_back(TestClient::alert(code, "contacts", "./contacts", last, next));
            reply = send(c, m, think);
            think = true;
            const Command* hdr = smk::test::find_status(reply, "SyncHdr");
            if (hdr && hdr->data == "401" && attempt == 0 && !d.logged_in_before) continue;  // the challenge
            check_statuses(reply, false);
            break;
        }
        d.logged_in_before = true;
        figures.session_opened();
        struct Closer {
            Figures& f;
            ~Closer() { --f.open_sessions; }
        } closer{figures};

        // The device's changes.
        std::vector<Command> ops;
        if (code == "201") {
            for (const auto& [luid, v] : d.held)
                ops.push_back(TestClient::item_command(CommandKind::Replace, luid, card(v.first, v.second)));
        } else {
            std::set<std::string> touched;
            for (unsigned k = 0; k < changes; ++k) {
                unsigned kind = k % 3;
                if (kind == 1 || d.own.size() < 2) {
                    std::string name = d.id + "-" + std::to_string(d.made++);
                    std::string luid = "o" + name;
                    d.own.push_back(luid);
                    d.held[luid] = {name, 1};
                    touched.insert(luid);
                    ops.push_back(TestClient::item_command(CommandKind::Add, luid, card(name, 1)));
                } else if (kind == 0) {
                    std::string luid = d.own[(d.anchor * 7 + k) % d.own.size()];
                    if (!touched.insert(luid).second) continue;
                    auto& v = d.held[luid];
                    ++v.second;
                    ops.push_back(TestClient::item_command(CommandKind::Replace, luid, card(v.first, v.second)));
                } else {
                    auto it = std::find_if(d.own.begin(), d.own.end(), [&](const std::string& l) { return !touched.count(l); });
                    if (it == d.own.end()) continue;
                    std::string luid = *it;
                    d.own.erase(it);
                    d.held.erase(luid);
                    touched.insert(luid);
                    ops.push_back(TestClient::item_command(CommandKind::Delete, luid, ""));
                }
            }
        }
        std::size_t sent = 0;
        do {
            std::vector<Command> chunk;
            while (sent < ops.size() && chunk.size() < cfg.per_message) chunk.push_back(std::move(ops[sent++]));
            Message m = c.message(sent == ops.size());
            m.body = c.statuses_for(reply);
            m.body.push_back(TestClient::sync("contacts", std::move(chunk), 100));
            reply = send(c, m, true);
            check_statuses(reply, false);
        } while (sent < ops.size());

        // The server's changes, answered with statuses and Maps until its Final.
        for (;;) {
            Command map = apply(d, reply);
            Message m = c.message(reply.final);
            m.body = c.statuses_for(reply);
            if (!map.map_items.empty()) m.body.push_back(std::move(map));
            bool was_final = reply.final;
            reply = send(c, m, true);
            check_statuses(reply, false);
            if (was_final) break;
        }
        // The answer to package 5 ends the session: statuses only.
        for (const Command& cmd : reply.body)
            if (cmd.kind != CommandKind::Status) throw SyncMLError(std::string("a ") + command_name(cmd.kind) + " after the Map");
        ++d.anchor;
        if (measuring) ++figures.sessions;
    }

    // Runs `body`, counting what it throws; false if it threw.
    bool guarded(Device& d, const std::function<void()>& body) {
        try {
            body();
            return true;
        } catch (const ConnectError& e) {
            ++figures.connect_errors;
            figures.note(d.id + ": " + e.what());
        } catch (const TimeoutError& e) {
            ++figures.timeouts;
            figures.note(d.id + ": " + e.what());
        } catch (const SyncMLError& e) {
            ++figures.syncml_errors;
            figures.note(d.id + ": " + e.what());
        } catch (const std::exception& e) {
            // TestClient::send throws for an HTTP status other than 200.
            std::string what = e.what();
            if (what.rfind("HTTP ", 0) == 0) ++figures.http_errors;
            else ++figures.other_errors;
            figures.note(d.id + ": " + what.substr(0, 200));
        }
        d.failed = true;
        return false;
    }

    TestClient& client(Device& d) {
        if (!d.client) {
            d.conn = std::make_unique<HttpConnection>(port, source_address(d.index), cfg.timeout_s, figures);
            HttpConnection* conn = d.conn.get();
            d.client = std::make_unique<TestClient>([conn](const Request& r) { return conn->post(r); }, d.id, cfg.enc);
            d.client->url = "http://127.0.0.1:" + std::to_string(port) + "/sync";
            d.client->user = d.user;
            d.client->password = d.password;
            d.client->auth = TestClient::Auth::md5;
        }
        return *d.client;
    }

    void play(Device& d) {
        TestClient& c = client(d);
        for (unsigned i = 0; i < cfg.items; ++i) {
            std::string name = d.id + "-" + std::to_string(d.made++);
            d.own.push_back("o" + name);
            d.held["o" + name] = {name, 1};
        }
        bool think = false;  // the very first message goes at once: all clients start together
        guarded(d, [&] {
            session(c, d, "201", 0, think);
            for (unsigned s = 0; s < cfg.syncs; ++s) session(c, d, "200", cfg.changes, think);
        });
    }

    void verify(Device& d) {
        bool think = false;
        guarded(d, [&] { session(client(d), d, "200", 0, think); });
    }

    static std::string source_address(unsigned index) {
        return "127.0." + std::to_string(1 + index / 250) + "." + std::to_string(1 + index % 250);
    }
};

// Runs f(i) for i in [0, n) on `threads` threads with small stacks.
void run_threads(unsigned threads, unsigned n, const std::function<void(unsigned)>& f) {
    struct Arg {
        const std::function<void(unsigned)>* f;
        unsigned first, step, n;
    };
    std::vector<pthread_t> ids;
    std::vector<Arg> args(threads);
    for (unsigned t = 0; t < threads; ++t) args[t] = Arg{&f, t, threads, n};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    for (unsigned t = 0; t < threads; ++t) {
        pthread_t id;
        int rc = pthread_create(
            &id, &attr,
            [](void* p) -> void* {
                auto* a = static_cast<Arg*>(p);
                for (unsigned i = a->first; i < a->n; i += a->step) (*a->f)(i);
                return nullptr;
            },
            &args[t]);
        if (rc != 0) throw std::runtime_error(std::string("cannot start a thread: ") + std::strerror(rc));
        ids.push_back(id);
    }
    pthread_attr_destroy(&attr);
    for (pthread_t id : ids) pthread_join(id, nullptr);
}

// --- a host of our own -------------------------------------------------------

struct Host {
    pid_t pid = -1;
    int port = 0;
    std::filesystem::path dir;

    void start(const std::string& httpd, const std::string& users_text, std::vector<std::string> extra) {
        dir = std::filesystem::temp_directory_path() / ("smk-loadgen-" + std::to_string(::getpid()) + "-" +
                                                         std::to_string(Clock::now().time_since_epoch().count()));
        std::filesystem::create_directories(dir);
        std::ofstream(dir / "users") << users_text;
        std::string log = (dir / "httpd.log").string();
        pid = ::fork();
        if (pid < 0) throw std::runtime_error("fork failed");
        if (pid == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            std::vector<std::string> args = {httpd, "--port", "0", "--bind", "127.0.0.1", "--users",
                                             (dir / "users").string(), "--data", (dir / "data").string(),
                                             "--max-connections-per-address", "0"};
            args.insert(args.end(), extra.begin(), extra.end());
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(httpd.c_str(), argv.data());
            ::_exit(127);
        }
        // The start-up line names the port.
        for (int i = 0; i < 300 && !port; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::ifstream in(log);
            std::string line;
            while (std::getline(in, line)) {
                std::size_t at = line.find(" listening on http://127.0.0.1:");
                if (at != std::string::npos) port = std::atoi(line.c_str() + at + 31);
            }
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                throw std::runtime_error("the host exited at start; its output: " + log);
            }
        }
        if (!port) throw std::runtime_error("the host did not say it listens within 15 s; its output: " + log);
    }

    void stop() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            int status = 0;
            for (int i = 0; i < 200; ++i) {
                if (::waitpid(pid, &status, WNOHANG) == pid) {
                    pid = -1;
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            if (pid > 0) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, &status, 0);
                pid = -1;
            }
        }
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
        dir.clear();
    }
    ~Host() { stop(); }
};

// The host's arguments beyond the users and data: the user's, and room for
// D sessions and devices a user.
std::vector<std::string> host_args(const Config& cfg) {
    std::vector<std::string> args;
    if (cfg.devices > 8)
        args = {"--max-sessions-per-user", std::to_string(cfg.devices), "--max-devices-per-user",
                std::to_string(std::max(32u, cfg.devices))};
    args.insert(args.end(), cfg.host_args.begin(), cfg.host_args.end());
    return args;
}

// Tells this run's devices and cards from those of earlier runs against the
// same host (their names carry it).
const std::string& run_tag() {
    static const std::string tag = [] {
        std::mt19937 rng(std::random_device{}());
        const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        std::string t;
        for (int i = 0; i < 5; ++i) t += digits[rng() % 36];
        return t;
    }();
    return tag;
}

std::string user_name(const Config& cfg, unsigned u) { return cfg.users_prefix + std::to_string(u); }

std::string users_text(const Config& cfg, unsigned users) {
    std::string text;
    for (unsigned u = 0; u < users; ++u) text += user_name(cfg, u) + ":pw-" + user_name(cfg, u) + "\n";
    return text;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

struct Row {
    std::string metric;
    double value;
    std::string unit;
    std::string target;  // "null" or a number
    std::string better;
    std::string note;
};

std::string json_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    return out;
}

void print_rows(const std::vector<Row>& rows) {
    std::printf("[\n");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        std::printf("  {\"bench\": \"load\", \"metric\": \"%s\", \"value\": %.6g, \"unit\": \"%s\", \"target\": %s, "
                    "\"better\": \"%s\", \"note\": \"%s\"}%s\n",
                    json_escape(r.metric).c_str(), r.value, r.unit.c_str(), r.target.c_str(), r.better.c_str(),
                    json_escape(r.note).c_str(), i + 1 < rows.size() ? "," : "");
    }
    std::printf("]\n");
}

// --- the idle sessions -------------------------------------------------------

// Opens sessions (first message answered: logged in, the Alert accepted)
// and keeps them and their connections idle; the host's RSS at each count.
int idle_mode(const Config& cfg, std::vector<Row>& rows) {
    unsigned most = *std::max_element(cfg.idle.begin(), cfg.idle.end());
    const unsigned per_user = std::max(1u, cfg.devices);
    const unsigned users = (most + per_user - 1) / per_user;
    Host host;
    int port = cfg.port;
    long pid = cfg.host_pid;
    if (!cfg.httpd.empty()) {
        host.start(cfg.httpd, users_text(cfg, users), host_args(cfg));
        port = host.port;
        pid = host.pid;
    }
    Figures figures;
    Run run{cfg, figures, port};
    run.measuring = false;
    run.think_ms = 0;  // the sessions are opened as fast as the host takes them
    std::vector<Device> devices(most);
    for (unsigned i = 0; i < most; ++i) {
        devices[i].index = i;
        devices[i].user = user_name(cfg, i / per_user);
        devices[i].password = "pw-" + devices[i].user;
        devices[i].id = "idle-" + run_tag() + "-" + std::to_string(i);
        run.client(devices[i]);
    }
    // Each user syncs once first, so that the baseline already has the
    // users' stores made on disk and the host's caches warm: what follows is
    // the sessions' own cost.
    std::vector<Device> warm(users);
    for (unsigned u = 0; u < users; ++u) {
        warm[u].index = most + u;
        warm[u].user = user_name(cfg, u);
        warm[u].password = "pw-" + warm[u].user;
        warm[u].id = "warm-" + run_tag() + "-" + std::to_string(u);
    }
    run_threads(std::min(16u, users), users, [&](unsigned u) {
        bool think = false;
        run.guarded(warm[u], [&] { run.session(run.client(warm[u]), warm[u], "201", 0, think); });
        warm[u].conn->close();
    });
    std::vector<unsigned> counts = cfg.idle;
    std::sort(counts.begin(), counts.end());
    std::vector<std::pair<unsigned, long>> rss;
    unsigned open = 0;
    for (unsigned target : counts) {
        // Opened a few dozen at a time, by a few threads.
        unsigned from = open;
        run_threads(std::min(16u, std::max(1u, target - from)), target - from, [&](unsigned k) {
            Device& d = devices[from + k];
            TestClient& c = *d.client;
            run.guarded(d, [&] {
                for (int attempt = 0;; ++attempt) {
                    c.new_session();
                    Message m = c.message();
                    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "A1"));
                    Message reply = run.send(c, m, false);
                    const Command* hdr = smk::test::find_status(reply, "SyncHdr");
                    if (hdr && hdr->data == "401" && attempt == 0) continue;
                    Run::check_statuses(reply, false);
                    break;
                }
            });
            if (cfg.idle_close) d.conn->close();
        });
        open = target;
        std::this_thread::sleep_for(std::chrono::seconds(1));  // let the host settle
        rss.emplace_back(target, proc_status_kb(pid, "VmRSS"));
        if (!cfg.json)
            std::printf("idle sessions %5u: host RSS %ld kB\n", target, rss.back().second);
    }
    double per_session = 0;
    if (rss.size() >= 2 && rss.back().first > rss.front().first)
        per_session = static_cast<double>(rss.back().second - rss.front().second) /
                      static_cast<double>(rss.back().first - rss.front().first);
    unsigned long errors = figures.errors();
    if (!cfg.json) {
        std::printf("memory per idle session: %.1f kB (RSS from %u to %u sessions, %s); errors %lu\n", per_session,
                    rss.front().first, rss.back().first,
                    cfg.idle_close ? "their connections closed" : "each with its open connection", errors);
        for (const auto& s : figures.samples) std::printf("  error: %s\n", s.c_str());
    }
    std::string note = "host RSS";
    for (auto& [n, kb] : rss) note += " " + std::to_string(kb / 1024) + " MB at " + std::to_string(n) + ",";
    note.pop_back();
    note += cfg.idle_close ? " idle sessions (logged in, Alert answered, connection closed)"
                           : " idle sessions (logged in, Alert answered, connection kept open)";
    rows.push_back({"memory per idle session", per_session, "kB", "null", "lower", note});
    if (errors) rows.push_back({"errors", static_cast<double>(errors), "count", "0", "lower", "idle sessions"});
    host.stop();
    return errors ? 1 : 0;
}

// --- the load ------------------------------------------------------------------

int load_mode(const Config& cfg, std::vector<Row>& rows) {
    const unsigned total = cfg.users * cfg.devices;
    const unsigned threads = std::max(1u, std::min(cfg.clients ? cfg.clients : total, total));
    Host host;
    int port = cfg.port;
    long pid = cfg.host_pid;
    if (!cfg.httpd.empty()) {
        host.start(cfg.httpd, users_text(cfg, cfg.users), host_args(cfg));
        port = host.port;
        pid = host.pid;
    }
    Figures figures;
    Run run{cfg, figures, port};
    std::vector<Device> devices(total);
    for (unsigned i = 0; i < total; ++i) {
        Device& d = devices[i];
        d.index = i;
        d.user = user_name(cfg, i % cfg.users);  // a user's devices spread over the threads
        d.password = "pw-" + d.user;
        d.id = "load-" + run_tag() + "-" + std::to_string(i / cfg.users) + "-" + d.user;
    }
    auto started = Clock::now();
    const double host_cpu_before = pid > 0 ? proc_cpu_seconds(pid) : 0, own_cpu_before = own_cpu_seconds();
    run_threads(threads, total, [&](unsigned i) {
        if (cfg.ramp_s && i < threads)
            std::this_thread::sleep_until(started + std::chrono::milliseconds(1000ull * cfg.ramp_s * i / threads));
        run.play(devices[i]);
    });
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    const double host_cpu = pid > 0 ? proc_cpu_seconds(pid) - host_cpu_before : 0;
    const double own_cpu = own_cpu_seconds() - own_cpu_before;

    // Every device once more, and then it holds what its user's devices made.
    run.measuring = false;
    run_threads(threads, total, [&](unsigned i) {
        if (!devices[i].failed) run.verify(devices[i]);
    });
    std::map<std::string, std::map<std::string, unsigned>> expected;  // user -> name -> revision
    for (const Device& d : devices)
        for (const std::string& luid : d.own) {
            const auto& v = d.held.at(luid);
            expected[d.user][v.first] = v.second;
        }
    unsigned wrong_devices = 0, failed_devices = 0;
    unsigned long missing = 0, extra = 0, stale = 0, duplicates = 0, cards = 0;
    for (const Device& d : devices) {
        if (d.failed) {
            ++failed_devices;
            continue;
        }
        std::map<std::string, unsigned> has;
        unsigned long dup = d.duplicates;
        for (const auto& [luid, v] : d.held)
            if (!has.emplace(v.first, v.second).second) ++dup;
        const auto& want = expected[d.user];
        unsigned long m = 0, x = 0, s = 0;
        for (const auto& [name, rev] : want) {
            auto it = has.find(name);
            if (it == has.end()) ++m;
            else if (it->second != rev) ++s;
        }
        for (const auto& [name, rev] : has)
            if (!want.count(name)) ++x;
        cards += has.size();
        missing += m;
        extra += x;
        stale += s;
        duplicates += dup;
        if (m || x || s || dup) ++wrong_devices;
    }
    figures.other_errors += wrong_devices;
    long peak_kb = pid > 0 ? proc_status_kb(pid, "VmHWM") : -1;

    std::vector<double> lat;
    {
        std::lock_guard<std::mutex> lock(figures.mutex);
        lat = figures.latencies_ms;
    }
    const double p50 = percentile(lat, 50), p99 = percentile(lat, 99);
    const double sessions_s = static_cast<double>(figures.sessions) / seconds;
    const double messages_s = static_cast<double>(figures.messages) / seconds;
    const unsigned long errors = figures.errors();
    const char* enc = cfg.enc == Encoding::wbxml ? "WBXML" : "XML";
    char note[400];
    std::snprintf(note, sizeof note,
                  "%u clients at once, %u users x %u devices, %s, MD5; slow sync of %u then %u two-way syncs of %u "
                  "changes; think %u ms%s",
                  threads, cfg.users, cfg.devices, enc, cfg.items, cfg.syncs, cfg.changes, cfg.think_ms,
                  cfg.ramp_s ? ("; started over " + std::to_string(cfg.ramp_s) + " s").c_str() : "");
    if (!cfg.json) {
        std::printf("%s\n", note);
        std::printf("wall %.1f s: %lu sessions (%.1f/s), %lu messages (%.1f/s), most sessions open at once %ld\n",
                    seconds, figures.sessions.load(), sessions_s, figures.messages.load(), messages_s,
                    figures.max_open_sessions.load());
        std::printf("latency per message: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", p50, p99,
                    lat.empty() ? 0.0 : *std::max_element(lat.begin(), lat.end()));
        std::printf("errors %lu: connect %lu, HTTP %lu, SyncML statuses %lu, timeouts %lu, other %lu "
                    "(devices not converged %u); reconnects after the host's idle timeout %lu\n",
                    errors, figures.connect_errors.load(), figures.http_errors.load(), figures.syncml_errors.load(),
                    figures.timeouts.load(), figures.other_errors.load(), wrong_devices, figures.reconnects.load());
        std::printf("devices: %u, failed %u, converged %u; cards held in all %lu: missing %lu, extra %lu, "
                    "stale %lu, duplicates %lu\n",
                    total, failed_devices, total - failed_devices - wrong_devices, cards, missing, extra, stale,
                    duplicates);
        std::printf("host peak RSS: %.1f MB; host CPU %.2f s (%.0f us per message), loadgen's own CPU %.2f s\n",
                    peak_kb / 1024.0, host_cpu, figures.messages ? host_cpu / figures.messages * 1e6 : 0.0, own_cpu);
        for (const auto& s : figures.samples) std::printf("  error: %s\n", s.c_str());
    }
    rows.push_back({"sessions/s", sessions_s, "sessions/s", "null", "higher", note});
    rows.push_back({"messages/s", messages_s, "messages/s", "null", "higher", note});
    rows.push_back({"p50 latency per message", p50, "ms", "null", "lower", note});
    rows.push_back({"p99 latency per message", p99, "ms", "100", "lower", note});
    rows.push_back({"errors", static_cast<double>(errors), "count", "0", "lower",
                    std::string(note) + "; devices not converged " + std::to_string(wrong_devices)});
    rows.push_back({"host peak RSS", peak_kb / 1024.0, "MB", "null", "lower", note});
    if (pid > 0)
        rows.push_back({"host CPU per message", figures.messages ? host_cpu / figures.messages * 1e6 : 0.0, "us",
                        "null", "lower", std::string(note) + "; user plus system, all the host's threads"});
    rows.push_back({"concurrent sessions", static_cast<double>(figures.max_open_sessions), "sessions", "1000",
                    "higher", "most sessions open at once; " + std::string(note)});
    host.stop();
    return errors ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    Config cfg;
    try {
        std::vector<std::string> args(argv + 1, argv + argc);
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= args.size()) throw std::runtime_error(a + ": needs a value (see --help)");
                return args[++i];
            };
            auto number = [&] { return static_cast<unsigned>(parse_number(a, value())); };
            if (a == "-h" || a == "--help") {
                std::fputs(usage().c_str(), stdout);
                return 0;
            } else if (a == "--httpd") cfg.httpd = value();
            else if (a == "--host-arg") cfg.host_args.push_back(value());
            else if (a == "--port") cfg.port = static_cast<int>(number());
            else if (a == "--host-pid") cfg.host_pid = static_cast<long>(number());
            else if (a == "--users-prefix") cfg.users_prefix = value();
            else if (a == "-U" || a == "--users") cfg.users = number();
            else if (a == "-D" || a == "--devices") cfg.devices = number();
            else if (a == "-C" || a == "--clients") cfg.clients = number();
            else if (a == "-M" || a == "--items") cfg.items = number();
            else if (a == "-S" || a == "--syncs") cfg.syncs = number();
            else if (a == "-K" || a == "--changes") cfg.changes = number();
            else if (a == "--think") cfg.think_ms = number();
            else if (a == "--ramp") cfg.ramp_s = number();
            else if (a == "--per-message") cfg.per_message = std::max(1u, number());
            else if (a == "--timeout") cfg.timeout_s = std::max(1u, number());
            else if (a == "--xml") cfg.enc = Encoding::xml;
            else if (a == "--json") cfg.json = true;
            else if (a == "--idle-close") cfg.idle_close = true;
            else if (a == "--idle") {
                std::string list = value();
                std::stringstream ss(list);
                for (std::string n; std::getline(ss, n, ',');) cfg.idle.push_back(static_cast<unsigned>(parse_number(a, n)));
                if (cfg.idle.empty()) throw std::runtime_error("--idle: a list of counts, e.g. 0,500,1000");
            } else throw std::runtime_error("unknown argument " + a + " (see --help)");
        }
        if (cfg.httpd.empty() && !cfg.port) throw std::runtime_error("give --httpd PATH or --port N (see --help)");
        if (cfg.users == 0 || cfg.devices == 0) throw std::runtime_error("--users and --devices must be at least 1");
        if (!cfg.idle.empty() && cfg.httpd.empty() && !cfg.host_pid)
            throw std::runtime_error("--idle reads the host's memory: give --httpd PATH or --host-pid PID");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "loadgen: %s\n", e.what());
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    // A connection per client (and the host's, when started here, inherits it).
    if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    std::vector<Row> rows;
    int rc = 0;
    try {
        rc = cfg.idle.empty() ? load_mode(cfg, rows) : idle_mode(cfg, rows);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "loadgen: %s\n", e.what());
        return 2;
    }
    if (cfg.json) print_rows(rows);
    return rc;
}
