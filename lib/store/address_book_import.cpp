// The Global Address Book import (address_book_import.hpp).
#include "store/address_book_import.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_set>
#include <vector>

namespace smk::store {
namespace {

bool starts_with_ignore_case(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

bool is_line(std::string_view line, std::string_view keyword) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    return line.size() == keyword.size() && starts_with_ignore_case(line, keyword);
}

// Splits a stream into vCards, BEGIN:VCARD to the matching END:VCARD (nested
// AGENT cards stay inside theirs). Lines end in CRLF or LF; each card comes
// out with CRLF line ends, so the same card read from either gives the same
// bytes and keeps its revision. Text outside cards and a card cut off by the
// end of input are skipped.
class VCardSplitter {
public:
    explicit VCardSplitter(std::istream& in) : in_(in) {}

    bool next(std::string& card) {
        card.clear();
        int depth = 0;
        std::string line;
        while (std::getline(in_, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (is_line(line, "BEGIN:VCARD")) ++depth;
            if (depth == 0) continue;
            card += line;
            card += "\r\n";
            if (is_line(line, "END:VCARD") && --depth == 0) return true;
        }
        if (in_.bad()) throw DatastoreError("reading the address book failed");
        return false;
    }

private:
    std::istream& in_;
};

// The values a directory entry's GUID is derived from.
struct EntryKeyFields {
    std::string uid, fn, email, tel;
};

// "item1.EMAIL;TYPE=work:a@b" -> name "EMAIL", value "a@b". The value starts
// after the first colon outside a quoted parameter value.
bool split_property(std::string_view line, std::string_view& name, std::string_view& value) {
    bool quoted = false;
    std::size_t colon = std::string_view::npos;
    for (std::size_t i = 0; i < line.size() && colon == std::string_view::npos; ++i) {
        if (line[i] == '"') quoted = !quoted;
        if (line[i] == ':' && !quoted) colon = i;
    }
    if (colon == std::string_view::npos) return false;
    name = line.substr(0, std::min(colon, line.find(';')));
    if (std::size_t dot = name.rfind('.'); dot != std::string_view::npos) name.remove_prefix(dot + 1);
    value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return true;
}

void note_property(EntryKeyFields& fields, std::string_view line) {
    std::string_view name, value;
    if (!split_property(line, name, value) || value.empty()) return;
    auto take_first = [&](std::string& field, std::string_view wanted) {
        if (field.empty() && is_line(name, wanted)) field = std::string(value);
    };
    take_first(fields.uid, "UID");
    take_first(fields.fn, "FN");
    take_first(fields.email, "EMAIL");
    take_first(fields.tel, "TEL");
}

// Unfolds the card (a line starting with a space or tab continues the one
// before) and notes the properties a key is made of.
EntryKeyFields key_fields(const std::string& card) {
    EntryKeyFields fields;
    std::string logical;
    std::size_t start = 0;
    while (start < card.size()) {
        std::size_t end = std::min(card.find("\r\n", start), card.size());
        std::string_view line(card.data() + start, end - start);
        start = end + 2;
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            logical.append(line.substr(1));
            continue;
        }
        note_property(fields, logical);
        logical.assign(line);
    }
    note_property(fields, logical);
    return fields;
}

// What identifies an entry from one import to the next: its UID, else its
// name with its first address or number, else all of it. Each kind carries
// its own prefix so that keys of different kinds never meet.
std::string entry_key(const std::string& card) {
    EntryKeyFields f = key_fields(card);
    if (!f.uid.empty()) return "UID:" + f.uid;
    if (!f.fn.empty() && !f.email.empty()) return "FN+EMAIL:" + f.fn + '\n' + f.email;
    if (!f.fn.empty() && !f.tel.empty()) return "FN+TEL:" + f.fn + '\n' + f.tel;
    return "TEXT:" + card;
}

std::uint64_t fnv1a_64(std::string_view bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

// "gab-" and 16 hex digits: short, and never equal to a counter GUID.
std::string directory_guid(const std::string& key) {
    static const char digits[] = "0123456789abcdef";
    std::uint64_t hash = fnv1a_64(key);
    std::string guid = "gab-0000000000000000";
    for (std::size_t i = guid.size(); i-- > 4; hash >>= 4) guid[i] = digits[hash & 0xF];
    return guid;
}

// Writes the entry unless the store holds it already, byte for byte: an
// unchanged entry keeps its revision, so no client downloads it again.
void store_if_changed(Datastore& directory, const PutWithGuid& put, const std::string& guid, const std::string& card,
                      ItemCounts& counts) {
    std::optional<StoredItem> old = directory.read(guid);
    Format format = directory.native_format();
    if (old && old->data == card && old->format == format) {
        ++counts.unchanged;
        return;
    }
    put(guid, format, card);
    ++(old ? counts.changed : counts.added);
}

// Removes the entries this import did not bring. The GUIDs are collected
// first: rows must not be deleted under an open listing.
std::size_t remove_entries_except(Datastore& directory, const std::unordered_set<std::string>& kept) {
    std::vector<std::string> dropped;
    {
        std::unique_ptr<ItemCursor> listing = directory.list();
        ItemVersion item;
        while (listing->next(item))
            if (!kept.count(item.guid)) dropped.push_back(item.guid);
    }
    for (const std::string& guid : dropped) directory.remove(guid);
    return dropped.size();
}

}  // namespace

std::size_t import_directory(Datastore& directory, const PutWithGuid& put, std::istream& vcf, ItemCounts& counts) {
    counts = ItemCounts{};
    std::unordered_set<std::string> kept;  // GUIDs of this import; a repeated entry counts once
    directory.begin();
    try {
        VCardSplitter splitter(vcf);
        std::string card;
        while (splitter.next(card)) {
            std::string guid = directory_guid(entry_key(card));
            if (kept.insert(guid).second) store_if_changed(directory, put, guid, card, counts);
            else ++counts.repeated;
        }
        counts.removed = remove_entries_except(directory, kept);
        directory.commit();
    } catch (...) {
        directory.rollback();
        throw;
    }
    return kept.size();
}

}  // namespace smk::store
