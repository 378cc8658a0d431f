#include "sqltrack/launcher/launcher.hpp"

// How the launcher works, in the order things happen:
//  1. Remember which signals the wrapper started with ignored (the child
//     inherits those, like any program started under nohup, and the wrapper
//     neither catches nor forwards them), ignore SIGPIPE
//     (and SIGTTOU on a terminal), become a child subreaper, and catch the
//     forwarded signals and SIGCHLD with one asio signal_set, all before the
//     spawn so nothing slips through.
//  2. Spawn (detail::spawn, with vfork): own process group, PDEATHSIG, clean mask and
//     dispositions, the requested descriptors, the terminal when we have it. The
//     guard learns the job's group; with a terminal, a sentinel joins that group.
//  3. Loop: a forwarded signal goes to kill(-pgid) (and to orphans outside
//     the group), then to on_signal. SIGCHLD reaps with wait4(WNOHANG) in a
//     loop: the group, the child, the orphans; never a blocking wait, so a
//     signal that arrives meanwhile is simply handled next.
//  4. The child is reaped: record the outcome, give the terminal back, stop the
//     sentinel, call on_child_exit, then terminate what is left of the job:
//     SIGTERM, SIGKILL after the grace, polling until the group is empty and no
//     orphan is left. Then the guard hears the job is gone.
//
// Terminal job control (stdin is the controlling terminal): the child's group
// gets the terminal, so Ctrl-C and Ctrl-\ reach it directly (once) and it can
// read the terminal; a sentinel in that group tells the wrapper of those keys
// (detail/terminal_sentinel.hpp), and the group gets the terminal only once
// the sentinel is in it. When the child stops (Ctrl-Z, or a read from the
// background), the wrapper takes the terminal back and sends SIGTSTP to its
// own group, so the shell sees its job stopped; once continued (fg or bg), the
// child gets the terminal again if the wrapper is in the foreground, and
// SIGCONT. In an orphaned group (no job-control shell above us) the kernel
// drops that stop and the child simply continues.

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <set>

#include "sqltrack/launcher/detail/posix.hpp"
#include "sqltrack/launcher/detail/spawn.hpp"
#include "sqltrack/launcher/detail/terminal_sentinel.hpp"
#include "sqltrack/launcher/job_guard.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack::launcher {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// How often the cleanup looks whether the job is gone: processes that are
// not our children send us no SIGCHLD.
constexpr auto kCleanupPoll = 50ms;
// Processes that survive SIGKILL this long (uninterruptible sleep on a dead
// NFS server) are left behind with a warning rather than hanging the wrapper.
constexpr auto kGiveUpAfterKill = 10s;

bool is_terminating(int signal) {
  return signal == SIGTERM || signal == SIGINT || signal == SIGHUP || signal == SIGQUIT;
}

double seconds(const timeval& time) {
  return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
}

// Hooks and the caller's code must not take the launcher down with them.
template <typename Function>
void guarded(const char* what, Function&& function) {
  try {
    function();
  } catch (const std::exception& error) {
    warn(std::string(what) + " failed: " + error.what());
  } catch (...) {
    warn(std::string(what) + " failed");
  }
}

}  // namespace

struct Launcher::State : std::enable_shared_from_this<State> {
  State(asio::io_context& context, LaunchOptions launch_options)
      : io(context), options(std::move(launch_options)), signals(context), cleanup_timer(context) {}

  enum class Phase { not_started, running, terminating, killing, done };

  asio::io_context& io;
  LaunchOptions options;
  asio::signal_set signals;  // the forwarded signals and SIGCHLD
  asio::steady_timer cleanup_timer;
  bool cleanup_timer_armed = false;

  Phase phase = Phase::not_started;
  ChildOutcome outcome;
  Clock::time_point started_steady;
  pid_t child = -1;              // the direct child; -1 once reaped
  pid_t pgid = -1;               // the job's process group; kept after the child is reaped
  pid_t self = -1;               // the wrapper
  pid_t own_pgid = -1;           // the wrapper's group, where the caller's helpers live
  bool child_exited = false;     // reaped, on_child_exit not called yet
  bool terminal = false;         // stdin is the wrapper's controlling terminal
  Clock::time_point kill_at;     // end of the grace period
  Clock::time_point give_up_at;  // end of the wait after SIGKILL
  std::set<pid_t> sent_term;     // orphans outside the group already sent SIGTERM
  std::shared_ptr<detail::TerminalSentinel> sentinel;  // with a terminal: reports keys

  void start();
  void start_sentinel(const std::array<bool, NSIG>& ignored);
  void interrupted_at_terminal(int signal);
  void wait_for_signals();
  void on_signal(int signal);
  void forward(int signal);
  void on_child_events();
  void reap();
  void reaped(pid_t pid, int status, const rusage& usage);
  void child_stopped(int stop_signal);
  void after_child_exit();
  void advance_cleanup();
  void arm_cleanup_timer();
  bool job_gone();
  bool signal_job(int signal);
  std::vector<detail::ProcessEntry> orphans();
  void finish();

  bool in_foreground() const { return ::tcgetpgrp(STDIN_FILENO) == own_pgid; }
  void give_terminal() {
    if (terminal && child > 0 && in_foreground()) ::tcsetpgrp(STDIN_FILENO, pgid);
  }
  void take_terminal_back() {
    if (terminal && pgid > 0 && ::tcgetpgrp(STDIN_FILENO) == pgid) {
      ::tcsetpgrp(STDIN_FILENO, own_pgid);  // SIGTTOU is ignored, so this works from the background
    }
  }
};

void Launcher::State::start() {
  self = ::getpid();
  own_pgid = ::getpgrp();

  detail::SpawnRequest request;
  request.argv = options.argv;
  request.environment = options.environment;
  request.inherit_fds = options.inherit_fds;
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) == 0 && !(current.sa_flags & SA_SIGINFO)) {
      request.ignored[static_cast<std::size_t>(sig)] = current.sa_handler == SIG_IGN;
    }
  }

  terminal = options.manage_terminal && ::isatty(STDIN_FILENO) && ::tcgetpgrp(STDIN_FILENO) >= 0;
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  // A closed stdout must never kill the wrapper; the child gets SIGPIPE back.
  ::sigaction(SIGPIPE, &ignore, nullptr);
  // tcsetpgrp and our own writes must work while the child's group has the terminal.
  if (terminal) ::sigaction(SIGTTOU, &ignore, nullptr);
  if (options.guard) options.guard->wait_started();
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    warn(std::string("cannot become a child subreaper: ") + std::strerror(errno) +
         "; orphans of the job will not be cleaned up");
  }
  // A signal ignored at start stays ignored, as under nohup or `cmd &` in a script: the
  // child ignores it too, so acting on it would record what did not happen.
  for (int sig : kForwardedSignals) {
    if (!request.ignored[static_cast<std::size_t>(sig)]) signals.add(sig);
  }
  signals.add(SIGCHLD);
  wait_for_signals();

  // With a sentinel, the child's group gets the terminal only once the sentinel is in it,
  // so that no key typed at the start goes unseen (meanwhile keys reach the wrapper).
  const bool with_sentinel = terminal && !options.helper_program.empty();
  request.take_terminal = terminal && in_foreground() && !with_sentinel;
  phase = Phase::running;
  outcome.started = std::chrono::system_clock::now();
  started_steady = Clock::now();
  detail::SpawnResult result = detail::spawn(request);
  if (result.pid < 0) {
    outcome.exec_errno = result.error;
    outcome.ended = std::chrono::system_clock::now();
    outcome.duration = Clock::now() - started_steady;
    guarded("on_child_exit", [&] {
      if (options.on_child_exit) options.on_child_exit(outcome);
    });
    finish();
    return;
  }
  child = pgid = result.pid;
  if (options.guard) options.guard->watch_group(pgid);
  if (with_sentinel) {
    start_sentinel(request.ignored);
    give_terminal();
  }
  guarded("on_start", [&] {
    if (options.on_start) options.on_start(child);
  });
}

void Launcher::State::start_sentinel(const std::array<bool, NSIG>& ignored) {
  std::vector<int> watched;
  for (int signal : {SIGINT, SIGQUIT}) {
    if (!ignored[static_cast<std::size_t>(signal)]) watched.push_back(signal);
  }
  // Weak: the sentinel's handlers must not keep the launcher's state alive.
  auto report = [weak = weak_from_this()](int signal) {
    if (auto state = weak.lock()) state->interrupted_at_terminal(signal);
  };
  auto started = std::make_shared<detail::TerminalSentinel>(io);
  if (!started->start(options.helper_program, pgid, watched, report)) return;
  sentinel = started;
  guarded("on_sentinel_start", [&] {
    if (options.on_sentinel_start) options.on_sentinel_start(sentinel->pid());
  });
}

void Launcher::State::interrupted_at_terminal(int signal) {
  auto time = std::chrono::system_clock::now();
  // Reported as the exit was handled: it was typed while the command ran.
  if (child < 0 && outcome.ended < time) time = outcome.ended;
  outcome.signals.push_back({signal, time, false, true});
  guarded("on_terminal_interrupt", [&] {
    if (options.on_terminal_interrupt) options.on_terminal_interrupt(signal);
  });
}

void Launcher::State::wait_for_signals() {
  signals.async_wait([state = shared_from_this()](const boost::system::error_code& ec, int sig) {
    if (!ec) state->on_signal(sig);
  });
}

void Launcher::State::on_signal(int signal) {
  if (phase == Phase::done) return;
  wait_for_signals();  // first, so nothing below can leave us deaf
  if (signal == SIGCHLD) {
    on_child_events();
  } else {
    forward(signal);
  }
}

void Launcher::State::forward(int signal) {
  // `fg` of the wrapper: the child needs the terminal back before it runs.
  if (signal == SIGCONT) give_terminal();
  bool reached = signal_job(signal);
  // A stopped process acts on SIGTERM only once continued (Slurm and bash do the same).
  if (is_terminating(signal)) signal_job(SIGCONT);
  outcome.signals.push_back({signal, std::chrono::system_clock::now(), reached});
  guarded("on_signal", [&] {
    if (options.on_signal) options.on_signal(signal);
  });
}

void Launcher::State::on_child_events() {
  reap();
  if (child_exited) {
    child_exited = false;
    after_child_exit();
  }
  if (phase == Phase::terminating || phase == Phase::killing) advance_cleanup();
}

void Launcher::State::reap() {
  int status = 0;
  rusage usage{};
  // Members of the job's group that are our children: the child itself, and
  // orphans reparented to us.
  while (pgid > 0) {
    pid_t pid = ::wait4(-pgid, &status, WNOHANG, &usage);
    if (pid > 0) {
      reaped(pid, status, usage);
    } else if (pid < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  // The child may have left its group; and only this call reports its stops.
  if (child > 0) {
    pid_t pid = ::wait4(child, &status, WNOHANG | (terminal ? WUNTRACED : 0), &usage);
    if (pid > 0) reaped(pid, status, usage);
  }
  // Orphans that left the job's group (setsid) and were reparented to us;
  // the child too, should it have left its group and exited just now.
  for (const auto& orphan : orphans()) {
    if (::wait4(orphan.pid, &status, WNOHANG, &usage) > 0) {
      sent_term.erase(orphan.pid);
      reaped(orphan.pid, status, usage);
    }
  }
}

void Launcher::State::reaped(pid_t pid, int status, const rusage& usage) {
  if (sentinel && pid == sentinel->pid()) sentinel->reaped();
  if (pid != child) return;  // another process of the job: nothing to record
  if (WIFSTOPPED(status)) {
    child_stopped(WSTOPSIG(status));
    return;
  }
  if (WIFCONTINUED(status)) return;
  outcome.wait_status = status;
  if (WIFEXITED(status)) {
    outcome.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.term_signal = WTERMSIG(status);
    outcome.core_dumped = WCOREDUMP(status);
  }
  outcome.user_cpu_s = seconds(usage.ru_utime);
  outcome.system_cpu_s = seconds(usage.ru_stime);
  outcome.max_rss_kib = usage.ru_maxrss;  // KiB on Linux
  outcome.ended = std::chrono::system_clock::now();
  outcome.duration = Clock::now() - started_steady;
  child = -1;
  child_exited = true;
}

void Launcher::State::child_stopped(int stop_signal) {
  // Stopped for touching the terminal before it was handed over (while the sentinel
  // started): it has the terminal now, and a group that has it is never stopped for that.
  if ((stop_signal == SIGTTIN || stop_signal == SIGTTOU) && ::tcgetpgrp(STDIN_FILENO) == pgid) {
    ::kill(-pgid, SIGCONT);
    return;
  }
  take_terminal_back();
  // Stop our own group, as the terminal would have done had the child not
  // had it: the shell then sees its job stopped. Returns once we are
  // continued, or at once when the kernel drops the stop (orphaned group).
  ::kill(0, SIGTSTP);
  if (in_foreground()) {
    give_terminal();
    ::kill(-pgid, SIGCONT);
  } else if (stop_signal != SIGTTIN && stop_signal != SIGTTOU) {
    // Continued in the background (bg), or the stop was dropped.
    ::kill(-pgid, SIGCONT);
  }
  // A child stopped reading the terminal from the background stays stopped
  // until the wrapper is brought to the foreground (our SIGCONT handler).
}

void Launcher::State::after_child_exit() {
  take_terminal_back();
  // What it saw before the exit is reported now, and the group is left to the job.
  if (sentinel) sentinel->stop();
  guarded("on_child_exit", [&] {
    if (options.on_child_exit) options.on_child_exit(outcome);
  });
  phase = Phase::terminating;
  kill_at = Clock::now() + options.kill_grace;
  advance_cleanup();
}

void Launcher::State::advance_cleanup() {
  reap();
  if (job_gone()) {
    finish();
    return;
  }
  auto now = Clock::now();
  if (phase == Phase::terminating && !outcome.leftovers) {
    outcome.leftovers = true;
    ::kill(-pgid, SIGTERM);
    ::kill(-pgid, SIGCONT);
  }
  if (phase == Phase::terminating && now >= kill_at) {
    phase = Phase::killing;
    outcome.leftovers_killed = true;
    give_up_at = now + kGiveUpAfterKill;
  }
  if (phase == Phase::terminating) {
    // Orphans appear as their parents die; each gets SIGTERM once.
    for (const auto& orphan : orphans()) {
      if (sent_term.insert(orphan.pid).second) {
        ::kill(orphan.pid, SIGTERM);
        ::kill(orphan.pid, SIGCONT);
      }
    }
  } else {
    signal_job(SIGKILL);
    if (now >= give_up_at) {
      warn("processes of the job survived SIGKILL; leaving them behind");
      finish();
      return;
    }
  }
  arm_cleanup_timer();
}

void Launcher::State::arm_cleanup_timer() {
  if (cleanup_timer_armed) return;
  cleanup_timer_armed = true;
  cleanup_timer.expires_after(kCleanupPoll);
  cleanup_timer.async_wait([state = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    state->cleanup_timer_armed = false;
    if (state->phase != Phase::done) state->on_child_events();
  });
}

bool Launcher::State::job_gone() {
  // The group first: once it is empty, every orphan of its members has
  // already been reparented to us, so the scan below sees them.
  if (pgid > 0 && !(::kill(-pgid, 0) != 0 && errno == ESRCH)) return false;
  return orphans().empty();
}

bool Launcher::State::signal_job(int signal) {
  bool reached = pgid > 0 && ::kill(-pgid, signal) == 0;
  for (const auto& orphan : orphans()) ::kill(orphan.pid, signal);
  return reached;
}

std::vector<detail::ProcessEntry> Launcher::State::orphans() {
  // Usually, once the child is reaped, the wrapper has no child at all: then
  // there is nothing to look for, and the /proc scan (milliseconds on a busy
  // node, three times per exit) is skipped.
  if (!detail::has_children()) return {};
  // Our children outside the job's group (reached by kill(-pgid) already)
  // and outside our own group (the caller's helpers), zombies included.
  auto children = detail::children_of(self);
  std::erase_if(children, [&](const detail::ProcessEntry& entry) {
    return entry.pgid == own_pgid || entry.pgid == pgid;
  });
  return children;
}

void Launcher::State::finish() {
  phase = Phase::done;
  if (options.guard && pgid > 0) options.guard->release_job();
  // No orphan of the job is left to adopt; a guard started for a next run (--loop) must
  // not be adopted either.
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  boost::system::error_code ignored;
  // The signals stay registered: one arriving now is queued, not fatal.
  signals.cancel(ignored);
  cleanup_timer.cancel();
}

Launcher::Launcher(asio::io_context& io, LaunchOptions options)
    : state_(std::make_shared<State>(io, std::move(options))) {}

Launcher::~Launcher() {
  // Pending handlers hold the state; make them finish (aborted) and release it.
  boost::system::error_code ignored;
  state_->signals.cancel(ignored);
  state_->signals.clear(ignored);
  state_->cleanup_timer.cancel();
}

ChildOutcome Launcher::run() {
  State& state = *state_;
  if (state.phase != State::Phase::not_started) throw Error("Launcher::run called twice");
  if (state.options.argv.empty()) throw Error("no command to run");
  for (const auto& [from, to] : state.options.inherit_fds) {
    if (to < 0 || ::fcntl(from, F_GETFD) < 0) {
      throw Error("cannot pass descriptor " + std::to_string(from) + " to the command as " +
                  std::to_string(to) + ": it is not open");
    }
  }
  state.start();
  while (state.phase != State::Phase::done) {
    // Only our own completion ends the loop: not io.stop(), not a throwing handler.
    try {
      if (state.io.stopped()) state.io.restart();
      state.io.run_one();
    } catch (const std::exception& error) {
      warn(std::string("event handler failed: ") + error.what());
    } catch (...) {
      warn("event handler failed");
    }
  }
  return state.outcome;
}

std::optional<int> run_helper(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  std::string_view flag = argv[1];
  if (flag == kJobGuardFlag) return run_job_guard();
  if (flag == kTerminalSentinelFlag) return detail::run_terminal_sentinel(argc > 2 ? argv[2] : "");
  return std::nullopt;
}

pid_t Launcher::pid() const noexcept {
  return state_->child;
}

}  // namespace sqltrack::launcher
