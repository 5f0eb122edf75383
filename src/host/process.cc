#include "host/process.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace tl::host {
namespace {

using Clock = std::chrono::steady_clock;

int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 255;
}

std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    bool replaced = false;
    for (const auto& x : extra) {
      auto eq = x.find('=');
      if (eq != std::string::npos && kv.substr(0, eq + 1) == std::string_view(x).substr(0, eq + 1)) replaced = true;
    }
    if (!replaced) env.emplace_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// Closes every descriptor from `first` up except `keep`. close_range(2) when the
// kernel has it (no descriptor is missed however high); else every number up to
// the limit found before fork.
void close_from(int first, int keep, long limit) {
  if (keep >= first) {
    if (keep > first && ::close_range(static_cast<unsigned>(first), static_cast<unsigned>(keep - 1), 0) != 0) {
      for (int fd = first; fd < keep; ++fd) close(fd);
    }
    first = keep + 1;
  }
  if (::close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return;
  for (long fd = first; fd < limit; ++fd) close(static_cast<int>(fd));
}

// fork + exec; `out_fd` (>= 0) replaces stdout and stderr (used by run()).
// `own_group`: the child leads a new process group, so a timeout can end it
// together with whatever it started (run()).
Result<Child> spawn_impl(const std::vector<std::string>& argv, const SpawnOptions& o, int out_fd, bool own_group) {
  if (argv.empty() || argv[0].empty()) return Error{"no program to run", "host-tool-missing"};
  std::string exe = argv[0];
  if (exe.find('/') == std::string::npos) {
    auto p = find_in_path(exe);
    if (!p) return Error{exe + " not found in PATH: run scripts/setup.sh (it installs the host tools)", "host-tool-missing"};
    exe = p->string();
  } else if (access(exe.c_str(), X_OK) != 0) {
    return Error{exe + " is not an executable file", "host-tool-missing"};
  }
  // Everything the child needs is prepared before fork (no allocation after it).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto env_strings = merged_env(o.extra_env);
  std::vector<char*> envp;
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string out_path = o.stdout_file ? o.stdout_file->string() : "/dev/null";
  const std::string err_path = o.stderr_file ? o.stderr_file->string() : "/dev/null";
  const std::string cwd = o.cwd ? o.cwd->string() : "";
  const long fd_limit = std::max(1024L, ::sysconf(_SC_OPEN_MAX));

  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno), "host-internal"};
  const pid_t pid = fork();
  if (pid < 0) {
    close(errpipe[0]);
    close(errpipe[1]);
    return Error{std::string("fork: ") + std::strerror(errno), "host-internal"};
  }
  if (pid == 0) {
    close(errpipe[0]);
    if (o.new_session) setsid();
    else if (own_group) setpgid(0, 0);
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) dup2(in, 0);
    if (out_fd >= 0) {
      dup2(out_fd, 1);
      dup2(out_fd, 2);
    } else {
      int fo = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
      int fe = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
      if (fo >= 0) dup2(fo, 1);
      if (fe >= 0) dup2(fe, 2);
    }
    // Only 0-2 and the error pipe survive into the program.
    close_from(3, errpipe[1], fd_limit);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
      int e = errno;
      (void)!write(errpipe[1], &e, sizeof e);
      _exit(127);
    }
    execve(exe.c_str(), args.data(), envp.data());
    int e = errno;
    (void)!write(errpipe[1], &e, sizeof e);
    _exit(127);
  }
  // Also here, so the group exists whichever of parent and child runs first.
  if (own_group && !o.new_session) setpgid(pid, pid);
  close(errpipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(errpipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close(errpipe[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int st = 0;
    waitpid(pid, &st, 0);
    return Error{"cannot start " + exe + (cwd.empty() ? "" : " in " + cwd) + ": " + std::strerror(child_errno),
                 "host-tool-missing"};
  }
  return Child(pid);
}

}  // namespace

bool Child::running() {
  if (pid_ < 0) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = decode_status(st);
    pid_ = -1;
    return false;
  }
  return r == 0;
}

std::optional<int> Child::wait(std::optional<std::chrono::milliseconds> timeout) {
  if (pid_ < 0) return status_;
  if (!timeout) {
    int st = 0;
    pid_t r;
    do {
      r = waitpid(pid_, &st, 0);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) status_ = decode_status(st);
    pid_ = -1;
    return status_;
  }
  const auto deadline = Clock::now() + *timeout;
  auto step = std::chrono::milliseconds(1);
  while (running()) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, std::chrono::milliseconds(50));
  }
  return status_;
}

void Child::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

Result<Child> spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  return spawn_impl(argv, options, -1, false);
}

Result<RunResult> run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const SpawnOptions& options) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno), "host-internal"};
  auto child = spawn_impl(argv, options, p[1], true);
  close(p[1]);
  if (!child) {
    close(p[0]);
    return child.take_error();
  }
  constexpr size_t kMax = 1 << 20;
  RunResult r;
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  char buf[8192];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{p[0], POLLIN, 0};
    int pr = poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) continue;
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // every writer closed: the child (and its children) are done with it
    if (r.output.size() < kMax) r.output.append(buf, std::min<size_t>(static_cast<size_t>(n), kMax - r.output.size()));
  }
  close(p[0]);
  if (timed_out) {
    // The whole group: a tool's own children (apt-get's methods, a shell's
    // pipeline) must not outlive the timeout either.
    ::kill(-child->pid(), SIGKILL);
    child->wait();
    return Error{argv[0] + " did not finish within " + std::to_string(timeout.count() / 1000) + " s", "host-tool-timeout"};
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  auto st = child->wait(std::max(left, std::chrono::milliseconds(1)));
  if (!st) {
    ::kill(-child->pid(), SIGKILL);
    child->wait();
    return Error{argv[0] + " did not finish within " + std::to_string(timeout.count() / 1000) + " s", "host-tool-timeout"};
  }
  r.status = *st;
  return r;
}

Result<std::string> run_checked(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                const SpawnOptions& options) {
  auto r = run(argv, timeout, options);
  if (!r) return r.take_error();
  if (r->status != 0) {
    // The tail is where tools say what went wrong.
    std::string tail = r->output;
    if (tail.size() > 800) tail = "…" + tail.substr(tail.size() - 800);
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
    return Error{argv[0] + " failed (exit " + std::to_string(r->status) + ")" + (tail.empty() ? "" : ": " + tail),
                 "host-tool-failed"};
  }
  return std::move(r->output);
}

std::optional<std::filesystem::path> find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (true) {
    auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (!dir.empty()) {
      std::filesystem::path p = std::filesystem::path(dir) / name;
      struct stat st {};
      if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0) return p;
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

}  // namespace tl::host
