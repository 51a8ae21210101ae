// The element tree, its Tag lookup, its conversions to and from pugixml, and
// the plain XML parser that fills it without pugixml.
#include "element_tree.hpp"

#include <array>
#include <cstring>

#include "text.hpp"

namespace smk::wire {
namespace {

// Names are short: a plain loop beats a call of memcmp.
inline bool same(const char* a, const char* b, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return false;
    return true;
}

}  // namespace

// Name -> Tag: open addressing over every distinct name of the vocabularies.
TagTable::TagTable() {
    slots_.fill(Tag::Count_);
    for (std::size_t i = 0; i < static_cast<std::size_t>(Tag::Count_); ++i) {
        auto tag = static_cast<Tag>(i);
        name_[i] = tag_info(tag).name;
        Tag first = find(name_[i]);
        canonical_[i] = first == Tag::Count_ ? tag : first;
        if (first != Tag::Count_) continue;
        std::size_t h = hash(name_[i]);
        while (slots_[h] != Tag::Count_) h = (h + 1) & (kSlots - 1);
        slots_[h] = tag;
    }
    canonical_[static_cast<std::size_t>(Tag::Count_)] = Tag::Count_;
}

std::size_t TagTable::hash(std::string_view s) {
    if (s.empty()) return 0;
    std::size_t h = s.size() * 131u + static_cast<unsigned char>(s[0]) * 31u +
                    static_cast<unsigned char>(s[s.size() - 1]) * 7u + static_cast<unsigned char>(s[s.size() / 2]);
    return h & (kSlots - 1);
}

Tag TagTable::find(std::string_view name) const {
    for (std::size_t h = hash(name);; h = (h + 1) & (kSlots - 1)) {
        Tag t = slots_[h];
        if (t == Tag::Count_) return t;
        std::string_view n = name_[static_cast<std::size_t>(t)];
        if (n.size() == name.size() && same(n.data(), name.data(), name.size())) return t;
    }
}

const TagTable& tag_table() {
    static const TagTable table;
    return table;
}

std::string_view local_part(std::string_view name) {
    for (std::size_t i = 0; i < name.size(); ++i)
        if (name[i] == ':') return name.substr(i + 1);
    return name;
}

// ---- the tree ----

void ElementTree::clear() {
    nodes_.clear();
    arena_.clear();
    Node doc;
    doc.kind = Kind::document;
    nodes_.push_back(doc);
}

void ElementTree::trim() {
    // A tree that grew past a few megabytes for one big message is not kept
    // for the thread's next (usually small) one.
    constexpr std::size_t kKeepBytes = 4u << 20;
    if (nodes_.capacity() * sizeof(Node) > kKeepBytes) std::vector<Node>().swap(nodes_);
    if (arena_.capacity() > kKeepBytes) std::string().swap(arena_);
}

std::uint32_t ElementTree::link(std::uint32_t parent, Node n) {
    auto index = static_cast<std::uint32_t>(nodes_.size());
    n.parent = parent;
    if (parent != npos) {
        Node& p = nodes_[parent];
        if (p.last_child == npos) p.first_child = index;
        else nodes_[p.last_child].next_sibling = index;
        p.last_child = index;
    }
    nodes_.push_back(n);
    return index;
}

std::uint32_t ElementTree::append_element(std::uint32_t parent, std::string_view name, Tag tag, std::int64_t offset) {
    Node n;
    n.kind = Kind::element;
    n.ptr = name.data();
    n.len = static_cast<std::uint32_t>(name.size());
    n.tag = tag;
    n.offset = offset;
    return link(parent, n);
}

std::uint32_t ElementTree::append_text_ref(std::uint32_t parent, std::string_view value, Kind kind) {
    Node n;
    n.kind = kind;
    n.ptr = value.data();
    n.len = static_cast<std::uint32_t>(value.size());
    return link(parent, n);
}

std::uint32_t ElementTree::append_text_copy(std::uint32_t parent, std::string_view value, Kind kind) {
    auto off = static_cast<std::uint32_t>(arena_.size());
    arena_.append(value);
    return append_text_arena(parent, off, static_cast<std::uint32_t>(value.size()), kind);
}

std::uint32_t ElementTree::append_text_arena(std::uint32_t parent, std::uint32_t off, std::uint32_t len, Kind kind) {
    Node n;
    n.kind = kind;
    n.ptr = nullptr;
    n.off = off;
    n.len = len;
    return link(parent, n);
}

void ElementTree::adopt_children(std::uint32_t detached, std::uint32_t parent) {
    for (std::uint32_t c = nodes_[detached].first_child; c != npos;) {
        std::uint32_t next = nodes_[c].next_sibling;
        nodes_[c].next_sibling = npos;
        Node& p = nodes_[parent];
        if (p.last_child == npos) p.first_child = c;
        else nodes_[p.last_child].next_sibling = c;
        p.last_child = c;
        nodes_[c].parent = parent;
        c = next;
    }
    nodes_[detached].first_child = nodes_[detached].last_child = npos;
}

std::uint32_t ElementTree::document_element() const {
    for (std::uint32_t c = nodes_.empty() ? npos : nodes_[0].first_child; c != npos; c = nodes_[c].next_sibling)
        if (nodes_[c].kind == Kind::element) return c;
    return npos;
}

void ElementTree::to_pugi(pugi::xml_document& doc) const {
    doc.reset();
    if (nodes_.empty()) return;
    struct Step {
        std::uint32_t node;
        pugi::xml_node out;
    };
    std::vector<Step> stack{{nodes_[0].first_child, doc}};
    while (!stack.empty()) {
        Step& top = stack.back();
        if (top.node == npos) {
            stack.pop_back();
            continue;
        }
        const Node& n = nodes_[top.node];
        pugi::xml_node parent = top.out;
        top.node = n.next_sibling;
        if (n.kind == Kind::element) {
            pugi::xml_node e = parent.append_child(std::string(view(n)).c_str());
            if (n.xmlns) e.append_attribute("xmlns") = n.xmlns;
            stack.push_back({n.first_child, e});
        } else {
            std::string_view v = view(n);
            parent.append_child(n.kind == Kind::cdata ? pugi::node_cdata : pugi::node_pcdata)
                .set_value(v.data(), v.size());
        }
    }
}

void ElementTree::from_pugi(const pugi::xml_document& doc) {
    clear();
    struct Step {
        pugi::xml_node in;
        std::uint32_t parent;
    };
    std::vector<Step> stack{{doc.first_child(), 0}};
    while (!stack.empty()) {
        Step& top = stack.back();
        if (!top.in) {
            stack.pop_back();
            continue;
        }
        pugi::xml_node n = top.in;
        std::uint32_t parent = top.parent;
        top.in = n.next_sibling();
        if (n.type() == pugi::node_element) {
            std::string_view name = n.name();
            std::uint32_t e = append_element(parent, name, tag_table().find(local_part(name)),
                                             static_cast<std::int64_t>(n.offset_debug()));
            stack.push_back({n.first_child(), e});
        } else if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
            append_text_ref(parent, n.value(), n.type() == pugi::node_cdata ? Kind::cdata : Kind::pcdata);
        }
    }
}

// ---- the thread's tree ----

namespace {
struct ThreadTree {
    ElementTree tree;
    bool leased = false;
};
thread_local ThreadTree t_tree;
}  // namespace

TreeLease::TreeLease() : shared_(!t_tree.leased) {
    tree_ = shared_ ? &t_tree.tree : &own_;
    if (shared_) t_tree.leased = true;
    tree_->clear();
}

TreeLease::~TreeLease() {
    if (!shared_) return;
    t_tree.tree.trim();
    t_tree.leased = false;
}

// ---- plain XML ----

namespace {

class PlainXml {
public:
    PlainXml(std::string_view in, const DecodeLimits& limits, ElementTree& tree)
        : in_(in), limits_(limits), tree_(tree), names_(tag_table()), chars_(name_chars()) {}

    bool parse() {
        if (in_.find('\0') != std::string_view::npos) return false;
        if (in_.size() >= 3 && in_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
        if (in_.compare(pos_, 5, "<?xml") == 0 && !declaration()) return false;
        skip_ws();
        if (!at('<') || !element_start()) return false;  // the root element
        while (depth_ > 0) {
            if (pos_ + 1 >= in_.size()) return false;
            if (in_[pos_] != '<') {
                if (!text()) return false;
            } else if (in_[pos_ + 1] == '/') {
                if (!element_end()) return false;
            } else if (in_[pos_ + 1] == '!') {
                if (in_.size() - pos_ < 9 || !same(in_.data() + pos_, "<![CDATA[", 9) || !cdata()) return false;
            } else if (!element_start()) {
                return false;
            }
        }
        skip_ws();
        return pos_ == in_.size();
    }

private:
    bool at(char c) const { return pos_ < in_.size() && in_[pos_] == c; }
    static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
    void skip_ws() {
        while (pos_ < in_.size() && is_ws(in_[pos_])) ++pos_;
    }
    // 1: may start a name, 2: may continue one (ASCII names only).
    struct NameChars {
        std::array<std::uint8_t, 256> c{};
        NameChars() {
            for (int i = 0; i < 256; ++i) {
                bool start = (i >= 'A' && i <= 'Z') || (i >= 'a' && i <= 'z') || i == '_' || i == ':';
                bool more = start || (i >= '0' && i <= '9') || i == '-' || i == '.';
                c[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((start ? 1 : 0) | (more ? 2 : 0));
            }
        }
    };
    static const NameChars& name_chars() {
        static const NameChars table;
        return table;
    }

    std::string_view name() {
        std::size_t start = pos_;
        const std::uint8_t* cls = chars_.c.data();
        if (pos_ >= in_.size() || !(cls[static_cast<unsigned char>(in_[pos_])] & 1)) return {};
        ++pos_;
        while (pos_ < in_.size() && (cls[static_cast<unsigned char>(in_[pos_])] & 2)) ++pos_;
        return in_.substr(start, pos_ - start);
    }

    // <?xml version="1.0" encoding="UTF-8"?>: only UTF-8 (or no encoding) is read here.
    bool declaration() {
        std::size_t end = in_.find("?>", pos_);
        if (end == std::string_view::npos) return false;
        std::string_view decl = in_.substr(pos_ + 5, end - pos_ - 5);
        if (decl.empty() || !is_ws(decl[0])) return false;
        std::size_t enc = decl.find("encoding");
        if (enc != std::string_view::npos) {
            std::size_t q = decl.find_first_of("\"'", enc);
            if (q == std::string_view::npos) return false;
            std::size_t q2 = decl.find(decl[q], q + 1);
            if (q2 == std::string_view::npos) return false;
            std::string_view value = decl.substr(q + 1, q2 - q - 1);
            if (!equals_ignore_case(value, "UTF-8")) return false;
        }
        pos_ = end + 2;
        return true;
    }

    bool element_start() {
        ++pos_;  // '<'
        std::size_t name_at = pos_;
        std::string_view n = name();
        if (n.empty()) return false;
        // Text is one level below its element: stay clear of the limit and
        // let pugixml and the depth check decide near it.
        if (depth_ + 2 > limits_.max_depth) return false;
        std::uint32_t parent = open_.empty() ? 0 : open_.back().node;
        std::uint32_t e = tree_.append_element(parent, n, names_.find(local_part(n)), static_cast<std::int64_t>(name_at));
        // Attributes: read and dropped (the model has none).
        for (;;) {
            std::size_t before = pos_;
            skip_ws();
            if (pos_ >= in_.size()) return false;
            char c = in_[pos_];
            if (c == '/') {
                if (!(pos_ + 1 < in_.size() && in_[pos_ + 1] == '>')) return false;
                pos_ += 2;
                return true;  // empty element: nothing opened
            }
            if (c == '>') {
                ++pos_;
                open_.push_back({e, n});
                ++depth_;
                return true;
            }
            if (pos_ == before) return false;  // attributes are separated by white space
            if (name().empty()) return false;
            skip_ws();
            if (!at('=')) return false;
            ++pos_;
            skip_ws();
            if (!at('"') && !at('\'')) return false;
            char quote = in_[pos_++];
            std::size_t end = in_.find(quote, pos_);
            if (end == std::string_view::npos) return false;
            for (std::size_t i = pos_; i < end; ++i)
                if (in_[i] == '<' || in_[i] == '&') return false;
            pos_ = end + 1;
        }
    }

    bool element_end() {
        pos_ += 2;
        std::string_view n = name();
        skip_ws();
        if (!at('>') || open_.empty() || n.size() != open_.back().name.size() ||
            !same(n.data(), open_.back().name.data(), n.size()))
            return false;
        ++pos_;
        open_.pop_back();
        --depth_;
        return true;
    }

    bool cdata() {
        pos_ += 9;
        std::size_t end = in_.find("]]>", pos_);
        if (end == std::string_view::npos) return false;
        tree_.append_text_ref(open_.back().node, in_.substr(pos_, end - pos_), ElementTree::Kind::cdata);
        pos_ = end + 3;
        return true;
    }

    // Text up to the next '<'. White space alone is dropped, as pugixml does
    // without parse_ws_pcdata; the five predefined entities and character
    // references of characters XML allows are expanded.
    bool text() {
        std::size_t start = pos_;
        const void* lt = std::memchr(in_.data() + pos_, '<', in_.size() - pos_);
        std::size_t end = lt ? static_cast<std::size_t>(static_cast<const char*>(lt) - in_.data()) : in_.size();
        pos_ = end;
        std::string_view t = in_.substr(start, end - start);
        bool all_ws = true;
        for (char c : t)
            if (!is_ws(c)) {
                all_ws = false;
                break;
            }
        if (all_ws) return true;
        std::uint32_t owner = open_.back().node;
        std::size_t amp = t.find('&');
        if (amp == std::string_view::npos) {
            tree_.append_text_ref(owner, t, ElementTree::Kind::pcdata);
            return true;
        }
        std::string& arena = tree_.arena();
        auto off = static_cast<std::uint32_t>(arena.size());
        std::size_t i = 0;
        while (amp != std::string_view::npos) {
            arena.append(t.data() + i, amp - i);
            std::size_t semi = t.find(';', amp);
            if (semi == std::string_view::npos) return false;
            std::string_view ref = t.substr(amp + 1, semi - amp - 1);
            if (ref == "lt") arena += '<';
            else if (ref == "gt") arena += '>';
            else if (ref == "amp") arena += '&';
            else if (ref == "apos") arena += '\'';
            else if (ref == "quot") arena += '"';
            else if (!char_ref(ref, arena)) return false;
            i = semi + 1;
            amp = t.find('&', i);
        }
        arena.append(t.data() + i, t.size() - i);
        tree_.append_text_arena(owner, off, static_cast<std::uint32_t>(arena.size() - off), ElementTree::Kind::pcdata);
        return true;
    }

    // "#65" or "#x41" of a character XML allows; anything else is left to pugixml.
    static bool char_ref(std::string_view ref, std::string& out) {
        if (ref.size() < 2 || ref[0] != '#') return false;
        bool hex = ref[1] == 'x';
        std::size_t i = hex ? 2 : 1;
        if (i >= ref.size() || ref.size() - i > 8) return false;
        std::uint32_t cp = 0;
        for (; i < ref.size(); ++i) {
            char d = ref[i];
            int v = d >= '0' && d <= '9' ? d - '0'
                    : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                    : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
                    : -1;
            if (v < 0) return false;
            cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
        }
        bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                       (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
        if (!allowed) return false;
        out += utf8_encode(cp);
        return true;
    }

    struct Open {
        std::uint32_t node;
        std::string_view name;
    };

    std::string_view in_;
    const DecodeLimits& limits_;
    ElementTree& tree_;
    const TagTable& names_;
    const NameChars& chars_;
    std::size_t pos_ = 0;
    unsigned depth_ = 0;
    std::vector<Open> open_;
};

}  // namespace

bool parse_plain_xml(std::string_view bytes, const DecodeLimits& limits, ElementTree& tree) {
    tree.clear();
    return PlainXml(bytes, limits, tree).parse();
}

}  // namespace smk::wire
