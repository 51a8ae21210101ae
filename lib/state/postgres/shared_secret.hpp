// The key of the server's stateless MD5 nonces, kept in PostgreSQL so that
// every process sharing the database issues and checks the same nonces (a
// client's next message may reach another process).
#pragma once

#include <string>

namespace smk::pg {
class Connection;
}

namespace smk::state::postgres {

/// The key, made (32 random bytes) by the first process that asks; every
/// later call, from any process, reads the same one.
std::string shared_secret(pg::Connection& connection);

}  // namespace smk::state::postgres
