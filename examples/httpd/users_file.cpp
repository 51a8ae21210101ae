#include "users_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "config_error.hpp"

namespace smk::httpd {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// At most this many problems are listed; a file of garbage says enough by then.
constexpr std::size_t max_problems = 20;

}  // namespace

bool valid_user_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '_') return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '@' || c == '+' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Users parse_users(std::istream& in, const std::string& file_name) {
    Users users;
    std::map<std::string, std::size_t> first_line;
    std::vector<std::string> problems;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();  // written on Windows
        std::size_t first = 0;
        while (first < line.size() && is_blank(line[first])) ++first;
        if (first == line.size() || line[first] == '#') continue;

        auto where = file_name + ":" + std::to_string(number) + ": ";
        auto colon = line.find(':');
        if (colon == std::string::npos) {
            problems.push_back(where + "expected user:password");
        } else {
            std::string user = line.substr(0, colon);
            std::string password = line.substr(colon + 1);
            if (user.empty()) {
                problems.push_back(where + "no user name before the colon");
            } else if (!valid_user_name(user)) {
                problems.push_back(where + "bad user name \"" + user +
                                   "\": use 1 to 64 letters, digits and . _ @ + - "
                                   "(no spaces; not starting with . or _)");
            } else if (password.empty()) {
                problems.push_back(where + "user \"" + user + "\" has an empty password");
            } else if (auto seen = first_line.find(user); seen != first_line.end()) {
                problems.push_back(where + "user \"" + user + "\" is already defined on line " +
                                   std::to_string(seen->second));
            } else {
                first_line.emplace(user, number);
                users.emplace(std::move(user), std::move(password));
            }
        }
        if (problems.size() >= max_problems) {
            problems.push_back(file_name + ": giving up after " + std::to_string(max_problems) + " bad lines");
            break;
        }
    }
    if (in.bad()) problems.push_back(file_name + ": read error");
    if (!problems.empty()) throw ConfigError(problems);
    if (users.empty()) throw ConfigError(file_name + ": no users (one \"user:password\" a line)");
    return users;
}

Users read_users_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
    return parse_users(in, path);
}

std::string random_password(std::size_t length) {
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";  // no l 1 I O 0
    std::random_device source;  // /dev/urandom on glibc
    std::uniform_int_distribution<std::size_t> pick(0, sizeof alphabet - 2);
    std::string out;
    out.reserve(length);
    for (std::size_t i = 0; i < length; ++i) out += alphabet[pick(source)];
    return out;
}

}  // namespace smk::httpd
