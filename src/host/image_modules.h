// Kernel modules for the guest initramfs: which .ko files a set of wanted
// modules needs, in load order. Dependencies come from each module's own
// .modinfo ELF section ("depends=a,b"), read here, so no modinfo/depmod is
// needed on the host and the answer is the kernel package's, not the host's.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/result.h"

namespace tl::host {

// "virtio-pci" and "virtio_pci" are the same module to the kernel.
std::string module_key(std::string_view name);

// The "depends=" entries of an ELF64 little-endian module image (.ko), as keys.
// Errors (reason "module-malformed") name what is wrong with the ELF.
Result<std::vector<std::string>> module_depends(ByteView ko);

struct ModuleIndex {
  std::map<std::string, std::filesystem::path> files;  // key -> .ko path
  std::set<std::string> builtin;                       // keys built into the kernel
};

// Indexes <modules_dir> (lib/modules/<version> of an extracted kernel package):
// every *.ko below kernel/, and modules.builtin.
Result<ModuleIndex> index_modules(const std::filesystem::path& modules_dir);

// `deps(key)` gives a module's dependencies. Returns the modules to load,
// dependencies before dependents, each once, built-in ones left out; a wanted
// module that is neither a file nor built in is an error ("module-not-found"),
// and so is a dependency cycle ("module-cycle").
using DependsFn = std::function<Result<std::vector<std::string>>(const std::string& key)>;
Result<std::vector<std::string>> module_load_order(const std::vector<std::string>& wanted,
                                                   const std::set<std::string>& available,
                                                   const std::set<std::string>& builtin, const DependsFn& deps);

// module_load_order over an index, reading each .ko's dependencies.
Result<std::vector<std::string>> resolve_modules(const ModuleIndex& index, const std::vector<std::string>& wanted);

}  // namespace tl::host
