#include "host/kvm_probe.h"

#include <cstdlib>
#include <unistd.h>

#include "host/process.h"

namespace tl::host {

AccelChoice probe_accel(const std::string& qemu_binary) {
  if (const char* forced = std::getenv("TLAUNCH_ACCEL"); forced != nullptr) {
    if (std::string(forced) == "kvm") return {Accel::kKvm, "forced by TLAUNCH_ACCEL"};
    if (std::string(forced) == "tcg") return {Accel::kTcg, "forced by TLAUNCH_ACCEL"};
  }
  if (::access("/dev/kvm", R_OK | W_OK) != 0) return {Accel::kTcg, "no usable /dev/kvm"};
  // -S: no guest code runs; the machine is built (SMM included) and we quit.
  auto r = run({qemu_binary, "-machine", "q35,smm=on,accel=kvm", "-cpu", "host", "-m", "64", "-display", "none",
                "-nodefaults", "-no-user-config", "-S", "-monitor", "none", "-qmp", "stdio"},
               std::chrono::seconds(10));
  if (!r) return {Accel::kTcg, "KVM probe failed: " + r.error().message};
  // QEMU with -qmp stdio and stdin at /dev/null reads EOF and quits: exit 0
  // means the machine was built.
  if (r->status == 0) return {Accel::kKvm, "KVM with SMM works"};
  std::string msg = r->output;
  const auto nl = msg.find_last_not_of("\n ");
  msg = msg.substr(0, nl == std::string::npos ? 0 : nl + 1);
  const auto last = msg.rfind('\n');
  if (last != std::string::npos) msg = msg.substr(last + 1);
  return {Accel::kTcg, "KVM unusable: " + msg};
}

}  // namespace tl::host
