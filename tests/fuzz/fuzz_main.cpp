// One libFuzzer target: compiled once per target with SMK_FUZZ_ENTRY set to
// the function of entries.hpp it runs.
#include <cstddef>
#include <cstdint>

#include "entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return smk::fuzz::SMK_FUZZ_ENTRY(data, size);
}
