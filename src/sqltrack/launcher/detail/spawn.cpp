#include "sqltrack/launcher/detail/spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>

#include "sqltrack/launcher/detail/posix.hpp"
#include "sqltrack/util/boost_process.hpp"

namespace sqltrack::launcher::detail {

namespace bp = boost::process::v2;

namespace {

boost::system::error_code last_error() {
  return boost::system::error_code(errno, boost::system::system_category());
}

// Closes [first, last]; close_range where the kernel has it (5.9+).
void close_fd_range(unsigned first, unsigned last) {
  if (first > last) return;
  if (::close_range(first, last, 0) == 0) return;
  long limit = ::sysconf(_SC_OPEN_MAX);
  for (long fd = first; fd <= static_cast<long>(last) && fd < limit; ++fd)
    ::close(static_cast<int>(fd));
}

// A Boost.Process v2 initializer. on_setup runs in the wrapper before vfork;
// on_exec_setup runs in the vforked child just before exec, with every signal
// blocked (the wrapper blocked them around vfork). The child shares the
// wrapper's memory, so it sticks to async-signal-safe calls, allocates
// nothing, and writes only to what the wrapper set aside for it (parked).
struct ChildSetup {
  pid_t wrapper;
  bool take_terminal;
  const std::array<bool, NSIG>* ignored;
  const std::vector<std::pair<int, int>>* fds;
  std::vector<int>* parked;  // one slot per entry of fds, sized in the wrapper
  int park_floor;            // above every target fd number

  boost::system::error_code on_setup(bp::posix::default_launcher& launcher,
                                     const std::filesystem::path&, const char* const*) {
    for (const auto& fd : *fds) launcher.fd_whitelist.push_back(fd.second);
    return {};
  }

  boost::system::error_code on_exec_setup(bp::posix::default_launcher& launcher,
                                          const std::filesystem::path&, const char* const*) {
    // Own process group, so the wrapper can signal the whole job with kill(-pgid).
    if (::setpgid(0, 0) != 0) return last_error();
    // SIGTTOU is blocked here, so a background group may take the terminal.
    if (take_terminal) ::tcsetpgrp(STDIN_FILENO, ::getpid());
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return last_error();
    // The wrapper died before prctl took effect: nobody would kill us later.
    if (::getppid() != wrapper) ::raise(SIGKILL);

    // The wrapper's handlers must not run here, and exec keeps ignored
    // signals ignored: start from the defaults, except signals that were
    // ignored when the wrapper started (nohup), and SIGPIPE always default.
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig == SIGKILL || sig == SIGSTOP) continue;
      struct sigaction action {};
      action.sa_handler = ((*ignored)[sig] && sig != SIGPIPE) ? SIG_IGN : SIG_DFL;
      ::sigaction(sig, &action, nullptr);  // EINVAL for glibc's internal signals: fine
    }

    // Park every source above all targets first, so a mapping like {5->6,
    // 6->5} does not overwrite a source before it is copied.
    for (std::size_t i = 0; i < fds->size(); ++i) {
      (*parked)[i] = ::fcntl((*fds)[i].first, F_DUPFD_CLOEXEC, park_floor);
      if ((*parked)[i] < 0) return last_error();
    }
    for (std::size_t i = 0; i < fds->size(); ++i) {
      // dup2 clears FD_CLOEXEC on the target.
      if (::dup2((*parked)[i], (*fds)[i].second) < 0) return last_error();
    }

    // Boost 1.81's close_all leaves the gaps between whitelisted descriptors
    // open, so close everything not whitelisted here (the whitelist holds
    // 0-2 and our targets).
    auto& keep = launcher.fd_whitelist;
    std::sort(keep.begin(), keep.end());
    unsigned next = 0;
    for (int fd : keep) {
      if (fd < 0) continue;
      auto kept = static_cast<unsigned>(fd);
      if (kept > next) close_fd_range(next, kept - 1);
      next = std::max(next, kept + 1);
    }
    close_fd_range(next, ~0U);

    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    return {};
  }

  // Boost 1.81 detects this hook with five arguments but calls it with four;
  // accept both. Leave without running the wrapper's atexit handlers.
  template <typename... Args>
  void on_exec_error(Args&&...) {
    ::_exit(127);
  }
};

// What the two clones of spawn_detached share: they run in the caller's memory (CLONE_VM)
// on stacks of their own, while the caller waits (CLONE_VFORK), so they only make system
// calls and write nothing but `error`.
struct DetachedStart {
  const char* path;
  char* const* argv;
  int stdin_fd;
  char* exec_stack_top;
  volatile pid_t pid;
  volatile int error;
};

// The grandchild: its own session and descriptors, then the program.
__attribute__((no_sanitize_address)) int exec_detached(void* arg) {
  auto* start = static_cast<DetachedStart*>(arg);
  ::setsid();
  if (start->stdin_fd != STDIN_FILENO) {
    ::dup2(start->stdin_fd, STDIN_FILENO);
  } else {
    ::fcntl(STDIN_FILENO, F_SETFD, 0);
  }
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDOUT_FILENO);
  ::close_range(3, ~0U, 0);
  char* const no_environment[] = {nullptr};
  ::execve(start->path, start->argv, no_environment);
  start->error = errno;
  return 127;
}

// The middle process: starts the grandchild and ends, leaving it to be adopted.
__attribute__((no_sanitize_address)) int start_and_leave(void* arg) {
  auto* start = static_cast<DetachedStart*>(arg);
  start->pid = ::clone(exec_detached, start->exec_stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
  if (start->pid < 0) start->error = errno;
  return 0;
}

}  // namespace

SpawnResult spawn_detached(const char* path, char* const argv[], int stdin_fd) {
  // Two stacks, 16-byte aligned tops; plenty for a few system calls and lazy symbol binding.
  constexpr std::size_t kStack = 64 * 1024;
  auto stacks = std::make_unique_for_overwrite<char[]>(2 * kStack + 16);
  auto top = [&](std::size_t end) {
    auto address = reinterpret_cast<std::uintptr_t>(stacks.get() + end);
    return reinterpret_cast<char*>(address & ~std::uintptr_t{15});
  };
  DetachedStart start{path, argv, stdin_fd, top(2 * kStack), -1, 0};
  // No wrapper handler may run in the clones, which share its memory.
  ScopedSignalBlock blocked;
  // Exit signal 0: no SIGCHLD for the caller, and no wait but this one (__WCLONE) sees it.
  pid_t middle = ::clone(start_and_leave, top(kStack), CLONE_VM | CLONE_VFORK, &start);
  if (middle < 0) return {-1, errno};
  while (::waitpid(middle, nullptr, __WCLONE) < 0 && errno == EINTR) {
  }
  if (start.error != 0) return {-1, start.error};
  return {start.pid, 0};
}

ResolvedCommand find_executable(const std::string& name,
                                const std::vector<std::string>& environment) {
  if (name.empty()) return {{}, ENOENT};
  if (name.find('/') != std::string::npos) return {name, 0};
  std::string_view search_path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& entry : environment) {
    if (entry.starts_with("PATH=")) {
      search_path = std::string_view(entry).substr(5);
      break;
    }
  }
  std::string not_executable;
  std::size_t start = 0;
  while (true) {
    std::size_t end = search_path.find(':', start);
    std::string_view dir =
        search_path.substr(start, end == std::string_view::npos ? end : end - start);
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + name;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0) {
      if (S_ISREG(info.st_mode) && ::access(candidate.c_str(), X_OK) == 0) return {candidate, 0};
      if (not_executable.empty()) not_executable = candidate;
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (!not_executable.empty()) return {not_executable, 0};
  return {{}, ENOENT};
}

SpawnResult spawn(const SpawnRequest& request) {
  ResolvedCommand command = find_executable(request.argv.at(0), request.environment);
  if (command.error != 0) return {-1, command.error};

  // argv is passed as a char** so Boost keeps argv[0] as given (it would
  // otherwise replace it with the resolved path).
  std::vector<const char*> argv;
  for (const auto& arg : request.argv) argv.push_back(arg.c_str());
  argv.push_back(nullptr);
  std::vector<const char*> envp;
  for (const auto& entry : request.environment) envp.push_back(entry.c_str());
  envp.push_back(nullptr);

  int park_floor = 3;
  for (const auto& fd : request.inherit_fds) park_floor = std::max(park_floor, fd.second + 1);
  std::vector<int> parked(request.inherit_fds.size(), -1);
  ChildSetup setup{::getpid(),       request.take_terminal,
                   &request.ignored, &request.inherit_fds,
                   &parked,          park_floor};

  // vfork, not fork: a forked child gets a copy-on-write image of the
  // wrapper, and every page either side then writes is a page fault (on the
  // test VM, fork to exec took 8.5 ms against 2.5 ms with vfork, and each
  // page the wrapper wrote afterwards cost ~50 us). The wrapper is suspended
  // until the child has exec'd or exited, which is what we wait for anyway.
  bp::posix::vfork_launcher launcher;
  launcher.env = envp.data();
  // The launcher calls asio's notify_fork(fork_child) in the child; on the
  // wrapper's io_context that would rebuild its reactor in the memory the
  // child shares with us. A fresh context has no reactor, so there it is
  // harmless; its only other use is the process handle, detached below.
  boost::asio::io_context spawn_context;
  boost::system::error_code ec;
  {
    // Signals wait until the child has exec'd (or failed): a forwarded signal
    // must find the child in its own group, and none may run the wrapper's
    // handlers in the child.
    ScopedSignalBlock blocked;
    try {
      auto process = launcher(spawn_context.get_executor(), ec, std::filesystem::path(command.path),
                              argv.data(), setup);
      // We reap ourselves; the handle must neither wait nor kill on destruction.
      if (!ec) process.detach();
    } catch (const std::exception&) {
      // Boost opens a pidfd for the handle after a successful exec; kernels
      // without pidfd_open (< 5.3) make that throw. The child runs: go on.
      if (ec || launcher.pid <= 0) throw;
    }
  }
  if (ec) {
    int error = ec.value() != 0 ? ec.value() : EIO;
    if (launcher.pid > 0) {
      // The child wrote its errno and _exit'ed; it may have taken the terminal first.
      while (::waitpid(launcher.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      if (request.take_terminal && ::tcgetpgrp(STDIN_FILENO) == launcher.pid) {
        ::tcsetpgrp(STDIN_FILENO, ::getpgrp());
      }
    }
    return {-1, error};
  }
  return {launcher.pid, 0};
}

}  // namespace sqltrack::launcher::detail
