// What is wrong with the command line or a configuration file, as messages
// that name the place ("users.txt:3: ...").
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace smk::httpd {

class ConfigError : public std::runtime_error {
public:
    /// One message per problem; what() joins them with line breaks.
    explicit ConfigError(std::vector<std::string> problems)
        : std::runtime_error(join(problems)), problems_(std::move(problems)) {}
    explicit ConfigError(const std::string& problem) : ConfigError(std::vector<std::string>{problem}) {}

    const std::vector<std::string>& problems() const { return problems_; }

private:
    static std::string join(const std::vector<std::string>& lines) {
        std::string out;
        for (const auto& l : lines) {
            if (!out.empty()) out += '\n';
            out += l;
        }
        return out;
    }
    std::vector<std::string> problems_;
};

}  // namespace smk::httpd
