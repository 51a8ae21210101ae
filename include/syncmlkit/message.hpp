// The SyncML message model: one SyncML message (SyncHdr plus SyncBody) as plain
// values, independent of its encoding. The XML and WBXML codecs (wire.hpp)
// read SyncML 1.0, 1.1 and 1.2 into it and write it back.
//
// Text fields hold the element's text; an empty string means the element is
// absent (SyncML gives no meaning to an empty LocURI, CmdID, ...). Numbers stay
// text, exactly as the peer sent them, so a message survives a round trip byte
// for byte; `to_number()` reads one. Item data is kept exactly, line ends
// included: neither codec rewrites it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "syncmlkit/boxed.hpp"
#include "syncmlkit/devinf.hpp"
#include "syncmlkit/export.hpp"

namespace smk::wire {

/// SyncML version of a message, from VerDTD.
enum class Version { v1_0, v1_1, v1_2 };

/// Parses "1.0", "1.1", "1.2"; anything else is nullopt.
SMK_API std::optional<Version> parse_version(std::string_view ver_dtd);
/// "1.0", "1.1" or "1.2".
SMK_API const char* version_string(Version v);

/// Reads a decimal number field ("150000"); nullopt when empty or not a number.
SMK_API std::optional<std::uint64_t> to_number(std::string_view text);

/// `<Anchor>`: the sync anchors of a database.
struct SMK_API Anchor {
    std::string last;
    std::string next;
    bool operator==(const Anchor& o) const { return last == o.last && next == o.next; }
};

/// `<Mem>`: free memory of a database.
struct SMK_API Mem {
    bool shared_mem = false;
    std::string free_mem;
    std::string free_id;
    bool operator==(const Mem& o) const {
        return shared_mem == o.shared_mem && free_mem == o.free_mem && free_id == o.free_id;
    }
};

/// `<Meta>` (MetInf namespace).
struct SMK_API Meta {
    bool field_level = false;
    std::string format;  ///< "b64", "chr", "bin", ...
    std::string type;    ///< MIME type or auth type
    std::string mark;
    std::string size;
    std::optional<Anchor> anchor;
    std::string version;
    std::string next_nonce;
    std::string max_msg_size;
    std::string max_obj_size;
    std::vector<std::string> emi;
    std::optional<Mem> mem;
    bool empty() const;
    bool operator==(const Meta& o) const;
};

/// `<Target>` or `<Source>` (also SourceParent/TargetParent in 1.2).
struct SMK_API Location {
    std::string uri;   ///< LocURI
    std::string name;  ///< LocName
    bool empty() const { return uri.empty() && name.empty(); }
    bool operator==(const Location& o) const { return uri == o.uri && name == o.name; }
};

/// `<Cred>`: credentials; `<Chal>` uses only the Meta.
struct SMK_API Cred {
    Meta meta;
    std::string data;
    bool operator==(const Cred& o) const { return meta == o.meta && data == o.data; }
};

struct Item;

/// `<Filter>` in a 1.2 Target.
struct SMK_API Filter {
    Meta meta;
    std::vector<Item> field;   ///< at most one Item
    std::vector<Item> record;  ///< at most one Item
    std::string filter_type;
    bool operator==(const Filter& o) const;
};

/// `<Item>`.
struct SMK_API Item {
    Location target;
    Location source;
    Location source_parent;
    Location target_parent;
    std::vector<Filter> target_filter;  ///< Target/Filter (1.2), at most one
    Meta meta;
    /// The item's payload: a vCard, an alert or status code text, base64 text
    /// when meta.format is "b64". Empty when the Item carries a DevInf instead.
    std::string data;
    bool has_data = false;         ///< a `<Data>` element was present (possibly empty)
    Boxed<DevInf> devinf;         ///< `<Data>` held a DevInf document
    /// `<Data>` held an Anchor: the Status of a sync Alert echoes the Next
    /// anchor this way.
    std::optional<Anchor> data_anchor;
    bool more_data = false;        ///< `<MoreData/>`: a chunk of a large object
    bool operator==(const Item& o) const;
};

/// `<MapItem>`: the client's LUID for a server GUID.
struct SMK_API MapItem {
    Location target;  ///< server GUID
    Location source;  ///< client LUID
    bool operator==(const MapItem& o) const { return target == o.target && source == o.source; }
};

/// Every SyncML command, and the body's `<Final/>` is a flag of Message.
enum class CommandKind {
    Add, Alert, Atomic, Copy, Delete, Exec, Get, Map, Move, Put,
    Replace, Results, Search, Sequence, Status, Sync,
};

/// The element name of a command ("Add", "Alert", ...).
SMK_API const char* command_name(CommandKind kind);
/// The command of an element name; nullopt for anything else.
SMK_API std::optional<CommandKind> command_from_name(std::string_view name);

/// One command. A single struct serves all kinds; the comment of each field
/// names the commands that use it, and the codecs write only those.
struct SMK_API Command {
    CommandKind kind = CommandKind::Status;
    std::string cmd_id;
    bool no_resp = false;      ///< all but Status, Results, Map
    bool no_results = false;   ///< Search
    bool archive = false;      ///< Delete
    bool sft_del = false;      ///< Delete
    Boxed<Cred> cred;  ///< most; Status uses it for the server's credentials
    Boxed<Cred> chal;  ///< Status: Chal (only its Meta is written)
    std::string lang;          ///< Get, Put, Search
    Meta meta;
    Location target;           ///< Sync, Map, Search
    Location source;           ///< Sync, Map, Search (its first Source)
    std::vector<Location> more_sources;  ///< Search: further Sources
    /// Alert: the alert code. Status: the status code. Search: the query.
    std::string data;
    std::string correlator;    ///< Alert, Exec (1.2)
    std::string number_of_changes;  ///< Sync
    // Status and Results:
    std::string msg_ref;
    std::string cmd_ref;
    std::string cmd;  ///< Status: the name of the answered command, "SyncHdr" for the header
    std::vector<std::string> target_refs;
    std::vector<std::string> source_refs;
    std::vector<Item> items;
    std::vector<MapItem> map_items;  ///< Map
    std::vector<Command> children;   ///< Sync, Atomic, Sequence
    bool operator==(const Command& o) const;
    bool operator!=(const Command& o) const { return !(*this == o); }
};

/// `<SyncHdr>`.
struct SMK_API Header {
    std::string ver_dtd = "1.2";
    std::string ver_proto = "SyncML/1.2";
    std::string session_id;
    std::string msg_id;
    Location target;
    Location source;
    std::string resp_uri;
    bool no_resp = false;
    Boxed<Cred> cred;
    Meta meta;
    bool operator==(const Header& o) const;
};

/// One SyncML message.
struct SMK_API Message {
    Header header;
    std::vector<Command> body;
    bool final = false;  ///< `<Final/>`: this message ends its package
    /// Version from VerDTD; nullopt when VerDTD is not 1.0, 1.1 or 1.2.
    std::optional<Version> version() const { return parse_version(header.ver_dtd); }
    bool operator==(const Message& o) const;
    bool operator!=(const Message& o) const { return !(*this == o); }
};

}  // namespace smk::wire
