// UTC time stamps with milliseconds, for the access log and log file names.
#pragma once

#include <chrono>
#include <string>

namespace smk::httpd {

/// "2026-11-25T10:15:02.123Z"
std::string iso_utc(std::chrono::system_clock::time_point t);

/// "20261125T101502.123Z": sorts like the time it names, safe in file names.
std::string compact_utc(std::chrono::system_clock::time_point t);

}  // namespace smk::httpd
