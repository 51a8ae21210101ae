// The users file: one "user:password" a line; blank lines and lines whose
// first non-blank character is # are ignored. The password is everything
// after the first colon, as written (it may hold spaces, colons and #).
#pragma once

#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "syncmlkit/server.hpp"

namespace smk::httpd {

/// user -> password in clear.
using Users = std::map<std::string, std::string>;

/// A user name the host accepts: 1 to 64 of the letters, digits and . _ @ + -
/// not starting with . or _ (the store keeps its own directories, such as
/// the Global Address Book's, under names starting with _), so a name is
/// always safe as a file name.
bool valid_user_name(std::string_view name);

/// Parses a users file; `file_name` prefixes messages. Throws ConfigError
/// listing every bad line as "file:line: what is wrong".
Users parse_users(std::istream& in, const std::string& file_name);

/// Reads and parses the file at `path`. Throws ConfigError.
Users read_users_file(const std::string& path);

/// A password of `length` letters and digits from the system's random source.
std::string random_password(std::size_t length = 16);

/// Authentication from the users file: password() answers the clear password,
/// and the engine does Basic and MD5 from it.
class UsersAuth : public smk::AuthProvider {
public:
    explicit UsersAuth(Users users) : users_(std::move(users)) {}
    std::optional<std::string> password(const std::string& user) override {
        auto it = users_.find(user);
        if (it == users_.end()) return std::nullopt;
        return it->second;
    }

private:
    const Users users_;
};

}  // namespace smk::httpd
