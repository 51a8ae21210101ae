// MD5 (RFC 1321), which SyncML's auth-md5 scheme is defined on. Written out
// here rather than pulling in a crypto library for one function.
#pragma once

#include <string>
#include <string_view>

namespace smk::engine {

/// The 16-byte MD5 digest of `data`.
std::string md5(std::string_view data);

}  // namespace smk::engine
