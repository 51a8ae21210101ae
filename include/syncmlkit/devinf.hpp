// Device information (DevInf): what a SyncML peer says it is and what it can do.
//
// One model holds both layouts the standards define: SyncML 1.1 puts one flat
// CTCap list after all datastores (DevInf::ctcaps), SyncML 1.2 puts a CTCap per
// content type inside each datastore (DataStore::ctcaps). The codecs read and
// write each list in the layout of the place it sits in, so a DevInf that
// mixes both (some phones do) survives a round trip.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "syncmlkit/export.hpp"

namespace smk::wire {

/// A content type with its version: `<CTType>` plus `<VerCT>`.
struct SMK_API ContentType {
    std::string type;     ///< e.g. "text/vcard"
    std::string version;  ///< e.g. "3.0"; may be empty (1.1 CTCap has none)
    bool operator==(const ContentType& o) const { return type == o.type && version == o.version; }
    bool operator!=(const ContentType& o) const { return !(*this == o); }
};

/// A parameter of a property in a CTCap (`<PropParam>`, or a flat `<ParamName>` run in 1.1).
struct SMK_API PropParam {
    std::string name;
    std::string data_type;
    std::vector<std::string> val_enum;
    std::string display_name;
    bool operator==(const PropParam& o) const;
};

/// A property of a content type (`<Property>`, or a flat `<PropName>` run in 1.1).
struct SMK_API Property {
    std::string name;
    std::string data_type;
    std::string max_occur;
    std::string max_size;  ///< `<MaxSize>` in 1.2, `<Size>` in 1.1
    bool no_truncate = false;
    std::vector<std::string> val_enum;
    std::string display_name;
    std::vector<PropParam> params;
    bool operator==(const Property& o) const;
};

/// Capabilities of one content type.
struct SMK_API CTCap {
    std::string type;     ///< CTType
    std::string version;  ///< VerCT (1.2 only)
    bool field_level = false;
    std::vector<Property> properties;
    bool operator==(const CTCap& o) const;
};

/// `<DSMem>`: memory of one datastore.
struct SMK_API DSMem {
    bool shared_mem = false;
    std::string max_mem;
    std::string max_id;
    bool operator==(const DSMem& o) const;
};

/// `<FilterCap>` (1.2).
struct SMK_API FilterCap {
    ContentType content_type;
    std::vector<std::string> keywords;
    std::vector<std::string> prop_names;
    bool operator==(const FilterCap& o) const;
};

/// One database of the device.
struct SMK_API DataStore {
    std::string source_ref;  ///< the name the peer must address it by
    std::string display_name;
    std::string max_guid_size;
    std::optional<ContentType> rx_pref;
    std::vector<ContentType> rx;
    std::optional<ContentType> tx_pref;
    std::vector<ContentType> tx;
    std::vector<CTCap> ctcaps;  ///< 1.2 layout
    std::optional<DSMem> ds_mem;
    bool hierarchical_sync = false;
    std::vector<std::string> sync_types;  ///< SyncCap/SyncType values, "1".."7"
    std::vector<ContentType> filter_rx;
    std::vector<FilterCap> filter_caps;
    bool operator==(const DataStore& o) const;
};

/// `<Ext>`: a vendor extension.
struct SMK_API Ext {
    std::string name;  ///< XNam
    std::vector<std::string> values;  ///< XVal
    bool operator==(const Ext& o) const { return name == o.name && values == o.values; }
};

struct SMK_API DevInf {
    std::string ver_dtd;  ///< "1.0", "1.1" or "1.2"
    std::string man, mod, oem, fwv, swv, hwv;
    std::string dev_id;
    std::string dev_typ;
    bool utc = false;
    bool support_large_objs = false;
    bool support_number_of_changes = false;
    std::vector<DataStore> datastores;
    std::vector<CTCap> ctcaps;  ///< 1.1 layout: one flat list after the datastores
    std::vector<Ext> exts;
    bool operator==(const DevInf& o) const;
    bool operator!=(const DevInf& o) const { return !(*this == o); }
};

}  // namespace smk::wire
