#include "host/vm_supervisor.h"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

#include "host/console_log.h"
#include "host/console_markers.h"
#include "host/kvm_probe.h"
#include "host/process.h"
#include "host/qmp.h"

namespace tl::host {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

volatile sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int) { g_stop_signal = 1; }

std::string tail_of(const fs::path& p, size_t n = 800) {
  auto t = read_text_file(p, 256 << 20);
  if (!t) return "(no log)";
  std::string s = t->size() > n ? t->substr(t->size() - n) : *t;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s.empty() ? "(empty log)" : s;
}

std::string describe_exit(const char* who, int status) {
  if (status > 128) {
    const int sig = status - 128;
    const char* name = sigabbrev_np(sig);
    return std::string(who) + " was killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  return std::string(who) + " exited with status " + std::to_string(status);
}

// An exclusive flock(2) on a file, released when the object (or the process) goes.
class FileLock {
 public:
  FileLock() = default;
  explicit FileLock(const fs::path& p) : fd_(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept {
    if (this != &o) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

class Supervisor {
 public:
  Supervisor(const HostStore& store, std::string name, const SupervisorOptions& o, const HostEventSink& events,
             const Progress& log)
      : store_(store), name_(std::move(name)), o_(o), events_(events), log_(log), f_(store.files(name_)) {}

  Result<VmState> run() {
    auto c = store_.config(name_);
    if (!c) return c.take_error();
    config_ = std::move(*c);
    // One supervisor per VM: a second one (two `vm start`s racing, or a
    // hand-run `vm supervise`) must not touch a running VM's sockets, console
    // or state. The lock lives as long as this process.
    lock_ = FileLock(f_.dir / "supervisor.lock");
    if (!lock_.held()) {
      return Error{"another supervisor is running VM " + name_ + " (" + (f_.dir / "supervisor.lock").string() +
                       " is locked): use vm stop first",
                   "vm-running"};
    }
    auto prior = read_vm_state(f_.state());
    st_ = prior ? *prior : VmState{};
    // `vm start` wrote Starting; a supervisor started by hand starts from here too.
    st_.power = PowerState::kStarting;
    st_.supervisor_pid = getpid();
    st_.qemu_pid = st_.swtpm_pid = 0;
    st_.started_at = now_rfc3339();
    st_.stopped_at.clear();
    st_.last_error.clear();
    st_.last_marker.clear();
    st_.last_marker_at.clear();
    std::error_code ec;
    fs::remove(f_.stop_request(), ec);
    fs::remove(f_.console_log(), ec);
    fs::remove(f_.console_log().string() + ".1", ec);
    fs::remove(f_.qmp_sock(), ec);
    fs::remove(f_.swtpm_sock(), ec);

    const AccelChoice accel = probe_accel(o_.qemu_binary);
    st_.accel = accel_name(accel.accel);
    log_("accelerator: " + st_.accel + " (" + accel.why + ")");
    save();

    if (auto s = o_.firmware.check(config_); !s) return start_failed(s.error().message);
    if (config_.vtpm) {
      if (auto s = start_swtpm(); !s) return start_failed(s.error().message);
    }
    if (auto s = start_qemu(accel.accel); !s) return start_failed(s.error().message);
    transition(VmEvent::kQemuUp);
    st_.qemu_pid = qemu_.pid();
    save();
    log_("QEMU running (pid " + std::to_string(qemu_.pid()) + ")");
    report_power("Running");
    watch();
    finish();
    if (st_.power == PowerState::kStopped) report_power("Stopped");
    return st_;
  }

 private:
  void save() {
    if (auto s = write_vm_state(f_.state(), st_); !s) log_("cannot record the state: " + s.error().message);
  }

  void transition(VmEvent e) {
    auto next = next_state(st_.power, e);
    if (next) st_.power = *next;
    else log_("state machine: " + next.error().message);
  }

  void report(const std::string& kind, const std::string& detail) {
    const std::string d = host_event_detail(detail);
    log_("event " + kind + ": " + d);
    if (events_) events_(kind, d);
  }

  // tlaunchd's powerState follows QEMU, so its staleness sweep watches a
  // running VM and leaves a stopped one alone.
  void report_power(const char* power) {
    log_(std::string("powerState ") + power);
    if (events_) events_("powerState", power);
  }

  Result<VmState> start_failed(const std::string& why) {
    log_("start failed: " + why);
    st_.last_error = why;
    transition(VmEvent::kStartFailed);
    stop_swtpm();
    if (qemu_.pid() > 0) {
      qemu_.signal(SIGKILL);
      qemu_.wait();
    }
    st_.qemu_pid = st_.swtpm_pid = 0;
    st_.supervisor_pid = 0;
    st_.stopped_at = now_rfc3339();
    save();
    return st_;
  }

  Status start_swtpm() {
    std::error_code ec;
    if (!fs::exists(f_.tpm_dir() / "tpm2-00.permall", ec)) {
      return Error{"the vTPM state " + f_.tpm_dir().string() + " is missing (re-create the VM)", "vtpm-missing"};
    }
    if (auto s = check_socket_path(f_.swtpm_sock()); !s) return s;
    SpawnOptions so;
    so.stdout_file = so.stderr_file = f_.swtpm_log();
    auto child = spawn(swtpm_argv(f_.tpm_dir(), f_.tpm_key(), f_.swtpm_sock(), f_.swtpm_log()), so);
    if (!child) return child.take_error();
    swtpm_ = std::move(*child);
    st_.swtpm_pid = swtpm_.pid();
    // Started means: the socket is there and swtpm answers on it.
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    for (;;) {
      if (!swtpm_.running()) {
        return Error{"swtpm failed to start (" + describe_exit("swtpm", swtpm_.status().value_or(-1)) + "): " +
                         tail_of(f_.swtpm_log()),
                     "vtpm-start-failed"};
      }
      if (fs::exists(f_.swtpm_sock(), ec) && probe_swtpm(f_.swtpm_sock(), milliseconds(1000))) break;
      if (Clock::now() > deadline) {
        return Error{"swtpm did not answer on " + f_.swtpm_sock().string() + " within 10 s: " + tail_of(f_.swtpm_log()),
                     "vtpm-start-failed"};
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    log_("swtpm running (pid " + std::to_string(swtpm_.pid()) + ")");
    return {};
  }

  Status start_qemu(Accel accel) {
    if (auto s = check_socket_path(f_.qmp_sock()); !s) return s;
    const auto argv = qemu_argv(config_, f_, o_.firmware, accel, o_.qemu_binary);
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    (void)write_file_atomic(f_.qemu_log(), "# " + now_rfc3339() + " " + line + "\n", 0640);
    SpawnOptions so;
    so.stdout_file = so.stderr_file = f_.qemu_log();
    auto child = spawn(argv, so);
    if (!child) return child.take_error();
    qemu_ = std::move(*child);
    // Running means: QEMU answers on QMP (the machine is built, firmware loads).
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    std::error_code ec;
    for (;;) {
      if (!qemu_.running()) {
        return Error{"QEMU failed (" + describe_exit("QEMU", qemu_.status().value_or(-1)) + "): " + tail_of(f_.qemu_log()),
                     "qemu-failed"};
      }
      if (fs::exists(f_.qmp_sock(), ec) && qmp_execute(f_.qmp_sock(), "query-status", milliseconds(2000))) break;
      if (Clock::now() > deadline) {
        return Error{"QEMU did not answer on QMP within 30 s: " + tail_of(f_.qemu_log()), "qemu-failed"};
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    return {};
  }

  // Ends QEMU now: QMP quit, then SIGKILL.
  void kill_qemu() {
    (void)qmp_execute(f_.qmp_sock(), "quit", milliseconds(2000));
    if (!qemu_.wait(milliseconds(5000))) {
      qemu_.signal(SIGKILL);
      qemu_.wait();
    }
  }

  void handle(const Marker& m) {
    if (m.kind == MarkerKind::kBootRefused) {
      if (st_.power == PowerState::kBootRefused) return;
      transition(VmEvent::kBootRefused);
      st_.last_error = "Secure Boot refused the boot: " + m.line;
      // Reported before the state is saved: whoever sees BootRefused in
      // state.json (vm start --wait-for) then also finds it in tlaunchd.
      report("boot-refused", m.line);
      save();
      return;
    }
    st_.last_marker = m.line;
    st_.last_marker_at = now_rfc3339();
    save();
    log_("guest: " + m.line);
  }

  void watch() {
    ConsoleLog console(f_.console_log());
    ConsoleScanner scanner;
    std::error_code ec;
    bool stop_seen = false;
    while (true) {
      for (const auto& m : scanner.feed(console.read_new())) handle(m);
      if (console.rotate_if_full()) log_("console.log passed " + std::to_string(kConsoleLogCap >> 20) + " MiB: rotated to console.log.1");
      if (st_.power == PowerState::kBootRefused) {
        kill_qemu();
        return;
      }
      if (!stop_seen && (g_stop_signal || fs::exists(f_.stop_request(), ec))) {
        stop_seen = true;
        transition(VmEvent::kStopRequested);
        save();
        const milliseconds grace = stop_grace();
        log_("stop requested: ACPI shutdown, QMP quit after " + std::to_string(grace.count()) + " ms");
        auto r = qmp_execute(f_.qmp_sock(), "system_powerdown", milliseconds(2000));
        if (!r) log_("ACPI shutdown request failed: " + r.error().message);
        stop_deadline_ = Clock::now() + (r ? grace : milliseconds(0));
      }
      if (stop_seen && qemu_.running() && Clock::now() > stop_deadline_) {
        log_("the guest did not shut down in time: QMP quit");
        kill_qemu();
      }
      // swtpm first: when it dies QEMU may exit too, and the vTPM is the cause.
      if (config_.vtpm && !swtpm_.running()) {
        // A guest that powers off makes QEMU end swtpm (CMD_SHUTDOWN) as it
        // exits, so swtpm can be seen gone first: give QEMU a moment, and a
        // clean end of both (or an end we asked for) is a shutdown.
        (void)qemu_.wait(milliseconds(3000));
        const bool swtpm_clean = swtpm_.status().value_or(-1) == 0;
        if (!qemu_.running() && (stop_seen || (swtpm_clean && qemu_.status().value_or(-1) == 0))) break;
        const std::string why = describe_exit("the vTPM (swtpm)", swtpm_.status().value_or(-1)) + ": " + tail_of(f_.swtpm_log(), 400);
        kill_qemu();
        transition(VmEvent::kSwtpmDied);
        if (st_.power == PowerState::kCrashed) {
          st_.last_error = why;
          report("vtpm-crashed", why);
        } else {
          log_(why + " (after a stop request)");
        }
        return;
      }
      if (!qemu_.running()) break;
      std::this_thread::sleep_for(milliseconds(200));
    }
    // A refusal printed just before a reset is still a refusal.
    for (const auto& m : scanner.feed(console.read_new() + "\n")) handle(m);
    if (st_.power == PowerState::kBootRefused) return;
    const int status = qemu_.status().value_or(-1);
    if (status == 0) {
      transition(VmEvent::kQemuExitClean);
      st_.last_error.clear();
      log_("QEMU exited cleanly");
    } else {
      transition(VmEvent::kQemuExitFailed);
      std::string why = describe_exit("QEMU", status);
      if (status < 128) why += ": " + tail_of(f_.qemu_log(), 400);
      if (st_.power == PowerState::kCrashed) {
        st_.last_error = why;
        report("vm-crashed", why);
      } else {
        log_(why + " (after a stop request)");
      }
    }
  }

  // `vm stop --timeout` writes its grace period (ms) into the request file.
  milliseconds stop_grace() const {
    auto t = read_text_file(f_.stop_request(), 64);
    if (t) {
      try {
        const long long v = std::stoll(*t);
        if (v >= 0 && v <= 3600 * 1000) return milliseconds(v);
      } catch (...) {
      }
    }
    return milliseconds(30000);
  }

  void stop_swtpm() {
    if (swtpm_.pid() <= 0) return;
    swtpm_.signal(SIGTERM);
    if (!swtpm_.wait(milliseconds(3000))) {
      swtpm_.signal(SIGKILL);
      swtpm_.wait();
    }
  }

  void finish() {
    stop_swtpm();  // after QEMU: it sent CMD_SHUTDOWN, the state is saved
    std::error_code ec;
    fs::remove(f_.stop_request(), ec);
    st_.qemu_pid = st_.swtpm_pid = st_.supervisor_pid = 0;
    st_.stopped_at = now_rfc3339();
    save();
    log_(std::string("VM ") + power_state_name(st_.power) + (st_.last_error.empty() ? "" : ": " + st_.last_error));
  }

  const HostStore& store_;
  std::string name_;
  const SupervisorOptions& o_;
  const HostEventSink& events_;
  const Progress& log_;
  VmFiles f_;
  VmConfig config_;
  VmState st_;
  Child swtpm_, qemu_;
  Clock::time_point stop_deadline_{};
  FileLock lock_;
};

}  // namespace

std::string host_event_detail(std::string_view text) {
  constexpr size_t kMax = 1000;
  std::string out;
  bool gap = false;  // a run of control characters pending as one "; "
  for (size_t i = 0; i < text.size() && out.size() < kMax;) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      gap = true;
      ++i;
      continue;
    }
    // Length of a well-formed UTF-8 sequence starting here, 0 if it is not one.
    size_t n = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
    if (n > 1) {
      if (i + n > text.size()) n = 0;
      for (size_t k = 1; n && k < n; ++k)
        if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) n = 0;
      // Overlong / surrogate / beyond U+10FFFF forms.
      if (n == 3) {
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f)) n = 0;
      } else if (n == 4) {
        const auto c1 = static_cast<unsigned char>(text[i + 1]);
        if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f)) n = 0;
      }
    }
    std::string piece = n ? std::string(text.substr(i, n)) : std::string("?");
    if (gap && !out.empty()) piece = "; " + piece;
    gap = false;
    if (out.size() + piece.size() > kMax) break;
    out += piece;
    i += n ? n : 1;
  }
  if (out.find_first_not_of(' ') == std::string::npos) return "(no detail)";
  return out;
}

Result<VmState> supervise(const HostStore& store, const std::string& name, const SupervisorOptions& options,
                          const HostEventSink& events, const Progress& log) {
  return Supervisor(store, name, options, events, log).run();
}

void install_supervisor_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGHUP, SIG_IGN);
}

}  // namespace tl::host
