#pragma once
// What a job's processes use, read from /proc: which processes belong to the job, their CPU
// time, resident memory and storage I/O. Plain file reads, no threads and no waiting: a
// snapshot reads one small file per process of the node and one more per process of the job,
// a few milliseconds for a few hundred processes.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sqltrack {

// Which processes are the job's.
struct ProcessTreeScope {
  // The job's first process; also the id of its process group (the launcher starts it so).
  pid_t root = -1;
  // The caller is a child subreaper (sqltrack-run): its children outside its own process
  // group are orphans of the job, adopted, and belong to it with their descendants.
  bool adopted_children = false;
  // A process of the wrapper's own in the job's process group (its terminal sentinel): not
  // the job's, not counted.
  pid_t helper = -1;
};

// The fields of /proc/PID/stat that the sampler uses.
struct ProcStat {
  pid_t pid = 0;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgid = 0;
  // utime + stime + cutime + cstime: the process's own CPU time and that of the children it
  // has reaped, in clock ticks.
  std::uint64_t cpu_ticks = 0;
  std::uint64_t rss_pages = 0;
};

// Parses one /proc/PID/stat line; nullopt when it is not one. The command name in
// parentheses may itself hold spaces and parentheses.
std::optional<ProcStat> parse_proc_stat(std::string_view line);

// The job's processes at one moment, summed.
struct ProcessTreeSnapshot {
  std::chrono::steady_clock::time_point taken{};
  std::size_t processes = 0;  // live ones; zombies only count for CPU time
  // CPU time of the processes and of the children they reaped. The sum only grows while
  // the job's processes reap each other, as they do; a process reaped by the wrapper
  // (an adopted orphan) takes its time with it.
  std::uint64_t cpu_ticks = 0;
  std::uint64_t rss_bytes = 0;  // shared pages count once per process, as in top
  // Bytes fetched from and sent to storage, reaped children included (/proc/PID/io), of the
  // processes whose io file could be read (others' are not).
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
  std::vector<pid_t> pids;  // the live processes, sorted
};

ProcessTreeSnapshot snapshot_process_tree(const ProcessTreeScope& scope);

// What the job used between two snapshots of it.
struct ResourceUsage {
  double interval_seconds = 0;
  double cpu_percent = 0;        // 100 = one core busy for the whole interval
  std::uint64_t rss_bytes = 0;   // at the end
  std::uint64_t read_bytes = 0;  // during the interval
  std::uint64_t write_bytes = 0;
  std::size_t processes = 0;  // at the end
};

// Counters that went down (a process whose time left with it) count as zero.
ResourceUsage usage_between(const ProcessTreeSnapshot& before, const ProcessTreeSnapshot& after);

}  // namespace sqltrack
