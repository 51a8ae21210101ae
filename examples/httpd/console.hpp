// Where syncmlkit-httpd writes: stdout for the start-up and access lines,
// stderr for warnings and errors, a line at a time from any thread. Also the
// engine's Logger.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "syncmlkit/server.hpp"

namespace smk::httpd {

class Console {
public:
    void out(std::string_view line) { write(stdout, line); }
    void err(std::string_view line) { write(stderr, line); }

private:
    void write(std::FILE* f, std::string_view line) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::fwrite(line.data(), 1, line.size(), f);
        std::fputc('\n', f);
        std::fflush(f);
    }
    std::mutex mutex_;
};

/// The engine's messages on stderr: warnings and errors, and with
/// `verbose` also info and debug.
class ConsoleLogger : public smk::Logger {
public:
    ConsoleLogger(Console& console, bool verbose) : console_(console), verbose_(verbose) {}
    void log(smk::LogLevel level, std::string_view message) override {
        const char* name = "info";
        switch (level) {
            case smk::LogLevel::debug: name = "debug"; break;
            case smk::LogLevel::info: name = "info"; break;
            case smk::LogLevel::warning: name = "warning"; break;
            case smk::LogLevel::error: name = "error"; break;
        }
        if (!verbose_ && (level == smk::LogLevel::debug || level == smk::LogLevel::info)) return;
        console_.err(std::string("syncmlkit: ") + name + ": " + std::string(message));
    }

private:
    Console& console_;
    const bool verbose_;
};

}  // namespace smk::httpd
