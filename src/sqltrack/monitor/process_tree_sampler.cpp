#include "sqltrack/monitor/process_tree_sampler.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace sqltrack {
namespace {

// A small /proc file in one read; empty when it cannot be read (the process is gone, or
// the file is not ours to read).
std::string read_small_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string text;
  std::array<char, 4096> buffer{};
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

template <class Number>
bool parse_number(std::string_view text, Number& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

// The value of "key: 123" in /proc/PID/io.
std::optional<std::uint64_t> io_field(std::string_view io, std::string_view key) {
  std::size_t at = 0;
  while (at < io.size()) {
    auto end = io.find('\n', at);
    if (end == std::string_view::npos) end = io.size();
    std::string_view line = io.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') continue;
    std::string_view value = line.substr(key.size() + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    std::uint64_t number = 0;
    if (parse_number(value, number)) return number;
    return std::nullopt;
  }
  return std::nullopt;
}

std::uint64_t grown_by(std::uint64_t before, std::uint64_t after) {
  return after > before ? after - before : 0;
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view line) {
  // "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  //  utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss ..."
  auto open = line.find(" (");
  auto close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat stat;
  if (!parse_number(line.substr(0, open), stat.pid)) return std::nullopt;
  // Fields after the command name, numbered as in proc(5): state is field 3.
  std::vector<std::string_view> fields;
  std::string_view rest = line.substr(close + 1);
  std::size_t at = 0;
  while (at < rest.size() && fields.size() < 22) {
    while (at < rest.size() && (rest[at] == ' ' || rest[at] == '\n')) ++at;
    auto end = rest.find_first_of(" \n", at);
    if (end == std::string_view::npos) end = rest.size();
    if (end > at) fields.push_back(rest.substr(at, end - at));
    at = end;
  }
  if (fields.size() < 22) return std::nullopt;
  auto field = [&](int number) { return fields[static_cast<std::size_t>(number - 3)]; };
  if (field(3).size() != 1) return std::nullopt;
  stat.state = field(3)[0];
  std::uint64_t utime = 0, stime = 0;
  std::int64_t cutime = 0, cstime = 0;  // signed in the kernel's format
  std::int64_t rss = 0;
  if (!parse_number(field(4), stat.ppid) || !parse_number(field(5), stat.pgid) ||
      !parse_number(field(14), utime) || !parse_number(field(15), stime) ||
      !parse_number(field(16), cutime) || !parse_number(field(17), cstime) ||
      !parse_number(field(24), rss)) {
    return std::nullopt;
  }
  stat.cpu_ticks = utime + stime + static_cast<std::uint64_t>(std::max<std::int64_t>(0, cutime)) +
                   static_cast<std::uint64_t>(std::max<std::int64_t>(0, cstime));
  stat.rss_pages = static_cast<std::uint64_t>(std::max<std::int64_t>(0, rss));
  return stat;
}

ProcessTreeSnapshot snapshot_process_tree(const ProcessTreeScope& scope) {
  ProcessTreeSnapshot snapshot;
  snapshot.taken = std::chrono::steady_clock::now();

  std::vector<ProcStat> all;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), &::closedir);
  if (!proc) return snapshot;
  while (const dirent* entry = ::readdir(proc.get())) {
    pid_t pid = 0;
    if (!parse_number(std::string_view(entry->d_name), pid)) continue;
    // Gone since the listing: not part of the job any more.
    if (auto stat = parse_proc_stat(read_small_file("/proc/" + std::to_string(pid) + "/stat"))) {
      all.push_back(*stat);
    }
  }

  // The job: its process group, the root, adopted orphans, and everything below them.
  const pid_t self = ::getpid();
  const pid_t own_group = ::getpgrp();
  std::unordered_map<pid_t, std::vector<std::size_t>> children;
  std::unordered_set<pid_t> members;
  std::deque<pid_t> to_visit;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const ProcStat& stat = all[i];
    if (stat.pid == scope.helper) continue;
    children[stat.ppid].push_back(i);
    bool adopted = scope.adopted_children && stat.ppid == self && stat.pgid != own_group;
    if (stat.pid == scope.root || stat.pgid == scope.root || adopted) {
      if (members.insert(stat.pid).second) to_visit.push_back(stat.pid);
    }
  }
  while (!to_visit.empty()) {
    pid_t parent = to_visit.front();
    to_visit.pop_front();
    auto found = children.find(parent);
    if (found == children.end()) continue;
    for (std::size_t i : found->second) {
      if (members.insert(all[i].pid).second) to_visit.push_back(all[i].pid);
    }
  }

  static const long page_size = ::sysconf(_SC_PAGESIZE);
  for (const ProcStat& stat : all) {
    if (!members.contains(stat.pid)) continue;
    snapshot.cpu_ticks += stat.cpu_ticks;
    if (stat.state == 'Z' || stat.state == 'X') continue;
    ++snapshot.processes;
    snapshot.pids.push_back(stat.pid);
    snapshot.rss_bytes += stat.rss_pages * static_cast<std::uint64_t>(page_size);
    std::string io = read_small_file("/proc/" + std::to_string(stat.pid) + "/io");
    snapshot.read_bytes += io_field(io, "read_bytes").value_or(0);
    snapshot.write_bytes += io_field(io, "write_bytes").value_or(0);
  }
  std::sort(snapshot.pids.begin(), snapshot.pids.end());
  return snapshot;
}

ResourceUsage usage_between(const ProcessTreeSnapshot& before, const ProcessTreeSnapshot& after) {
  ResourceUsage usage;
  usage.interval_seconds = std::chrono::duration<double>(after.taken - before.taken).count();
  static const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  if (usage.interval_seconds > 0) {
    double cpu_seconds =
        static_cast<double>(grown_by(before.cpu_ticks, after.cpu_ticks)) / ticks_per_second;
    usage.cpu_percent = 100.0 * cpu_seconds / usage.interval_seconds;
  }
  usage.rss_bytes = after.rss_bytes;
  usage.read_bytes = grown_by(before.read_bytes, after.read_bytes);
  usage.write_bytes = grown_by(before.write_bytes, after.write_bytes);
  usage.processes = after.processes;
  return usage;
}

}  // namespace sqltrack
