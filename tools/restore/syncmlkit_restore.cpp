// syncmlkit-restore: lists the snapshots SyncMLKit's SQLite store took of a
// database before each refresh from a client, and puts one back, online
// (syncmlkit-httpd may go on running).
//
//   syncmlkit-restore --data DIR USER CATEGORY            lists the snapshots
//   syncmlkit-restore --data DIR USER CATEGORY SNAPSHOT   restores one
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "syncmlkit/sqlite_store.hpp"

namespace {

const char* kUsage =
    "usage: syncmlkit-restore --data DIR USER contacts|calendar|tasks [SNAPSHOT]\n"
    "Without SNAPSHOT, lists the database's snapshots, oldest first (one is\n"
    "taken before every refresh from a client). With it, puts that snapshot's\n"
    "data back; the server may keep running.\n";

}  // namespace

int main(int argc, char** argv) {
    std::string data;
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--help")) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (!std::strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else args.emplace_back(argv[i]);
    }
    if (data.empty() || args.size() < 2 || args.size() > 3) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    std::optional<smk::Category> category = smk::category_from_name(args[1]);
    if (!category) {
        std::fprintf(stderr, "syncmlkit-restore: no category \"%s\" (contacts, calendar, tasks, notes)\n",
                     args[1].c_str());
        return 2;
    }
    try {
        smk::SqliteStoreProvider stores(data);
        if (args.size() == 2) {
            std::vector<std::string> snapshots = stores.snapshots(args[0], *category);
            if (snapshots.empty()) std::printf("no snapshots of %s/%s\n", args[0].c_str(), args[1].c_str());
            for (const std::string& s : snapshots) std::printf("%s\n", s.c_str());
            return 0;
        }
        stores.restore(args[0], *category, args[2]);
        std::printf("restored %s/%s from %s\n", args[0].c_str(), args[1].c_str(), args[2].c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "syncmlkit-restore: %s\n", e.what());
        return 1;
    }
}
