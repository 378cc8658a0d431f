#include "sqltrack/launcher/detail/terminal_sentinel.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>

namespace sqltrack::launcher::detail {
namespace {

// How long stop() waits for the sentinel to leave.
constexpr int kLeaveWithinMs = 1000;

std::string signal_list(const std::vector<int>& signals) {
  std::string text;
  for (int signal : signals) text += (text.empty() ? "" : ",") + std::to_string(signal);
  return text;
}

sigset_t signal_set(const std::vector<int>& signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : signals) sigaddset(&set, signal);
  return set;
}

// posix_spawn with the sentinel's group, mask and descriptors; the child's pid or -1.
pid_t spawn_sentinel(const std::string& program, pid_t pgid, const std::vector<int>& signals,
                     int control, int reports) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_adddup2(&actions, control, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, reports, STDOUT_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // The watched signals stay blocked from the start, so none typed meanwhile is lost.
  sigset_t watched = signal_set(signals);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attributes, pgid);
  posix_spawnattr_setsigmask(&attributes, &watched);
  posix_spawnattr_setsigdefault(&attributes, &watched);
  std::string name = "sqltrack-run";
  std::string flag = "--terminal-sentinel";
  std::string list = signal_list(signals);
  char* argv[] = {name.data(), flag.data(), list.data(), nullptr};
  char* no_environment[] = {nullptr};
  pid_t pid = -1;
  int error = posix_spawn(&pid, program.c_str(), &actions, &attributes, argv, no_environment);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  return error == 0 ? pid : -1;
}

}  // namespace

bool TerminalSentinel::start(const std::string& program, pid_t pgid,
                             const std::vector<int>& signals, Report report) {
  if (program.empty() || signals.empty()) return false;
  int control[2];
  int reports[2];
  if (::pipe2(control, O_CLOEXEC) != 0) return false;
  UniqueFd control_read(control[0]);
  UniqueFd control_write(control[1]);
  if (::pipe2(reports, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  UniqueFd reports_read(reports[0]);
  UniqueFd reports_write(reports[1]);
  pid_ = spawn_sentinel(program, pgid, signals, control_read.get(), reports_write.get());
  if (pid_ < 0) return false;
  control_ = std::move(control_write);
  reports_.assign(reports_read.release());
  report_ = std::move(report);
  wait_for_reports();
  return true;
}

void TerminalSentinel::wait_for_reports() {
  // A wait, not a read: a read completed but not yet handled would hold reports that
  // stop() could not see. The pipe keeps them until read_reports takes them.
  reports_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                        if (ec || self->stopped_) return;
                        if (self->read_reports()) self->wait_for_reports();
                      });
}

bool TerminalSentinel::read_reports() {
  unsigned char signals[64];
  while (true) {
    ssize_t n = ::read(reports_.native_handle(), signals, sizeof signals);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 && errno == EAGAIN;
    for (ssize_t i = 0; i < n; ++i) report_(signals[i]);
  }
}

void TerminalSentinel::stop() {
  if (stopped_ || pid_ < 0) return;
  stopped_ = true;
  boost::system::error_code ignored;
  reports_.cancel(ignored);
  control_ = UniqueFd();  // end-of-file on its stdin: it reports what it saw, then leaves
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(kLeaveWithinMs);
  pollfd ready{reports_.native_handle(), POLLIN, 0};
  while (read_reports()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0 || (::poll(&ready, 1, static_cast<int>(left.count())) == 0)) {
      ::kill(pid_, SIGKILL);  // stopped, or stuck: it reports nothing more
      break;
    }
  }
  reports_.close(ignored);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

int run_terminal_sentinel(std::string_view list) {
  std::vector<int> watched;
  for (std::size_t start = 0; start < list.size();) {
    std::size_t end = std::min(list.find(',', start), list.size());
    int signal = 0;
    std::from_chars(list.data() + start, list.data() + end, signal);
    if (signal == SIGINT || signal == SIGQUIT) watched.push_back(signal);
    start = end + 1;
  }
  // Whatever else reaches the command's group (forwarded signals, job control, a key the
  // wrapper does not watch) must neither end nor stop the sentinel.
  for (int signal : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGTSTP,
                     SIGTTIN, SIGTTOU, SIGPIPE}) {
    if (std::find(watched.begin(), watched.end(), signal) == watched.end()) {
      ::signal(signal, SIG_IGN);
    }
  }
  sigset_t mask = signal_set(watched);
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  int signals = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signals < 0) return 1;
  pollfd fds[2] = {{signals, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  while (true) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return 1;
    // The signals first, every time: one typed before the wrapper asked us to leave is
    // reported before we go.
    signalfd_siginfo info{};
    while (::read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      if (info.ssi_code != SI_KERNEL) continue;  // forwarded by the wrapper, or sent by kill
      auto byte = static_cast<unsigned char>(info.ssi_signo);
      if (::write(STDOUT_FILENO, &byte, 1) != 1) return 1;
    }
    if (fds[1].revents != 0) return 0;
  }
}

}  // namespace sqltrack::launcher::detail
