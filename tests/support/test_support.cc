#include "support/test_support.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace tl::test {

std::filesystem::path shared_dir() {
  const char* env = std::getenv("TL_SHARED_DIR");
  if (env == nullptr || *env == '\0') return {};
  std::filesystem::path p(env);
  return std::filesystem::is_directory(p) ? p : std::filesystem::path{};
}

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

}  // namespace tl::test
