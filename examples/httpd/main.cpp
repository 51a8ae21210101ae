// syncmlkit-httpd: SyncMLKit's server over HTTP(S). Parses the options,
// builds the service (service.cpp), serves it with libmicrohttpd
// (http_frontend.cpp) until SIGINT or SIGTERM.
#include <filesystem>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config_error.hpp"
#include "console.hpp"
#include "http_frontend.hpp"
#include "options.hpp"
#include "service.hpp"
#include "syncmlkit/version.hpp"

using namespace smk::httpd;

namespace {

// Connections waiting to be accepted. The kernel caps it at
// net.core.somaxconn (4096 on current Linux); a burst of connections beyond
// the backlog would be refused or reset.
constexpr int listen_backlog = 4096;

// File descriptors kept for other uses than connections: stores, logs, epoll.
constexpr rlim_t reserved_fds = 256;

std::string url_host(const std::string& bind) {
    return bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
}

// A non-blocking socket bound to bind:port and listening; -1 (with `error`
// set) when it cannot be had. `port` becomes the port bound.
int open_listener(const std::string& bind, int& port, std::string& error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(bind.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) {
        error = gai_strerror(rc);
        return -1;
    }
    int fd = -1;
    for (addrinfo* ai = found; ai && fd < 0; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            error = std::strerror(errno);
            continue;
        }
        int on = 1, off = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);  // :: serves IPv4 too
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, listen_backlog) != 0) {
            error = std::strerror(errno);
            ::close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0) return -1;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    }
    return fd;
}

// Raises the open-file limit as far as allowed and returns how many
// connections it leaves room for.
std::size_t connections_allowed_by_fd_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1000;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur == RLIM_INFINITY) return static_cast<std::size_t>(-1);
    return limit.rlim_cur > 2 * reserved_fds ? static_cast<std::size_t>(limit.rlim_cur - reserved_fds)
                                             : static_cast<std::size_t>(limit.rlim_cur / 2);
}

std::string absolute(const std::string& path) {
    std::error_code ec;
    auto full = std::filesystem::absolute(path, ec);
    return ec ? path : full.lexically_normal().string();
}

// The URL a client should be given: the bound address, or this machine's
// name when the server listens on every interface (0.0.0.0 or ::).
std::string client_url(const std::string& scheme, const std::string& bind, int port) {
    std::string host = bind;
    if (bind == "0.0.0.0" || bind == "::" || bind == "[::]") {
        char name[256] = {};
        host = gethostname(name, sizeof name - 1) == 0 && name[0] ? name : "THIS-MACHINE";
    }
    return scheme + "://" + url_host(host) + ":" + std::to_string(port) + "/";
}

// What to type into a client, printed at every start: the settings a newcomer
// needs are the ones she is looking for when the server has just started.
void print_client_settings(Console& console, const Options& options, const Service& service, const std::string& url) {
    console.out("Client settings (Funambol, SyncEvolution, a phone; the README shows each):");
    console.out("  server URL    " + url);
    if (!service.demo_user.empty()) {
        console.out("  username      " + service.demo_user);
        console.out("  password      " + service.demo_password);
    } else {
        console.out("  username      a user of " + options.users_file + ", with her password there");
    }
    console.out("  remote names  contacts, calendar, tasks, notes (another user's: bob/contacts; the directory: "
                "Global Address Book/contacts)");
    if (options.bind == "127.0.0.1" || options.bind == "::1" || options.bind == "localhost")
        console.out("  (this machine only; --bind 0.0.0.0 serves the network)");
}

bool read_file(const std::string& path, std::string& text) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream all;
    all << in.rdbuf();
    text = all.str();
    return static_cast<bool>(in) || in.eof();
}

}  // namespace

int main(int argc, char** argv) {
    // SIGINT and SIGTERM are blocked in every thread (threads inherit the
    // mask) and taken synchronously by the main thread below, which stops
    // the server: nothing runs in a signal handler.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a client that hangs up is an error return, not death

    Console console;
    const std::string me = "syncmlkit-httpd";

    Options options;
    try {
        options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const ConfigError& e) {
        console.err(me + ": " + e.what());
        return 2;
    }
    if (options.help) {
        std::fputs(usage().c_str(), stdout);
        return 0;
    }
    if (options.version) {
        console.out(me + " " + smk::version());
        return 0;
    }

    Service service;
    try {
        service = make_service(options, console);
    } catch (const ConfigError& e) {
        for (const auto& problem : e.problems()) console.err(me + ": " + problem);
        console.err(me + ": not started");
        return 1;
    } catch (const std::exception& e) {
        console.err(me + ": " + e.what());
        console.err(me + ": not started");
        return 1;
    }

    const bool tls = !options.tls_cert.empty();
    FrontendSettings settings;
    if (tls) {
        if (!HttpFrontend::tls_supported()) {
            console.err(me + ": this libmicrohttpd was built without TLS support: --tls-cert cannot be served");
            return 1;
        }
        if (!read_file(options.tls_cert, settings.tls_cert_pem) || !read_file(options.tls_key, settings.tls_key_pem)) {
            console.err(me + ": cannot load the TLS certificate " + options.tls_cert + " or key " + options.tls_key +
                        " (cannot read the file)");
            return 1;
        }
    }

    settings.max_connections = options.max_connections;
    std::size_t fd_room = connections_allowed_by_fd_limit();
    if (settings.max_connections > fd_room) {
        settings.max_connections = fd_room;
        console.err(me + ": the open-file limit (ulimit -n) allows only " + std::to_string(fd_room) +
                    " connections; --max-connections lowered to that");
    }

    int port = options.port;
    std::string listen_error;
    settings.listen_fd = open_listener(options.bind, port, listen_error);
    if (settings.listen_fd < 0) {
        console.err(me + ": cannot listen on " + url_host(options.bind) + ":" + std::to_string(options.port) + ": " +
                    listen_error + " (port in use, or not an address of this machine?)");
        return 1;
    }

    const std::string scheme = tls ? "https" : "http";
    const std::string url = scheme + "://" + url_host(options.bind) + ":" + std::to_string(port) + "/";
    settings.scheme = scheme;
    settings.listening_url = url;
    settings.max_body_bytes = service.max_request_size;
    // Reading and writing is cheap; a message may wait for the disk, so
    // there are more workers than cores.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    settings.polling_threads = std::min(4u, std::max(2u, cores));
    settings.workers = options.workers ? options.workers : std::max(8u, 2 * cores);
    settings.max_connections_per_address = options.max_connections_per_address;
    settings.idle_timeout = options.idle_timeout;
    settings.request_timeout = options.request_timeout;
    ProcessFn process = service.process_fn(console);
    settings.devices = service.devices_fn(console);
    HttpFrontend http(process, console, std::move(settings));
    if (std::string error = http.start(); !error.empty()) {
        if (tls) {
            console.err(me + ": cannot load the TLS certificate " + options.tls_cert + " or key " + options.tls_key +
                        " (PEM files, and the key must match the certificate)");
        } else {
            console.err(me + ": " + error);
        }
        return 1;
    }

    if (!service.demo_user.empty()) {
        console.out(me + ": no --users file given, so this run has one demo user:");
        console.out("  user \"" + service.demo_user + "\", password \"" + service.demo_password +
                    "\" (kept in " + (std::filesystem::path(options.data_dir) / "demo-password").string() +
                    " across restarts; --users FILE names your own users)");
    } else {
        console.out(me + ": " + std::to_string(service.user_count) + " users from " + options.users_file);
    }
    if (!options.grants_file.empty()) {
        console.out(me + ": " + std::to_string(service.grant_count) + " grants from " + options.grants_file);
    }
    if (!options.gab_file.empty()) {
        console.out(me + ": Global Address Book: " + std::to_string(service.gab_entries) + " entries from " +
                    options.gab_file);
    }
    if (service.message_log) console.out(me + ": keeping every message in " + service.message_log->dir());
    // Serving already: the start-up line tells users (and tests) that they
    // may connect, and stop the server with a signal.
    console.out(me + " " + smk::version() + " listening on " + url + " (data: " + absolute(options.data_dir) +
                (options.state.empty() ? std::string() : ", state: PostgreSQL") +
                (options.store == "postgresql" ? ", items: PostgreSQL" : "") + ")");
    print_client_settings(console, options, service, client_url(scheme, options.bind, port));

    int stop_signal = 0;
    auto last_expiry = std::chrono::steady_clock::now();
    while (!stop_signal) {
        timespec wait{0, 250 * 1000 * 1000};
        int sig = sigtimedwait(&stop_signals, nullptr, &wait);
        if (sig == SIGINT || sig == SIGTERM) stop_signal = sig;
        http.reap_late_requests();
        if (std::chrono::steady_clock::now() - last_expiry > std::chrono::seconds(30)) {
            service.server->expire_idle_sessions();
            last_expiry = std::chrono::steady_clock::now();
        }
    }
    console.out(me + ": " + (stop_signal == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
    http.stop();
    console.out(me + ": stopped");
    return 0;
}
