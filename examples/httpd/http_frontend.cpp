#include "http_frontend.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "access_log.hpp"
#include "syncmlkit/version.hpp"

namespace smk::httpd {

namespace {

using Clock = std::chrono::steady_clock;

// A request body may be read and thrown away (to answer 413 or 405 on a
// connection that stays usable) up to this much beyond the bound; a request
// that announces more is refused before its body and its connection closed.
constexpr std::size_t max_discarded_bytes = 16u * 1024 * 1024;

// Request line and headers of one request must fit in this (libmicrohttpd's
// per-connection memory pool, which also holds its read buffer).
constexpr std::size_t connection_memory = 32 * 1024;

// One connection, as the reaper sees it. Guarded by Impl::mutex.
struct ConnState {
    int fd = -1;
    bool waiting = true;  ///< a request is expected and has not arrived whole
    bool reaped = false;
    Clock::time_point deadline;
};

// One request, from its request line to the access-log line.
struct RequestState {
    Clock::time_point start = Clock::now();
    std::string target;  ///< path and query as the request line had them
    std::string peer;
    std::string method;
    bool headers_seen = false;
    bool keep_body = false;  ///< POST: the body goes to the SyncML server
    std::size_t received = 0;
    bool too_large = false;
    std::string body;
    std::string content_type;
    std::string content_encoding;
    std::string accept_encoding;
    std::string host;
    std::string authorization;  ///< GET /devices: the Authorization header
    bool devices_page = false;  ///< GET /devices: a worker serves it
    // A POST or GET /devices handed to a worker: the connection is suspended meanwhile.
    bool submitted = false;
    HttpRequest request;
    std::optional<HttpReply> reply;  ///< set by the worker before it resumes the connection
    // What the access log says of the reply.
    bool answered = false;
    int status = 0;
    std::size_t reply_bytes = 0;
    std::string request_coding;
    std::string reply_coding;
};

// The client's IP address without port; an IPv4 client of an IPv6 socket
// (::ffff:a.b.c.d) as a.b.c.d.
std::string peer_address(MHD_Connection* connection) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return {};
    char text[INET6_ADDRSTRLEN] = {0};
    const sockaddr* sa = info->client_addr;
    if (sa->sa_family == AF_INET) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        if (!inet_ntop(AF_INET, &in->sin_addr, text, sizeof text)) return {};
    } else if (sa->sa_family == AF_INET6) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            if (!inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], text, sizeof text)) return {};
        } else if (!inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text)) {
            return {};
        }
    }
    return text;
}

// Every value of header `name`, comma-joined.
std::string header_values(MHD_Connection* connection, const char* name) {
    struct Collect {
        const char* name;
        std::string joined;
    } collect{name, {}};
    MHD_get_connection_values(
        connection, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
            auto* c = static_cast<Collect*>(cls);
            if (key && value && strcasecmp(key, c->name) == 0) {
                if (!c->joined.empty()) c->joined += ", ";
                c->joined += value;
            }
            return MHD_YES;
        },
        &collect);
    return collect.joined;
}

std::string header_value(MHD_Connection* connection, const char* name) {
    const char* v = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
    return v ? v : "";
}

// The request's codings as the access log shows them: "deflate", "gzip+deflate".
std::string coding_label(const std::string& content_encoding) {
    try {
        std::string label;
        for (Coding c : parse_content_encoding(content_encoding)) {
            if (!label.empty()) label += '+';
            label += coding_name(c);
        }
        return label;
    } catch (const CodingError&) {
        return escape_for_log(content_encoding, 40);  // answered with 415
    }
}

// The request target's path: no query, no fragment.
std::string target_path(const std::string& target) { return target.substr(0, target.find_first_of("?#")); }

// The public pages are plain text: a browser must not guess another type.
HttpReply page_reply(HttpReply r) {
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
}

HttpReply method_not_allowed() {
    HttpReply r = text_reply(405, "this is a SyncML server: POST SyncML messages, or GET this page");
    r.headers.emplace_back("Allow", "GET, HEAD, POST");
    return r;
}

}  // namespace

struct HttpFrontend::Impl {
    const ProcessFn& process;
    Console& console;
    FrontendSettings settings;
    MHD_Daemon* daemon = nullptr;

    std::mutex mutex;  // guards connections and every ConnState
    std::unordered_set<ConnState*> connections;

    // SyncML messages waiting for a worker. The polling threads only read
    // and write; a message's processing (SQLite, perhaps waiting for the
    // disk) never delays the other connections' reading, which would let
    // their idle timeout strike while their requests wait unread.
    struct Job {
        MHD_Connection* connection;
        RequestState* request;
    };
    std::mutex queue_mutex;
    std::condition_variable queue_ready;
    std::deque<Job> queue;
    bool stopping = false;
    std::vector<std::thread> workers;

    std::mutex log_mutex;  // libmicrohttpd's own messages, rate-limited
    Clock::time_point log_window_start;
    unsigned log_lines_in_window = 0;
    unsigned long log_suppressed = 0;

    Impl(const ProcessFn& p, Console& c, FrontendSettings s) : process(p), console(c), settings(std::move(s)) {}

    ~Impl() {
        stop();
        if (settings.listen_fd >= 0) ::close(settings.listen_fd);
    }

    void stop() {
        // The workers finish the queue and resume every connection they
        // had: libmicrohttpd must not be stopped with one suspended.
        // Meanwhile a polling thread serves a new message itself.
        {
            std::lock_guard<std::mutex> lock(queue_mutex);
            stopping = true;
        }
        queue_ready.notify_all();
        for (auto& t : workers) t.join();
        workers.clear();
        if (daemon) {
            MHD_stop_daemon(daemon);  // closes the listening socket too
            daemon = nullptr;
            settings.listen_fd = -1;
        }
    }

    void work() {
        for (;;) {
            Job job;
            {
                std::unique_lock<std::mutex> lock(queue_mutex);
                queue_ready.wait(lock, [&] { return stopping || !queue.empty(); });
                if (queue.empty()) return;
                job = queue.front();
                queue.pop_front();
            }
            job.request->reply = serve(*job.request);
            MHD_resume_connection(job.connection);  // libmicrohttpd calls on_request again
        }
    }

    HttpReply serve(RequestState& rs) {
        try {
            if (rs.devices_page) return page_reply(settings.devices(rs.authorization, rs.peer));
            // A 500 from serve_post says no more; the process function has
            // written the cause to the console.
            return serve_post(std::move(rs.request), process, settings.max_body_bytes);
        } catch (const std::exception& e) {
            console.err("error: " + escape_for_log(redact_session_token(rs.target)) + ": " + e.what());
        } catch (...) {
            console.err("error: " + escape_for_log(redact_session_token(rs.target)) + ": unknown exception");
        }
        return text_reply(500, "internal server error");
    }

    ConnState* conn_state(MHD_Connection* connection) {
        const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return info ? static_cast<ConnState*>(info->socket_context) : nullptr;
    }

    // The connection's request has arrived whole (or is being refused): the
    // deadline no longer applies until the reply is sent.
    void request_arrived(MHD_Connection* connection) {
        if (ConnState* cs = conn_state(connection)) {
            std::lock_guard<std::mutex> lock(mutex);
            cs->waiting = false;
        }
    }

    // --- libmicrohttpd callbacks -------------------------------------------

    static void on_connection(void* cls, MHD_Connection* connection, void** socket_context,
                              MHD_ConnectionNotificationCode code) {
        auto* self = static_cast<Impl*>(cls);
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
            auto* cs = new ConnState;
            const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
            cs->fd = info ? info->connect_fd : -1;
            cs->deadline = Clock::now() + self->settings.request_timeout;
            *socket_context = cs;
            std::lock_guard<std::mutex> lock(self->mutex);
            self->connections.insert(cs);
        } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
            // libmicrohttpd closes the socket after this returns: once the
            // state is out of the set, the reaper cannot touch the fd.
            auto* cs = static_cast<ConnState*>(*socket_context);
            if (!cs) return;
            {
                std::lock_guard<std::mutex> lock(self->mutex);
                self->connections.erase(cs);
            }
            delete cs;
            *socket_context = nullptr;
        }
    }

    static void* on_request_line(void* /*cls*/, const char* uri, MHD_Connection* connection) {
        auto* rs = new RequestState;
        rs->target = uri ? uri : "";
        rs->peer = peer_address(connection);
        return rs;
    }

    static void on_completed(void* cls, MHD_Connection* connection, void** con_cls, MHD_RequestTerminationCode toe) {
        auto* self = static_cast<Impl*>(cls);
        auto* rs = static_cast<RequestState*>(*con_cls);
        *con_cls = nullptr;
        if (ConnState* cs = self->conn_state(connection)) {
            // The next request on this connection has the whole timeout.
            std::lock_guard<std::mutex> lock(self->mutex);
            cs->waiting = true;
            cs->deadline = Clock::now() + self->settings.request_timeout;
        }
        if (!rs) return;
        if (rs->answered) {
            AccessRecord r;
            r.when = std::chrono::system_clock::now();
            r.peer = rs->peer;
            r.method = rs->method;
            r.target = rs->target;
            r.content_type = rs->content_type;
            if (rs->headers_seen) r.request_bytes = rs->received;
            r.request_coding = rs->request_coding;
            r.status = rs->status;
            r.reply_bytes = rs->reply_bytes;
            r.reply_coding = rs->reply_coding;
            r.milliseconds = std::chrono::duration<double, std::milli>(Clock::now() - rs->start).count();
            std::string line = format_access_line(r);
            if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) line += " (reply not delivered)";
            self->console.out(line);
        }
        delete rs;
    }

    static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* /*url*/, const char* method,
                                 const char* /*version*/, const char* upload_data, std::size_t* upload_data_size,
                                 void** con_cls) {
        auto* self = static_cast<Impl*>(cls);
        auto* rs = static_cast<RequestState*>(*con_cls);
        if (!rs) return MHD_NO;  // on_request_line always runs first
        try {
            return self->handle(connection, *rs, method, upload_data, upload_data_size);
        } catch (const std::exception& e) {
            self->console.err("error: " + escape_for_log(redact_session_token(rs->target)) + ": " + e.what());
        } catch (...) {
            self->console.err("error: " + escape_for_log(redact_session_token(rs->target)) + ": unknown exception");
        }
        if (rs->answered) return MHD_NO;
        return self->answer(connection, *rs, text_reply(500, "internal server error"));
    }

    static void on_log(void* cls, const char* format, va_list args) {
        auto* self = static_cast<Impl*>(cls);
        char buf[512];
        std::vsnprintf(buf, sizeof buf, format, args);
        std::string text = buf;
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        // Under attack libmicrohttpd may say the same thing thousands of
        // times a second: at most 10 lines a minute.
        std::lock_guard<std::mutex> lock(self->log_mutex);
        auto now = Clock::now();
        if (now - self->log_window_start > std::chrono::minutes(1)) {
            self->log_window_start = now;
            self->log_lines_in_window = 0;
        }
        if (++self->log_lines_in_window > 10) {
            ++self->log_suppressed;
            return;
        }
        if (self->log_suppressed) {
            text += " (" + std::to_string(self->log_suppressed) + " earlier messages not shown)";
            self->log_suppressed = 0;
        }
        self->console.err("libmicrohttpd: " + escape_for_log(text, 300, true));
    }

    // --- requests ----------------------------------------------------------

    MHD_Result handle(MHD_Connection* connection, RequestState& rs, const char* method, const char* upload_data,
                      std::size_t* upload_data_size) {
        const std::size_t max_body = settings.max_body_bytes;
        if (rs.submitted) {
            // Called again after the worker resumed the connection.
            if (!rs.reply) return MHD_YES;
            HttpReply reply = std::move(*rs.reply);
            rs.reply.reset();
            return answer(connection, rs, std::move(reply));
        }
        if (!rs.headers_seen) {
            rs.headers_seen = true;
            rs.method = method ? method : "";
            rs.content_type = header_value(connection, MHD_HTTP_HEADER_CONTENT_TYPE);
            rs.content_encoding = header_values(connection, MHD_HTTP_HEADER_CONTENT_ENCODING);
            rs.accept_encoding = header_values(connection, MHD_HTTP_HEADER_ACCEPT_ENCODING);
            rs.host = header_value(connection, MHD_HTTP_HEADER_HOST);
            rs.keep_body = rs.method == "POST";
            std::string length = header_value(connection, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (rs.keep_body && length.empty() && header_value(connection, MHD_HTTP_HEADER_TRANSFER_ENCODING).empty()) {
                // A body of unknown length: libmicrohttpd reads none, and
                // whatever the client sends after the headers would be
                // taken for its next request. Say so at once.
                request_arrived(connection);
                return answer(connection, rs,
                              text_reply(411, "a SyncML message needs a Content-Length (or chunked transfer coding)"));
            }
            if (!length.empty()) {
                unsigned long long declared = std::strtoull(length.c_str(), nullptr, 10);
                if (declared > max_body) rs.too_large = true;
                if (declared > max_body + max_discarded_bytes) {
                    // Not worth reading: refuse now, the connection closes.
                    request_arrived(connection);
                    return answer(connection, rs, too_large_reply());
                }
            }
            return MHD_YES;  // libmicrohttpd reads the body, or calls again at once
        }

        if (*upload_data_size > 0) {
            std::size_t n = *upload_data_size;
            *upload_data_size = 0;
            rs.received += n;
            if (rs.received > max_body) rs.too_large = true;
            if (rs.received > max_body + max_discarded_bytes) return MHD_NO;  // a chunked flood: close
            if (rs.keep_body && !rs.too_large) rs.body.append(upload_data, n);
            if (rs.too_large) rs.body.clear();
            return MHD_YES;
        }

        // The whole request is here.
        request_arrived(connection);
        if (rs.method == "GET" || rs.method == "HEAD") {
            if (target_path(rs.target) != kDevicesPath) return answer(connection, rs, page(rs.host));
            if (!settings.devices) return answer(connection, rs, text_reply(404, "no devices page here"));
            // Password check and SQLite reads: a worker's job, as a message's.
            rs.devices_page = true;
            rs.authorization = header_value(connection, MHD_HTTP_HEADER_AUTHORIZATION);
            return submit(connection, rs);
        }
        if (rs.method != "POST") return answer(connection, rs, method_not_allowed());
        rs.request_coding = coding_label(rs.content_encoding);
        if (rs.too_large) return answer(connection, rs, too_large_reply());

        HttpRequest& request = rs.request;
        request.scheme = settings.scheme;
        request.host = rs.host;
        request.target = rs.target;
        request.content_type = rs.content_type;
        request.content_encoding = rs.content_encoding;
        request.accept_encoding = rs.accept_encoding;
        request.peer = rs.peer;
        request.body = std::move(rs.body);
        rs.body.clear();
        return submit(connection, rs);
    }

    // Hands the request to a worker (or serves it here while stopping).
    MHD_Result submit(MHD_Connection* connection, RequestState& rs) {
        {
            std::lock_guard<std::mutex> lock(queue_mutex);
            if (!stopping) {
                // Suspended first, queued then: the worker's resume always
                // comes after the suspension.
                MHD_suspend_connection(connection);
                rs.submitted = true;
                queue.push_back(Job{connection, &rs});
                queue_ready.notify_one();
                return MHD_YES;
            }
        }
        return answer(connection, rs, serve(rs));
    }

    HttpReply too_large_reply() const {
        return text_reply(413, "request body larger than " + std::to_string(settings.max_body_bytes) + " bytes");
    }

    HttpReply page(const std::string& host) const {
        std::string url = request_url(settings.scheme, host, "/");
        if (url == "/") url = settings.listening_url;
        return page_reply(text_reply(200, front_page(smk::version(), url)));
    }

    MHD_Result answer(MHD_Connection* connection, RequestState& rs, HttpReply reply) {
        auto* body = new std::string(std::move(reply.body));
        MHD_Response* response = MHD_create_response_from_buffer_with_free_callback_cls(
            body->size(), body->data(), [](void* p) { delete static_cast<std::string*>(p); }, body);
        if (!response) {
            delete body;
            return MHD_NO;
        }
        const std::string content_type =
            reply.content_type.empty() ? std::string("application/octet-stream") : reply.content_type;
        bool ok = MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type.c_str()) == MHD_YES;
        for (const auto& [name, value] : reply.headers)
            ok = ok && MHD_add_response_header(response, name.c_str(), value.c_str()) == MHD_YES;
        rs.answered = true;
        rs.status = reply.status;
        rs.reply_bytes = rs.method == "HEAD" ? 0 : body->size();
        if (reply.coding) rs.reply_coding = coding_name(*reply.coding);
        MHD_Result queued = ok ? MHD_queue_response(connection, static_cast<unsigned>(reply.status), response) : MHD_NO;
        MHD_destroy_response(response);
        if (queued != MHD_YES) rs.answered = false;
        return queued;
    }
};

HttpFrontend::HttpFrontend(const ProcessFn& process, Console& console, FrontendSettings settings)
    : impl_(std::make_unique<Impl>(process, console, std::move(settings))) {}

HttpFrontend::~HttpFrontend() = default;

bool HttpFrontend::tls_supported() { return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES; }

std::string HttpFrontend::start() {
    Impl& d = *impl_;
    const FrontendSettings& s = d.settings;
    const bool tls = !s.tls_cert_pem.empty();
    if (tls && !tls_supported()) return "this libmicrohttpd was built without TLS support";

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (tls) flags |= MHD_USE_TLS;
    auto fn = [](auto f) { return reinterpret_cast<intptr_t>(f); };
    std::vector<MHD_OptionItem> options = {
        {MHD_OPTION_LISTEN_SOCKET, s.listen_fd, nullptr},
        {MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(s.polling_threads), nullptr},
        {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(s.max_connections), nullptr},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<intptr_t>(s.max_connections_per_address), nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(s.idle_timeout.count()), nullptr},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(connection_memory), nullptr},
        {MHD_OPTION_NOTIFY_CONNECTION, fn(&Impl::on_connection), &d},
        {MHD_OPTION_URI_LOG_CALLBACK, fn(&Impl::on_request_line), &d},
        {MHD_OPTION_NOTIFY_COMPLETED, fn(&Impl::on_completed), &d},
    };
    if (tls) {
        options.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(s.tls_cert_pem.c_str())});
        options.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(s.tls_key_pem.c_str())});
    }
    options.push_back({MHD_OPTION_END, 0, nullptr});

    // The logger first, so that libmicrohttpd says nothing on its own.
    d.daemon = MHD_start_daemon(flags, 0, nullptr, nullptr, &Impl::on_request, &d, MHD_OPTION_EXTERNAL_LOGGER,
                                &Impl::on_log, &d, MHD_OPTION_ARRAY, options.data(), MHD_OPTION_END);
    // The socket is libmicrohttpd's now: MHD_stop_daemon closes it, and a
    // failed start may have closed it already.
    d.settings.listen_fd = -1;
    if (d.daemon) {
        for (unsigned i = 0; i < std::max(1u, s.workers); ++i) d.workers.emplace_back([&d] { d.work(); });
    }
    if (!d.daemon) {
        return tls ? "cannot start serving HTTPS: the TLS certificate or key was refused (PEM files, and the key "
                     "must match the certificate)"
                   : "cannot start the HTTP server";
    }
    return {};
}

void HttpFrontend::stop() { impl_->stop(); }

std::size_t HttpFrontend::reap_late_requests() {
    Impl& d = *impl_;
    const auto now = Clock::now();
    std::size_t reaped = 0;
    std::lock_guard<std::mutex> lock(d.mutex);
    for (ConnState* cs : d.connections) {
        if (cs->waiting && !cs->reaped && cs->fd >= 0 && now > cs->deadline) {
            // libmicrohttpd sees the connection end and closes it in its own
            // thread; the fd stays valid until on_connection(CLOSED).
            ::shutdown(cs->fd, SHUT_RDWR);
            cs->reaped = true;
            ++reaped;
        }
    }
    return reaped;
}

}  // namespace smk::httpd
