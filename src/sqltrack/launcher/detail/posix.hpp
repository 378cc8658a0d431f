#pragma once
// Small POSIX pieces the launcher needs: a scoped signal mask, a descriptor
// owner, the wrapper's children from /proc. Internal to the launcher.

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sqltrack::launcher::detail {

// Blocks every signal except the synchronous faults (which must never be
// blocked: a fault while blocked kills the process without a handler) for
// the lifetime of the object, then restores the previous mask.
class ScopedSignalBlock {
 public:
  ScopedSignalBlock();
  ~ScopedSignalBlock();
  ScopedSignalBlock(const ScopedSignalBlock&) = delete;
  ScopedSignalBlock& operator=(const ScopedSignalBlock&) = delete;

 private:
  sigset_t previous_;
};

// Owns one file descriptor; closes it at scope exit.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const noexcept { return fd_; }
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

struct ProcessEntry {
  pid_t pid;
  pid_t pgid;
};

// Fields of /proc/PID/stat; nullopt when the process is gone.
struct ProcessStat {
  char state;  // 'R', 'S', 'Z' (zombie), ...
  pid_t ppid;
  pid_t pgid;
};
std::optional<ProcessStat> read_process_stat(pid_t pid);

// The processes in /proc now.
std::vector<pid_t> all_processes();

// The children of `parent` as /proc shows them now, zombies included. A
// process that exists for the whole scan is listed; one that appears or is
// reparented during it may not be, so callers scan again until stable.
std::vector<ProcessEntry> children_of(pid_t parent);

// Whether this process has any child, running or zombie, without reaping
// one: one waitid(WNOWAIT) call, where children_of scans all of /proc.
bool has_children();

}  // namespace sqltrack::launcher::detail
