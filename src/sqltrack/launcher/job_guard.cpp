#include "sqltrack/launcher/job_guard.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>
#include <vector>

#include "sqltrack/launcher/detail/posix.hpp"
#include "sqltrack/launcher/detail/spawn.hpp"
#include "sqltrack/launcher/launcher.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack::launcher {
namespace {

using namespace std::chrono_literals;

// How long the guard keeps killing (processes fork while it looks), and how often it looks.
constexpr auto kEndJobFor = 10s;
constexpr auto kEndJobPoll = 20ms;

// What the wrapper told the guard.
struct Watched {
  pid_t pgid = 0;
  std::vector<std::string> environment;
  std::vector<std::filesystem::path> paths;
  bool released = false;
};

// Whether `pid`'s environment holds `entry` as one of its NUL-separated strings.
bool environment_holds(pid_t pid, const std::vector<std::string>& entries) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  if (!in) return false;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text.insert(text.begin(), '\0');
  for (const auto& entry : entries) {
    if (text.find('\0' + entry + '\0') != std::string::npos) return true;
  }
  return false;
}

// SIGKILLs the job's group and the holders of its environment entries, again and again
// until a look finds none alive, for at most kEndJobFor. Returns how many it ended.
std::size_t end_job(const Watched& watched) {
  std::set<pid_t> ended;
  const pid_t self = ::getpid();
  auto give_up = std::chrono::steady_clock::now() + kEndJobFor;
  while (true) {
    bool found = false;
    for (pid_t pid : detail::all_processes()) {
      if (pid == self) continue;
      auto stat = detail::read_process_stat(pid);
      if (!stat || stat->state == 'Z' || stat->state == 'X') continue;
      bool member = watched.pgid > 0 && stat->pgid == watched.pgid;
      if (!member && !watched.environment.empty()) {
        member = environment_holds(pid, watched.environment);
      }
      if (member && ::kill(pid, SIGKILL) == 0) {
        ended.insert(pid);
        found = true;
      }
    }
    // Members the look missed (forked meanwhile); the group's own kill is atomic.
    if (watched.pgid > 0) ::kill(-watched.pgid, SIGKILL);
    if (!found || std::chrono::steady_clock::now() >= give_up) break;
    std::this_thread::sleep_for(kEndJobPoll);
  }
  return ended.size();
}

// Removes `path`. A writer still blocked opening a FIFO in it (one that escaped the
// above) gets a reader first, so that it fails on its next write instead of waiting for
// ever; the FIFO can then no longer be opened by name.
void remove_releasing_fifos(const std::filesystem::path& path) {
  std::vector<detail::UniqueFd> readers;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.is_fifo(ec)) {
      readers.emplace_back(::open(entry.path().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    }
  }
  std::filesystem::remove_all(path, ec);
}

// The wrapper died: ends what is left of the job, removes its paths, and says so.
void abandoned(const Watched& watched) {
  std::vector<std::string> done;
  if (!watched.released && (watched.pgid > 0 || !watched.environment.empty())) {
    done.push_back("ended " + std::to_string(end_job(watched)) + " process(es) of the job");
  }
  for (const auto& path : watched.paths) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    remove_releasing_fifos(path);
    done.push_back("removed " + path.string());
  }
  if (done.empty()) return;
  std::string message = "sqltrack-run: the wrapper died; its guard " + done[0];
  for (std::size_t i = 1; i < done.size(); ++i) message += " and " + done[i];
  message += "\n";
  [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, message.data(), message.size());
}

// Applies one message "WHAT VALUE"; true for goodbye.
bool apply_message(const std::string& line, Watched& watched) {
  auto space = line.find(' ');
  std::string what = line.substr(0, space);
  std::string value = space == std::string::npos ? "" : line.substr(space + 1);
  if (what == "done") return true;
  if (what == "group") watched.pgid = static_cast<pid_t>(std::atol(value.c_str()));
  if (what == "environment" && !value.empty()) watched.environment.push_back(value);
  if (what == "remove" && !value.empty()) watched.paths.emplace_back(value);
  if (what == "release") watched.released = true;
  return false;
}

}  // namespace

JobGuard::JobGuard(const std::string& program) {
  if (program.empty()) return;
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    warn(std::string("cannot start the job guard: ") + std::strerror(errno) +
         "; should the wrapper be killed, the job's processes may outlive it");
    return;
  }
  socket_ = ends[0];
  // On a thread of its own: the clones wait for each other and for the exec, which on a
  // busy machine means waiting to be scheduled, and the wrapper need not wait meanwhile.
  // What the wrapper sends before the guard runs waits in the socket.
  starter_ = std::thread([this, program, guard_end = ends[1]] {
    std::string name = "sqltrack-run";
    std::string flag(kJobGuardFlag);
    char* argv[] = {name.data(), flag.data(), nullptr};
    started_ = detail::spawn_detached(program.c_str(), argv, guard_end);
    ::close(guard_end);
  });
  program_ = program;
}

JobGuard::~JobGuard() {
  if (socket_ < 0) return;
  wait_started();
  send("done", "");
  ::close(socket_);
}

bool JobGuard::wait_started() {
  if (!starter_.joinable()) return started_.pid > 0;
  starter_.join();
  if (started_.pid < 0) {
    warn("cannot start the job guard " + program_ + ": " + std::strerror(started_.error) +
         "; should the wrapper be killed, the job's processes may outlive it");
  }
  return started_.pid > 0;
}

void JobGuard::watch_group(pid_t pgid) {
  send("group", std::to_string(pgid));
}

void JobGuard::watch_environment(const std::string& entry) {
  send("environment", entry);
}

void JobGuard::remove_when_abandoned(const std::filesystem::path& path) {
  send("remove", path.string());
}

void JobGuard::release_job() {
  send("release", "");
}

void JobGuard::send(const std::string& what, const std::string& value) {
  if (socket_ < 0 || value.find('\n') != std::string::npos) return;
  std::string line = what + " " + value + "\n";
  // MSG_NOSIGNAL: a guard that is gone must not take the wrapper with it (SIGPIPE).
  [[maybe_unused]] ssize_t sent = ::send(socket_, line.data(), line.size(), MSG_NOSIGNAL);
}

int run_job_guard() {
  // Started with every signal blocked; nothing from a terminal reaches its session anyway.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  Watched watched;
  std::string pending;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<std::size_t>(n));
    for (auto newline = pending.find('\n'); newline != std::string::npos;
         newline = pending.find('\n')) {
      if (apply_message(pending.substr(0, newline), watched)) return 0;
      pending.erase(0, newline + 1);
    }
  }
  abandoned(watched);
  return 0;
}

}  // namespace sqltrack::launcher
