#pragma once
// What Slurm says about a job, read from `scontrol show job -o ID` or
// `squeue -h -t all -j ID -o '%T|%r'`, and the run status it implies. Pure
// functions: the launcher runs the commands, these only read their output.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/store/run_status.hpp"

namespace sqltrack {

// One job record of scontrol: key → value, values as printed ("(null)", "None").
using ScontrolRecord = std::map<std::string, std::string>;

// Splits `scontrol show job [-o] ...` output into records. Accepts the one-line
// form (-o, one record per line) and the default form (a record's continuation
// lines are indented, records are separated by blank lines); lines that do not
// start with `Key=` (e.g. "Job 12_5 not found") are skipped.
//
// Values may contain spaces and '=' (JobName, Command, Comment, paths), so a
// record is split at " Key=" by these rules:
//  * JobName, the only user-chosen text before the state fields, ends at
//    " UserId=" (or " HetJobIdSet="), which scontrol always prints next;
//  * a free-text value (Command, WorkDir, Comment, StdOut, ...) ends only at a
//    key that scontrol prints (a known key), so "lr=0.1 Mode=fast" stays inside,
//    and only at that key's last occurrence, so "x StdErr=y" in a Comment stays
//    inside too;
//  * any other value ends at the next capitalised `Key=`, known or not, so a
//    key added by a later Slurm version still splits;
//  * scontrol prints each key once: a key seen earlier in the record is text
//    (a comment "x JobState=RUNNING" cannot override the real JobState).
// A value's trailing spaces (scontrol's separators) are dropped.
std::vector<ScontrolRecord> parse_scontrol_records(std::string_view output);

// The fields of a record that decide a run's status.
struct SlurmJobState {
  std::string job_id;         // JobId
  std::string array_job_id;   // ArrayJobId; empty when not an array task
  std::string array_task_id;  // ArrayTaskId: a number, or a range (1-4%2) for pending tasks
  std::string state;          // JobState as printed: RUNNING, COMPLETING, CANCELLED, ...
  std::string reason;         // Reason: None, TimeLimit, BeginTime, ...
  int restarts = 0;           // Restarts: incremented as soon as a requeue starts
  std::string preempt_time;   // PreemptTime as printed; empty when the record has none
  bool preempted = false;     // PreemptTime is a time (not None/Unknown/empty)
  std::string exit_code;      // ExitCode "code:signal", e.g. "0:9"
};

SlurmJobState job_state_from_record(const ScontrolRecord& record);

// The record for job_id: the one whose JobId is job_id, or for "A_T" the task T
// of array A (ArrayJobId=A with ArrayTaskId T, or a pending range holding T).
// `scontrol show job A` lists every task of an array, hence the exact match.
std::optional<SlurmJobState> find_job_state(const std::vector<ScontrolRecord>& records,
                                            std::string_view job_id);

// The first line of `squeue -h -t all -j ID -o '%T|%r'` ("COMPLETING|TimeLimit")
// as a state with only `state` and `reason` set; nullopt for empty output.
// squeue does not print Restarts or PreemptTime: prefer scontrol at signal time.
std::optional<SlurmJobState> parse_squeue_state(std::string_view output);

// The status a run gets when the wrapper's child ends because of a signal, with
// the reason for the status history.
struct SignalVerdict {
  RunStatus status = RunStatus::CANCELLED;
  // Slurm still called the job RUNNING: the signal came from a user (scancel -b,
  // scancel -f, kill), not from Slurm ending the job. status is CANCELLED then.
  bool user_signal = false;
  std::string detail;  // one line, e.g. "time limit reached (JobState=COMPLETING Reason=TimeLimit)"
};

// Decides, from Slurm's view of the job when the wrapper got `signal_number`
// (SIGTERM, SIGINT, ...), why the job is ending. In this order:
//  1. JobState already final or requeued (CANCELLED, TIMEOUT, PREEMPTED,
//     DEADLINE, NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL; PENDING or REQUEUED →
//     REQUEUED; REQUEUE_HOLD, REQUEUE_FED, SPECIAL_EXIT as they are);
//  2. Reason=TimeLimit → TIMEOUT (Reason=DeadLine → DEADLINE);
//  3. Restarts > own_restart_count (SLURM_RESTART_COUNT, 0 when absent) →
//     REQUEUED: a requeue and a preemption with requeue look the same;
//  4. PreemptTime set → PREEMPTED (also while still RUNNING, in a grace time);
//  5. JobState RUNNING → CANCELLED with user_signal;
//  6. anything else (COMPLETING with Reason=None is scancel) → CANCELLED.
SignalVerdict status_after_signal(const SlurmJobState& state, int own_restart_count,
                                  int signal_number);

// Maps a Slurm job state name to a run status, for the reconciler: names as
// scontrol and squeue %T print them, squeue %t codes (CA, TO, PR, ...), and
// sacct's forms ("CANCELLED by 1000", "CANCELLED+"); case and surrounding
// space are ignored. States outside the 24 (RECONFIG_FAIL, POWER_UP_NODE,
// UPDATE_DB, ...) and empty text give nullopt.
std::optional<RunStatus> run_status_from_slurm_state(std::string_view job_state);

}  // namespace sqltrack
