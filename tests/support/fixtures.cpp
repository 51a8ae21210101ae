#include "fixtures.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace smk::test {

std::string read_fixture(const std::string& relative) {
    std::ifstream in(std::string(SMK_FIXTURES_DIR) + "/" + relative, std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + relative);
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

std::vector<std::string> capture_files() {
    namespace fs = std::filesystem;
    fs::path root = fs::path(SMK_FIXTURES_DIR);
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(root / "captures")) {
        std::string ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".xml" || ext == ".wbxml"))
            out.push_back(fs::relative(entry.path(), root).string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace smk::test
