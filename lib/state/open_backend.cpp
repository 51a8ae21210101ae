// Which state backend a server configuration names.
#include <stdexcept>

#include "pg/connection.hpp"
#include "state/postgres/postgres_state.hpp"
#include "state/state_backend.hpp"

namespace smk::state {

std::unique_ptr<StateBackend> open_state_backend(const std::string& url, const std::string& state_dir,
                                                 std::size_t pool_size) {
    if (url.empty()) return open_sqlite_state(state_dir);
    if (pg::is_postgres_url(url)) return open_postgres_state(url, pool_size);
    throw std::invalid_argument("ServerConfig.state: \"" + url.substr(0, 40) +
                                "\" is neither empty (SQLite) nor a postgresql:// URL");
}

}  // namespace smk::state
