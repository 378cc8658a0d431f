#pragma once
// `sqltrack-run status --watch`: the status table read again every few seconds. On a
// terminal it is redrawn in place on the alternate screen with the cursor hidden (both
// restored on exit, also after Ctrl-C, SIGTERM or SIGHUP); elsewhere (a pipe, a file) each
// refresh is printed as a block of plain lines, blocks separated by a blank line.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metrics/sql/metric_columns.hpp"
#include "sqltrack/read/status_table.hpp"
#include "sqltrack/store/run_listing.hpp"

namespace sqltrack {

struct StatusWatchOptions {
  StatusQuery query;
  std::chrono::milliseconds interval{2000};
};

// Refreshes until a signal ends the process; returns 1 only when `fd` cannot be written any
// more (the reader went away). A database error is shown in place of the table and the
// connection is made again with `connect` at the next refresh.
int watch_status(std::unique_ptr<db::Database> db,
                 const std::function<std::unique_ptr<db::Database>()>& connect,
                 const StatusWatchOptions& options, int fd);

// The first line of each refresh: what is shown, how often, and when it was read.
std::string watch_title(const StatusWatchOptions& options, Clock::time_point now);

}  // namespace sqltrack
