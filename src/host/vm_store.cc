#include "host/vm_store.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "crypto/digest.h"
#include "host/agent_conf.h"
#include "host/image_manifest.h"
#include "host/qmp.h"

namespace tl::host {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// Waits until `pid` no longer runs `program` (with `needle`), up to `timeout`.
bool wait_gone(int64_t pid, std::string_view program, std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (process_alive(pid, program, needle)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace

fs::path host_root(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return fs::absolute(*flag);
  if (const char* e = std::getenv("TLAUNCH_HOST_DIR"); e != nullptr && *e != '\0') return fs::absolute(e);
  return "/var/lib/trustlaunch";
}

bool HostStore::exists(const std::string& name) const {
  std::error_code ec;
  return fs::exists(files(name).config(), ec);
}

std::vector<std::string> HostStore::names() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(root_ / "vms", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (check_vm_name(n) && exists(n)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<VmConfig> HostStore::config(const std::string& name) const {
  if (auto s = check_vm_name(name); !s) return s.take_error();
  if (!exists(name)) {
    return Error{"no VM " + name + " on this host (" + (root_ / "vms" / name).string() + " has no vm.json)",
                 "vm-not-found"};
  }
  return read_vm_config(files(name).config());
}

Result<VmState> HostStore::state(const std::string& name) const {
  auto s = read_vm_state(files(name).state());
  if (!s) return s;
  const std::string dir = files(name).dir.string();
  if (is_active(s->power) && !process_alive(s->supervisor_pid, "tlaunch", supervisor_needle(name))) {
    // The supervisor died without recording an end (killed, host crash).
    const bool qemu = process_alive(s->qemu_pid, "qemu-system", dir);
    if (!qemu) {
      s->power = PowerState::kCrashed;
      if (s->last_error.empty()) s->last_error = "the VM's supervisor is gone (killed, or the host restarted)";
      s->qemu_pid = s->swtpm_pid = s->supervisor_pid = 0;
    }
  }
  return s;
}

Result<ImageSource> resolve_image(const fs::path& image) {
  std::error_code ec;
  if (fs::is_directory(image, ec)) {
    ImageSource src{image / "disk.raw", image / "manifest.json"};
    if (!fs::is_regular_file(src.disk, ec)) {
      return Error{"image " + image.string() + " has no disk.raw: build one with 'tlaunch image build'", "image-not-found"};
    }
    if (!fs::is_regular_file(src.manifest, ec)) src.manifest.clear();
    return src;
  }
  if (fs::is_regular_file(image, ec)) return ImageSource{image, {}};
  return Error{"image " + image.string() + " not found (give an image directory or its disk.raw)", "image-not-found"};
}

Status copy_file_atomic(const fs::path& from, const fs::path& to, unsigned mode) {
  auto bytes = read_text_file(from, size_t{4} << 30);
  if (!bytes) return bytes.take_error();
  return write_file_atomic(to, *bytes, mode);
}

Status write_agent_conf(const VmFiles& f, const VmConfig& c) {
  auto text = agent_conf_text({c.guest_endpoint, c.attest_interval, c.release_keys});
  if (!text) return text.take_error();
  return write_file_atomic(f.agent_conf(), *text, 0644);
}

Result<VmConfig> create_vm(const HostStore& store, VmConfig c, const fs::path& image, const Firmware& fw,
                           const Progress& progress) {
  if (auto s = check_vm_name(c.name); !s) return s.take_error();
  const VmFiles f = store.files(c.name);
  std::error_code ec;
  if (fs::exists(f.dir, ec)) return Error{"VM " + c.name + " already exists (" + f.dir.string() + ")", "vm-exists"};
  auto src = resolve_image(image);
  if (!src) return src.take_error();
  if (auto s = fw.check(c); !s) return s.take_error();
  for (const auto& sock : {f.swtpm_sock(), f.qmp_sock()}) {
    if (auto s = check_socket_path(sock); !s) return s.take_error();
  }
  progress("reading the boot disk " + src->disk.string());
  auto disk_bytes = read_text_file(src->disk, size_t{4} << 30);
  if (!disk_bytes) return disk_bytes.take_error();
  if (!src->manifest.empty()) {
    auto m = read_text_file(src->manifest);
    if (!m) return m.take_error();
    // The manifest is what a verifier derives expected measurements from, so
    // the disk must be the one it describes.
    auto manifest = manifest_from_json(*m);
    if (!manifest) return with_context(src->manifest.string(), manifest.take_error());
    auto disk_digest = crypto::digest(crypto::HashAlg::sha256, as_bytes(*disk_bytes));
    if (!disk_digest) return disk_digest.take_error();
    const std::string disk_sha = to_hex(*disk_digest);
    if (disk_sha != manifest->disk.sha256 || disk_bytes->size() != manifest->disk.size) {
      return Error{src->disk.string() + " (sha256 " + disk_sha + ", " + std::to_string(disk_bytes->size()) +
                       " bytes) is not the disk its manifest.json describes (sha256 " + manifest->disk.sha256 + ", " +
                       std::to_string(manifest->disk.size) +
                       " bytes): the image directory changed after 'tlaunch image build'; rebuild it",
                   "image-mismatch"};
    }
    auto d = crypto::digest(crypto::HashAlg::sha256, as_bytes(*m));
    if (!d) return d.take_error();
    c.image_manifest_sha256 = to_hex(*d);
  }
  c.image_path = fs::absolute(image).string();
  if (c.created_at.empty()) c.created_at = now_rfc3339();

  fs::create_directories(f.dir.parent_path(), ec);
  if (!fs::create_directory(f.dir, ec) || ec) {
    return Error{"cannot create " + f.dir.string() + (ec ? ": " + ec.message() : " (exists)"), "vm-exists"};
  }
  ::chmod(f.dir.c_str(), 0700);  // the vTPM key and state are in here
  auto fail = [&](Error e) -> Result<VmConfig> {
    std::error_code ignored;
    fs::remove_all(f.dir, ignored);
    return e;
  };
  // The disk is copied so that rebuilding the image never changes this VM.
  progress("copying the boot disk to " + f.disk().string());
  if (auto s = write_file_atomic(f.disk(), *disk_bytes, 0600); !s) return fail(s.take_error());
  if (auto s = copy_file_atomic(fw.vars_template(c), f.vars(), 0600); !s) return fail(s.take_error());
  if (auto s = write_agent_conf(f, c); !s) return fail(s.take_error());
  if (c.vtpm) {
    progress("provisioning the vTPM (EK certificate from the host CA " + store.ca().dir.string() + ")");
    if (auto s = write_tpm_key(f.tpm_key()); !s) return fail(s.take_error());
    if (auto s = provision_vtpm(store.ca(), f.tpm_dir(), f.tpm_key(), f.dir / "swtpm_setup.log"); !s) {
      return fail(s.take_error());
    }
  }
  if (auto s = write_vm_config(f.config(), c); !s) return fail(s.take_error());
  if (auto s = write_vm_state(f.state(), VmState{}); !s) return fail(s.take_error());
  return c;
}

Result<VmConfig> update_vm(const HostStore& store, const std::string& name, const VmChange& change, const Firmware& fw,
                           const Progress& progress) {
  auto c = store.config(name);
  if (!c) return c;
  const VmFiles f = store.files(name);
  VmConfig next = *c;
  if (change.secure_boot) next.secure_boot = *change.secure_boot;
  if (change.vtpm) next.vtpm = *change.vtpm;
  if (next.secure_boot != c->secure_boot) {
    if (auto s = fw.check(next); !s) return s.take_error();
    const fs::path from = fw.vars_template(next);
    progress(std::string("Secure Boot ") + (next.secure_boot ? "on" : "off") + ": varstore from " + from.string());
    if (auto s = copy_file_atomic(from, f.vars(), 0600); !s) return s.take_error();
  }
  std::error_code ec;
  if (next.vtpm && !fs::exists(f.tpm_dir() / "tpm2-00.permall", ec)) {
    progress("provisioning the vTPM (EK certificate from the host CA " + store.ca().dir.string() + ")");
    if (auto s = write_tpm_key(f.tpm_key()); !s) return s.take_error();
    if (auto s = provision_vtpm(store.ca(), f.tpm_dir(), f.tpm_key(), f.dir / "swtpm_setup.log"); !s) {
      return s.take_error();
    }
  }
  if (auto s = write_vm_config(f.config(), next); !s) return s.take_error();
  return next;
}

Status stop_vm(const HostStore& store, const std::string& name, std::chrono::milliseconds timeout,
               const Progress& progress) {
  auto st = store.state(name);
  if (!st) return st.take_error();
  const VmFiles f = store.files(name);
  const std::string dir = f.dir.string();
  const std::string sup = store.supervisor_needle(name);
  if (!process_alive(st->qemu_pid, "qemu-system", dir) && !process_alive(st->supervisor_pid, "tlaunch", sup)) {
    if (process_alive(st->swtpm_pid, "swtpm", dir)) ::kill(static_cast<pid_t>(st->swtpm_pid), SIGTERM);
    return {};
  }
  // The supervisor does the shutdown (ACPI, then QMP quit after `timeout`)
  // and records it as a stop; a supervisor that is gone gets our hard stop.
  if (auto s = write_file_atomic(f.stop_request(), std::to_string(timeout.count()) + "\n"); !s) return s;
  if (process_alive(st->supervisor_pid, "tlaunch", sup)) {
    progress("asking the guest to shut down (ACPI power button), up to " + std::to_string(timeout.count() / 1000) +
             " s, then QMP quit");
    if (!wait_gone(st->supervisor_pid, "tlaunch", sup, timeout + std::chrono::seconds(15))) {
      progress("the supervisor did not finish: SIGKILL to QEMU");
      if (process_alive(st->qemu_pid, "qemu-system", dir)) ::kill(static_cast<pid_t>(st->qemu_pid), SIGKILL);
      if (!wait_gone(st->supervisor_pid, "tlaunch", sup, std::chrono::seconds(10))) {
        return Error{"the supervisor of " + name + " (pid " + std::to_string(st->supervisor_pid) +
                         ") did not finish: see " + f.supervisor_log().string(),
                     "vm-stop-failed"};
      }
    }
  } else if (process_alive(st->qemu_pid, "qemu-system", dir)) {
    progress("no supervisor: stopping QEMU (QMP quit, then SIGKILL)");
    (void)qmp_execute(f.qmp_sock(), "quit");  // QEMU may close the socket before it answers
    if (!wait_gone(st->qemu_pid, "qemu-system", dir, std::chrono::seconds(5))) {
      ::kill(static_cast<pid_t>(st->qemu_pid), SIGKILL);
      wait_gone(st->qemu_pid, "qemu-system", dir, std::chrono::seconds(5));
    }
  }
  auto after = read_vm_state(f.state());
  if (after && is_active(after->power)) {
    // The supervisor died before recording the end: do its part.
    if (process_alive(after->swtpm_pid, "swtpm", dir)) ::kill(static_cast<pid_t>(after->swtpm_pid), SIGTERM);
    after->power = PowerState::kStopped;
    after->qemu_pid = after->swtpm_pid = after->supervisor_pid = 0;
    after->stopped_at = now_rfc3339();
    if (auto s = write_vm_state(f.state(), *after); !s) return s;
  }
  std::error_code ec;
  fs::remove(f.stop_request(), ec);
  return {};
}

Status delete_vm_files(const HostStore& store, const std::string& name) {
  if (auto s = check_vm_name(name); !s) return s;
  const VmFiles f = store.files(name);
  std::error_code ec;
  fs::remove_all(f.dir, ec);
  if (ec) return Error{"cannot remove " + f.dir.string() + ": " + ec.message(), "host-io"};
  return {};
}

}  // namespace tl::host
