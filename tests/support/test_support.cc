#include "support/test_support.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace tl::test {

namespace {
std::filesystem::path from_env_or(const char* var, const char* fallback) {
  const char* env = std::getenv(var);
  return std::filesystem::path(env != nullptr && *env != '\0' ? env : fallback);
}
}  // namespace

std::filesystem::path shared_dir() {
  auto p = from_env_or("TL_SHARED_DIR", TL_DEFAULT_SHARED_DIR);
  return std::filesystem::is_directory(p) ? p : std::filesystem::path{};
}

std::filesystem::path build_dir() { return from_env_or("TL_BUILD_DIR", TL_DEFAULT_BUILD_DIR); }

std::filesystem::path vector_path(const std::string& relpath) {
  auto dir = shared_dir();
  if (dir.empty()) return {};
  auto p = dir / "vectors" / relpath;
  return std::filesystem::exists(p) ? p : std::filesystem::path{};
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string read_text_or_empty(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace tl::test
