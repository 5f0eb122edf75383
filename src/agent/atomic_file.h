// Replacing a small file so that readers see the old or the new content,
// never a torn one, even across a crash: write a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory.
#pragma once

#include <filesystem>
#include <string_view>
#include <sys/types.h>

#include "common/result.h"

namespace tl::agent {

// `mode` is set with fchmod, so the umask does not narrow it. Errors (reason
// "status-write-failed") name the path and the failing step; the temporary
// file is removed on failure.
Status write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode = 0644);

}  // namespace tl::agent
