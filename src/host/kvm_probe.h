// Which accelerator can run a Secure Boot VM here: KVM when a q35 machine with
// SMM starts under it, else TCG (nested KVM often lacks SMM, and
// accel=kvm:tcg does not fall back then: QEMU exits). ≈0.1 s.
#pragma once

#include <string>

#include "host/qemu_argv.h"

namespace tl::host {

struct AccelChoice {
  Accel accel = Accel::kTcg;
  std::string why;  // e.g. "KVM: System Management Mode not supported by this hypervisor"
};

// $TLAUNCH_ACCEL=kvm|tcg forces the answer (tests, hosts known to differ).
AccelChoice probe_accel(const std::string& qemu_binary = "qemu-system-x86_64");

}  // namespace tl::host
