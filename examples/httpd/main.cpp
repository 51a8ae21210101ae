// syncmlkit-httpd: SyncMLKit's server over HTTP(S). Parses the options,
// builds the service (service.cpp), serves it with cpp-httplib
// (http_frontend.cpp) until SIGINT or SIGTERM.
#include <httplib.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
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

// Request bodies, as received and inflated. A SyncML client sends what the
// server's MaxMsgSize allows (150 kB by default), and the codec refuses
// anything above 10 MiB (DecodeLimits), so this bound lets every message
// through that could be served. It bounds what a broken or hostile client
// can make the server hold, and what a "zip bomb" costs: inflating 16 MiB
// of a highly repetitive stream takes zlib about a quarter of a second.
constexpr std::size_t max_body_bytes = 16u * 1024 * 1024;

std::string url_host(const std::string& bind) {
    return bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
}

}  // namespace

int main(int argc, char** argv) {
    // glibc serves every allocation above 128 kB (its default, then adapted)
    // with a fresh mmap and gives freed memory back at once, so a large
    // message's buffers and model are faulted in page by page on every
    // message: the codec ran five to ten times slower that way (README,
    // "Benchmarks"). Keep such blocks on the heap instead.
    mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);

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
    std::unique_ptr<httplib::Server> http;
    if (tls) {
        auto https = std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
        if (!https->is_valid()) {
            console.err(me + ": cannot load the TLS certificate " + options.tls_cert + " or key " + options.tls_key +
                        " (PEM files, and the key must match the certificate)");
            return 1;
        }
        http = std::move(https);
    } else {
        http = std::make_unique<httplib::Server>();
    }
    // Phones on slow links pause; a session's messages come one after
    // another on the same connection when the client keeps it.
    http->set_read_timeout(std::chrono::seconds(60));
    http->set_write_timeout(std::chrono::seconds(60));
    http->set_keep_alive_max_count(1000);

    int port = options.port;
    if (port == 0) {
        port = http->bind_to_any_port(options.bind);
    } else if (!http->bind_to_port(options.bind, port)) {
        port = -1;
    }
    if (port <= 0) {
        console.err(me + ": cannot listen on " + url_host(options.bind) + ":" + std::to_string(options.port) +
                    " (port in use, or not an address of this machine?)");
        return 1;
    }

    const std::string scheme = tls ? "https" : "http";
    const std::string url = scheme + "://" + url_host(options.bind) + ":" + std::to_string(port) + "/";
    ProcessFn process = service.process_fn(console);
    install_frontend(*http, process, console, FrontendSettings{scheme, url, max_body_bytes});

    if (!service.demo_user.empty()) {
        console.out(me + ": no --users file given, so this run has one demo user:");
        console.out("  user \"" + service.demo_user + "\", password \"" + service.demo_password +
                    "\" (random for this run; --users FILE names your own users)");
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
    std::atomic<bool> listening_ended{false};
    std::thread listener([&] {
        http->listen_after_bind();
        listening_ended = true;
    });
    // httplib's stop() does nothing until its loop runs: a SIGTERM that came
    // before would leave the server running. So the start-up line, which
    // tells users (and tests) that they may connect and stop it, waits.
    while (!http->is_running() && !listening_ended) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    console.out(me + " " + smk::version() + " listening on " + url + " (data: " + options.data_dir + ")");

    int stop_signal = 0;
    auto last_expiry = std::chrono::steady_clock::now();
    while (!listening_ended) {
        timespec wait{0, 250 * 1000 * 1000};
        int sig = sigtimedwait(&stop_signals, nullptr, &wait);
        if (sig == SIGINT || sig == SIGTERM) {
            stop_signal = sig;
            break;
        }
        if (std::chrono::steady_clock::now() - last_expiry > std::chrono::seconds(30)) {
            service.server->expire_idle_sessions();
            last_expiry = std::chrono::steady_clock::now();
        }
    }
    if (stop_signal) console.out(me + ": " + (stop_signal == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
    http->stop();
    listener.join();
    if (!stop_signal) {
        console.err(me + ": the HTTP server stopped unexpectedly");
        return 1;
    }
    console.out(me + ": stopped");
    return 0;
}
