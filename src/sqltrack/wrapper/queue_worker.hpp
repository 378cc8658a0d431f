#pragma once
// The worker side of the run queue (`sqltrack-run --next [--loop]`): claims queued runs and
// runs each with the whole wrapper.

#include "sqltrack/config/config.hpp"
#include "sqltrack/util/environment.hpp"
#include "sqltrack/wrapper/run_session.hpp"

namespace sqltrack {

// `sqltrack-run --next`: claims a run of `options.experiment` and runs its command with the
// whole wrapper (run_wrapped); with `loop`, again until the queue is empty or the worker is
// told to stop. Returns 0 for an empty queue, else the last run's exit status (with `loop`:
// 0 when every run exited 0, else the status of the last one that did not).
int run_queued(const WrapOptions& options, const Settings& settings, const Environment& env,
               bool loop);

}  // namespace sqltrack
