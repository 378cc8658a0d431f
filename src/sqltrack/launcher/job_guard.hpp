#pragma once
// The guard: a small process that ends the job when the wrapper is killed without a word.
//
// PR_SET_PDEATHSIG takes only the wrapper's direct child with it; the rest of the job (a
// bash script's python, a process that left the group) would live on, and a writer that
// opens the metrics FIFO after the wrapper is gone would block there for ever. So the
// wrapper starts a guard: sqltrack-run itself, run as `sqltrack-run --job-guard`,
// detached (not the wrapper's child, in a session of its own, so neither the wrapper's
// SIGKILL nor one sent to its process group reaches it) and connected to the wrapper by a
// socket. When that socket closes before the wrapper said goodbye, the wrapper is dead:
// the guard SIGKILLs the job's process group and every process whose environment holds the
// run's id (those that left the group with setsid and kept their environment), then
// removes the wrapper's private directory. When the wrapper ends normally it says so and
// the guard leaves, doing nothing. A guard sleeps in read() all along: it costs the
// wrapper's start two clones and an exec that runs beside it.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <thread>

#include "sqltrack/launcher/detail/spawn.hpp"

namespace sqltrack::launcher {

class JobGuard {
 public:
  // Starts `program --job-guard` (program: sqltrack-run, e.g. /proc/self/exe). Empty, or
  // when it cannot start (one warning on stderr): the object does nothing.
  explicit JobGuard(const std::string& program);
  // The wrapper ends normally: the guard leaves without touching anything.
  ~JobGuard();
  JobGuard(const JobGuard&) = delete;
  JobGuard& operator=(const JobGuard&) = delete;

  // Waits until the guard runs (it starts on a thread of its own); false, after one
  // warning, when it could not start. Before the caller becomes a child subreaper, so that
  // the guard is adopted by init, not by the caller.
  bool wait_started();
  // The guard's process id (not a child of the caller's), once started; -1 before, or when
  // it did not start.
  pid_t pid() const noexcept { return started_.pid; }

  // What the guard ends when the wrapper dies first: the job's process group, and the
  // processes whose environment holds `entry` ("NAME=VALUE", unique to the run).
  void watch_group(pid_t pgid);
  void watch_environment(const std::string& entry);
  // Removed (recursively) when the wrapper dies first, after the job was ended.
  void remove_when_abandoned(const std::filesystem::path& path);
  // The job is gone: nothing to end any more (its process group id may be reused).
  void release_job();

 private:
  void send(const std::string& what, const std::string& value);
  int socket_ = -1;
  std::string program_;
  std::thread starter_;
  detail::SpawnResult started_;
};

// The guard's side: reads the wrapper's messages on stdin until goodbye or end-of-file,
// acts as above on end-of-file, and returns the exit status.
int run_job_guard();

}  // namespace sqltrack::launcher
