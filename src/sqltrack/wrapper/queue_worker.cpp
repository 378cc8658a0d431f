#include "sqltrack/wrapper/queue_worker.hpp"

#include <unistd.h>

#include <array>
#include <csignal>
#include <iostream>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/store/run_queue.hpp"
#include "sqltrack/util/capture.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/redaction.hpp"

namespace sqltrack {
namespace {

using db::Value;

// The command as messages show it: secrets redacted, as in the record.
std::string describe_command(const std::vector<std::string>& command) {
  std::string text;
  for (const auto& arg : redact_args(command)) {
    if (!text.empty()) text += ' ';
    text += arg;
  }
  return text;
}

// Best effort: a database that is away leaves the command until `requeue-stale` or a later
// run.
void forget_real_command(const Settings& settings, std::int64_t run_id) {
  try {
    forget_command_of_ended_run(*open_database(settings), run_id);
  } catch (const Error&) {
    // Kept; the run's record is not affected.
  }
}

}  // namespace

int run_queued(const WrapOptions& options, const Settings& settings, const Environment& env,
               bool loop) {
  if (!options.experiment || options.experiment->empty()) {
    throw UsageError("--next needs the experiment whose queue to take from: -e NAME");
  }
  const std::string worker = capture_host_facts().hostname + " pid " + std::to_string(::getpid());
  int status = 0;
  std::optional<std::int64_t> previous;
  for (;;) {
    std::optional<ClaimedRun> claimed;
    {
      // Closed before the run starts: the wrapper opens its own, one connection at a time.
      auto db = open_for_writing(settings);
      if (previous) {
        // A run that ended other than by its command's own exit (CANCELLED, TIMEOUT,
        // PREEMPTED, ...): the worker was told to stop, so it takes no next run.
        const std::array<Value, 1> id{*previous};
        auto ended = db->query("SELECT status FROM runs WHERE id = $1", id).scalar();
        if (ended && *ended != "COMPLETED" && *ended != "FAILED") {
          std::cerr << "sqltrack-run: run " << *previous << " ended " << *ended
                    << "; no next run\n";
          return status;
        }
      }
      claimed = claim_next_run(*db, *options.experiment, worker, options.heartbeat_seconds);
    }
    if (!claimed) {
      std::cout << "sqltrack-run: the queue of experiment '" << *options.experiment << "' is "
                << (previous ? "now empty" : "empty") << '\n';
      return status;
    }
    previous = claimed->run_id;
    std::cerr << "sqltrack-run: run " << claimed->run_id << " (attempt " << claimed->attempt
              << "): " << describe_command(claimed->command) << '\n';
    WrapOptions one = options;
    one.command = claimed->command;
    one.run_id = claimed->run_id;
    int code = run_wrapped(one, settings, env);
    if (claimed->from_queued_commands) forget_real_command(settings, claimed->run_id);
    if (!loop) return code;
    if (code != 0) status = code;
    // The worker was told to stop (Ctrl-C, scancel, the time limit): no next run.
    if (code == 128 + SIGINT || code == 128 + SIGTERM || code == 128 + SIGHUP) return code;
  }
}

}  // namespace sqltrack
