#include "grants_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <map>

#include "config_error.hpp"
#include "users_file.hpp"

namespace smk::httpd {

namespace {

constexpr std::size_t max_problems = 20;

std::string trim(const std::string& s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    auto last = s.find_last_not_of(" \t");
    return s.substr(first, last - first + 1);
}

std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

// "alice/contacts bob" -> the line that granted it.
using GrantedOn = std::map<std::string, std::size_t>;

// Line `number`, comment and CR already removed, not blank. Appends grants or
// problems (each prefixed with `where`).
void parse_line(const std::string& line, std::size_t number, const std::string& where, const UserExists& user_exists,
                GrantedOn& granted, std::vector<Grant>& grants, std::vector<std::string>& problems) {
    auto colon = line.find(':');
    if (colon == std::string::npos) {
        problems.push_back(where + "expected owner/category: user user:ro ...");
        return;
    }
    std::string database = trim(line.substr(0, colon));
    auto slash = database.find('/');
    if (slash == std::string::npos) {
        problems.push_back(where + "expected owner/category before the colon, got \"" + database + "\"");
        return;
    }
    std::string owner = database.substr(0, slash);
    std::string category_name = database.substr(slash + 1);
    auto category = smk::category_from_name(category_name);
    bool ok = true;
    if (!valid_user_name(owner)) {
        problems.push_back(where + "bad owner name \"" + owner + "\"");
        ok = false;
    } else if (user_exists && !user_exists(owner)) {
        problems.push_back(where + "unknown user \"" + owner + "\"");
        ok = false;
    }
    if (!category) {
        problems.push_back(where + "unknown category \"" + category_name + "\" (contacts, calendar, tasks or notes)");
        ok = false;
    }

    auto users = words(line.substr(colon + 1));
    if (users.empty()) {
        problems.push_back(where + "no users after the colon");
        return;
    }
    for (const auto& word : users) {
        std::string user = word;
        smk::Access access = smk::Access::read_write;
        if (auto c = word.find(':'); c != std::string::npos) {
            user = word.substr(0, c);
            std::string mode = word.substr(c + 1);
            if (mode == "ro") {
                access = smk::Access::read_only;
            } else if (mode != "rw") {
                problems.push_back(where + "\"" + word + "\": the access after the colon is ro or rw");
                ok = false;
                continue;
            }
        }
        if (!valid_user_name(user)) {
            problems.push_back(where + "bad user name \"" + user + "\"");
            ok = false;
        } else if (user_exists && !user_exists(user)) {
            problems.push_back(where + "unknown user \"" + user + "\"");
            ok = false;
        } else if (user == owner) {
            problems.push_back(where + "\"" + user + "\" owns the database already");
            ok = false;
        } else if (!ok) {
            continue;
        } else if (auto [it, fresh] = granted.emplace(database + " " + user, number); !fresh) {
            problems.push_back(where + "\"" + user + "\" has a grant for " + database + " already (line " +
                               std::to_string(it->second) + ")");
        } else {
            grants.push_back(Grant{owner, *category, user, access});
        }
    }
}

}  // namespace

std::vector<Grant> parse_grants(std::istream& in, const std::string& file_name, const UserExists& user_exists) {
    std::vector<Grant> grants;
    std::vector<std::string> problems;
    GrantedOn granted;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (trim(line).empty()) continue;
        parse_line(line, number, file_name + ":" + std::to_string(number) + ": ", user_exists, granted, grants,
                   problems);
        if (problems.size() >= max_problems) {
            problems.push_back(file_name + ": giving up after " + std::to_string(max_problems) + " problems");
            break;
        }
    }
    if (in.bad()) problems.push_back(file_name + ": read error");
    if (!problems.empty()) throw ConfigError(problems);
    return grants;
}

std::vector<Grant> read_grants_file(const std::string& path, const UserExists& user_exists) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
    return parse_grants(in, path, user_exists);
}

}  // namespace smk::httpd
