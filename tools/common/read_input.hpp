// What the command-line tools read: a file's bytes, or standard input for "-".
#pragma once

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace smk::tools {

/// The whole of `path` ("-": standard input) into `out`; false when the
/// file cannot be opened.
inline bool read_input(const std::string& path, std::string& out) {
    std::ostringstream buf;
    if (path == "-") {
        buf << std::cin.rdbuf();
    } else {
        std::ifstream in(path, std::ios::binary);
        if (!in) return false;
        buf << in.rdbuf();
    }
    out = buf.str();
    return true;
}

}  // namespace smk::tools
