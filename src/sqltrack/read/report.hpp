#pragma once
// `sqltrack report`: one experiment as a single self-contained HTML file (inline CSS, data and
// scripts, Debian's dygraphs among them; nothing fetched) with its runs in a sortable table,
// one zoomable learning-curve chart per metric and the runs' resource use.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sqltrack/db/database.hpp"
#include "sqltrack/read/metric_series.hpp"
#include "sqltrack/store/store.hpp"

namespace sqltrack {

struct ReportOptions {
  std::string experiment;
  // Metric columns to chart; empty: every numeric column with values in the experiment's runs,
  // at most max_default_metrics of them in table order.
  std::vector<std::string> metrics;
  std::size_t max_default_metrics = 6;
  // The newest runs to show, 0 for all: a page of hundreds of curves is neither read nor quick.
  std::size_t limit = 50;
};

// One row of the run table, as text.
struct ReportRun {
  std::int64_t id = 0;
  std::string status, started, ended, duration, exit, tags, slurm_job, comment;
  // Its name in legends: the tags that tell it apart from the other runs, else its comment,
  // else "run N"; " (run N)" is added where two runs would share a name.
  std::string label;
  double duration_seconds = -1;     // for sorting; -1 when unknown
  std::int64_t rejected_lines = 0;  // metric lines the wrapper could not store
};

struct ReportChart {
  std::string metric;
  std::map<std::int64_t, MetricSeries> series;  // by run id; runs without values are absent
  std::string x_label = "step";
  // The values span more than two decades and are all positive: drawn on a log scale first.
  bool log_scale = false;
  bool lower_is_better = false;  // which value the run table calls best
};

struct ReportData {
  std::string experiment;
  std::string comment;          // the experiment's comment, may be empty
  std::string generated;        // when the report was made, local time
  std::vector<ReportRun> runs;  // oldest first; run i is drawn in series_color(i)
  std::vector<ReportChart> charts;
  // CPU, memory, GPU use and GPU memory over time since each run's first sample; only the
  // ones with samples (read_resource_charts).
  std::vector<ReportChart> resources;
  std::vector<std::string> notes;  // what was left out, for the user
};

// Reads the experiment's runs and the chosen metrics. Throws Error for an unknown experiment
// and for a metric column that does not exist or holds no numbers.
ReportData read_report(db::Database& db, const ReportOptions& options, Clock::time_point now);

// The HTML page. Every text from the database is escaped (in elements, and as JSON that
// cannot end its script element).
std::string render_report_html(const ReportData& data);

// Whether a curve's values call for a log scale: all positive, largest over smallest > 100.
bool spans_decades(const std::map<std::int64_t, MetricSeries>& series);

}  // namespace sqltrack
