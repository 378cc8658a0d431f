#pragma once
// `sqltrack submit -- sbatch [ARGS] SCRIPT`: the run exists, PENDING, from the
// moment the job is queued, and `sqltrack-run` inside the job attaches to it.
//
// How the wrapper finds its run: by the job's identity, not by a variable.
// sbatch runs with --hold, so the job cannot start before its runs exist; the
// runs are created with the job id (for an array, one per task with the array
// job id and task id, as `squeue -r` lists them); then the job is released.
// Inside, RunStore::start_run takes the PENDING run of the same job or task.
// This works for arrays (one exported run id could not name each task's run)
// and needs nothing from the job's environment, so --export=NONE is fine too.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/store/store.hpp"
#include "sqltrack/util/helper_process.hpp"

namespace sqltrack {

// What `sbatch --parsable` printed: "12" or "12;cluster".
struct SubmittedJobId {
  std::int64_t job_id = 0;
  std::optional<std::string> cluster;
};
std::optional<SubmittedJobId> parse_sbatch_parsable(std::string_view output);

// Whether the user's sbatch arguments hold the job themselves (-H, --hold):
// then it is not released.
bool sbatch_asks_for_hold(const std::vector<std::string>& sbatch);

// The user's `sbatch ARGS SCRIPT` with --parsable and --hold right after argv[0].
std::vector<std::string> held_sbatch_command(const std::vector<std::string>& sbatch);

// The jobs of `squeue -h -r -t all -j ID -o %i`: "12" → one job; "12_0",
// "12_1", ... → one per array task. Lines of other jobs are ignored.
std::vector<SlurmJobRef> parse_squeue_job_list(std::string_view output, std::int64_t job_id);

struct SubmitResult {
  HelperOutput sbatch;  // sbatch's own output; stderr is passed on to the user
  std::optional<SubmittedJobId> job;
  std::vector<SlurmJobRef> jobs;      // one per run
  std::vector<std::int64_t> run_ids;  // in the order of jobs
  bool released = false;              // false when the user asked for --hold
  std::vector<std::string> warnings;  // one line each
};

// Runs the held sbatch, creates the PENDING runs, releases the job. Returns
// with run_ids empty when sbatch failed (nothing was created). Throws
// sqltrack::Error when the runs cannot be written; the job is released first,
// and the message says so, since it is queued and runs unrecorded by submit.
SubmitResult submit_job(RunStore& store, const RunSubmission& submission,
                        const std::vector<std::string>& sbatch,
                        std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace sqltrack
