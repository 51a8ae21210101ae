#include "tags.hpp"

#include "text.hpp"

#include <array>
#include <string_view>

namespace smk::wire {
namespace {

using N = Ns;
// Indexed by Tag; keep in the enum's order. Tokens from the OMA SyncML,
// MetInf and DevInf WBXML code pages (1.2 tables, a superset of 1.0 and 1.1).
constexpr std::array<TagInfo, static_cast<std::size_t>(Tag::Count_)> kTags = {{
    {"Add", N::syncml, 0x05}, {"Alert", N::syncml, 0x06}, {"Archive", N::syncml, 0x07},
    {"Atomic", N::syncml, 0x08}, {"Chal", N::syncml, 0x09}, {"Cmd", N::syncml, 0x0A},
    {"CmdID", N::syncml, 0x0B}, {"CmdRef", N::syncml, 0x0C}, {"Copy", N::syncml, 0x0D},
    {"Cred", N::syncml, 0x0E}, {"Data", N::syncml, 0x0F}, {"Delete", N::syncml, 0x10},
    {"Exec", N::syncml, 0x11}, {"Final", N::syncml, 0x12}, {"Get", N::syncml, 0x13},
    {"Item", N::syncml, 0x14}, {"Lang", N::syncml, 0x15}, {"LocName", N::syncml, 0x16},
    {"LocURI", N::syncml, 0x17}, {"Map", N::syncml, 0x18}, {"MapItem", N::syncml, 0x19},
    {"Meta", N::syncml, 0x1A}, {"MsgID", N::syncml, 0x1B}, {"MsgRef", N::syncml, 0x1C},
    {"NoResp", N::syncml, 0x1D}, {"NoResults", N::syncml, 0x1E}, {"Put", N::syncml, 0x1F},
    {"Replace", N::syncml, 0x20}, {"RespURI", N::syncml, 0x21}, {"Results", N::syncml, 0x22},
    {"Search", N::syncml, 0x23}, {"Sequence", N::syncml, 0x24}, {"SessionID", N::syncml, 0x25},
    {"SftDel", N::syncml, 0x26}, {"Source", N::syncml, 0x27}, {"SourceRef", N::syncml, 0x28},
    {"Status", N::syncml, 0x29}, {"Sync", N::syncml, 0x2A}, {"SyncBody", N::syncml, 0x2B},
    {"SyncHdr", N::syncml, 0x2C}, {"SyncML", N::syncml, 0x2D}, {"Target", N::syncml, 0x2E},
    {"TargetRef", N::syncml, 0x2F}, {"VerDTD", N::syncml, 0x31}, {"VerProto", N::syncml, 0x32},
    {"NumberOfChanges", N::syncml, 0x33}, {"MoreData", N::syncml, 0x34}, {"Field", N::syncml, 0x35},
    {"Filter", N::syncml, 0x36}, {"Record", N::syncml, 0x37}, {"FilterType", N::syncml, 0x38},
    {"SourceParent", N::syncml, 0x39}, {"TargetParent", N::syncml, 0x3A}, {"Move", N::syncml, 0x3B},
    {"Correlator", N::syncml, 0x3C},
    {"Anchor", N::metinf, 0x05}, {"EMI", N::metinf, 0x06}, {"Format", N::metinf, 0x07},
    {"FreeID", N::metinf, 0x08}, {"FreeMem", N::metinf, 0x09}, {"Last", N::metinf, 0x0A},
    {"Mark", N::metinf, 0x0B}, {"MaxMsgSize", N::metinf, 0x0C}, {"Mem", N::metinf, 0x0D},
    {"MetInf", N::metinf, 0x0E}, {"Next", N::metinf, 0x0F}, {"NextNonce", N::metinf, 0x10},
    {"SharedMem", N::metinf, 0x11}, {"Size", N::metinf, 0x12}, {"Type", N::metinf, 0x13},
    {"Version", N::metinf, 0x14}, {"MaxObjSize", N::metinf, 0x15}, {"FieldLevel", N::metinf, 0x16},
    {"CTCap", N::devinf, 0x05}, {"CTType", N::devinf, 0x06}, {"DataStore", N::devinf, 0x07},
    {"DataType", N::devinf, 0x08}, {"DevID", N::devinf, 0x09}, {"DevInf", N::devinf, 0x0A},
    {"DevTyp", N::devinf, 0x0B}, {"DisplayName", N::devinf, 0x0C}, {"DSMem", N::devinf, 0x0D},
    {"Ext", N::devinf, 0x0E}, {"FwV", N::devinf, 0x0F}, {"HwV", N::devinf, 0x10},
    {"Man", N::devinf, 0x11}, {"MaxGUIDSize", N::devinf, 0x12}, {"MaxID", N::devinf, 0x13},
    {"MaxMem", N::devinf, 0x14}, {"Mod", N::devinf, 0x15}, {"OEM", N::devinf, 0x16},
    {"ParamName", N::devinf, 0x17}, {"PropName", N::devinf, 0x18}, {"Rx", N::devinf, 0x19},
    {"Rx-Pref", N::devinf, 0x1A}, {"SharedMem", N::devinf, 0x1B}, {"Size", N::devinf, 0x1C},
    {"MaxSize", N::devinf, 0x1C}, {"SourceRef", N::devinf, 0x1D}, {"SwV", N::devinf, 0x1E},
    {"SyncCap", N::devinf, 0x1F}, {"SyncType", N::devinf, 0x20}, {"Tx", N::devinf, 0x21},
    {"Tx-Pref", N::devinf, 0x22}, {"ValEnum", N::devinf, 0x23}, {"VerCT", N::devinf, 0x24},
    {"VerDTD", N::devinf, 0x25}, {"XNam", N::devinf, 0x26}, {"XVal", N::devinf, 0x27},
    {"UTC", N::devinf, 0x28}, {"SupportNumberOfChanges", N::devinf, 0x29},
    {"SupportLargeObjs", N::devinf, 0x2A}, {"Property", N::devinf, 0x2B},
    {"PropParam", N::devinf, 0x2C}, {"MaxOccur", N::devinf, 0x2D}, {"NoTruncate", N::devinf, 0x2E},
    {"Filter-Rx", N::devinf, 0x30}, {"FilterCap", N::devinf, 0x31},
    {"FilterKeyword", N::devinf, 0x32}, {"FieldLevel", N::devinf, 0x33},
    {"SupportHierarchicalSync", N::devinf, 0x34},
}};

// token -> name, one table per vocabulary, built once from kTags.
struct TokenTables {
    std::array<std::array<const char*, 64>, 3> names{};
    std::array<std::array<Tag, 64>, 3> tags{};
    TokenTables() {
        for (auto& page : tags) page.fill(Tag::Count_);
        for (std::size_t i = 0; i < kTags.size(); ++i) {
            const TagInfo& t = kTags[i];
            if (t.name != std::string_view("MaxSize")) {  // 0x1C is "Size" unless DevInf 1.2
                names[static_cast<std::size_t>(t.ns)][t.token] = t.name;
                tags[static_cast<std::size_t>(t.ns)][t.token] = static_cast<Tag>(i);
            }
        }
    }
};

const TokenTables& token_tables() {
    static const TokenTables tables;
    return tables;
}

struct PublicId {
    DocLanguage lang;
    std::uint32_t id;
    const char* fpi;
};

constexpr PublicId kPublicIds[] = {
    {{DocKind::syncml, Version::v1_0}, 0x0FD1, "-//SYNCML//DTD SyncML 1.0//EN"},
    {{DocKind::devinf, Version::v1_0}, 0x0FD2, "-//SYNCML//DTD DevInf 1.0//EN"},
    {{DocKind::syncml, Version::v1_1}, 0x0FD3, "-//SYNCML//DTD SyncML 1.1//EN"},
    {{DocKind::devinf, Version::v1_1}, 0x0FD4, "-//SYNCML//DTD DevInf 1.1//EN"},
    {{DocKind::syncml, Version::v1_2}, 0x1201, "-//SYNCML//DTD SyncML 1.2//EN"},
    {{DocKind::devinf, Version::v1_2}, 0x1203, "-//SYNCML//DTD DevInf 1.2//EN"},
};

}  // namespace

std::uint32_t public_id(DocLanguage lang) {
    for (const PublicId& p : kPublicIds)
        if (p.lang.kind == lang.kind && p.lang.version == lang.version) return p.id;
    return 0x01;  // unknown
}

std::optional<DocLanguage> language_from_public_id(std::uint32_t id) {
    for (const PublicId& p : kPublicIds)
        if (p.id == id) return p.lang;
    return std::nullopt;
}

std::optional<DocLanguage> language_from_fpi(std::string_view fpi) {
    for (const PublicId& p : kPublicIds)
        if (equals_ignore_case(fpi, p.fpi)) return p.lang;
    return std::nullopt;
}

const TagInfo& tag_info(Tag tag) { return kTags[static_cast<std::size_t>(tag)]; }

Tag tag_of_token(Ns ns, std::uint8_t token, bool devinf_v12) {
    if (token >= 64) return Tag::Count_;
    if (ns == Ns::devinf && token == 0x1C && devinf_v12) return Tag::DevMaxSize;
    return token_tables().tags[static_cast<std::size_t>(ns)][token];
}

const char* tag_name(Ns ns, std::uint8_t token, bool devinf_v12) {
    if (token >= 64) return nullptr;
    if (ns == Ns::devinf && token == 0x1C && devinf_v12) return "MaxSize";
    return token_tables().names[static_cast<std::size_t>(ns)][token];
}

}  // namespace smk::wire
