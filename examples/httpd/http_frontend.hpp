// The HTTP side of syncmlkit-httpd on cpp-httplib: POST on any path goes to
// the SyncML server, GET answers with a short page, other methods with 405,
// and every request gets one access-log line.
#pragma once

#include <cstddef>
#include <string>

#include "console.hpp"
#include "exchange.hpp"

namespace httplib {
class Server;
}

namespace smk::httpd {

struct FrontendSettings {
    std::string scheme;          ///< "http" or "https"
    std::string listening_url;   ///< for the GET page when the Host header is unusable
    std::size_t max_body_bytes;  ///< request bodies, on the wire and inflated
};

/// Installs the handlers on `http`. `process` and `console` must outlive it.
void install_frontend(httplib::Server& http, const ProcessFn& process, Console& console,
                      const FrontendSettings& settings);

}  // namespace smk::httpd
