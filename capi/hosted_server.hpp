// Internal to the C ABI: what smk_server_new() (syncmlkit.cpp) and
// smk_server_new_hosted() (host_store.cpp) share. Not installed.
#pragma once

#include <memory>

#include "syncmlkit.h"
#include "syncmlkit/server.hpp"

namespace smk::capi {

/// A host's own stores and users, in C++ clothes.
struct Hosted {
    std::shared_ptr<DatastoreProvider> datastores;
    std::shared_ptr<AuthProvider> auth;  ///< nullptr: config->password
};

/// Makes the server of `config`: on the built-in SQLite store when `hosted`
/// is nullptr, else on the host's. Returns an SMK_ status; never throws.
int new_server(const smk_server_config* config, const Hosted* hosted, smk_server** out, char** error);

}  // namespace smk::capi
