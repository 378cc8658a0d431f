#pragma once
// `sqltrack mark-stale`: a RUNNING run outside Slurm whose wrapper died without a word (SIGKILL,
// the OOM killer, a lost machine) would stay RUNNING forever. Once its heartbeat is late it
// ends FAILED. Runs of Slurm jobs get Slurm's verdict from slurm-sync and queued runs go back
// to the queue with requeue-stale, so both are left alone here. Each write is a
// compare-and-set on the status and heartbeat it read, as in slurm-sync: safe from several
// machines at once, and a wrapper that is heard from again in between keeps its run.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/store/store.hpp"

namespace sqltrack {

struct StaleRun {
  std::int64_t run_id = 0;
  std::string detail;  // "wrapper lost: no heartbeat since T", also in the history
};

// Every RUNNING run that is neither a Slurm job's nor queued, of `experiment` when given,
// whose heartbeat is older than max(3 × its heartbeat interval, older_than), becomes FAILED
// (time_ended now). Returns the runs it changed.
std::vector<StaleRun> mark_stale_runs(db::Database& db,
                                      const std::optional<std::string>& experiment,
                                      std::chrono::duration<double> older_than,
                                      Clock::time_point now = Clock::now());

}  // namespace sqltrack
