#include "sqltrack/slurm/slurm_env.hpp"

#include <charconv>

namespace sqltrack {

namespace {

std::optional<std::string> non_empty(const Environment& env, std::string_view name) {
  auto value = lookup(env, name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

std::optional<std::string> first_non_empty(const Environment& env, std::string_view name,
                                           std::string_view fallback) {
  if (auto value = non_empty(env, name)) return value;
  return non_empty(env, fallback);
}

// A count that is not a plain non-negative integer is treated as "no restart yet":
// the wrapper then resumes nothing instead of refusing to run the job.
int parse_restart_count(const std::optional<std::string>& text) {
  if (!text) return 0;
  int value = 0;
  const char* begin = text->data();
  const char* end = begin + text->size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc{} || ptr != end || value < 0) return 0;
  return value;
}

}  // namespace

std::string SlurmJobFacts::display_job_id() const {
  if (is_array_task()) return *array_job_id + "_" + *array_task_id;
  return job_id;
}

nlohmann::json SlurmJobFacts::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  out["job_id"] = job_id;
  auto put = [&out](const char* key, const std::optional<std::string>& value) {
    if (value) out[key] = *value;
  };
  put("array_job_id", array_job_id);
  put("array_task_id", array_task_id);
  out["restart_count"] = restart_count;
  put("job_name", job_name);
  put("cluster_name", cluster_name);
  put("nodelist", nodelist);
  put("partition", partition);
  put("submit_dir", submit_dir);
  put("step_id", step_id);
  return out;
}

std::optional<SlurmJobFacts> slurm_facts_from_env(const Environment& env) {
  auto job_id = first_non_empty(env, "SLURM_JOB_ID", "SLURM_JOBID");
  if (!job_id) return std::nullopt;

  SlurmJobFacts facts;
  facts.job_id = *job_id;
  facts.array_job_id = non_empty(env, "SLURM_ARRAY_JOB_ID");
  facts.array_task_id = non_empty(env, "SLURM_ARRAY_TASK_ID");
  facts.restart_count =
      parse_restart_count(first_non_empty(env, "SLURM_RESTART_COUNT", "SLURM_JOB_RESTART_COUNT"));
  facts.job_name = non_empty(env, "SLURM_JOB_NAME");
  facts.cluster_name = non_empty(env, "SLURM_CLUSTER_NAME");
  facts.nodelist = first_non_empty(env, "SLURM_JOB_NODELIST", "SLURM_NODELIST");
  facts.partition = non_empty(env, "SLURM_JOB_PARTITION");
  facts.submit_dir = non_empty(env, "SLURM_SUBMIT_DIR");
  facts.step_id = first_non_empty(env, "SLURM_STEP_ID", "SLURM_STEPID");
  return facts;
}

}  // namespace sqltrack
