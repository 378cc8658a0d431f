#include "sqltrack/launcher/detail/posix.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <string_view>

namespace sqltrack::launcher::detail {

ScopedSignalBlock::ScopedSignalBlock() {
  sigset_t all;
  sigfillset(&all);
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS}) {
    sigdelset(&all, fault);
  }
  sigprocmask(SIG_BLOCK, &all, &previous_);
}

ScopedSignalBlock::~ScopedSignalBlock() {
  sigprocmask(SIG_SETMASK, &previous_, nullptr);
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

namespace {

template <typename Int>
bool parse_int(std::string_view text, Int& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::optional<ProcessStat> read_process_stat(pid_t pid) {
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so the fields
  // are counted from the last ')'.
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  char buffer[1024];
  ssize_t n;
  do {
    n = ::read(fd.get(), buffer, sizeof buffer);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  std::string_view text(buffer, static_cast<std::size_t>(n));
  auto paren = text.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  text.remove_prefix(paren + 1);
  std::string_view fields[3];  // state ppid pgrp
  for (auto& field : fields) {
    auto start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::nullopt;
    text.remove_prefix(start);
    auto end = text.find(' ');
    if (end == std::string_view::npos) return std::nullopt;
    field = text.substr(0, end);
    text.remove_prefix(end);
  }
  ProcessStat stat{};
  if (fields[0].size() != 1 || !parse_int(fields[1], stat.ppid) ||
      !parse_int(fields[2], stat.pgid)) {
    return std::nullopt;
  }
  stat.state = fields[0][0];
  return stat;
}

std::vector<pid_t> all_processes() {
  std::vector<pid_t> pids;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), &::closedir);
  if (!proc) return pids;
  while (const dirent* entry = ::readdir(proc.get())) {
    pid_t pid = 0;
    if (parse_int(std::string_view(entry->d_name), pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

std::vector<ProcessEntry> children_of(pid_t parent) {
  std::vector<ProcessEntry> children;
  for (pid_t pid : all_processes()) {
    auto stat = read_process_stat(pid);
    if (stat && stat->ppid == parent) children.push_back({pid, stat->pgid});
  }
  return children;
}

bool has_children() {
  siginfo_t info{};
  // ECHILD means no child at all; WNOWAIT leaves a zombie for the reap that wants it.
  while (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno != EINTR) return errno != ECHILD;
  }
  return true;
}

}  // namespace sqltrack::launcher::detail
