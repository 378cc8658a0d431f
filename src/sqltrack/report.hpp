#pragma once
// `sqltrack report`: one experiment as a single self-contained HTML file (inline CSS and SVG,
// no scripts, no fonts or anything else fetched) with its runs and one learning-curve chart per
// metric, a line per run.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/metric_series.hpp"
#include "sqltrack/store.hpp"

namespace sqltrack {

struct ReportOptions {
  std::string experiment;
  // Metric columns to chart; empty: every numeric column with values in the experiment's runs,
  // at most max_default_metrics of them in table order.
  std::vector<std::string> metrics;
  std::size_t max_default_metrics = 6;
};

// One row of the run table, as text.
struct ReportRun {
  std::int64_t id = 0;
  std::string status, started, ended, duration, exit, tags, slurm_job, comment;
};

struct ReportChart {
  std::string metric;
  std::map<std::int64_t, MetricSeries> series;  // by run id; runs without values are absent
};

struct ReportData {
  std::string experiment;
  std::string comment;          // the experiment's comment, may be empty
  std::string generated;        // when the report was made, local time
  std::vector<ReportRun> runs;  // oldest first; run i is drawn in series_color(i)
  std::vector<ReportChart> charts;
  std::vector<std::string> notes;  // what was left out, for the user
};

// Reads the experiment's runs and the chosen metrics. Throws Error for an unknown experiment
// and for a metric column that does not exist or holds no numbers.
ReportData read_report(db::Database& db, const ReportOptions& options, Clock::time_point now);

// The HTML page. Every text from the database is escaped.
std::string render_report_html(const ReportData& data);

}  // namespace sqltrack
