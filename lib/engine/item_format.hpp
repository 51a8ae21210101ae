// Items between the client's format and the store's: the store keeps one
// copy in its native format; each client gets the format its DevInf prefers,
// converted through the PIM layer's model (pim.hpp) with the client's
// profile, and a client's Replace never wipes what it could not hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "syncmlkit/datastore.hpp"
#include "syncmlkit/devinf.hpp"
#include "syncmlkit/pim.hpp"

namespace smk::engine {

/// What the engine knows of a client's database: the format it receives
/// best (nullopt: unknown, it gets the native format), the property names
/// its CTCap lists (empty: none sent), and its conversion profile.
struct ClientView {
    std::optional<wire::ContentType> rx;
    std::vector<std::string> knows;
    pim::Profile profile;
};

/// An item ready for the store (or for the client), with what the
/// conversion had to say.
struct Converted {
    std::string data;
    Format format;
    std::vector<pim::Warning> warnings;
};

/// A client's item (`sent`: its Meta type and version, may be empty) in the
/// store's `native` format. Items that cannot be read stay as they came, in
/// their own format, with a warning: nothing is dropped.
Converted to_store(const Format& sent, std::string data, const Format& native, const ClientView& client);

/// A client's Replace of `current` (native format), merged so that the
/// fields the client cannot hold keep the stored values.
Converted replace_in_store(const StoredItem& current, const Format& sent, std::string data, const Format& native,
                           const ClientView& client);

/// A stored item in the client's format: data, MIME type and transfer
/// encoding ("b64" for SIF, which Funambol clients take base64-encoded).
struct Outgoing {
    std::string data;
    std::string type;
    std::string encoding;
    std::vector<pim::Warning> warnings;
};
/// With `drop_alarms_before` (seconds since 1970 UTC: now), the events and
/// tasks go without the alarms whose time has passed then (see
/// pim::drop_past_alarms; floating times in the client's profile zone), even
/// in the store's own format: a refresh from the server and a slow sync send
/// the client every item anew, and a Recover must not make old reminders
/// fire again. The stored item is not changed, and an item that loses no
/// alarm goes out as it would without this.
Outgoing to_client(const StoredItem& item, const ClientView& client,
                   std::optional<std::int64_t> drop_alarms_before = std::nullopt);

/// The format the client prefers to receive for its database `client_db`
/// (its Alert's Source): the DevInf datastore's Rx-Pref when it is one the
/// server can produce for `category`, else the first such Rx.
std::optional<wire::ContentType> preferred_rx(const wire::DevInf& devinf, const std::string& client_db,
                                              Category category);

/// The property names (upper case) the client's CTCap lists for the content
/// types of `category` in its database `client_db` (1.2 layout) or device-wide
/// (1.1 layout); empty when it sent none.
std::vector<std::string> ctcap_properties(const wire::DevInf& devinf, const std::string& client_db,
                                          Category category);

}  // namespace smk::engine
