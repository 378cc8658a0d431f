// Tests of the launcher against real processes. Every launcher runs in a
// forked copy of the test process ("the wrapper" below), so its signal
// handlers, subreaper flag and SIGCHLD handling stay out of the test runner;
// the test plays the role of Slurm or of the user: it signals the wrapper,
// writes to its terminal, and reads what the wrapper reports back.

#include "sqltrack/launcher/launcher.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sqltrack/launcher/detail/posix.hpp"
#include "sqltrack/launcher/job_guard.hpp"
#include "support/test_support.hpp"

namespace sqltrack::launcher {
namespace {

using namespace std::chrono_literals;
using sqltrack::test::TempDir;
namespace fs = std::filesystem;

using Report = std::map<std::string, std::string>;

// Polls until `condition` holds; false when it did not within `timeout`.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

bool appears(const fs::path& file, std::chrono::milliseconds timeout = 10s) {
  return eventually([&] { return fs::exists(file); }, timeout);
}

std::string contents(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// True while the process exists and is not a zombie.
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string line;
  std::getline(stat, line);
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

pid_t read_pid(const fs::path& file) {
  return static_cast<pid_t>(std::stol(contents(file)));
}

// Waits until the process whose PID is in `pid_file` runs `command` (its
// comm). A shell that has not exec'd yet would swallow SIGINT in its handler.
bool runs(const fs::path& pid_file, const std::string& command) {
  return eventually([&] {
    std::string pid = trimmed(contents(pid_file));
    return !pid.empty() && trimmed(contents("/proc/" + pid + "/comm")) == command;
  });
}

// A forked copy of the test process running `body`; what the body puts in
// its report comes back over a pipe when it exits. The body must not use
// gtest assertions (they would fail in the copy, unseen).
class Forked {
 public:
  explicit Forked(const std::function<int(Report&)>& body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::close(fds[0]);
      Report report;
      int code = 99;
      try {
        code = body(report);
      } catch (const std::exception& error) {
        report["exception"] = error.what();
      }
      std::string text;
      for (const auto& [key, value] : report) text += key + "=" + value + "\n";
      [[maybe_unused]] ssize_t written = ::write(fds[1], text.data(), text.size());
      ::_exit(code);
    }
    ::close(fds[1]);
    report_fd_ = fds[0];
    ::fcntl(report_fd_, F_SETFL, O_NONBLOCK);
  }

  ~Forked() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(report_fd_);
  }

  Forked(const Forked&) = delete;
  Forked& operator=(const Forked&) = delete;

  pid_t pid() const { return pid_; }

  // The fork's exit status as a shell shows it (code, or 128 + signal);
  // -1 when it did not exit within the timeout (it is killed then).
  int wait(std::chrono::seconds timeout = 60s) {
    int status = 0;
    bool exited = eventually(
        [&] {
          drain();
          return ::waitpid(pid_, &status, WNOHANG) == pid_;
        },
        timeout);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      reaped_ = true;
      return -1;
    }
    reaped_ = true;
    drain();
    std::istringstream lines(text_);
    std::string line;
    while (std::getline(lines, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) report_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }

  const Report& report() const { return report_; }
  std::string operator[](const std::string& key) const {
    auto it = report_.find(key);
    return it == report_.end() ? "<missing>" : it->second;
  }

 private:
  void drain() {
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(report_fd_, buffer, sizeof buffer)) > 0) {
      text_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int report_fd_ = -1;
  bool reaped_ = false;
  std::string text_;
  Report report_;
};

std::string join(const std::vector<int>& values) {
  std::string text;
  for (int value : values) text += (text.empty() ? "" : ",") + std::to_string(value);
  return text;
}

void describe(const ChildOutcome& outcome, Report& report) {
  report["exit_code"] = outcome.exit_code ? std::to_string(*outcome.exit_code) : "none";
  report["term_signal"] = outcome.term_signal ? std::to_string(*outcome.term_signal) : "none";
  report["exec_errno"] = std::to_string(outcome.exec_errno);
  report["wrapper_exit_code"] = std::to_string(outcome.wrapper_exit_code());
  report["user_cpu_s"] = std::to_string(outcome.user_cpu_s);
  report["max_rss_kib"] = std::to_string(outcome.max_rss_kib);
  report["duration_ns"] = std::to_string(outcome.duration.count());
  report["ended_after_started"] = outcome.ended >= outcome.started ? "yes" : "no";
  std::vector<int> signals;
  std::vector<int> forwarded;
  for (const auto& signal : outcome.signals) {
    signals.push_back(signal.signal);
    forwarded.push_back(signal.forwarded ? 1 : 0);
  }
  std::vector<int> at_terminal;
  for (const auto& signal : outcome.signals) at_terminal.push_back(signal.at_terminal ? 1 : 0);
  report["signals"] = join(signals);
  report["forwarded"] = join(forwarded);
  report["at_terminal"] = join(at_terminal);
  report["leftovers"] = outcome.leftovers ? "yes" : "no";
  report["leftovers_killed"] = outcome.leftovers_killed ? "yes" : "no";
  report["summary"] = outcome.summary();
}

std::vector<std::string> base_environment() {
  const char* path = std::getenv("PATH");
  return {std::string("PATH=") + (path ? path : "/usr/bin:/bin")};
}

LaunchOptions shell(const std::string& script) {
  LaunchOptions options;
  options.argv = {"bash", "-c", script};
  options.environment = base_environment();
  options.kill_grace = 300ms;
  return options;
}

// Runs `sleep 1000` and writes its PID to `pid_file` once started.
LaunchOptions sleeper(const fs::path& pid_file) {
  LaunchOptions options;
  options.argv = {"sleep", "1000"};
  options.environment = base_environment();
  options.on_start = [pid_file](pid_t pid) {
    sqltrack::test::write_file(pid_file, std::to_string(pid));
  };
  return options;
}

// Runs a launcher on `io` and reports the outcome; returns the wrapper's code.
int run_launcher(boost::asio::io_context& io, LaunchOptions options, Report& report) {
  int exit_calls = 0;
  auto on_child_exit = options.on_child_exit;
  options.on_child_exit = [&](const ChildOutcome& outcome) {
    ++exit_calls;
    report["on_child_exit_code"] = std::to_string(outcome.wrapper_exit_code());
    if (on_child_exit) on_child_exit(outcome);
  };
  Launcher launcher(io, std::move(options));
  ChildOutcome outcome = launcher.run();
  describe(outcome, report);
  report["on_child_exit_calls"] = std::to_string(exit_calls);
  report["pid_after_run"] = std::to_string(launcher.pid());
  return outcome.wrapper_exit_code();
}

int run_launcher(LaunchOptions options, Report& report) {
  boost::asio::io_context io;
  return run_launcher(io, std::move(options), report);
}

// ---------------------------------------------------------------------------
// ChildOutcome as a value

TEST(ChildProcessOutcome, ExitCodeIsTheWrapperExitCode) {
  ChildOutcome outcome;
  outcome.exit_code = 3;
  EXPECT_EQ(outcome.wrapper_exit_code(), 3);
  EXPECT_EQ(outcome.summary(), "exited with code 3");
}

TEST(ChildProcessOutcome, DeathBySignalKeepsTheSignal) {
  ChildOutcome outcome;
  outcome.term_signal = SIGSEGV;
  outcome.core_dumped = true;
  EXPECT_EQ(outcome.wrapper_exit_code(), 139);
  EXPECT_EQ(outcome.summary(), "killed by signal 11 (SIGSEGV), core dumped");
}

TEST(ChildProcessOutcome, ExecErrorsMapLikeAShell) {
  ChildOutcome not_found;
  not_found.exec_errno = ENOENT;
  EXPECT_EQ(not_found.wrapper_exit_code(), 127);
  ChildOutcome not_executable;
  not_executable.exec_errno = EACCES;
  EXPECT_EQ(not_executable.wrapper_exit_code(), 126);
  EXPECT_EQ(ChildOutcome{}.wrapper_exit_code(), 1);
}

// ---------------------------------------------------------------------------
// Exit codes and signals of the child

TEST(LauncherExit, ExitZeroThreeAndSegfault) {
  struct Case {
    std::string script;
    int expected;
    std::string exit_code;
    std::string term_signal;
  };
  for (const auto& c : std::vector<Case>{{"exit 0", 0, "0", "none"},
                                         {"exit 3", 3, "3", "none"},
                                         {"kill -SEGV $$", 139, "none", "11"}}) {
    Forked wrapper([&](Report& report) { return run_launcher(shell(c.script), report); });
    EXPECT_EQ(wrapper.wait(), c.expected) << c.script;
    EXPECT_EQ(wrapper["wrapper_exit_code"], std::to_string(c.expected)) << c.script;
    EXPECT_EQ(wrapper["exit_code"], c.exit_code) << c.script;
    EXPECT_EQ(wrapper["term_signal"], c.term_signal) << c.script;
    EXPECT_EQ(wrapper["exec_errno"], "0") << c.script;
    EXPECT_EQ(wrapper["on_child_exit_calls"], "1") << c.script;
    EXPECT_EQ(wrapper["on_child_exit_code"], std::to_string(c.expected)) << c.script;
    EXPECT_EQ(wrapper["pid_after_run"], "-1") << c.script;
    EXPECT_EQ(wrapper["leftovers"], "no") << c.script;
  }
}

TEST(LauncherExit, EveryExitCodeRoundTrips) {
  for (int code : {0, 1, 2, 126, 127, 128, 255}) {
    Forked wrapper([&](Report& report) {
      return run_launcher(shell("exit " + std::to_string(code)), report);
    });
    EXPECT_EQ(wrapper.wait(), code) << "child exited " << code;
    EXPECT_EQ(wrapper["exit_code"], std::to_string(code));
  }
}

TEST(LauncherExit, DeathBySignalRoundTripsAs128PlusSignal) {
  for (int signal : {SIGHUP, SIGINT, SIGKILL, SIGUSR1, SIGSEGV, SIGTERM}) {
    Forked wrapper([&](Report& report) {
      return run_launcher(shell("kill -" + std::to_string(signal) + " $$"), report);
    });
    EXPECT_EQ(wrapper.wait(), 128 + signal) << "child killed itself with " << strsignal(signal);
    EXPECT_EQ(wrapper["term_signal"], std::to_string(signal));
    EXPECT_EQ(wrapper["exit_code"], "none");
  }
}

TEST(LauncherExit, CommandNotFoundIs127) {
  Forked wrapper([&](Report& report) {
    LaunchOptions options;
    options.argv = {"sqltrack-test-no-such-command"};
    options.environment = base_environment();
    options.on_start = [&](pid_t) { report["on_start"] = "called"; };
    return run_launcher(options, report);
  });
  EXPECT_EQ(wrapper.wait(), 127);
  EXPECT_EQ(wrapper["exec_errno"], std::to_string(ENOENT));
  EXPECT_EQ(wrapper["exit_code"], "none");
  EXPECT_EQ(wrapper["on_child_exit_calls"], "1");
  EXPECT_EQ(wrapper["on_start"], "<missing>")
      << "on_start must not run for a command that never ran";
  EXPECT_EQ(wrapper["summary"], "command not found (No such file or directory)");
}

TEST(LauncherExit, NotExecutableIs126) {
  TempDir dir;
  sqltrack::test::write_file(dir / "plain.sh", "#!/bin/sh\nexit 0\n");
  ::chmod((dir / "plain.sh").c_str(), 0644);
  // By path, by PATH search (found, but not executable), and a directory.
  std::vector<std::vector<std::string>> commands = {
      {(dir / "plain.sh").string()}, {"plain.sh"}, {dir.path().string()}};
  for (const auto& argv : commands) {
    Forked wrapper([&](Report& report) {
      LaunchOptions options;
      options.argv = argv;
      options.environment = {"PATH=" + dir.path().string()};
      return run_launcher(options, report);
    });
    EXPECT_EQ(wrapper.wait(), 126) << argv[0];
    EXPECT_EQ(wrapper["exec_errno"], std::to_string(EACCES)) << argv[0];
  }
}

// ---------------------------------------------------------------------------
// Signals sent to the wrapper

TEST(LauncherSignals, TermReachesChildAndGrandchildInItsGroup) {
  TempDir dir;
  std::string script = "cd " + dir.path().string() + R"(
    trap 'echo child > child.term; exit 0' TERM
    bash -c 'trap "echo grandchild > grandchild.term; exit 0" TERM
             touch grandchild.ready; while :; do sleep 0.05; done' &
    touch child.ready
    while :; do sleep 0.05; done)";
  Forked wrapper([&](Report& report) { return run_launcher(shell(script), report); });
  ASSERT_TRUE(appears(dir / "child.ready")) << "the child did not start";
  ASSERT_TRUE(appears(dir / "grandchild.ready")) << "the grandchild did not start";
  ::kill(wrapper.pid(), SIGTERM);
  EXPECT_EQ(wrapper.wait(), 0) << "the child traps SIGTERM and exits 0";
  EXPECT_TRUE(fs::exists(dir / "child.term")) << "SIGTERM did not reach the child";
  EXPECT_TRUE(appears(dir / "grandchild.term")) << "SIGTERM did not reach the grandchild";
  EXPECT_EQ(wrapper["signals"], std::to_string(SIGTERM));
  EXPECT_EQ(wrapper["forwarded"], "1");
}

TEST(LauncherSignals, InterruptIsForwardedLikeCtrlC) {
  // Without a terminal handed over, Ctrl-C reaches only the wrapper's group:
  // forwarding is what makes it reach the command.
  TempDir dir;
  Forked wrapper([&](Report& report) { return run_launcher(sleeper(dir / "child.pid"), report); });
  ASSERT_TRUE(runs(dir / "child.pid", "sleep"));
  ::kill(wrapper.pid(), SIGINT);
  EXPECT_EQ(wrapper.wait(), 128 + SIGINT);
  EXPECT_EQ(wrapper["term_signal"], std::to_string(SIGINT));
  EXPECT_EQ(wrapper["signals"], std::to_string(SIGINT));
}

TEST(LauncherSignals, SignalIgnoredAtStartIsNeitherCaughtNorForwarded) {
  // As `cmd &` in a script starts it: SIGINT and SIGQUIT ignored. The child ignores them
  // too; the wrapper must not record or forward what the child never acts on.
  TempDir dir;
  std::string script = "trap 'exit 0' USR1; echo $$ > " + (dir / "child.pid").string() +
                       "; while :; do sleep 0.05; done";
  Forked wrapper([&](Report& report) {
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGQUIT, SIG_IGN);
    return run_launcher(shell(script), report);
  });
  ASSERT_TRUE(appears(dir / "child.pid"));
  ASSERT_TRUE(eventually([&] { return !trimmed(contents(dir / "child.pid")).empty(); }));
  ::kill(wrapper.pid(), SIGINT);
  ::kill(wrapper.pid(), SIGQUIT);
  ::kill(wrapper.pid(), SIGUSR1);  // handled after the two above, which arrived first
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(wrapper["signals"], std::to_string(SIGUSR1)) << "only SIGUSR1 was caught";
}

TEST(LauncherSignals, EveryForwardedSignalReachesTheChildAndTheHook) {
  TempDir dir;
  std::vector<int> to_send = {SIGHUP, SIGUSR1, SIGUSR2, SIGCONT, SIGALRM, SIGXCPU, SIGQUIT};
  std::string traps;
  for (int signal : to_send) {
    traps += "trap 'echo " + std::to_string(signal) + " >> got' " + std::to_string(signal) + "\n";
  }
  std::string script = "cd " + dir.path().string() + "\n" + traps + R"(
    touch ready
    while [ ! -e stop ]; do sleep 0.02; done
    exit 0)";
  Forked wrapper([&](Report& report) {
    LaunchOptions options = shell(script);
    options.on_signal = [&](int signal) { report["hook"] += std::to_string(signal) + ","; };
    return run_launcher(options, report);
  });
  ASSERT_TRUE(appears(dir / "ready"));
  auto times_got = [&](int signal) {
    std::istringstream lines(contents(dir / "got"));
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) count += line == std::to_string(signal) ? 1 : 0;
    return count;
  };
  std::vector<int> expected_signals;
  for (int signal : to_send) {
    // One at a time: pending signals are delivered lowest number first, and
    // the wrapper itself adds a SIGCONT after SIGHUP and SIGQUIT.
    int before = times_got(signal);
    ::kill(wrapper.pid(), signal);
    expected_signals.push_back(signal);
    ASSERT_TRUE(eventually([&] { return times_got(signal) > before; }))
        << "the child did not get " << strsignal(signal) << "; got: " << contents(dir / "got");
  }
  sqltrack::test::write_file(dir / "stop", "");
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(wrapper["signals"], join(expected_signals));
  EXPECT_EQ(wrapper["hook"], join(expected_signals) + ",");
}

TEST(LauncherSignals, HookRunsAfterTheSignalWasForwarded) {
  TempDir dir;
  std::string script = "cd " + dir.path().string() + R"(
    trap 'touch child.term; exit 0' TERM
    touch ready
    while :; do sleep 0.02; done)";
  Forked wrapper([&](Report& report) {
    LaunchOptions options = shell(script);
    options.on_signal = [&](int) {
      // The loop is blocked in here: only an already forwarded SIGTERM lets the child write.
      report["hook_saw_child_term"] = appears(dir / "child.term") ? "yes" : "no";
    };
    return run_launcher(options, report);
  });
  ASSERT_TRUE(appears(dir / "ready"));
  ::kill(wrapper.pid(), SIGTERM);
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(wrapper["hook_saw_child_term"], "yes");
}

TEST(LauncherSignals, SecondTermDoesNotEndTheWrapperBeforeTheChild) {
  TempDir dir;
  std::string script = "cd " + dir.path().string() + R"(
    trap 'echo term >> terms' TERM
    touch ready
    while [ ! -e stop ]; do sleep 0.02; done
    exit 5)";
  Forked wrapper([&](Report& report) { return run_launcher(shell(script), report); });
  ASSERT_TRUE(appears(dir / "ready"));
  std::string expected;
  for (int count = 1; count <= 2; ++count) {
    ::kill(wrapper.pid(), SIGTERM);
    expected += "term\n";
    ASSERT_TRUE(eventually([&] { return contents(dir / "terms") == expected; }))
        << "the child did not see SIGTERM number " << count << "; saw: " << contents(dir / "terms");
  }
  ASSERT_TRUE(alive(wrapper.pid())) << "the wrapper exited before its child";
  sqltrack::test::write_file(dir / "stop", "");
  EXPECT_EQ(wrapper.wait(), 5) << "the wrapper must exit with the child's code";
  EXPECT_EQ(wrapper["signals"], join({SIGTERM, SIGTERM}));
}

TEST(LauncherSignals, ThrowingHooksDoNotStopTheLauncher) {
  TempDir dir;
  std::string script = "cd " + dir.path().string() + R"(
    trap 'exit 4' USR1
    touch ready
    while :; do sleep 0.02; done)";
  Forked wrapper([&](Report& report) {
    LaunchOptions options = shell(script);
    options.on_start = [](pid_t) { throw std::runtime_error("test: on_start throws"); };
    options.on_signal = [](int) { throw std::runtime_error("test: on_signal throws"); };
    options.on_child_exit = [](const ChildOutcome&) {
      throw std::runtime_error("test: on_child_exit throws");
    };
    return run_launcher(options, report);
  });
  ASSERT_TRUE(appears(dir / "ready"));
  ::kill(wrapper.pid(), SIGUSR1);
  EXPECT_EQ(wrapper.wait(), 4);
  EXPECT_EQ(wrapper["exception"], "<missing>");
}

// ---------------------------------------------------------------------------
// Nothing of the job outlives the wrapper

TEST(LauncherCleanup, BackgroundGrandchildIsGoneWhenRunReturns) {
  TempDir dir;
  std::string script = "sleep 1000 & echo $! > " + (dir / "grandchild.pid").string() + "; exit 0";
  Forked wrapper([&](Report& report) { return run_launcher(shell(script), report); });
  EXPECT_EQ(wrapper.wait(), 0);
  pid_t grandchild = read_pid(dir / "grandchild.pid");
  EXPECT_FALSE(alive(grandchild)) << "grandchild " << grandchild << " outlived the wrapper";
  EXPECT_EQ(wrapper["leftovers"], "yes");
  EXPECT_EQ(wrapper["leftovers_killed"], "no") << "sleep dies of SIGTERM; no SIGKILL needed";
}

TEST(LauncherCleanup, ChildThatLeavesNothingBehindNeedsNoCleanup) {
  Forked wrapper([&](Report& report) {
    LaunchOptions options;
    options.argv = {"true"};
    options.environment = base_environment();
    return run_launcher(options, report);
  });
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(wrapper["leftovers"], "no") << "nothing was left, yet the group was signalled";
}

// The check that lets the cleanup skip its /proc scan once the child is reaped.
TEST(LauncherCleanup, HasChildrenSeesRunningAndZombieChildrenWithoutReaping) {
  Forked wrapper([&](Report& report) {
    report["none_at_first"] = detail::has_children() ? "no" : "yes";
    int gate[2];
    if (::pipe(gate) != 0) return 98;
    pid_t child = ::fork();
    if (child == 0) {
      ::close(gate[1]);
      char byte;
      [[maybe_unused]] ssize_t n = ::read(gate[0], &byte, 1);
      ::_exit(7);
    }
    ::close(gate[0]);
    report["running"] = detail::has_children() ? "yes" : "no";
    ::close(gate[1]);  // the child exits and stays a zombie until reaped
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT);
    report["zombie"] = detail::has_children() ? "yes" : "no";
    int status = 0;
    report["reaped_code"] = ::waitpid(child, &status, 0) == child && WIFEXITED(status)
                                ? std::to_string(WEXITSTATUS(status))
                                : "already reaped";
    report["none_after"] = detail::has_children() ? "no" : "yes";
    return 0;
  });
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(wrapper["none_at_first"], "yes");
  EXPECT_EQ(wrapper["running"], "yes");
  EXPECT_EQ(wrapper["zombie"], "yes");
  EXPECT_EQ(wrapper["reaped_code"], "7") << "has_children reaped the zombie";
  EXPECT_EQ(wrapper["none_after"], "yes");
}

TEST(LauncherCleanup, GrandchildIgnoringTermIsKilledAfterTheGrace) {
  TempDir dir;
  std::string script =
      "trap '' TERM; sleep 1000 & echo $! > " + (dir / "grandchild.pid").string() + "; exit 0";
  Forked wrapper([&](Report& report) {
    LaunchOptions options = shell(script);
    options.kill_grace = 200ms;
    return run_launcher(options, report);
  });
  EXPECT_EQ(wrapper.wait(), 0);
  pid_t grandchild = read_pid(dir / "grandchild.pid");
  EXPECT_FALSE(alive(grandchild)) << "grandchild " << grandchild << " outlived the wrapper";
  EXPECT_EQ(wrapper["leftovers"], "yes");
  EXPECT_EQ(wrapper["leftovers_killed"], "yes");
}

TEST(LauncherCleanup, OrphanThatLeftTheGroupIsCleanedUp) {
  TempDir dir;
  // setsid puts the sleep in a session and group of its own: kill(-pgid) misses it.
  std::string script = "setsid sleep 1000 & echo $! > " + (dir / "orphan.pid").string() +
                       "; while [ ! -s " + (dir / "orphan.pid").string() + " ]; do :; done; exit 0";
  Forked wrapper([&](Report& report) { return run_launcher(shell(script), report); });
  EXPECT_EQ(wrapper.wait(), 0);
  pid_t orphan = read_pid(dir / "orphan.pid");
  EXPECT_FALSE(alive(orphan)) << "orphan " << orphan << " outlived the wrapper";
  EXPECT_EQ(wrapper["leftovers"], "yes");
}

TEST(LauncherCleanup, CallersHelperInTheWrappersGroupIsLeftAlone) {
  Forked wrapper([&](Report& report) {
    int gate[2];
    if (::pipe(gate) != 0) return 98;
    pid_t helper = ::fork();
    if (helper == 0) {
      // Like a caller's scontrol: exits 42 when the wrapper lets it.
      ::close(gate[1]);
      char byte;
      [[maybe_unused]] ssize_t n = ::read(gate[0], &byte, 1);
      ::_exit(42);
    }
    ::close(gate[0]);
    int code = run_launcher(shell("sleep 1000 & exit 0"), report);
    ::close(gate[1]);
    int status = 0;
    pid_t waited = ::waitpid(helper, &status, 0);
    report["helper"] = waited == helper && WIFEXITED(status) ? std::to_string(WEXITSTATUS(status))
                                                             : "not ours to wait for";
    return code;
  });
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(wrapper["helper"], "42") << "the launcher reaped or killed the caller's helper";
}

TEST(LauncherCleanup, KilledWrapperTakesTheChildWithIt) {
  TempDir dir;
  std::string script = "echo $$ > " + (dir / "child.pid").string() + "; exec sleep 1000";
  Forked wrapper([&](Report& report) { return run_launcher(shell(script), report); });
  ASSERT_TRUE(appears(dir / "child.pid"));
  ASSERT_TRUE(eventually([&] { return !trimmed(contents(dir / "child.pid")).empty(); }));
  pid_t child = read_pid(dir / "child.pid");
  ASSERT_TRUE(alive(child));
  ::kill(wrapper.pid(), SIGKILL);
  EXPECT_EQ(wrapper.wait(), 128 + SIGKILL);
  EXPECT_TRUE(eventually([&] { return !alive(child); }))
      << "child " << child << " survived its wrapper's SIGKILL (PR_SET_PDEATHSIG)";
}

// ---------------------------------------------------------------------------
// The guard: what a SIGKILLed wrapper leaves is ended

TEST(LauncherGuard, KilledWrapperTakesTheWholeJobWithIt) {
  // A grandchild in the job's group and one that left it (setsid) but kept the run's
  // environment entry: PDEATHSIG ends neither, the guard both; and it removes the path.
  TempDir dir;
  fs::create_directory(dir / "private");
  std::string script = "sleep 1000 & echo $! > " + (dir / "grandchild.pid").string() +
                       "; setsid sleep 999 & echo $! > " + (dir / "left.pid").string() + "; wait";
  Forked wrapper([&](Report& report) {
    JobGuard guard(SQLTRACK_RUN_BIN);
    guard.remove_when_abandoned(dir / "private");
    guard.watch_environment("SQLTRACK_TEST_RUN=guarded");
    guard.wait_started();
    report["guard"] = std::to_string(guard.pid());
    LaunchOptions options = shell(script);
    options.environment.push_back("SQLTRACK_TEST_RUN=guarded");
    options.guard = &guard;
    return run_launcher(options, report);
  });
  ASSERT_TRUE(eventually([&] {
    return !trimmed(contents(dir / "grandchild.pid")).empty() &&
           !trimmed(contents(dir / "left.pid")).empty();
  }));
  pid_t grandchild = read_pid(dir / "grandchild.pid");
  pid_t left = read_pid(dir / "left.pid");
  ::kill(wrapper.pid(), SIGKILL);
  EXPECT_EQ(wrapper.wait(), 128 + SIGKILL);
  bool grandchild_gone = eventually([&] { return !alive(grandchild); });
  bool left_gone = eventually([&] { return !alive(left); });
  ::kill(grandchild, SIGKILL);
  ::kill(left, SIGKILL);
  EXPECT_TRUE(grandchild_gone) << "the grandchild in the job's group outlived the wrapper";
  EXPECT_TRUE(left_gone) << "the process that left the group outlived the wrapper";
  EXPECT_TRUE(eventually([&] { return !fs::exists(dir / "private"); }));
}

TEST(LauncherGuard, GuardLeavesQuietlyWhenTheWrapperEndsNormally) {
  TempDir dir;
  fs::create_directory(dir / "private");
  Forked wrapper([&](Report& report) {
    JobGuard guard(SQLTRACK_RUN_BIN);
    guard.remove_when_abandoned(dir / "private");
    guard.wait_started();
    report["guard"] = std::to_string(guard.pid());
    LaunchOptions options = shell("exit 4");
    options.guard = &guard;
    return run_launcher(options, report);
  });
  EXPECT_EQ(wrapper.wait(), 4);
  ASSERT_NE(wrapper["guard"], "-1");
  pid_t guard = static_cast<pid_t>(std::stol(wrapper["guard"]));
  EXPECT_TRUE(eventually([&] { return !alive(guard); })) << "the guard outlived its wrapper";
  EXPECT_TRUE(fs::exists(dir / "private")) << "the guard acted on a normal end";
}

TEST(LauncherGuard, GuardIsNotTheWrappersChild) {
  // Not a child: no wait and no /proc scan of the launcher ever sees it, and the
  // wrapper's death does not end it.
  Forked wrapper([&](Report& report) {
    JobGuard guard(SQLTRACK_RUN_BIN);
    report["started"] = guard.wait_started() ? "yes" : "no";
    auto stat = detail::read_process_stat(guard.pid());
    report["parent_is_wrapper"] = stat && stat->ppid == ::getpid() ? "yes" : "no";
    report["own_session"] = ::getsid(guard.pid()) == guard.pid() ? "yes" : "no";
    report["has_children"] = detail::has_children() ? "yes" : "no";
    return 0;
  });
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(wrapper["started"], "yes");
  EXPECT_EQ(wrapper["parent_is_wrapper"], "no");
  EXPECT_EQ(wrapper["own_session"], "yes");
  EXPECT_EQ(wrapper["has_children"], "no");
}

// ---------------------------------------------------------------------------
// What the child starts with

TEST(LauncherSpawn, EnvironmentIsExactlyTheGivenOne) {
  TempDir dir;
  ::setenv("SQLTRACK_TEST_NOT_PASSED", "leak", 1);
  Forked wrapper([&](Report& report) {
    LaunchOptions options =
        shell("printf '%s|%s' \"$SQLTRACK_TEST_VALUE\" \"${SQLTRACK_TEST_NOT_PASSED-unset}\" > " +
              (dir / "env").string());
    options.environment.push_back("SQLTRACK_TEST_VALUE=with spaces = and equals");
    return run_launcher(options, report);
  });
  ::unsetenv("SQLTRACK_TEST_NOT_PASSED");
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(contents(dir / "env"), "with spaces = and equals|unset");
}

TEST(LauncherSpawn, ArgvZeroIsKeptAsGiven) {
  TempDir dir;
  Forked wrapper([&](Report& report) {
    LaunchOptions options = shell("cat /proc/$$/cmdline > " + (dir / "cmdline").string());
    return run_launcher(options, report);
  });
  EXPECT_EQ(wrapper.wait(), 0);
  std::string cmdline = contents(dir / "cmdline");
  EXPECT_EQ(cmdline.substr(0, cmdline.find('\0')), "bash");
}

TEST(LauncherSpawn, InheritedDescriptorsAreMappedAndNothingElseLeaks) {
  // Pipes A and B cross over (A's write end becomes the child's fd of B's
  // write end and the other way round), a third maps to fd 20, and a
  // descriptor the wrapper did not list (fd 10, no FD_CLOEXEC) must be closed
  // in the child even though it lies below a passed one.
  Forked wrapper([&](Report& report) {
    int a[2];
    int b[2];
    int c[2];
    if (::pipe(a) != 0 || ::pipe(b) != 0 || ::pipe(c) != 0) return 98;
    // Descriptors the test harness left open would put a pipe on fd 10 or
    // 20; move all ends above both so the fixed numbers are never ours.
    for (int* end : {&a[0], &a[1], &b[0], &b[1], &c[0], &c[1]}) {
      int high = ::fcntl(*end, F_DUPFD, 200);
      if (high < 0) return 97;
      ::close(*end);
      *end = high;
    }
    int stray = ::open("/dev/null", O_RDONLY);
    ::dup2(stray, 10);
    std::string script = "printf A >&" + std::to_string(b[1]) + "; printf B >&" +
                         std::to_string(a[1]) + "; printf C >&20; " +
                         "if [ -e /proc/$$/fd/10 ]; then printf ' fd10-open' >&20; "
                         "else printf ' fd10-closed' >&20; fi";
    LaunchOptions options = shell(script);
    options.inherit_fds = {{a[1], b[1]}, {b[1], a[1]}, {c[1], 20}};
    options.on_start = [&](pid_t) {
      // The wrapper's copies of the write ends go, so reads below end at EOF.
      ::close(a[1]);
      ::close(b[1]);
      ::close(c[1]);
    };
    int code = run_launcher(options, report);
    auto read_all = [](int fd) {
      std::string text;
      char buffer[256];
      ssize_t n;
      while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
        text.append(buffer, static_cast<std::size_t>(n));
      return text;
    };
    report["a"] = read_all(a[0]);
    report["b"] = read_all(b[0]);
    report["c"] = read_all(c[0]);
    return code;
  });
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(wrapper["a"], "A");
  EXPECT_EQ(wrapper["b"], "B");
  EXPECT_EQ(wrapper["c"], "C fd10-closed");
}

TEST(LauncherSpawn, ChildStartsInItsOwnGroupWithCleanSignals) {
  // The wrapper starts with SIGUSR1 blocked and SIGHUP ignored (nohup);
  // the launcher itself ignores SIGPIPE. The child must get an empty mask,
  // SIGPIPE at its default, and SIGHUP still ignored.
  TempDir dir;
  Forked wrapper([&](Report& report) {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    ::sigprocmask(SIG_BLOCK, &usr1, nullptr);
    ::signal(SIGHUP, SIG_IGN);
    int out = ::open((dir / "status").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, STDOUT_FILENO);
    ::close(out);
    LaunchOptions options;
    options.argv = {"cat", "/proc/self/status"};
    options.environment = base_environment();
    report["wrapper_pgid"] = std::to_string(::getpgrp());
    return run_launcher(options, report);
  });
  EXPECT_EQ(wrapper.wait(), 0);
  std::map<std::string, std::string> status;
  std::istringstream lines(contents(dir / "status"));
  std::string line;
  while (std::getline(lines, line)) {
    auto colon = line.find(':');
    auto value = line.find_first_not_of(" \t", colon + 1);
    if (colon != std::string::npos && value != std::string::npos) {
      status[line.substr(0, colon)] = line.substr(value);
    }
  }
  EXPECT_EQ(status["SigBlk"], "0000000000000000");
  unsigned long long ignored = std::stoull(status["SigIgn"], nullptr, 16);
  EXPECT_EQ(ignored & (1ULL << (SIGPIPE - 1)), 0U) << "SIGPIPE ignored in the child";
  EXPECT_NE(ignored & (1ULL << (SIGHUP - 1)), 0U) << "SIGHUP was ignored at start; must stay";
  EXPECT_EQ(status["NSpgid"], status["Pid"]) << "the child leads its own process group";
  EXPECT_NE(status["NSpgid"], wrapper["wrapper_pgid"]);
}

TEST(LauncherSpawn, ResourceUsageOfACpuBurningChild) {
  Forked wrapper([&](Report& report) {
    return run_launcher(shell("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"), report);
  });
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_GT(std::stod(wrapper["user_cpu_s"]), 0.0);
  EXPECT_GT(std::stol(wrapper["max_rss_kib"]), 0);
  EXPECT_GT(std::stoll(wrapper["duration_ns"]), 0);
  EXPECT_EQ(wrapper["ended_after_started"], "yes");
}

// ---------------------------------------------------------------------------
// Living with the caller's work on the same io_context

TEST(LauncherLoop, ForeignTimerKeepsTickingAndDoesNotHoldRun) {
  Forked wrapper([&](Report& report) {
    boost::asio::io_context io;
    boost::asio::steady_timer heartbeat(io);
    int ticks = 0;
    std::function<void()> tick = [&] {
      heartbeat.expires_after(10ms);
      heartbeat.async_wait([&](const boost::system::error_code& ec) {
        if (ec) return;
        ++ticks;
        tick();  // never cancelled: run() must return anyway
      });
    };
    tick();
    int code = run_launcher(io, shell("sleep 0.3; exit 6"), report);
    report["ticks"] = std::to_string(ticks);
    return code;
  });
  EXPECT_EQ(wrapper.wait(), 6);
  EXPECT_GT(std::stoi(wrapper["ticks"]), 0) << "the heartbeat did not run while the child ran";
}

TEST(LauncherLoop, IoStopFromAHandlerDoesNotEndRunEarly) {
  Forked wrapper([&](Report& report) {
    boost::asio::io_context io;
    boost::asio::steady_timer timer(io, 10ms);
    timer.async_wait([&io](const boost::system::error_code&) { io.stop(); });
    return run_launcher(io, shell("sleep 0.3; exit 4"), report);
  });
  EXPECT_EQ(wrapper.wait(), 4);
}

TEST(LauncherLoop, MetricsPipeIsReadOnTheSameLoopAndDrainedAfterRun) {
  Forked wrapper([&](Report& report) {
    int metrics[2];
    if (::pipe2(metrics, O_CLOEXEC) != 0) return 98;
    boost::asio::io_context io;
    boost::asio::posix::stream_descriptor reader(io, metrics[0]);
    std::string received;
    std::array<char, 256> buffer{};
    std::function<void()> read_more = [&] {
      reader.async_read_some(boost::asio::buffer(buffer),
                             [&](const boost::system::error_code& ec, std::size_t n) {
                               received.append(buffer.data(), n);
                               if (!ec) read_more();
                             });
    };
    read_more();
    LaunchOptions options = shell("echo step=1 >&7; echo step=2 >&7; exit 0");
    options.inherit_fds = {{metrics[1], 7}};
    options.on_start = [&](pid_t) { ::close(metrics[1]); };
    Launcher launcher(io, std::move(options));
    ChildOutcome outcome = launcher.run();
    // Drain what the child wrote after the reader last ran, up to EOF.
    io.restart();
    io.run();
    describe(outcome, report);
    report["received"] = received == "step=1\nstep=2\n" ? "both lines" : received;
    return outcome.wrapper_exit_code();
  });
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(wrapper["received"], "both lines");
}

// ---------------------------------------------------------------------------
// An interactive terminal (a pseudo-terminal the test drives)

struct Pty {
  int master = -1;
  std::string slave;
};

Pty open_pty() {
  Pty pty;
  pty.master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (pty.master < 0 || ::grantpt(pty.master) != 0 || ::unlockpt(pty.master) != 0) {
    throw std::runtime_error("no pseudo-terminal");
  }
  pty.slave = ::ptsname(pty.master);
  return pty;
}

// In a fork: a new session whose controlling terminal (and stdin) is the
// pty, as a login shell has; the caller is the session's foreground.
void attach_terminal(const std::string& slave) {
  ::setsid();
  int fd = ::open(slave.c_str(), O_RDWR);
  ::ioctl(fd, TIOCSCTTY, 0);
  ::dup2(fd, STDIN_FILENO);
  ::close(fd);
}

void type(const Pty& pty, const std::string& keys) {
  [[maybe_unused]] ssize_t n = ::write(pty.master, keys.data(), keys.size());
}

TEST(LauncherTerminal, ChildCanReadTheTerminal) {
  TempDir dir;
  Pty pty = open_pty();
  Forked wrapper([&](Report& report) {
    attach_terminal(pty.slave);
    int code =
        run_launcher(shell("read line; printf %s \"$line\" > " + (dir / "got").string()), report);
    report["terminal_back"] = ::tcgetpgrp(STDIN_FILENO) == ::getpgrp() ? "yes" : "no";
    return code;
  });
  type(pty, "hello\n");
  EXPECT_EQ(wrapper.wait(30s), 0) << "a child in a background group would stop on SIGTTIN";
  EXPECT_EQ(contents(dir / "got"), "hello");
  EXPECT_EQ(wrapper["terminal_back"], "yes");
  ::close(pty.master);
}

TEST(LauncherTerminal, CtrlCGoesStraightToTheChild) {
  TempDir dir;
  Pty pty = open_pty();
  Forked wrapper([&](Report& report) {
    attach_terminal(pty.slave);
    return run_launcher(sleeper(dir / "child.pid"), report);
  });
  ASSERT_TRUE(runs(dir / "child.pid", "sleep"));
  type(pty, "\x03");
  EXPECT_EQ(wrapper.wait(), 128 + SIGINT);
  EXPECT_EQ(wrapper["term_signal"], std::to_string(SIGINT));
  EXPECT_EQ(wrapper["signals"], "") << "the terminal signalled the child's group, not the wrapper";
  ::close(pty.master);
}

TEST(LauncherTerminal, CtrlCIsReportedOnceAndNotForwarded) {
  // With the sentinel (helper_program): the wrapper learns of the key, and the child,
  // which got it from the terminal, does not get it a second time from the wrapper.
  TempDir dir;
  Pty pty = open_pty();
  std::string script = "trap 'echo int >> " + (dir / "ints").string() + "' INT; echo $$ > " +
                       (dir / "child.pid").string() + "; while [ ! -e " + (dir / "done").string() +
                       " ]; do sleep 0.02; done; exit 0";
  Forked wrapper([&](Report& report) {
    attach_terminal(pty.slave);
    LaunchOptions options = shell(script);
    options.helper_program = SQLTRACK_RUN_BIN;
    pid_t sentinel = -1;
    options.on_sentinel_start = [&](pid_t pid) { sentinel = pid; };
    options.on_start = [&](pid_t pid) {
      report["sentinel_in_childs_group"] = ::getpgid(sentinel) == pid ? "yes" : "no";
    };
    int hooks = 0;
    options.on_terminal_interrupt = [&](int signal) {
      ++hooks;
      report["hooked"] = std::to_string(signal);
      sqltrack::test::write_file(dir / "reported", "");
    };
    int code = run_launcher(options, report);
    report["hooks"] = std::to_string(hooks);
    report["sentinel_reaped"] = ::kill(sentinel, 0) != 0 && errno == ESRCH ? "yes" : "no";
    return code;
  });
  ASSERT_TRUE(eventually([&] { return !trimmed(contents(dir / "child.pid")).empty(); }));
  pid_t child = read_pid(dir / "child.pid");
  // Until then the wrapper's group has the terminal, and a Ctrl-C would reach it instead.
  ASSERT_TRUE(eventually([&] { return ::tcgetpgrp(pty.master) == child; }))
      << "the child's group never got the terminal";
  type(pty, "\x03");
  ASSERT_TRUE(appears(dir / "reported")) << "the wrapper never heard of the Ctrl-C";
  sqltrack::test::write_file(dir / "done", "");
  EXPECT_EQ(wrapper.wait(), 0);
  EXPECT_EQ(contents(dir / "ints"), "int\n") << "the child must get the Ctrl-C exactly once";
  EXPECT_EQ(wrapper["hooks"], "1");
  EXPECT_EQ(wrapper["hooked"], std::to_string(SIGINT));
  EXPECT_EQ(wrapper["signals"], std::to_string(SIGINT));
  EXPECT_EQ(wrapper["forwarded"], "0");
  EXPECT_EQ(wrapper["at_terminal"], "1");
  EXPECT_EQ(wrapper["sentinel_in_childs_group"], "yes");
  EXPECT_EQ(wrapper["sentinel_reaped"], "yes");
  ::close(pty.master);
}

TEST(LauncherTerminal, CtrlZStopsTheJobAndFgResumesIt) {
  // A minimal job-control shell in a fork: session leader with the pty,
  // runs the wrapper as a job in its own group, reports stops and does `fg`.
  TempDir dir;
  Pty pty = open_pty();
  std::string script = "cd " + dir.path().string() + R"(
    read first; echo "$first" > first
    touch waiting
    read second; echo "$second" > second
    exit 0)";
  Forked shell_process([&](Report& report) {
    attach_terminal(pty.slave);
    pid_t job = ::fork();
    if (job == 0) {
      ::setpgid(0, 0);
      sigset_t ttou;
      sigemptyset(&ttou);
      sigaddset(&ttou, SIGTTOU);
      ::sigprocmask(SIG_BLOCK, &ttou, nullptr);
      ::tcsetpgrp(STDIN_FILENO, ::getpgrp());
      ::sigprocmask(SIG_UNBLOCK, &ttou, nullptr);
      Report ignored;
      ::_exit(run_launcher(shell(script), ignored));
    }
    ::setpgid(job, job);
    ::signal(SIGTTOU, SIG_IGN);
    ::tcsetpgrp(STDIN_FILENO, job);
    int stops = 0;
    int status = 0;
    while (::waitpid(job, &status, WUNTRACED) == job && WIFSTOPPED(status)) {
      ++stops;
      sqltrack::test::write_file(dir / "stopped", std::to_string(stops));
      ::tcsetpgrp(STDIN_FILENO, job);  // fg
      ::kill(-job, SIGCONT);
    }
    report["stops"] = std::to_string(stops);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  });
  type(pty, "one\n");
  ASSERT_TRUE(appears(dir / "waiting")) << "the child could not read the terminal";
  type(pty, "\x1a");  // Ctrl-Z
  ASSERT_TRUE(appears(dir / "stopped")) << "the shell never saw its job stop";
  type(pty, "two\n");
  EXPECT_EQ(shell_process.wait(), 0);
  EXPECT_EQ(trimmed(contents(dir / "first")), "one");
  EXPECT_EQ(trimmed(contents(dir / "second")), "two");
  EXPECT_EQ(shell_process["stops"], "1") << "after fg the child must get the terminal back";
  ::close(pty.master);
}

}  // namespace
}  // namespace sqltrack::launcher
