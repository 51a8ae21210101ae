#include "engine/database_name.hpp"

namespace smk::engine {
namespace {

constexpr std::string_view kGlobalAddressBook = "Global Address Book";

std::optional<Category> category_of(std::string_view name, const std::map<std::string, std::string>& aliases) {
    struct Builtin {
        const char* name;
        Category category;
    };
    // The category names, and the Funambol plug-ins' default remote names.
    static const Builtin kBuiltins[] = {
        {"contacts", Category::contacts}, {"card", Category::contacts},   {"scard", Category::contacts},
        {"calendar", Category::calendar}, {"event", Category::calendar},  {"sevent", Category::calendar},
        {"scal", Category::calendar},     {"cal", Category::calendar},    {"tasks", Category::tasks},
        {"task", Category::tasks},        {"stask", Category::tasks},     {"notes", Category::notes},
        {"note", Category::notes},        {"snote", Category::notes},
    };
    for (const Builtin& b : kBuiltins)
        if (name == b.name) return b.category;
    auto alias = aliases.find(std::string(name));
    if (alias != aliases.end() && alias->second != alias->first) return category_of(alias->second, {});
    return std::nullopt;
}

}  // namespace

std::optional<DatabaseName> parse_database_name(std::string_view raw, const std::string& user,
                                                const std::map<std::string, std::string>& aliases) {
    std::string_view name = raw.substr(0, raw.find('?'));
    if (name.substr(0, 2) == "./") name.remove_prefix(2);
    std::size_t slash = name.rfind('/');
    if (slash == std::string_view::npos) {
        auto category = category_of(name, aliases);
        if (!category) return std::nullopt;
        return DatabaseName{user, *category, false};
    }
    std::string_view owner = name.substr(0, slash);
    auto category = category_of(name.substr(slash + 1), aliases);
    if (!category || owner.empty()) return std::nullopt;
    if (owner == kGlobalAddressBook) {
        if (*category != Category::contacts) return std::nullopt;
        return DatabaseName{"", Category::contacts, true};
    }
    return DatabaseName{std::string(owner), *category, false};
}

}  // namespace smk::engine
