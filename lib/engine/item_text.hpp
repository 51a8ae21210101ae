// A client's text item made valid UTF-8 before the engine reads or stores
// it: what goes into the store, and later back out inside XML declared as
// UTF-8, is always text XML can carry.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace smk::engine {

/// True for an item the engine treats as text: its Meta Format is empty or
/// "chr" (not "b64" or "bin") and its content type is empty (the store's
/// native format) or text/... (vCard, vCalendar, iCalendar, vNote, plain
/// text, SIF sent as text).
bool is_text_item(std::string_view format, std::string_view type);

/// Makes `data`, the item of such a client sent as text, valid UTF-8 that
/// holds only characters XML allows; returns the number of repairs, 0 when
/// `data` was valid and is left untouched. Content lines (vCard, vCalendar,
/// iCalendar, vNote) whose CHARSET is not UTF-8 carry that charset's bytes:
/// a line with 8-bit bytes and no transfer encoding is transcoded from it
/// (ICU; ISO-8859-1 read as Windows-1252) and its label becomes CHARSET=UTF-8,
/// one repair per 8-bit byte; likewise a whole XML document (SIF) whose
/// declaration names another encoding. Everything else follows
/// wire::repair_utf8: bytes that are not UTF-8 are read as Windows-1252, and
/// broken UTF-8 and characters XML forbids become U+FFFD.
std::size_t repair_item_text(std::string& data);

}  // namespace smk::engine
