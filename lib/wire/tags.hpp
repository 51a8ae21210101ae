// Every element of the SyncML, MetInf and DevInf vocabularies, with its XML
// name, namespace and WBXML token. The model writer names elements by Tag; the
// XML writer looks up the name, the WBXML writer the token, both by index.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "syncmlkit/message.hpp"

namespace smk::wire {

/// The three vocabularies. In WBXML, SyncML is page 0 and MetInf page 1 of a
/// SyncML document; DevInf is page 0 of a document of its own.
enum class Ns : std::uint8_t { syncml, metinf, devinf };

// clang-format off
enum class Tag : std::uint8_t {
    // SyncML (page 0)
    Add, Alert, Archive, Atomic, Chal, Cmd, CmdID, CmdRef, Copy, Cred, Data, Delete, Exec, Final,
    Get, Item, Lang, LocName, LocURI, Map, MapItem, Meta, MsgID, MsgRef, NoResp, NoResults, Put,
    Replace, RespURI, Results, Search, Sequence, SessionID, SftDel, Source, SourceRef, Status, Sync,
    SyncBody, SyncHdr, SyncML, Target, TargetRef, VerDTD, VerProto, NumberOfChanges, MoreData,
    Field, Filter, Record, FilterType, SourceParent, TargetParent, Move, Correlator,
    // MetInf (page 1)
    Anchor, EMI, Format, FreeID, FreeMem, Last, Mark, MaxMsgSize, Mem, MetInf, Next, NextNonce,
    SharedMem, Size, Type, Version, MaxObjSize, FieldLevel,
    // DevInf (its own document)
    CTCap, CTType, DataStore, DataType, DevID, DevInf, DevTyp, DisplayName, DSMem, Ext, FwV, HwV,
    Man, MaxGUIDSize, MaxID, MaxMem, Mod, OEM, ParamName, PropName, Rx, RxPref, DevSharedMem,
    DevSize, DevMaxSize, DevSourceRef, SwV, SyncCap, SyncType, Tx, TxPref, ValEnum, VerCT, DevVerDTD,
    XNam, XVal, UTC, SupportNumberOfChanges, SupportLargeObjs, Property, PropParam, MaxOccur,
    NoTruncate, FilterRx, FilterCap, FilterKeyword, DevFieldLevel, SupportHierarchicalSync,
    Count_
};
// clang-format on

struct TagInfo {
    const char* name;
    Ns ns;
    std::uint8_t token;  ///< WBXML token on the namespace's page, 0x05..0x3F
};

const TagInfo& tag_info(Tag tag);

/// The two kinds of WBXML document: a SyncML message, and a DevInf carried
/// inside one.
enum class DocKind { syncml, devinf };

struct DocLanguage {
    DocKind kind;
    Version version;
};

/// The numeric WBXML public id of a document (0x1201 for SyncML 1.2, ...).
std::uint32_t public_id(DocLanguage lang);
std::optional<DocLanguage> language_from_public_id(std::uint32_t id);
/// From the string form ("-//SYNCML//DTD SyncML 1.2//EN"), letter case ignored.
std::optional<DocLanguage> language_from_fpi(std::string_view fpi);

/// The element name of a WBXML token; nullptr for a token the vocabulary lacks.
/// `devinf_v12` picks "MaxSize" over "Size" for DevInf token 0x1C.
const char* tag_name(Ns ns, std::uint8_t token, bool devinf_v12);
/// The Tag of a WBXML token (the one tag_name names); Tag::Count_ for none.
Tag tag_of_token(Ns ns, std::uint8_t token, bool devinf_v12);

}  // namespace smk::wire
