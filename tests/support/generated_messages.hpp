// Messages made up for tests and benchmarks: every command and field the
// model knows, tricky payloads, and large contact syncs.
#pragma once

#include <cstddef>

#include "syncmlkit/message.hpp"

namespace smk::test {

/// A DevInf with every element, datastore CTCaps in the 1.2 layout and a
/// device-level CTCap list in the 1.1 layout.
wire::DevInf sample_devinf(const char* ver_dtd, unsigned seed);

/// A message holding every command kind with every field its content model
/// has, filled from `seed`; payloads include CRLF, bare LF, "]]>", markup
/// characters and non-ASCII text. `devinf_type` is the Meta Type of its Put
/// and Results ("application/vnd.syncml-devinf+xml" or "+wbxml").
wire::Message sample_message(wire::Version version, unsigned seed, const char* devinf_type);

/// A client's Sync message carrying `contacts` vCard 2.1 Adds of about 500
/// bytes each in XML (300 make a message of about 150 kB).
wire::Message contacts_message(std::size_t contacts);

}  // namespace smk::test
