// The bodies of the fuzz targets, as plain functions: the libFuzzer targets
// (fuzz_main.cpp, SMK_FUZZ=ON) and the regression test
// (tests/unit/test_fuzz_regressions.cpp, every build) call the same code.
// Each returns 0; a bug shows up as a crash, a sanitizer report, an uncaught
// exception or an abort() from a broken invariant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace smk::fuzz {

using EntryFunction = int (*)(const std::uint8_t* data, std::size_t size);

/// wire::decode of XML; what decodes is encoded again and must decode to the same.
int xml_decode(const std::uint8_t* data, std::size_t size);
/// The same for WBXML.
int wbxml_decode(const std::uint8_t* data, std::size_t size);

// PIM readers. The first byte chooses the exact format of the family (its
// low bits), the client profile and whether a user time zone is set; the rest
// is the item. What reads is written in every format of its kind, and what
// is written is read again.
int pim_vcard(const std::uint8_t* data, std::size_t size);      ///< vCard 2.1, 3.0, 4.0
int pim_vcalendar(const std::uint8_t* data, std::size_t size);  ///< vCalendar 1.0
int pim_icalendar(const std::uint8_t* data, std::size_t size);  ///< iCalendar 2.0
int pim_sif(const std::uint8_t* data, std::size_t size);        ///< SIF-C, -E, -T, -N
int pim_note(const std::uint8_t* data, std::size_t size);       ///< vNote 1.1, text/plain

/// Whole sessions: the input is split at kSessionSeparator into at most
/// kMaxSessionMessages messages, each sent through Server::process (XML or
/// WBXML as sniffed) of one fresh server on fresh in-memory stores, following
/// RespURI as a client does. Users: test/test, alice/secret, bob/hunter2
/// (bob may read alice's contacts), and a global address book.
int session(const std::uint8_t* data, std::size_t size);
inline constexpr std::string_view kSessionSeparator = "\n#SMK-NEXT-MESSAGE#\n";
inline constexpr std::size_t kMaxSessionMessages = 8;

/// The target of that name ("xml_decode", ..., "session"); nullptr if none.
EntryFunction entry_named(std::string_view name);

}  // namespace smk::fuzz
