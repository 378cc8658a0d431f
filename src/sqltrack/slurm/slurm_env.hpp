#pragma once
// What a Slurm job tells its processes through the environment: which job,
// array task and restart this is. Read once at start, stored with the run.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sqltrack/util/environment.hpp"

namespace sqltrack {

struct SlurmJobFacts {
  std::string job_id;                        // SLURM_JOB_ID: every array task has its own
  std::optional<std::string> array_job_id;   // SLURM_ARRAY_JOB_ID
  std::optional<std::string> array_task_id;  // SLURM_ARRAY_TASK_ID
  int restart_count = 0;                     // SLURM_RESTART_COUNT: absent before a requeue
  std::optional<std::string> job_name;       // SLURM_JOB_NAME
  std::optional<std::string> cluster_name;   // SLURM_CLUSTER_NAME
  std::optional<std::string> nodelist;       // SLURM_JOB_NODELIST
  std::optional<std::string> partition;      // SLURM_JOB_PARTITION
  std::optional<std::string> submit_dir;     // SLURM_SUBMIT_DIR
  std::optional<std::string> step_id;        // SLURM_STEP_ID: set under srun only

  bool is_array_task() const noexcept { return array_job_id && array_task_id; }

  // "12_3" for task 3 of array 12 (the form squeue and scontrol accept), the
  // plain job id otherwise.
  std::string display_job_id() const;

  // An object with the fields that are present; restart_count always.
  nlohmann::json to_json() const;
};

// The job's facts, or nullopt outside Slurm (SLURM_JOB_ID unset or empty).
// Empty variables count as absent; an unparsable restart count as 0. The
// epilog's SLURM_JOB_RESTART_COUNT and the old SLURM_JOBID are fallbacks.
std::optional<SlurmJobFacts> slurm_facts_from_env(const Environment& env);

}  // namespace sqltrack
