#include "sqltrack/slurm/slurm_job_state.hpp"
#include "sqltrack/util/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <csignal>
#include <iterator>
#include <set>
#include <utility>

namespace sqltrack {

namespace {

// Every key that scontrol (Slurm 21.08 to 24.x) prints in a job record,
// including the optional and `-d` ones.
constexpr std::string_view kScontrolJobKeys =
    "JobId ArrayJobId ArrayTaskId ArrayTaskThrottle HetJobId HetJobOffset JobName HetJobIdSet "
    "UserId GroupId MCS_label Priority Nice Account QOS WCKey JobState Reason FailedNode "
    "Dependency Requeue Restarts BatchFlag Reboot ExitCode DerivedExitCode RunTime TimeLimit "
    "TimeMin SubmitTime EligibleTime AccrueTime ResizeTime StartTime EndTime Deadline CronJob "
    "CrontabSpec PreemptEligibleTime PreemptTime SuspendTime SecsPreSuspend LastSchedEval "
    "Scheduler Partition AllocNode:Sid ReqNodeList ExcNodeList NodeList SchedNodeList "
    "BatchFeatures BatchHost StepMgrEnabled FedOrigin FedViableSiblings FedActiveSiblings "
    "NumNodes NumCPUs NumTasks CPUs/Task ReqB:S:C:T TRES ReqTRES AllocTRES Socks/Node "
    "NtasksPerN:B:S:C CoreSpec ThreadSpec JOB_GRES Nodes CPU_IDs Mem GRES Gres MinCPUsNode "
    "MinMemoryNode MinMemoryCPU MinMemoryTRES MinTmpDiskNode Features DelayBoot "
    "ClusterFeatures Prefer Reservation OverSubscribe Contiguous Licenses LicensesAlloc "
    "Network Command WorkDir AdminComment SystemComment Comment Extra StdErr StdIn StdOut "
    "Switches BurstBuffer BurstBufferState CpuFreqMin CpuFreqMax CpuFreqGov GresEnforceBind "
    "GresAllowTaskSharing GresOneTaskPerSharing KillOInInvalidDependent SpreadJob OOMKillStep "
    "CpusPerTres MemPerTres TresBind TresFreq TresPerJob TresPerNode TresPerSocket "
    "TresPerTask MailUser MailType NtasksPerTRES Container ContainerID SELinuxContext "
    "ResvPorts Power";

// Keys whose values are text chosen by users or paths, which may hold spaces
// and "Word=" of their own.
constexpr std::string_view kFreeTextKeys =
    "JobName Command WorkDir AdminComment SystemComment Comment Extra StdErr StdIn StdOut "
    "CrontabSpec BurstBuffer Container SELinuxContext Features Prefer";

// Whether `word` is one of the space-separated words of `list`.
bool contains(std::string_view list, std::string_view word) {
  while (!list.empty()) {
    auto space = list.find(' ');
    if (list.substr(0, space) == word) return true;
    list = space == std::string_view::npos ? std::string_view() : list.substr(space + 1);
  }
  return false;
}

bool is_known_key(std::string_view key) {
  return contains(kScontrolJobKeys, key);
}

bool is_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':' || c == '/';
}

// A place in a record where "Key=" starts: at the start or after a space.
struct KeyAt {
  std::size_t key_begin;
  std::size_t value_begin;
  std::string_view key;
};

std::vector<KeyAt> key_candidates(std::string_view text) {
  std::vector<KeyAt> found;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && text[i - 1] != ' ') continue;
    if (text[i] < 'A' || text[i] > 'Z') continue;
    std::size_t j = i;
    while (j < text.size() && is_key_char(text[j])) ++j;
    if (j < text.size() && text[j] == '=') found.push_back({i, j + 1, text.substr(i, j - i)});
  }
  return found;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim_right(std::string_view text) {
  while (!text.empty() && is_blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

bool ends_job_name(std::string_view key) {
  return key == "UserId" || key == "HetJobIdSet";
}

std::optional<ScontrolRecord> parse_record(std::string_view text) {
  text = trim(text);
  auto candidates = key_candidates(text);
  if (candidates.empty() || candidates.front().key_begin != 0) return std::nullopt;

  const bool job_name_anchored =
      std::any_of(candidates.begin(), candidates.end(),
                  [](const KeyAt& candidate) { return ends_job_name(candidate.key); });

  // A known key inside free text that scontrol prints again later ("StdErr=" in
  // a Comment) is text: the last occurrence is the real one.
  std::map<std::string_view, std::size_t> last_index;
  for (std::size_t k = 0; k < candidates.size(); ++k) last_index[candidates[k].key] = k;

  ScontrolRecord record;
  std::set<std::string_view> seen{candidates.front().key};
  const KeyAt* current = &candidates.front();
  auto store = [&](std::size_t value_end) {
    auto value = trim_right(text.substr(current->value_begin, value_end - current->value_begin));
    record.emplace(std::string(current->key), std::string(value));
  };

  for (std::size_t k = 1; k < candidates.size(); ++k) {
    const KeyAt& next = candidates[k];
    if (seen.count(next.key) != 0) continue;
    bool boundary = true;
    if (current->key == "JobName" && job_name_anchored) {
      boundary = ends_job_name(next.key);
    } else if (contains(kFreeTextKeys, current->key)) {
      boundary = is_known_key(next.key) && last_index[next.key] == k;
    }
    if (!boundary) continue;
    store(next.key_begin - 1);
    current = &next;
    seen.insert(next.key);
  }
  store(text.size());
  return record;
}

std::string field(const ScontrolRecord& record, const char* key) {
  auto it = record.find(key);
  return it == record.end() ? std::string() : it->second;
}

std::optional<unsigned long> parse_number(std::string_view text) {
  unsigned long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// ArrayTaskId of a pending array record: "3", "1-4", "1-7:2", "1,3,5-6", with
// an optional "%N" throttle.
bool task_range_contains(std::string_view range, unsigned long task) {
  range = range.substr(0, range.find('%'));
  while (!range.empty()) {
    auto comma = range.find(',');
    std::string_view item = range.substr(0, comma);
    range = comma == std::string_view::npos ? std::string_view() : range.substr(comma + 1);

    unsigned long step = 1;
    if (auto colon = item.find(':'); colon != std::string_view::npos) {
      auto parsed = parse_number(item.substr(colon + 1));
      if (!parsed || *parsed == 0) continue;
      step = *parsed;
      item = item.substr(0, colon);
    }
    auto dash = item.find('-');
    auto first = parse_number(item.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : parse_number(item.substr(dash + 1));
    if (!first || !last) continue;
    if (task >= *first && task <= *last && (task - *first) % step == 0) return true;
  }
  return false;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return lower(x) == lower(y);
  });
}

std::string signal_name(int signal_number) {
  switch (signal_number) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGCONT:
      return "SIGCONT";
    case SIGKILL:
      return "SIGKILL";
    default:
      return "signal " + std::to_string(signal_number);
  }
}

std::string slurm_says(const SlurmJobState& state) {
  return "JobState=" + state.state + " Reason=" + state.reason;
}

// squeue's %t codes, for callers that read the compact form.
constexpr std::array<std::pair<std::string_view, RunStatus>, 24> kStateCodes{{
    {"BF", RunStatus::BOOT_FAIL},      {"CA", RunStatus::CANCELLED},
    {"CD", RunStatus::COMPLETED},      {"CF", RunStatus::CONFIGURING},
    {"CG", RunStatus::COMPLETING},     {"DL", RunStatus::DEADLINE},
    {"F", RunStatus::FAILED},          {"NF", RunStatus::NODE_FAIL},
    {"OOM", RunStatus::OUT_OF_MEMORY}, {"PD", RunStatus::PENDING},
    {"PR", RunStatus::PREEMPTED},      {"R", RunStatus::RUNNING},
    {"RD", RunStatus::RESV_DEL_HOLD},  {"RF", RunStatus::REQUEUE_FED},
    {"RH", RunStatus::REQUEUE_HOLD},   {"RQ", RunStatus::REQUEUED},
    {"RS", RunStatus::RESIZING},       {"RV", RunStatus::REVOKED},
    {"SI", RunStatus::SIGNALING},      {"SE", RunStatus::SPECIAL_EXIT},
    {"SO", RunStatus::STAGE_OUT},      {"ST", RunStatus::STOPPED},
    {"S", RunStatus::SUSPENDED},       {"TO", RunStatus::TIMEOUT},
}};

}  // namespace

std::vector<ScontrolRecord> parse_scontrol_records(std::string_view output) {
  std::vector<ScontrolRecord> records;
  std::string pending;
  auto flush = [&] {
    if (auto record = parse_record(pending)) records.push_back(std::move(*record));
    pending.clear();
  };

  while (!output.empty()) {
    auto newline = output.find('\n');
    std::string_view line = output.substr(0, newline);
    output = newline == std::string_view::npos ? std::string_view() : output.substr(newline + 1);

    if (trim(line).empty()) {
      flush();
    } else if (line.front() == ' ' || line.front() == '\t') {
      // An indented line continues the record of the default (multi-line) form.
      pending += ' ';
      pending += trim(line);
    } else {
      flush();
      pending = trim_right(line);
    }
  }
  flush();
  return records;
}

SlurmJobState job_state_from_record(const ScontrolRecord& record) {
  SlurmJobState state;
  state.job_id = field(record, "JobId");
  state.array_job_id = field(record, "ArrayJobId");
  state.array_task_id = field(record, "ArrayTaskId");
  state.state = field(record, "JobState");
  state.reason = field(record, "Reason");
  auto restarts = parse_number(field(record, "Restarts"));
  state.restarts = restarts && *restarts <= 1'000'000 ? static_cast<int>(*restarts) : 0;
  state.preempt_time = field(record, "PreemptTime");
  state.preempted = !state.preempt_time.empty() && state.preempt_time != "None" &&
                    state.preempt_time != "Unknown" && state.preempt_time != "N/A" &&
                    state.preempt_time != "(null)";
  state.exit_code = field(record, "ExitCode");
  return state;
}

std::optional<SlurmJobState> find_job_state(const std::vector<ScontrolRecord>& records,
                                            std::string_view job_id) {
  job_id = trim(job_id);
  for (const auto& record : records) {
    auto it = record.find("JobId");
    if (it != record.end() && it->second == job_id) return job_state_from_record(record);
  }

  auto underscore = job_id.find('_');
  if (underscore == std::string_view::npos) return std::nullopt;
  std::string_view array_id = job_id.substr(0, underscore);
  auto task = parse_number(job_id.substr(underscore + 1));
  if (!task) return std::nullopt;

  // A started task has its own record; pending tasks share one with a range.
  const ScontrolRecord* in_range = nullptr;
  for (const auto& record : records) {
    if (field(record, "ArrayJobId") != array_id) continue;
    std::string tasks = field(record, "ArrayTaskId");
    if (parse_number(tasks) == task) return job_state_from_record(record);
    if (in_range == nullptr && task_range_contains(tasks, *task)) in_range = &record;
  }
  if (in_range == nullptr) return std::nullopt;
  SlurmJobState state = job_state_from_record(*in_range);
  state.array_task_id = std::to_string(*task);
  return state;
}

std::optional<SlurmJobState> parse_squeue_state(std::string_view output) {
  while (!output.empty()) {
    auto newline = output.find('\n');
    std::string_view line = trim(output.substr(0, newline));
    output = newline == std::string_view::npos ? std::string_view() : output.substr(newline + 1);
    if (line.empty()) continue;

    auto bar = line.find('|');
    SlurmJobState state;
    state.state = trim(line.substr(0, bar));
    if (bar != std::string_view::npos) state.reason = trim(line.substr(bar + 1));
    if (state.state.empty()) return std::nullopt;
    return state;
  }
  return std::nullopt;
}

SignalVerdict status_after_signal(const SlurmJobState& state, int own_restart_count,
                                  int signal_number) {
  const std::string got = signal_name(signal_number);
  auto verdict = [](RunStatus status, std::string detail, bool user_signal = false) {
    return SignalVerdict{status, user_signal, std::move(detail)};
  };

  // The C API (and a late look) shows the base state that Slurm already set.
  if (auto raw = run_status_from_slurm_state(state.state)) {
    switch (*raw) {
      case RunStatus::CANCELLED:
      case RunStatus::TIMEOUT:
      case RunStatus::PREEMPTED:
      case RunStatus::DEADLINE:
      case RunStatus::NODE_FAIL:
      case RunStatus::OUT_OF_MEMORY:
      case RunStatus::BOOT_FAIL:
      case RunStatus::REQUEUED:
      case RunStatus::REQUEUE_HOLD:
      case RunStatus::REQUEUE_FED:
      case RunStatus::SPECIAL_EXIT:
        return verdict(*raw, got + ": Slurm says " + slurm_says(state));
      case RunStatus::PENDING:
        return verdict(RunStatus::REQUEUED,
                       got + ": job requeued, Slurm says " + slurm_says(state));
      default:
        break;
    }
  }

  if (iequals(state.reason, "TimeLimit")) {
    return verdict(RunStatus::TIMEOUT, got + ": time limit reached (" + slurm_says(state) + ")");
  }
  if (iequals(state.reason, "DeadLine")) {
    return verdict(RunStatus::DEADLINE, got + ": deadline reached (" + slurm_says(state) + ")");
  }
  if (state.restarts > own_restart_count) {
    return verdict(RunStatus::REQUEUED,
                   got + ": job requeued (Restarts=" + std::to_string(state.restarts) +
                       ", this run started at restart " + std::to_string(own_restart_count) + ")");
  }
  if (state.preempted) {
    std::string detail = got + ": job preempted (PreemptTime=" + state.preempt_time;
    return verdict(RunStatus::PREEMPTED, detail + ", JobState=" + state.state + ")");
  }
  if (state.state == "RUNNING") {
    return verdict(RunStatus::CANCELLED,
                   got + " while Slurm still says RUNNING: a user's signal (scancel -b/-f, kill)",
                   true);
  }
  return verdict(RunStatus::CANCELLED, got + ": job cancelled (" + slurm_says(state) + ")");
}

std::optional<RunStatus> run_status_from_slurm_state(std::string_view job_state) {
  job_state = trim(job_state);
  job_state = job_state.substr(0, job_state.find(' '));  // sacct: "CANCELLED by 1000"
  while (!job_state.empty() && job_state.back() == '+') job_state.remove_suffix(1);
  if (job_state.empty()) return std::nullopt;

  std::string upper(job_state);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (auto status = parse_run_status(upper)) return status;
  for (const auto& [code, status] : kStateCodes) {
    if (code == upper) return status;
  }
  return std::nullopt;
}

}  // namespace sqltrack
