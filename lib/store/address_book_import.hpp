// The Global Address Book import, shared by the SQLite and the PostgreSQL
// store providers: a vCard file split into cards, each entry under a GUID
// derived from what identifies it (so it keeps its GUID, and an unchanged
// entry its revision, from one import to the next), in one transaction.
#pragma once

#include <functional>
#include <istream>
#include <string>
#include <string_view>

#include "syncmlkit/datastore.hpp"
#include "syncmlkit/sqlite_store.hpp"

namespace smk::store {

/// Writes an item under a GUID the caller chooses (adds or replaces it).
using PutWithGuid = std::function<void(const std::string& guid, const Format& format, std::string_view data)>;

/// Replaces the entries of `directory` with the vCards read from `vcf`,
/// between directory.begin() and commit() (rollback() on any failure, the
/// stream's included, which throws DatastoreError). An entry keeps its GUID
/// as long as its UID (else its FN and first EMAIL or TEL, else its whole
/// text) stays the same; one unchanged byte for byte is not written again.
/// Returns the number of entries; `counts` tells what changed.
std::size_t import_directory(Datastore& directory, const PutWithGuid& put, std::istream& vcf, ItemCounts& counts);

}  // namespace smk::store
