#pragma once
// One `sqltrack-run -- COMMAND`: record the run, start the command, follow it
// to its end, record how it ended. The wrapper's own trouble (a database that
// is away) is reported and never stops or kills the command.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sqltrack/config/config.hpp"
#include "sqltrack/util/environment.hpp"

namespace sqltrack {

struct WrapOptions {
  std::vector<std::string> command;
  std::optional<std::string> experiment;  // -e
  std::optional<std::int64_t> run_id;     // --run-id: attach to an existing run
  std::optional<std::string> comment;
  std::vector<std::pair<std::string, std::string>> tags;
  double heartbeat_seconds = 30;
  // Resource samples (CPU, memory, I/O, GPUs) every this many seconds; 0: none.
  double sample_seconds = 10;
  // Metrics: the FIFO in SQLTRACK_METRICS unless `metrics` is off; a file to follow and a
  // pipe on a descriptor of the job's choosing come in addition.
  bool metrics = true;
  std::optional<std::string> metrics_file;
  std::optional<int> metrics_fd;
  // --add-columns / --no-add-columns; unset: the setting add_columns (Settings::add_columns).
  std::optional<bool> add_columns;
  // --capture-git, else the setting capture_git: what runs.git holds.
  GitCapture capture_git = GitCapture::on;
};

// The experiment name: -e, else SQLTRACK_EXPERIMENT, else SLURM_JOB_NAME,
// else default_experiment_name(command): the script an interpreter runs, or the command's name.
std::string experiment_name(const WrapOptions& options, const Environment& env);

// Runs the command and returns the wrapper's exit status: the command's exit
// code, or 128 + signal, or 127/126 when it could not be started.
int run_wrapped(const WrapOptions& options, const Settings& settings, const Environment& env);

}  // namespace sqltrack
