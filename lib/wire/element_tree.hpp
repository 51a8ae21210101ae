// The element tree decode() reads a message through: elements and text in
// one flat vector, names and text as views of the input where they can be
// (the rest in one text arena), each element's Tag looked up once. Both
// decoders build it (the XML one falls back to pugixml for what it does not
// take on itself); model_reader turns it into a Message. One tree per thread
// is kept and reused, so decoding a message allocates nothing but the model.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "syncmlkit/wire.hpp"
#include "tags.hpp"

namespace smk::wire {

/// Names to Tags and back, built once. A name's Tag is read by its local
/// name (what follows a prefix's colon); the vocabularies' shared names
/// ("Size", "SourceRef", ...) give the first Tag of that name, the canonical
/// one. Tag::Count_ for a name no vocabulary has.
class TagTable {
public:
    TagTable();
    /// The canonical Tag of a local name.
    Tag find(std::string_view local_name) const;
    Tag canonical(Tag tag) const { return canonical_[static_cast<std::size_t>(tag)]; }
    std::string_view name(Tag tag) const { return name_[static_cast<std::size_t>(tag)]; }

private:
    static constexpr std::size_t kSlots = 512;
    static std::size_t hash(std::string_view s);
    std::array<Tag, kSlots> slots_{};
    std::array<Tag, static_cast<std::size_t>(Tag::Count_) + 1> canonical_{};
    std::array<std::string_view, static_cast<std::size_t>(Tag::Count_) + 1> name_{};
};
const TagTable& tag_table();

/// What follows the colon of a prefixed name; the name when it has none.
std::string_view local_part(std::string_view name);

class ElementTree {
public:
    enum class Kind : std::uint8_t { document, element, pcdata, cdata };
    static constexpr std::uint32_t npos = 0xFFFFFFFFu;

    struct Node {
        std::uint32_t parent = npos, first_child = npos, last_child = npos, next_sibling = npos;
        // Element: its name. Text: its value, in the arena when `ptr` is null.
        const char* ptr = nullptr;
        std::uint32_t off = 0, len = 0;
        Kind kind = Kind::element;
        Tag tag = Tag::Count_;           // elements: the canonical Tag of the local name
        const char* xmlns = nullptr;     // WBXML: the xmlns attribute render_xml writes
        std::int64_t offset = -1;        // byte offset for errors, -1 when unknown
    };

    /// Empties the tree, keeping its memory; node 0 is the document.
    void clear();
    /// Gives memory back after an unusually large message.
    void trim();

    std::uint32_t append_element(std::uint32_t parent, std::string_view name, Tag tag, std::int64_t offset = -1);
    /// Text kept by reference: `value` must outlive the tree's use.
    std::uint32_t append_text_ref(std::uint32_t parent, std::string_view value, Kind kind);
    /// Text copied into the arena.
    std::uint32_t append_text_copy(std::uint32_t parent, std::string_view value, Kind kind);
    /// Appends to the arena (for text built piece by piece): returns its offset.
    std::string& arena() { return arena_; }
    std::uint32_t append_text_arena(std::uint32_t parent, std::uint32_t off, std::uint32_t len, Kind kind);

    /// Links a subtree built under `detached` (a parent of its own) under `parent`.
    void adopt_children(std::uint32_t detached, std::uint32_t parent);
    /// A checkpoint to roll back to (nodes and arena beyond it are dropped).
    struct Mark {
        std::size_t nodes, arena;
    };
    Mark mark() const { return {nodes_.size(), arena_.size()}; }
    void rollback(Mark m) {
        nodes_.resize(m.nodes);
        arena_.resize(m.arena);
    }

    const Node& node(std::uint32_t i) const { return nodes_[i]; }
    Node& node(std::uint32_t i) { return nodes_[i]; }
    std::size_t size() const { return nodes_.size(); }
    std::string_view view(const Node& n) const {
        return {n.ptr ? n.ptr + n.off : arena_.data() + n.off, n.len};
    }
    /// The first element child of the document, or npos.
    std::uint32_t document_element() const;

    /// The tree as a pugixml document (render_xml prints WBXML this way).
    void to_pugi(pugi::xml_document& doc) const;
    /// Copies a pugixml document in (its names and text stay in `doc`).
    void from_pugi(const pugi::xml_document& doc);

private:
    std::uint32_t link(std::uint32_t parent, Node n);
    std::vector<Node> nodes_;
    std::string arena_;
};

/// The calling thread's tree while `TreeLease` lives; a tree of its own when
/// the thread's is already leased.
class TreeLease {
public:
    TreeLease();
    ~TreeLease();
    TreeLease(const TreeLease&) = delete;
    TreeLease& operator=(const TreeLease&) = delete;
    ElementTree& operator*() { return *tree_; }
    ElementTree* operator->() { return tree_; }

private:
    ElementTree* tree_;
    ElementTree own_;
    bool shared_;
};

/// WBXML to tree, the checks of parse_wbxml_tree included.
void parse_wbxml(std::string_view bytes, const DecodeLimits& limits, ElementTree& tree);
/// XML to tree without pugixml, for the plain XML SyncML messages are made
/// of. Returns false, leaving the tree in any state, for anything else
/// (comments, a DOCTYPE, entities beyond the predefined five, other
/// encodings, nesting near the limit, a malformed document): the caller
/// parses those with pugixml, which refuses or reads them as it always has.
bool parse_plain_xml(std::string_view bytes, const DecodeLimits& limits, ElementTree& tree);

/// Turns a tree into the model. Throws DecodeError when the tree is not a
/// SyncML message.
Message read_message(const ElementTree& tree, const DecodeLimits& limits);

}  // namespace smk::wire
