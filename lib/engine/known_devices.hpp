// The device registry's rows as a host's status page or an admin tool shows
// them (smk::KnownDevice), DevInf reduced to make and model.
#pragma once

#include <vector>

#include "state/device_registry.hpp"
#include "syncmlkit/server.hpp"

namespace smk::engine {

std::vector<KnownDevice> known_devices_of(std::vector<state::RegisteredDevice> rows);

}  // namespace smk::engine
