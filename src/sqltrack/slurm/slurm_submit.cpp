#include "sqltrack/slurm/slurm_submit.hpp"

#include <algorithm>
#include <charconv>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack {
namespace {

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value < 0) {
    return std::nullopt;
  }
  return value;
}

// squeue and scontrol must address the cluster sbatch submitted to.
std::vector<std::string> with_cluster(std::vector<std::string> argv,
                                      const std::optional<std::string>& cluster) {
  if (cluster) argv.insert(argv.begin() + 1, "--clusters=" + *cluster);
  return argv;
}

}  // namespace

std::optional<SubmittedJobId> parse_sbatch_parsable(std::string_view output) {
  // The last non-empty line: sbatch may print warnings on stdout first.
  std::string_view line;
  while (!output.empty()) {
    auto newline = output.find('\n');
    auto candidate = trim(output.substr(0, newline));
    if (!candidate.empty()) line = candidate;
    output = newline == std::string_view::npos ? std::string_view() : output.substr(newline + 1);
  }
  auto semicolon = line.find(';');
  auto id = parse_id(line.substr(0, semicolon));
  if (!id || *id == 0) return std::nullopt;
  SubmittedJobId job{*id, std::nullopt};
  if (semicolon != std::string_view::npos) {
    auto cluster = trim(line.substr(semicolon + 1));
    if (!cluster.empty()) job.cluster = std::string(cluster);
  }
  return job;
}

bool sbatch_asks_for_hold(const std::vector<std::string>& sbatch) {
  // sbatch's options up to the script (the first word that is neither an
  // option nor an option's value); the script's own arguments come after it.
  static const std::string kShortWithValue = "AabcDdeGiJLMmNnopqSTtwx";
  static const std::vector<std::string_view> kLongFlags = {
      "--requeue",       "--no-requeue", "--parsable",    "--exclusive",     "--overcommit",
      "--test-only",     "--wait",       "--contiguous",  "--quiet",         "--verbose",
      "--no-kill",       "--reboot",     "--ignore-pbs",  "--oversubscribe", "--spread-job",
      "--use-min-nodes", "--hold",       "--get-user-env"};
  bool value_next = false;
  for (std::size_t i = 1; i < sbatch.size(); ++i) {
    const std::string& arg = sbatch[i];
    if (value_next) {
      value_next = false;
      continue;
    }
    if (arg == "--" || arg.size() < 2 || arg[0] != '-') return false;
    if (arg == "--hold") return true;
    if (arg[1] == '-') {
      value_next = arg.find('=') == std::string::npos &&
                   std::find(kLongFlags.begin(), kLongFlags.end(), arg) == kLongFlags.end();
      continue;
    }
    // Short flags, bundled or not (-vH); a letter that takes a value ends the bundle.
    for (std::size_t k = 1; k < arg.size(); ++k) {
      if (arg[k] == 'H') return true;
      if (kShortWithValue.find(arg[k]) != std::string::npos) {
        value_next = k + 1 == arg.size();
        break;
      }
    }
  }
  return false;
}

std::vector<std::string> held_sbatch_command(const std::vector<std::string>& sbatch) {
  if (sbatch.empty()) throw UsageError("no sbatch command given after --");
  std::vector<std::string> argv{sbatch[0], "--parsable", "--hold"};
  argv.insert(argv.end(), sbatch.begin() + 1, sbatch.end());
  return argv;
}

std::vector<SlurmJobRef> parse_squeue_job_list(std::string_view output, std::int64_t job_id) {
  std::vector<SlurmJobRef> jobs;
  while (!output.empty()) {
    auto newline = output.find('\n');
    auto line = trim(output.substr(0, newline));
    output = newline == std::string_view::npos ? std::string_view() : output.substr(newline + 1);
    auto underscore = line.find('_');
    if (parse_id(line.substr(0, underscore)) != job_id) continue;
    if (underscore == std::string_view::npos) {
      jobs.push_back({job_id, std::nullopt});
    } else if (auto task = parse_id(line.substr(underscore + 1))) {
      jobs.push_back({job_id, *task});
    }
  }
  return jobs;
}

SubmitResult submit_job(RunStore& store, const RunSubmission& submission,
                        const std::vector<std::string>& sbatch, std::chrono::milliseconds timeout) {
  SubmitResult result;
  bool user_holds = sbatch_asks_for_hold(sbatch);
  result.sbatch = run_helper(held_sbatch_command(sbatch), timeout);
  if (!result.sbatch.succeeded()) return result;
  result.job = parse_sbatch_parsable(result.sbatch.out);
  if (!result.job) {
    throw Error("cannot read a job id in sbatch --parsable's output '" +
                std::string(trim(result.sbatch.out)) + "'");
  }
  const std::string job_text = std::to_string(result.job->job_id);

  // Which tasks an array has is Slurm's to say (--array on the command line or
  // in #SBATCH lines, with steps and limits): ask it, one line per task.
  auto squeue =
      run_helper(with_cluster({"squeue", "-h", "-r", "-t", "all", "-j", job_text, "-o", "%i"},
                              result.job->cluster),
                 timeout);
  if (squeue.succeeded()) result.jobs = parse_squeue_job_list(squeue.out, result.job->job_id);
  if (result.jobs.empty()) {
    result.warnings.push_back("could not list the tasks of job " + job_text +
                              " (squeue: " + squeue.describe() + "); recording it as one job");
    result.jobs.push_back({result.job->job_id, std::nullopt});
  }

  std::string record_error;
  try {
    result.run_ids = store.create_submitted_runs(submission, result.jobs);
  } catch (const Error& e) {
    record_error = e.what();
  }

  if (!user_holds) {
    auto release =
        run_helper(with_cluster({"scontrol", "release", job_text}, result.job->cluster), timeout);
    result.released = release.succeeded();
    if (!result.released) {
      result.warnings.push_back("job " + job_text +
                                " is still held (scontrol release: " + release.describe() +
                                "); release it with: scontrol release " + job_text);
    }
  }
  if (!record_error.empty()) {
    throw Error("job " + job_text + " was submitted" + (result.released ? "" : " (held)") +
                ", but its runs could not be recorded: " + record_error);
  }
  return result;
}

}  // namespace sqltrack
