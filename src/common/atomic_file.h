// Replacing a small file so that readers see the old or the new content,
// never a torn one, even across a crash: write a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory.
#pragma once

#include <filesystem>
#include <string_view>
#include <sys/types.h>

#include "common/result.h"

namespace tl {

// The temporary file is created with O_EXCL | O_NOFOLLOW and mode 0600, so a
// planted file or symlink is never written through and a secret is never
// readable by others mid-write; `mode` is then set with fchmod, so the umask
// does not narrow it. Errors name the path and the failing step and carry no
// reason (callers classify them); the temporary file is removed on failure.
Status write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode = 0644);

}  // namespace tl
