// The guest initramfs as a newc ("070701") cpio archive, written
// deterministically so the same inputs give the same bytes (and so the same
// PCR 9 measurement): entries sorted by path, missing parent directories
// added, mtime fixed, uid/gid 0, inodes numbered in order, one link each.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/result.h"

namespace tl::host {

enum class CpioType : uint8_t { directory, file, symlink };

struct CpioEntry {
  std::string path;  // relative, '/'-separated, no "." / ".." parts ("bin/sh")
  CpioType type = CpioType::file;
  uint32_t mode = 0644;  // permission bits only (07777); the type bits come from `type`
  Bytes data;            // file contents, or the symlink's target
};

// Longest path accepted (the kernel's initramfs unpacker limit is PATH_MAX).
inline constexpr size_t kCpioMaxPath = 4095;

// Checks a path: non-empty, relative, no empty / "." / ".." components, no NUL,
// at most kCpioMaxPath bytes. Reason "cpio-bad-path".
Status check_cpio_path(const std::string& path);

// The archive bytes, with the "TRAILER!!!" entry. Fails on a bad path, a
// duplicate path, a mode outside 07777, or a parent that is not a directory.
Result<Bytes> write_cpio(std::vector<CpioEntry> entries, uint32_t mtime);

// Strict reader of what write_cpio produces (newc, no hard links), for checks
// and tests: every header field is validated against the remaining bytes.
Result<std::vector<CpioEntry>> read_cpio(ByteView archive);

}  // namespace tl::host
