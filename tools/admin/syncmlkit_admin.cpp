// syncmlkit-admin --data DIR SUBCOMMAND ...: looks after the data directory
// of a server on SyncMLKit's SQLite store (syncmlkit-httpd's --data): users,
// their devices and sync state, snapshots and restores, the Global Address
// Book, and the stores' integrity. Every subcommand works while the server
// runs: writes wait for a running session's message, as a session would.
//
// Exit status: 0 done, 1 failed (unknown user, database, device or snapshot;
// `check` found problems), 2 bad usage.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include "data_dir.hpp"
#include "store/sqlite_datastore.hpp"
#include "syncmlkit/version.hpp"

namespace {

namespace fs = std::filesystem;
using smk::Category;
using namespace smk::admin;

struct Usage : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Subcommand {
    const char* name;
    const char* args;
    const char* help;  // one line
    std::size_t min_args, max_args;
    std::function<int(DataDir&, const std::vector<std::string>&)> run;
};

Category category_arg(const std::string& name) {
    if (std::optional<Category> c = smk::category_from_name(name)) return *c;
    throw Usage("no database kind \"" + name + "\" (contacts, calendar, tasks, notes)");
}

// The databases a command names: the one given, else all the user's.
std::vector<Category> databases_arg(DataDir& data, const std::string& user, const std::vector<std::string>& args,
                                    std::size_t at) {
    if (args.size() > at) {
        Category c = category_arg(args[at]);
        data.require_database(user, c);
        return {c};
    }
    data.require_user(user);
    return data.databases(user);
}

std::string plural(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// ---- users, devices, reset ----

int users(DataDir& data, const std::vector<std::string>&) {
    std::vector<std::string> all = data.users();
    if (all.empty()) std::printf("no users in %s\n", data.path().c_str());
    for (const std::string& user : all) {
        std::string dbs;
        for (Category c : data.databases(user)) dbs += std::string(dbs.empty() ? "" : " ") + smk::category_name(c);
        std::printf("%s: databases: %s; %s\n", user.c_str(), dbs.empty() ? "none" : dbs.c_str(),
                    plural(data.registered_devices(user).size(), "device", "devices").c_str());
    }
    return 0;
}

int devices(DataDir& data, const std::vector<std::string>& args) {
    const std::string& user = args[0];
    data.require_user(user);
    // Devices of the registry, and any other with sync state in the user's
    // databases (a grantee's device, or one the bounded registry forgot).
    std::map<std::string, RegisteredDevice> known;
    for (RegisteredDevice& d : data.registered_devices(user)) known[d.device] = d;
    std::map<std::string, std::map<Category, DeviceState>> states;
    for (Category c : data.databases(user))
        for (DeviceState& s : data.device_states(user, c)) states[s.device][c] = s;
    std::set<std::string> all;
    for (const auto& [d, _] : known) all.insert(d);
    for (const auto& [d, _] : states) all.insert(d);
    if (all.empty()) std::printf("%s has no devices\n", user.c_str());
    for (const std::string& device : all) {
        std::printf("%s\n", device.c_str());
        auto reg = known.find(device);
        if (reg == known.end()) {
            std::printf("  make: unknown, model: unknown (not in the device registry)\n");
        } else {
            const RegisteredDevice& d = reg->second;
            std::printf("  make: %s, model: %s, last login: %s\n", d.make.empty() ? "unknown" : d.make.c_str(),
                        d.model.empty() ? "unknown" : d.model.c_str(), utc_time(d.last_seen).c_str());
        }
        for (Category c : data.databases(user)) {
            auto s = states[device].find(c);
            const char* name = smk::category_name(c);
            if (s == states[device].end()) {
                std::printf("  %s: never synced\n", name);
            } else if (!s->second.completed) {
                std::printf("  %s: no completed sync (%s)\n", name, plural(s->second.items, "item", "items").c_str());
            } else {
                std::string when = s->second.when ? utc_time(*s->second.when) : "at a time not recorded";
                std::printf("  %s: last sync %s (%s)\n", name, when.c_str(),
                            plural(s->second.items, "item", "items").c_str());
            }
        }
    }
    return 0;
}

int reset(DataDir& data, const std::vector<std::string>& args) {
    const std::string& user = args[0];
    const std::string& device = args[1];
    std::size_t forgotten = 0;
    std::vector<Category> dbs = databases_arg(data, user, args, 2);
    for (Category c : dbs) {
        std::optional<DeviceState> s = data.stores().forget_client(user, c, device);
        if (!s) continue;
        ++forgotten;
        std::printf("%s: forgot %s (%s, %s); its next sync is a slow sync, no item was deleted\n",
                    database_name(user, c).c_str(), device.c_str(), s->completed ? "anchors" : "no anchors",
                    plural(s->items, "item it held", "items it held").c_str());
    }
    if (forgotten == 0)
        throw Failure("device \"" + device + "\" has no sync state in " +
                      (args.size() > 2 ? database_name(user, dbs.front()) : "any database of " + user));
    return 0;
}

// ---- snapshots ----

// "20261204T201029Z-01-admin": the file name without its folder, the
// "<category>-" prefix and ".sqlite"; restore takes it.
std::string short_name(const std::string& path, Category category) {
    std::string stem = fs::path(path).stem().string();
    std::string prefix = std::string(smk::category_name(category)) + "-";
    return stem.rfind(prefix, 0) == 0 ? stem.substr(prefix.size()) : stem;
}

std::string items_in(const std::string& snapshot) {
    try {
        SQLite::Database db(snapshot, SQLite::OPEN_READONLY);
        SQLite::Statement q(db, "SELECT count(*) FROM smk_items");
        q.executeStep();
        return std::to_string(q.getColumn(0).getInt64());
    } catch (const SQLite::Exception&) {
        return "?";
    }
}

int snapshots(DataDir& data, const std::vector<std::string>& args) {
    const std::string& user = args[0];
    Category c = category_arg(args[1]);
    data.require_database(user, c);
    std::vector<std::string> all = data.stores().snapshots(user, c);
    if (all.empty()) {
        std::printf("no snapshots of %s\n", database_name(user, c).c_str());
        return 0;
    }
    std::printf("%-40s %6s  %s\n", "NAME", "ITEMS", "FILE");
    for (const std::string& s : all)
        std::printf("%-40s %6s  %s\n", short_name(s, c).c_str(), items_in(s).c_str(), s.c_str());
    return 0;
}

int snapshot(DataDir& data, const std::vector<std::string>& args) {
    const std::string& user = args[0];
    Category c = category_arg(args[1]);
    data.require_database(user, c);
    std::vector<std::string> before = data.stores().snapshots(user, c);
    std::optional<std::string> taken = data.open(user, c)->snapshot("admin");
    if (!taken) throw Failure("no snapshot taken of " + database_name(user, c));
    std::printf("took %s of %s (%s items)\n  %s\n", short_name(*taken, c).c_str(), database_name(user, c).c_str(),
                items_in(*taken).c_str(), taken->c_str());
    std::vector<std::string> after = data.stores().snapshots(user, c);
    for (const std::string& s : before)
        if (std::find(after.begin(), after.end(), s) == after.end())
            std::printf("dropped the oldest, %s (only the newest %zu are kept)\n", short_name(s, c).c_str(),
                        smk::store::SqliteDatastore::kMaxSnapshots);
    return 0;
}

int restore(DataDir& data, const std::vector<std::string>& args) {
    const std::string& user = args[0];
    Category c = category_arg(args[1]);
    data.require_database(user, c);
    std::optional<std::string> source = data.stores().find_snapshot(user, c, args[2]);
    if (!source) throw Failure("no snapshot \"" + args[2] + "\" of " + database_name(user, c) + " (see snapshots)");
    // The data as it is, so that the restore can be undone; unless taking it
    // would push out the snapshot being restored (the oldest of a full set).
    std::vector<std::string> all = data.stores().snapshots(user, c);
    std::optional<std::string> before;
    if (all.size() < smk::store::SqliteDatastore::kMaxSnapshots || all.front() != *source)
        before = data.open(user, c)->snapshot("before-restore");
    smk::ItemCounts n;
    data.stores().restore(user, c, *source, n);
    std::printf("restored %s from %s: %zu items (%zu brought back, %zu changed back, %zu unchanged; %zu made "
                "since removed); each client gets them at its next sync\n",
                database_name(user, c).c_str(), short_name(*source, c).c_str(), n.added + n.changed + n.unchanged,
                n.added, n.changed, n.unchanged, n.removed);
    if (before)
        std::printf("the data as it was is kept as %s (restore it to undo)\n", short_name(*before, c).c_str());
    else
        std::printf("no snapshot of the data as it was: it would have pushed out the one restored\n");
    return 0;
}

// ---- the Global Address Book ----

int import_gab(DataDir& data, const std::vector<std::string>& args) {
    std::ifstream vcf(args[0], std::ios::binary);
    if (!vcf) throw Failure(args[0] + ": cannot open: " + std::strerror(errno));
    smk::ItemCounts n;
    std::size_t entries = data.stores().import_global_address_book(vcf, n);
    std::printf("imported %s into the Global Address Book: %zu added, %zu changed, %zu unchanged, %zu removed",
                plural(entries, "entry", "entries").c_str(), n.added, n.changed, n.unchanged, n.removed);
    if (n.repeated) std::printf("; %s skipped (same UID, or name and address, as an earlier card)",
                                plural(n.repeated, "card", "cards").c_str());
    std::printf("\n");
    return 0;
}

// ---- check ----

int check_command(DataDir& data, const std::vector<std::string>& args) {
    const std::string& user = args[0];
    std::size_t problems = 0;
    for (Category c : databases_arg(data, user, args, 1)) {
        CheckReport r = check(data, user, c);
        problems += r.problems();
        std::printf("%s: %s, %s: %s\n", database_name(user, c).c_str(), plural(r.items, "item", "items").c_str(),
                    plural(r.devices, "device", "devices").c_str(),
                    r.problems() ? plural(r.problems(), "problem", "problems").c_str() : "ok");
        auto line = [](bool problem, std::size_t n, const char* one, const char* many) {
            std::printf("  %-7s %s\n", problem ? (n ? "PROBLEM" : "ok") : "info", plural(n, one, many).c_str());
        };
        if (r.quick_check != "ok") std::printf("  PROBLEM SQLite integrity: %s\n", r.quick_check.c_str());
        line(true, r.state_pointing_nowhere, "state row pointing nowhere (a GUID the store never handed out)",
             "state rows pointing nowhere (GUIDs the store never handed out)");
        line(true, r.luids_mapped_twice, "LUID mapped twice (a device's item paired with two of the server's)",
             "LUIDs mapped twice (a device's item paired with two of the server's)");
        line(true, r.revisions_never_issued, "revision never handed out (a client would miss a change)",
             "revisions never handed out (a client would miss a change)");
        line(false, r.items_without_state, "item without state (no device holds it yet: sent at the next syncs)",
             "items without state (no device holds them yet: sent at the next syncs)");
        line(false, r.state_without_items, "state row without item (deleted here: the Delete goes at the next sync)",
             "state rows without items (deleted here: the Delete goes at the next sync)");
        line(false, r.awaiting_map, "item awaiting a device's Map", "items awaiting a device's Map");
        line(false, r.unfinished_devices, "device with state but no completed sync (its next sync is slow)",
             "devices with state but no completed sync (their next sync is slow)");
        line(false, r.queued, "outbox row of the last sessions (made again at the next)",
             "outbox rows of the last sessions (made again at the next)");
    }
    if (problems) {
        std::fprintf(stderr, "syncmlkit-admin: %s found in %s\n", plural(problems, "problem", "problems").c_str(),
                     args.size() > 1 ? database_name(user, category_arg(args[1])).c_str() : user.c_str());
        return 1;
    }
    return 0;
}

const std::vector<Subcommand>& subcommands() {
    static const std::vector<Subcommand> all = {
        {"users", "", "lists the users that have databases or devices", 0, 0, users},
        {"devices", "USER", "each device of USER: make, model, last login, and per database its last completed sync",
         1, 1, devices},
        {"reset", "USER DEVICE [CATEGORY]",
         "forgets DEVICE's sync state in one database or all (its next sync is a slow sync; no item is deleted)", 2,
         3, reset},
        {"snapshots", "USER CATEGORY", "lists the database's snapshots, oldest first, by the names restore takes", 2,
         2, snapshots},
        {"snapshot", "USER CATEGORY", "takes a snapshot of the database now (the newest 5 are kept)", 2, 2, snapshot},
        {"restore", "USER CATEGORY NAME",
         "puts a snapshot back, online (NAME as snapshots lists it, a file, or latest); each client gets it at its "
         "next sync",
         3, 3, restore},
        {"import-gab", "FILE.vcf",
         "replaces the Global Address Book with the file's vCards; entries keep their identity, so a re-import "
         "duplicates nothing",
         1, 1, import_gab},
        {"check", "USER [CATEGORY]",
         "checks a user's databases: state pointing nowhere, LUIDs mapped twice, revisions never issued (exit 1), "
         "and counts items without state and state without items",
         1, 2, check_command},
    };
    return all;
}

void usage(std::FILE* out) {
    std::fprintf(out, "usage: syncmlkit-admin --data DIR SUBCOMMAND [ARGS]\n"
                      "Looks after a SyncMLKit data directory (syncmlkit-httpd's --data); the server may keep "
                      "running.\nCATEGORY: contacts, calendar, tasks or notes. Subcommands:\n");
    for (const Subcommand& s : subcommands())
        std::fprintf(out, "  %-10s %-23s %s\n", s.name, s.args, s.help);
    std::fprintf(out, "'syncmlkit-admin SUBCOMMAND --help' shows one. Exit status: 0 done, 1 failed (or check "
                      "found problems), 2 bad usage.\n");
}

}  // namespace

int main(int argc, char** argv) {
    std::string data_dir;
    std::vector<std::string> args;
    bool help = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) help = true;
        else if (!std::strcmp(argv[i], "--version")) {
            std::printf("syncmlkit-admin %s\n", smk::version());
            return 0;
        } else if (!std::strcmp(argv[i], "--data") && i + 1 < argc) data_dir = argv[++i];
        else if (!std::strncmp(argv[i], "--data=", 7)) data_dir = argv[i] + 7;
        else args.emplace_back(argv[i]);
    }
    if (args.empty()) {
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    const Subcommand* command = nullptr;
    for (const Subcommand& s : subcommands())
        if (args[0] == s.name) command = &s;
    if (!command) {
        std::fprintf(stderr, "syncmlkit-admin: no subcommand \"%s\"\n", args[0].c_str());
        usage(stderr);
        return 2;
    }
    if (help) {
        std::printf("usage: syncmlkit-admin --data DIR %s %s\n  %s\n", command->name, command->args, command->help);
        if (std::strstr(command->args, "CATEGORY")) std::printf("CATEGORY: contacts, calendar, tasks or notes.\n");
        return 0;
    }
    args.erase(args.begin());
    try {
        if (data_dir.empty()) throw Usage("--data DIR is required");
        if (args.size() < command->min_args || args.size() > command->max_args)
            throw Usage(std::string("usage: syncmlkit-admin --data DIR ") + command->name + " " + command->args);
        DataDir data(data_dir);
        return command->run(data, args);
    } catch (const Usage& e) {
        std::fprintf(stderr, "syncmlkit-admin: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "syncmlkit-admin: %s\n", e.what());
        return 1;
    }
}
