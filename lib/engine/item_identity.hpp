// What makes two copies of an item "the same item" when a slow sync or a
// refresh has to pair a client's items with the server's without a mapping:
// a few identifying properties, normalised, since clients re-encode items
// (property order, line ends, folding, PRODID and UID all change).
#pragma once

#include <string>
#include <string_view>

#include "syncmlkit/datastore.hpp"

namespace smk::engine {

/// Contacts: N, FN, EMAIL, TEL. Events: SUMMARY, DTSTART, DTEND, RRULE.
/// Tasks: SUMMARY, DUE, STATUS, PRIORITY. Empty when the data has none.
std::string identity_key(Category category, std::string_view data);

}  // namespace smk::engine
