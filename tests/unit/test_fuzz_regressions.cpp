// Every input a fuzz target once crashed on (tests/fuzz/regressions/<target>/,
// docs/FUZZING.md) runs again through the same function as the target. Any
// crash, sanitizer report or uncaught exception fails this test; the
// `pending` folder holds inputs of known, unfixed bugs and is not run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "entries.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

}  // namespace

TEST_CASE("every fuzz regression input runs through its target") {
    const fs::path root = SMK_FUZZ_REGRESSIONS_DIR;
    REQUIRE(fs::is_directory(root));
    std::size_t inputs = 0;
    std::vector<fs::path> dirs;
    for (const auto& d : fs::directory_iterator(root))
        if (d.is_directory() && d.path().filename() != "pending") dirs.push_back(d.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto& dir : dirs) {
        const std::string target = dir.filename().string();
        smk::fuzz::EntryFunction entry = smk::fuzz::entry_named(target);
        INFO("regressions folder " << target << " names no fuzz target");
        REQUIRE(entry != nullptr);
        std::vector<fs::path> files;
        for (const auto& f : fs::directory_iterator(dir))
            if (f.is_regular_file() && f.path().filename().string()[0] != '.') files.push_back(f.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            INFO("input " << f.string());
            const std::string bytes = slurp(f);
            CHECK(entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) == 0);
            ++inputs;
        }
    }
    // The folder is not empty by accident: each target keeps its regression inputs there.
    CHECK(inputs > 0);
}
