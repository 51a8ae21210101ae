// The HTTP side of syncmlkit-httpd on libmicrohttpd: POST on any path goes to
// the SyncML server, GET and HEAD on /devices to the signed-in user's
// devices page, on any other path to the public page (status_pages.hpp),
// other methods get 405, and every request gets one access-log line.
//
// A few threads poll every connection with epoll and a pool of workers runs
// the SyncML messages (the connection is suspended meanwhile); no thread
// waits for an idle or slow client. A connection that is silent for the idle timeout is
// closed by libmicrohttpd, one that dribbles a request slower than the
// request timeout allows by reap_late_requests(), so slow or stalled clients
// hold a little memory for a bounded time and never a thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "console.hpp"
#include "exchange.hpp"
#include "status_pages.hpp"

namespace smk::httpd {

struct FrontendSettings {
    std::string scheme;          ///< "http" or "https"
    std::string listening_url;   ///< for the GET page when the Host header is unusable
    std::size_t max_body_bytes;  ///< request bodies, on the wire and inflated
    int listen_fd = -1;          ///< a bound, listening socket; the frontend closes it
    unsigned polling_threads = 2;  ///< each with its own epoll set: reading and writing only
    unsigned workers = 8;          ///< threads that run SyncML messages through `process`
    std::size_t max_connections = 10000;
    std::size_t max_connections_per_address = 0;  ///< 0: no limit
    std::chrono::seconds idle_timeout{15};
    std::chrono::seconds request_timeout{60};
    std::string tls_cert_pem;  ///< with tls_key_pem: serve HTTPS
    std::string tls_key_pem;
    DevicesFn devices;  ///< GET /devices, run by a worker; unset: 404
};

class HttpFrontend {
public:
    /// `process` and `console` must outlive the frontend.
    HttpFrontend(const ProcessFn& process, Console& console, FrontendSettings settings);
    ~HttpFrontend();  ///< stops serving
    HttpFrontend(const HttpFrontend&) = delete;
    HttpFrontend& operator=(const HttpFrontend&) = delete;

    /// Starts serving. Returns an empty string, or what went wrong.
    std::string start();
    /// Closes every connection and waits for requests being served.
    void stop();
    /// Closes the connections whose request has not arrived whole within the
    /// request timeout; returns how many. Call it every second or so.
    std::size_t reap_late_requests();

    /// Whether libmicrohttpd was built with TLS (GnuTLS).
    static bool tls_supported();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace smk::httpd
