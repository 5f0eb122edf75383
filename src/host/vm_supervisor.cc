#include "host/vm_supervisor.h"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

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

// Reads what the guest added to its console since the last call.
class ConsoleTail {
 public:
  explicit ConsoleTail(fs::path p) : path_(std::move(p)) {}
  ~ConsoleTail() {
    if (fd_ >= 0) ::close(fd_);
  }
  std::string read_new() {
    if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return {};
    std::string out;
    char buf[16384];
    for (;;) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      if (out.size() > (1 << 20)) break;  // the rest next time
    }
    return out;
  }

 private:
  fs::path path_;
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
    watch();
    finish();
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
    log_("event " + kind + ": " + detail);
    if (events_) events_(kind, detail);
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
    ConsoleTail console(f_.console_log());
    ConsoleScanner scanner;
    std::error_code ec;
    bool stop_seen = false;
    while (true) {
      for (const auto& m : scanner.feed(console.read_new())) handle(m);
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
        const std::string why = describe_exit("the vTPM (swtpm)", swtpm_.status().value_or(-1)) + ": " + tail_of(f_.swtpm_log(), 400);
        kill_qemu();
        transition(VmEvent::kSwtpmDied);
        st_.last_error = why;
        if (st_.power == PowerState::kCrashed) report("vtpm-crashed", why);
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
};

}  // namespace

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
