// vCard 2.1 <-> 3.0 conversion, property for property: folding, quoted-
// printable with soft breaks, CHARSET, nameless parameters, escaping and
// binary encodings differ between the versions; what the text says does not
// change. Usable on its own; the engine converts with it between a client's
// format and the store's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "syncmlkit/export.hpp"
#include "syncmlkit/pim.hpp"

namespace smk::pim {

enum class VCardVersion { v2_1, v3_0 };

/// The VERSION a vCard declares; 3.0 when it declares none or another.
SMK_API VCardVersion vcard_version(std::string_view vcard);

/// Rewrites one vCard (BEGIN:VCARD ... END:VCARD) in `to`. Unknown and X-
/// properties are carried over. Problems become warnings; nothing throws.
/// Output lines end in CRLF; 3.0 lines are folded at 75 octets.
SMK_API std::string convert_vcard(std::string_view vcard, VCardVersion to, std::vector<Warning>* warnings = nullptr);

/// A client's Replace of a contact merged into the server's copy, both vCard
/// 3.0, so that a Replace never wipes what the client could not hold: the
/// client's properties replace the server's of the same name; a server
/// property whose name is not in `client_knows` (the property names of the
/// client's CTCap) and that the client did not send is kept; a property the
/// client sends empty clears that field. With `client_knows` empty the
/// client's item is taken as it is (minus its empty properties).
SMK_API std::string merge_vcard(std::string_view server, std::string_view client,
                                const std::vector<std::string>& client_knows);

}  // namespace smk::pim
