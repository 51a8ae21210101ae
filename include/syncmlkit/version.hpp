// The library's version, fixed at build time.
#pragma once

#include "syncmlkit/export.hpp"

namespace smk {

/// "MAJOR.MINOR.PATCH" of the library linked at run time.
SMK_API const char* version();

}  // namespace smk
