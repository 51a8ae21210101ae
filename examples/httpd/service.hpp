// The SyncML side of syncmlkit-httpd, built from the options: users, grants,
// the SQLite stores under the data directory, the Global Address Book, the
// smk::Server, and the message log.
#pragma once

#include <memory>
#include <string>

#include "console.hpp"
#include "exchange.hpp"
#include "message_log.hpp"
#include "options.hpp"
#include "status_pages.hpp"
#include "syncmlkit/server.hpp"
#include "syncmlkit/sqlite_store.hpp"

namespace smk::httpd {

struct Service {
    std::shared_ptr<smk::BuiltinStoreProvider> stores;  ///< SQLite under --data, or PostgreSQL (--store)
    std::unique_ptr<smk::Server> server;
    std::unique_ptr<MessageLog> message_log;  ///< with --log-dir
    std::size_t user_count = 0;
    std::size_t grant_count = 0;
    std::size_t gab_entries = 0;
    /// The largest request body read, on the wire and inflated
    /// (smk::effective_max_request_size of the server's configuration).
    std::size_t max_request_size = 0;
    std::string demo_user;      ///< set when no --users file was given
    std::string demo_password;  ///< its password, random for this run
    std::string state_dir;      ///< the server's state_dir: <data>/state

    /// Server::process with the message log around it; exceptions are
    /// written to the console and passed on.
    ProcessFn process_fn(Console& console);
    /// GET /devices: the signed-in user's devices, the password checked by
    /// Server::check_login (the SyncML logins' throttle); failures reading
    /// the data are written to the console and answered 500.
    DevicesFn devices_fn(Console& console);
};

/// Builds everything. Throws ConfigError (bad files, with file:line) or
/// another std::exception (a data directory that cannot be created, a store
/// that cannot open) with a message for the user.
Service make_service(const Options& options, Console& console);

}  // namespace smk::httpd
