#include "timestamp.hpp"

#include <cstdio>
#include <ctime>

namespace smk::httpd {

namespace {

std::string format(std::chrono::system_clock::time_point t, const char* pattern) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    auto seconds = static_cast<std::time_t>(ms / 1000);
    auto millis = static_cast<int>(ms % 1000);
    if (millis < 0) {  // before 1970
        millis += 1000;
        --seconds;
    }
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, pattern, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec, millis);
    return buf;
}

}  // namespace

std::string iso_utc(std::chrono::system_clock::time_point t) {
    return format(t, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ");
}

std::string compact_utc(std::chrono::system_clock::time_point t) {
    return format(t, "%04d%02d%02dT%02d%02d%02d.%03dZ");
}

}  // namespace smk::httpd
