// Items between the client's format and the store's: the store keeps one
// copy in its native format; each client gets the format its DevInf prefers.
// Today contacts convert between vCard 2.1 and 3.0; other formats pass
// through as they are.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "syncmlkit/datastore.hpp"
#include "syncmlkit/devinf.hpp"

namespace smk::engine {

/// An item as the client sent it (`format` from the command's or item's
/// Meta) made ready for a store whose native format is `native`. Returns the
/// data to store; `stored` receives its format.
std::string to_store(Category category, const Format& format, std::string data, const Format& native, Format& stored);

/// A stored item in the format the client receives best (`wanted`, from its
/// DevInf; nullopt when unknown). Returns the data; `type` receives the
/// MIME type to announce.
std::string to_client(Category category, const StoredItem& item, const std::optional<wire::ContentType>& wanted,
                      std::string& type);

/// The format the client prefers to receive for its database `client_db`
/// (its Alert's Source): the DevInf datastore's Rx-Pref when it is one the
/// server can produce, else the first such Rx.
std::optional<wire::ContentType> preferred_rx(const wire::DevInf& devinf, const std::string& client_db,
                                              Category category);

/// The property names (upper case) the client's CTCap lists for the content
/// types of `category` in its database `client_db` (1.2 layout) or device-wide
/// (1.1 layout); empty when it sent none.
std::vector<std::string> ctcap_properties(const wire::DevInf& devinf, const std::string& client_db,
                                          Category category);

/// A client's Replace (already in the store's format) merged into the
/// stored item, so that fields the client cannot hold survive; for formats
/// without a merge the client's data as it is.
std::string merge_replace(Category category, const StoredItem& stored, const std::string& incoming,
                          const Format& incoming_format, const std::vector<std::string>& client_knows);

}  // namespace smk::engine
