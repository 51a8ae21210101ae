#include "service.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "access_log.hpp"
#include "config_error.hpp"
#include "grants_file.hpp"
#include "syncmlkit/postgres_store.hpp"
#include "users_file.hpp"

namespace smk::httpd {

namespace {

// The demo user's password, kept in <data>/demo-password (mode 0600) so that
// a configured client still logs in after a restart; made at the first start.
std::string demo_password(const std::string& data_dir) {
    namespace fs = std::filesystem;
    fs::path file = fs::path(data_dir) / "demo-password";
    std::string kept;
    if (std::ifstream in(file); in && std::getline(in, kept) && kept.size() >= 8 &&
                                kept.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
                                    std::string::npos)
        return kept;
    std::string made = random_password();
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        if (!out || !(out << made << '\n') || !out.flush())
            throw ConfigError(file.string() + ": cannot keep the demo user's password: " + std::strerror(errno));
    }
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
    return made;
}

}  // namespace

Service make_service(const Options& options, Console& console) {
    Service s;

    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec || !std::filesystem::is_directory(options.data_dir)) {
        throw ConfigError(options.data_dir + ": cannot create the data directory" + (ec ? ": " + ec.message() : ""));
    }

    Users users;
    if (options.users_file.empty()) {
        s.demo_user = "demo";
        s.demo_password = demo_password(options.data_dir);
        users.emplace(s.demo_user, s.demo_password);
    } else {
        users = read_users_file(options.users_file);
    }
    s.user_count = users.size();

    std::vector<Grant> grants;
    if (!options.grants_file.empty()) {
        grants = read_grants_file(options.grants_file, [&](const std::string& u) { return users.count(u) > 0; });
    }
    s.grant_count = grants.size();

    if (options.store == "postgresql")
        s.stores = std::make_shared<smk::PostgresStoreProvider>(options.state, options.pg_pool);
    else
        s.stores = std::make_shared<smk::SqliteStoreProvider>(options.data_dir);
    for (const auto& g : grants) s.stores->add_grant(g.owner, g.category, g.user, g.access);

    if (!options.gab_file.empty()) {
        std::ifstream vcf(options.gab_file, std::ios::binary);
        if (!vcf) throw ConfigError(options.gab_file + ": cannot open: " + std::strerror(errno));
        try {
            s.gab_entries = s.stores->import_global_address_book(vcf);
        } catch (const std::exception& e) {
            throw ConfigError(options.gab_file + ": cannot import the Global Address Book: " + e.what());
        }
    }

    smk::ServerConfig config;
    config.auth = std::make_shared<UsersAuth>(std::move(users));
    config.datastores = s.stores;
    config.logger = std::make_shared<ConsoleLogger>(console, options.verbose);
    config.state_dir = (std::filesystem::path(options.data_dir) / "state").string();
    s.state_dir = config.state_dir;
    config.state = options.state;
    config.state_pool = options.pg_pool;
    if (options.max_msg_size) config.max_msg_size = *options.max_msg_size;
    if (options.session_timeout) config.session_timeout = *options.session_timeout;
    if (options.max_sessions_per_user) config.max_sessions_per_user = *options.max_sessions_per_user;
    if (options.max_devices_per_user) config.max_devices_per_user = *options.max_devices_per_user;
    if (!options.time_zone.empty())
        config.user_time_zone = [zone = options.time_zone](const std::string&) { return zone; };
    const std::string& p = options.conflict_policy;
    smk::ConflictPolicy policy = p == "server-wins"  ? smk::ConflictPolicy::server_wins
                                 : p == "client-wins" ? smk::ConflictPolicy::client_wins
                                 : p == "newer-wins"  ? smk::ConflictPolicy::newer_wins
                                 : p == "keep-both"   ? smk::ConflictPolicy::keep_both
                                                      : smk::ConflictPolicy::merge;
    config.conflict_policy = [policy](const std::string&, smk::Category) { return policy; };
    config.mass_delete_guard.enabled = options.mass_delete_percent > 0;
    config.mass_delete_guard.max_percent = options.mass_delete_percent;
    config.mass_delete_guard.min_items = options.mass_delete_min;
    auto idle = config.session_timeout;
    s.max_request_size = smk::effective_max_request_size(config);
    s.server = std::make_unique<smk::Server>(std::move(config));

    if (!options.log_dir.empty()) {
        s.message_log = std::make_unique<MessageLog>(options.log_dir, idle,
                                                     [&console](const std::string& w) { console.err("warning: " + w); });
    }
    return s;
}

ProcessFn Service::process_fn(Console& console) {
    smk::Server* srv = server.get();
    MessageLog* log = message_log.get();
    return [srv, log, &console](const smk::Request& request) {
        try {
            if (!log) return srv->process(request);
            auto ticket = log->record_request(request);
            auto response = srv->process(request);
            log->record_reply(ticket, response);
            return response;
        } catch (const std::exception& e) {
            console.err(std::string("error: ") + escape_for_log(request.peer, 64) + " " +
                        escape_for_log(redact_session_token(request.url)) + ": " + e.what());
            throw;
        }
    };
}

DevicesFn Service::devices_fn(Console& console) {
    DevicesBackend backend;
    smk::Server* srv = server.get();
    std::shared_ptr<smk::BuiltinStoreProvider> provider = stores;
    backend.check_login = [srv](const std::string& user, const std::string& password, const std::string& peer) {
        return srv->check_login(user, password, peer);
    };
    backend.devices = [srv](const std::string& user) { return srv->known_devices(user); };
    backend.databases = [provider](const std::string& user) {
        std::vector<smk::Category> out;
        for (smk::Category c : {smk::Category::contacts, smk::Category::calendar, smk::Category::tasks,
                                smk::Category::notes})
            if (provider->has_database(user, c)) out.push_back(c);
        return out;
    };
    backend.states = [provider](const std::string& user, smk::Category c) { return provider->client_states(user, c); };
    return [backend, &console](const std::string& authorization, const std::string& peer) {
        try {
            return devices_page(backend, authorization, peer);
        } catch (const std::exception& e) {
            console.err(std::string("error: ") + escape_for_log(peer, 64) + " GET /devices: " + e.what());
            throw;
        }
    };
}

}  // namespace smk::httpd
