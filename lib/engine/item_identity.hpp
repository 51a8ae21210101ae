// What makes two copies of an item "the same item" when a slow sync or a
// refresh has to pair a client's items with the server's without a mapping.
// Items are read through the PIM model (pim::identity_of), so that what
// clients change when they write an item back (property order, encodings,
// escaping, folding, empty properties, PRODID, REV, UID) does not matter.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "syncmlkit/datastore.hpp"
#include "syncmlkit/pim.hpp"

namespace smk::engine {

/// The item in the model, or nullopt when its format is not one the PIM
/// layer reads or nothing could be read.
std::optional<pim::Item> read_model(const Format& format, std::string_view data);

/// The identity of an item in `format`. An item the model cannot read gets
/// a key from its identifying lines as written (contacts: N, FN, EMAIL, TEL;
/// events: SUMMARY, DTSTART; tasks: SUMMARY, DUE; notes: SUMMARY, BODY),
/// empty values left out; no details.
pim::Identity identity(Category category, const Format& format, std::string_view data);

}  // namespace smk::engine
