// The grants file: who may sync whose databases. One database a line:
//
//   alice/contacts: bob carol:ro     # bob read-write, carol read-only
//   alice/calendar: bob:rw
//
// Categories are contacts, calendar, tasks and notes; a user alone or with :rw may
// read and write, with :ro only read. # starts a comment; blank lines are
// ignored.
#pragma once

#include <functional>
#include <istream>
#include <string>
#include <vector>

#include "syncmlkit/datastore.hpp"

namespace smk::httpd {

struct Grant {
    std::string owner;
    smk::Category category;
    std::string user;
    smk::Access access;
};

/// Whether a user exists; used to check the names a grants file uses.
using UserExists = std::function<bool(const std::string&)>;

/// Parses a grants file; `file_name` prefixes messages. When `user_exists` is
/// given, owners and users must pass it. Throws ConfigError listing every bad
/// line as "file:line: what is wrong".
std::vector<Grant> parse_grants(std::istream& in, const std::string& file_name, const UserExists& user_exists = {});

/// Reads and parses the file at `path`. Throws ConfigError.
std::vector<Grant> read_grants_file(const std::string& path, const UserExists& user_exists = {});

}  // namespace smk::httpd
