// Access to tests/fixtures.
#pragma once

#include <string>
#include <vector>

namespace smk::test {

/// The bytes of tests/fixtures/<relative>; throws when missing.
std::string read_fixture(const std::string& relative);
/// Every *.xml and *.wbxml under tests/fixtures/captures, relative paths, sorted.
std::vector<std::string> capture_files();

}  // namespace smk::test
