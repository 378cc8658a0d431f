#include "sqltrack/slurm/slurm_sync.hpp"

#include <charconv>
#include <set>
#include <thread>

#include "sqltrack/store/store.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/helper_process.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

// More jobs than this are looked up with one `scontrol show job -o` of every job.
constexpr std::size_t kJobsAskedOneByOne = 16;

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string trimmed(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string slurm_says(const SlurmJobState& state) {
  std::string text = "JobState=" + state.state;
  if (!state.reason.empty()) text += " Reason=" + state.reason;
  if (!state.exit_code.empty()) text += " ExitCode=" + state.exit_code;
  return text;
}

// "3:0" → exit code 3; "0:9" → signal 9.
void exit_code_from_slurm(const std::string& exit_code, SyncDecision& decision) {
  auto colon = exit_code.find(':');
  if (colon == std::string::npos) return;
  auto code = parse_int(std::string_view(exit_code).substr(0, colon));
  auto signal = parse_int(std::string_view(exit_code).substr(colon + 1));
  if (!code || !signal) return;
  if (*signal != 0) {
    decision.signal = static_cast<int>(*signal);
  } else {
    decision.exit_code = static_cast<int>(*code);
  }
}

bool is_invalid_job_message(const std::string& text) {
  return text.find("Invalid job id") != std::string::npos;
}

// `sacct -n -P -X -j LABEL -o JobID,State,ExitCode`: "12_3|CANCELLED by 0|0:15".
SlurmLookup lookup_with_sacct(const std::string& label, std::chrono::milliseconds timeout) {
  auto sacct =
      run_helper({"sacct", "-n", "-P", "-X", "-j", label, "-o", "JobID,State,ExitCode"}, timeout);
  SlurmLookup lookup;
  lookup.source = "sacct";
  if (!sacct.succeeded()) {
    lookup.kind = SlurmLookup::Kind::unknown;
    lookup.message = "sacct: " + sacct.describe();
    return lookup;
  }
  std::string_view rest = sacct.out;
  while (!rest.empty()) {
    auto newline = rest.find('\n');
    std::string line = trimmed(rest.substr(0, newline));
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    auto bar1 = line.find('|');
    auto bar2 = line.find('|', bar1 == std::string::npos ? 0 : bar1 + 1);
    if (bar1 == std::string::npos || bar2 == std::string::npos) continue;
    if (line.substr(0, bar1) != label) continue;
    lookup.kind = SlurmLookup::Kind::found;
    lookup.state.job_id = label;
    lookup.state.state = line.substr(bar1 + 1, bar2 - bar1 - 1);
    lookup.state.exit_code = line.substr(bar2 + 1);
    return lookup;
  }
  lookup.kind = SlurmLookup::Kind::unknown;
  lookup.message = "sacct has no record of it";
  return lookup;
}

SlurmLookup lookup_in_records(const std::vector<ScontrolRecord>& records,
                              const std::string& label) {
  SlurmLookup lookup;
  lookup.source = "scontrol";
  if (auto state = find_job_state(records, label)) {
    lookup.kind = SlurmLookup::Kind::found;
    lookup.state = std::move(*state);
  } else {
    lookup.kind = SlurmLookup::Kind::unknown;
    lookup.message = "scontrol has no record of it";
  }
  return lookup;
}

struct RunToSync {
  std::int64_t id = 0;
  RunStatus status = RunStatus::RUNNING;
  std::string label;
  int restart_count = 0;
};

std::vector<RunToSync> runs_to_sync(db::Database& db, const SlurmSyncOptions& options) {
  std::vector<db::Value> params;
  auto placeholder = [&](db::Value value) {
    params.push_back(std::move(value));
    return "$" + std::to_string(params.size());
  };
  std::string active;
  for (std::size_t i = 0; i < kRunStatusNames.size(); ++i) {
    if (is_terminal(static_cast<RunStatus>(i))) continue;
    active += (active.empty() ? "" : ", ") + placeholder(std::string(kRunStatusNames[i]));
  }
  std::string sql =
      "SELECT id, status, slurm_job_id, slurm_array_job_id, slurm_array_task_id, "
      "slurm_restart_count FROM runs WHERE status IN (" +
      active + ") AND (slurm_job_id IS NOT NULL OR slurm_array_job_id IS NOT NULL)";
  if (options.job) {
    auto job = parse_slurm_job_label(*options.job);
    if (!job) {
      throw UsageError("--job expects a Slurm job id like 12 or an array task like 12_3, got '" +
                       *options.job + "'");
    }
    if (job->array_task_id) {
      std::string array = placeholder(job->job_id);
      sql += " AND slurm_array_job_id = " + array +
             " AND slurm_array_task_id = " + placeholder(*job->array_task_id);
    } else {
      std::string id = placeholder(job->job_id);
      sql += " AND (slurm_job_id = " + id + " OR slurm_array_job_id = " + id + ")";
    }
  }
  if (options.since) {
    sql += " AND COALESCE(time_updated, time_created) >= " +
           placeholder(format_timestamp(Clock::now() - *options.since));
  }
  sql += " ORDER BY id";
  auto result = db.query(sql, params);
  std::vector<RunToSync> runs;
  for (const auto& row : result.rows) {
    RunToSync run;
    run.id = std::stoll(row[0].value_or("0"));
    run.status = parse_run_status(row[1].value_or("")).value_or(RunStatus::RUNNING);
    // An array task is asked for as "12_3": before it starts it has no job id of its own.
    if (row[3] && row[4]) {
      run.label = *row[3] + "_" + *row[4];
    } else {
      run.label = row[2].value_or("");
    }
    run.restart_count = static_cast<int>(parse_int(row[5].value_or("0")).value_or(0));
    runs.push_back(std::move(run));
  }
  return runs;
}

bool still_completing(const SlurmLookup& lookup) {
  return lookup.kind == SlurmLookup::Kind::found &&
         run_status_from_slurm_state(lookup.state.state) == RunStatus::COMPLETING;
}

}  // namespace

std::optional<SlurmJobLabel> parse_slurm_job_label(std::string_view text) {
  auto underscore = text.find('_');
  auto job = parse_int(text.substr(0, underscore));
  if (!job || *job <= 0) return std::nullopt;
  if (underscore == std::string_view::npos) return SlurmJobLabel{*job, std::nullopt};
  auto task = parse_int(text.substr(underscore + 1));
  if (!task || *task < 0) return std::nullopt;
  return SlurmJobLabel{*job, *task};
}

std::optional<std::chrono::seconds> parse_sync_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t unit = 1;
  switch (text.back()) {
    case 's':
      text.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      text.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      text.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  auto count = parse_int(text);
  if (!count || *count < 0 || *count > 100LL * 365 * 86400 / unit) return std::nullopt;
  return std::chrono::seconds(*count * unit);
}

std::map<std::string, SlurmLookup> lookup_slurm_jobs(const std::vector<std::string>& labels,
                                                     std::chrono::milliseconds timeout) {
  std::map<std::string, SlurmLookup> found;
  auto ask_scontrol = [&](std::vector<std::string> argv, const std::vector<std::string>& wanted) {
    auto scontrol = run_helper(std::move(argv), timeout);
    if (scontrol.succeeded()) {
      auto records = parse_scontrol_records(scontrol.out);
      for (const auto& label : wanted) found[label] = lookup_in_records(records, label);
      return;
    }
    for (const auto& label : wanted) {
      SlurmLookup& lookup = found[label];
      lookup.source = "scontrol";
      // scontrol says so for a job it has purged (and exits 1).
      bool gone = scontrol.started && !scontrol.timed_out &&
                  is_invalid_job_message(scontrol.err + scontrol.out);
      lookup.kind = gone ? SlurmLookup::Kind::unknown : SlurmLookup::Kind::error;
      lookup.message = "scontrol: " + scontrol.describe();
    }
  };
  if (labels.size() <= kJobsAskedOneByOne) {
    for (const auto& label : labels)
      ask_scontrol({"scontrol", "show", "job", "-o", label}, {label});
  } else {
    ask_scontrol({"scontrol", "show", "job", "-o"}, labels);
  }
  // A job scontrol has forgotten may still be in the accounting database.
  bool accounting = true;
  for (auto& [label, lookup] : found) {
    if (lookup.kind != SlurmLookup::Kind::unknown || !accounting) continue;
    SlurmLookup from_sacct = lookup_with_sacct(label, timeout);
    if (from_sacct.kind == SlurmLookup::Kind::found) {
      lookup = std::move(from_sacct);
    } else {
      // "accounting storage is disabled" (or no sacct): no use asking for the others.
      accounting = from_sacct.message.find("sacct has no record") != std::string::npos;
      lookup.message += "; " + from_sacct.message;
    }
  }
  return found;
}

SyncDecision decide_sync(RunStatus current, int run_restart_count, const SlurmJobState& state) {
  SyncDecision decision;
  const std::string says = "Slurm says " + slurm_says(state);
  auto slurm_status = run_status_from_slurm_state(state.state);
  if (!slurm_status) {
    decision.detail = says + ", not a run status; left as it is";
    return decision;
  }
  if (is_terminal(*slurm_status)) {
    decision.status = *slurm_status;
    decision.detail = "slurm-sync: " + says;
    exit_code_from_slurm(state.exit_code, decision);
    return decision;
  }
  // Back in the queue for another start: the wrapper of the next start reopens the run.
  bool requeued = *slurm_status == RunStatus::REQUEUED ||
                  *slurm_status == RunStatus::REQUEUE_HOLD ||
                  *slurm_status == RunStatus::REQUEUE_FED ||
                  (*slurm_status == RunStatus::PENDING && state.restarts > run_restart_count);
  if (requeued && current == RunStatus::RUNNING) {
    decision.status = *slurm_status == RunStatus::PENDING ? RunStatus::REQUEUED : *slurm_status;
    decision.detail =
        "slurm-sync: job requeued (Restarts=" + std::to_string(state.restarts) + "), " + says;
    return decision;
  }
  decision.detail = says + "; left " + std::string(to_string(current));
  return decision;
}

std::vector<SyncedRun> slurm_sync(db::Database& db, const SlurmSyncOptions& options,
                                  const SlurmJobLookup& lookup) {
  auto runs = runs_to_sync(db, options);
  std::vector<std::string> labels;
  std::set<std::string> seen;
  for (const auto& run : runs) {
    if (seen.insert(run.label).second) labels.push_back(run.label);
  }
  std::map<std::string, SlurmLookup> answers;
  if (!labels.empty()) answers = lookup(labels);

  // In an epilog the job is still COMPLETING: its final state comes a moment later.
  auto deadline = std::chrono::steady_clock::now() + options.wait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<std::string> completing;
    for (const auto& [label, answer] : answers) {
      if (still_completing(answer)) completing.push_back(label);
    }
    if (completing.empty()) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
    for (auto& [label, answer] : lookup(completing)) answers[label] = std::move(answer);
  }

  RunStore store(db);
  std::vector<SyncedRun> synced;
  for (const auto& run : runs) {
    SyncedRun entry;
    entry.run_id = run.id;
    entry.job = run.label;
    entry.before = run.status;
    auto answer = answers.find(run.label);
    if (answer == answers.end() || answer->second.kind == SlurmLookup::Kind::error) {
      entry.action = SyncedRun::Action::error;
      entry.detail = answer == answers.end() ? "not asked" : answer->second.message;
    } else if (answer->second.kind == SlurmLookup::Kind::unknown) {
      entry.action = SyncedRun::Action::unknown;
      entry.detail = "Slurm no longer knows job " + run.label + " (" + answer->second.message +
                     "); left " + std::string(to_string(run.status));
    } else {
      SyncDecision decision = decide_sync(run.status, run.restart_count, answer->second.state);
      entry.detail = decision.detail;
      if (!decision.status || *decision.status == run.status) {
        entry.action = SyncedRun::Action::left;
      } else if (store.reconcile_status(run.id, run.status, *decision.status, decision.detail,
                                        decision.exit_code, decision.signal)) {
        entry.action = SyncedRun::Action::written;
        entry.after = decision.status;
      } else {
        entry.action = SyncedRun::Action::raced;
        entry.detail = "changed by another writer meanwhile; left as it is";
      }
    }
    synced.push_back(std::move(entry));
  }
  return synced;
}

std::vector<SyncedRun> slurm_sync(db::Database& db, const SlurmSyncOptions& options) {
  return slurm_sync(db, options,
                    [timeout = options.timeout](const std::vector<std::string>& labels) {
                      return lookup_slurm_jobs(labels, timeout);
                    });
}

}  // namespace sqltrack
