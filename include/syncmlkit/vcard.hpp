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

namespace smk::pim {

enum class VCardVersion { v2_1, v3_0 };

/// Something in the input that was not as the version says, with what was
/// done about it. `line` counts physical lines from 1.
struct Warning {
    int line = 0;
    std::string message;
};

/// The VERSION a vCard declares; 3.0 when it declares none or another.
SMK_API VCardVersion vcard_version(std::string_view vcard);

/// Rewrites one vCard (BEGIN:VCARD ... END:VCARD) in `to`. Unknown and X-
/// properties are carried over. Problems become warnings; nothing throws.
/// Output lines end in CRLF; 3.0 lines are folded at 75 octets.
SMK_API std::string convert_vcard(std::string_view vcard, VCardVersion to, std::vector<Warning>* warnings = nullptr);

}  // namespace smk::pim
