#pragma once
// The report's resource charts, from run_resources: what each run's processes and GPUs used,
// over minutes (seconds when every run sampled for less than two) since its first sample.

#include <cstdint>
#include <span>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/read/report.hpp"

namespace sqltrack {

// "CPU (%)", "memory (MiB)", "GPU use (%)", "GPU memory (MiB)": those with samples, each run's
// samples averaged down to at most `max_points` points. Several GPUs of one sample: their use
// averaged, their memory summed.
std::vector<ReportChart> read_resource_charts(db::Database& db,
                                              std::span<const std::int64_t> run_ids,
                                              std::size_t max_points);

}  // namespace sqltrack
