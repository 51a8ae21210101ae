// Database names as the users of a mail server's SyncML service type them:
// "contacts", "calendar", "tasks", "notes" (their own), "bob/contacts" (another
// user's, shared with them), "Global Address Book/contacts" (the
// organisation's directory), and the Funambol plug-in's defaults ("card",
// "scal", ...) as aliases. Names are case- and space-exact.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "syncmlkit/datastore.hpp"

namespace smk::engine {

struct DatabaseName {
    std::string owner;  ///< whose database; empty for the Global Address Book
    Category category = Category::contacts;
    bool global_address_book = false;
    /// The same database, whatever name the client gave it.
    bool operator==(const DatabaseName& o) const {
        return owner == o.owner && category == o.category && global_address_book == o.global_address_book;
    }
};

/// Parses `raw` (an Alert's Target LocURI) for `user`. A leading "./" and a
/// "?options" suffix are ignored. `aliases` adds names for the user's own
/// databases (alias -> "contacts", "calendar", "tasks" or "notes").
std::optional<DatabaseName> parse_database_name(std::string_view raw, const std::string& user,
                                                const std::map<std::string, std::string>& aliases);

}  // namespace smk::engine
