// Helpers shared by the tests: locating the read-only vectors in ../shared.
#pragma once

#include <filesystem>
#include <string>

#include "common/hex.h"

namespace tl::test {

// The shared/ folder: $TL_SHARED_DIR, else the one CMake was configured with
// (../shared beside the checkout). Empty path when it is not there.
std::filesystem::path shared_dir();

// The build tree holding tlaunch: $TL_BUILD_DIR, else the configured one.
std::filesystem::path build_dir();

// Path to a vector under shared/vectors; the calling test is SKIPPED (never
// passed) when the vectors are not available, as shared/vectors/README.md asks.
#define TL_REQUIRE_VECTOR(var, relpath)                                      \
  const std::filesystem::path var = ::tl::test::vector_path(relpath);        \
  if (var.empty()) GTEST_SKIP() << "vector " << (relpath) << " not found (set TL_SHARED_DIR)"

std::filesystem::path vector_path(const std::string& relpath);

Bytes read_file(const std::filesystem::path& path);
std::string read_text(const std::filesystem::path& path);
// The file's bytes, or "" when it is missing or unreadable: for logs and
// state files a test polls while another process may not have written them yet.
std::string read_text_or_empty(const std::filesystem::path& path);

}  // namespace tl::test
