// The server's own DevInf, sent as Results to a client's Get.
#pragma once

#include <string>

#include "syncmlkit/devinf.hpp"
#include "syncmlkit/message.hpp"

namespace smk::engine {

wire::DevInf server_devinf(wire::Version version, const std::string& server_id);
/// "./devinf11" or "./devinf12".
std::string devinf_uri(wire::Version version);

}  // namespace smk::engine
