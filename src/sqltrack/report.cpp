#include "sqltrack/report.hpp"

#include <algorithm>
#include <array>
#include <ctime>

#include <nlohmann/json.hpp>

#include "sqltrack/error.hpp"
#include "sqltrack/run_listing.hpp"
#include "sqltrack/status_table.hpp"
#include "sqltrack/svg_chart.hpp"
#include "sqltrack/terminal_text.hpp"
#include "sqltrack/timestamp.hpp"

namespace sqltrack {
namespace {

std::optional<std::string> cell(const db::ResultSet& rows, std::size_t row, const char* column) {
  return rows.rows[row][rows.column(column)];
}

std::string text_or_dash(const std::optional<std::string>& value) {
  return value && !value->empty() ? *value : "-";
}

// {"lr": "0.1", "seed": 3} as "lr=0.1, seed=3".
std::string tags_text(const std::optional<std::string>& stored) {
  if (!stored) return "";
  auto tags = nlohmann::json::parse(*stored, nullptr, false);
  if (!tags.is_object()) return *stored;
  std::string text;
  for (const auto& [key, value] : tags.items()) {
    text +=
        (text.empty() ? "" : ", ") + key + "=" +
        (value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return text;
}

ReportRun report_run(const db::ResultSet& runs, std::size_t r, Clock::time_point now) {
  ReportRun run;
  run.id = std::stoll(cell(runs, r, "id").value_or("0"));
  run.status = cell(runs, r, "status").value_or("");
  run.started = local_time_text(cell(runs, r, "time_started"));
  run.ended = local_time_text(cell(runs, r, "time_ended"));
  auto started = parse_timestamp(cell(runs, r, "time_started").value_or(""));
  auto end = parse_timestamp(cell(runs, r, "time_ended").value_or(""));
  // Without an end time: a live run lasts until now, any other until its last update.
  if (!end && run.status == "RUNNING") end = now;
  if (!end) end = parse_timestamp(cell(runs, r, "time_updated").value_or(""));
  run.duration = started && end ? format_duration(*end - *started) : "-";
  if (auto code = cell(runs, r, "exit_code")) {
    run.exit = *code;
  } else if (auto signal = cell(runs, r, "signal")) {
    run.exit = "signal " + *signal;
  } else {
    run.exit = "-";
  }
  run.tags = tags_text(cell(runs, r, "tags"));
  run.slurm_job = slurm_job_label(runs, r);
  run.comment = cell(runs, r, "comment").value_or("");
  return run;
}

// The metric columns to chart when none are named: the numeric ones with at least one value
// in these runs.
std::vector<MetricColumn> columns_with_values(db::Database& db, std::int64_t experiment_id) {
  auto numeric = numeric_metric_columns(db);
  if (numeric.empty()) return {};
  std::string counts;
  for (const auto& column : numeric) {
    counts += (counts.empty() ? "" : ", ") + std::string("count(") +
              db::quote_identifier(column.name) + ")";
  }
  const std::array<db::Value, 1> params{experiment_id};
  auto result = db.query("SELECT " + counts +
                             " FROM metrics WHERE run_id IN "
                             "(SELECT id FROM runs WHERE experiment_id = $1)",
                         params);
  std::vector<MetricColumn> with_values;
  for (std::size_t c = 0; c < numeric.size(); ++c) {
    if (!result.empty() && result.rows[0][c].value_or("0") != "0") {
      with_values.push_back(numeric[c]);
    }
  }
  return with_values;
}

const char* status_class(std::string_view status) {
  if (status == "COMPLETED") return "ok";
  if (status == "RUNNING" || status == "PENDING" || status == "REQUEUED") return "live";
  return "bad";
}

constexpr const char* kStyle = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: #1f2328; background: #ffffff; margin: 24px 32px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #57606a; margin: 0 0 8px; }
table { border-collapse: collapse; }
th, td { padding: 4px 12px 4px 0; border-bottom: 1px solid #d8dee4; text-align: left;
         vertical-align: top; white-space: nowrap; }
th { font-weight: 600; color: #57606a; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { white-space: normal; max-width: 360px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
          margin-right: 6px; }
.ok { color: #1a7f37; } .bad { color: #cf222e; } .live { color: #0969da; }
figure { margin: 8px 0 24px; }
.empty { color: #57606a; font-style: italic; }
)";

}  // namespace

ReportData read_report(db::Database& db, const ReportOptions& options, Clock::time_point now) {
  const std::array<db::Value, 1> name{options.experiment};
  auto experiment = db.query("SELECT id, name, comment FROM experiments WHERE name = $1", name);
  if (experiment.empty()) {
    auto known = db.query("SELECT name FROM experiments ORDER BY name LIMIT 6");
    std::string list;
    for (std::size_t i = 0; i < known.size() && i < 5; ++i) {
      list += (list.empty() ? "" : ", ") + printable(known.rows[i][0].value_or(""));
    }
    if (known.size() > 5) list += ", ...";
    throw Error("no experiment named \"" + printable(options.experiment) + "\" (" +
                (list.empty() ? "the database has no experiments" : "experiments: " + list) + ")");
  }
  ReportData data;
  std::int64_t experiment_id = std::stoll(experiment.rows[0][0].value_or("0"));
  data.experiment = experiment.rows[0][1].value_or("");
  data.comment = experiment.rows[0][2].value_or("");
  data.generated = format_local_time(now, true);

  const std::array<db::Value, 1> id{experiment_id};
  auto runs = db.query("SELECT * FROM runs WHERE experiment_id = $1 ORDER BY id", id);
  std::vector<std::int64_t> run_ids;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    data.runs.push_back(report_run(runs, r, now));
    run_ids.push_back(data.runs.back().id);
  }

  std::vector<MetricColumn> columns;
  for (const auto& metric : options.metrics) {
    columns.push_back(plottable_metric_column(db, metric));
  }
  if (options.metrics.empty()) {
    columns = columns_with_values(db, experiment_id);
    if (columns.size() > options.max_default_metrics) {
      std::string left_out;
      for (std::size_t i = options.max_default_metrics; i < columns.size(); ++i) {
        left_out += (left_out.empty() ? "" : ", ") + columns[i].name;
      }
      data.notes.push_back("metrics not charted (choose with --metric): " + left_out);
      columns.resize(options.max_default_metrics);
    }
    if (columns.empty()) data.notes.push_back("no metric values in these runs");
  }
  // Keep the page light with many runs: fewer points per curve, never fewer than 50.
  std::size_t points =
      std::clamp<std::size_t>(20000 / std::max<std::size_t>(run_ids.size(), 1), 50, 500);
  for (const auto& column : columns) {
    data.charts.push_back({column.name, read_metric_series(db, column, run_ids, points)});
  }
  return data;
}

std::string render_report_html(const ReportData& data) {
  const std::string experiment = xml_escape(data.experiment);
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>sqltrack report: " +
      experiment + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  html += "<h1>Experiment " + experiment + "</h1>\n";
  if (!data.comment.empty()) html += "<p class=\"meta\">" + xml_escape(data.comment) + "</p>\n";
  html += "<p class=\"meta\">" + std::to_string(data.runs.size()) +
          (data.runs.size() == 1 ? " run" : " runs") + ", report made " +
          xml_escape(data.generated) + " by sqltrack report</p>\n";

  bool comments = std::any_of(data.runs.begin(), data.runs.end(),
                              [](const ReportRun& run) { return !run.comment.empty(); });
  html +=
      "<h2>Runs</h2>\n<table class=\"runs\">\n<tr><th>Run</th><th>Status</th>"
      "<th>Started</th><th>Ended</th><th>Duration</th><th>Exit</th><th>Slurm job</th>"
      "<th>Tags</th>";
  html += comments ? "<th>Comment</th></tr>\n" : "</tr>\n";
  for (std::size_t i = 0; i < data.runs.size(); ++i) {
    const ReportRun& run = data.runs[i];
    html += "<tr id=\"run-" + std::to_string(run.id) +
            "\"><td class=\"num\"><span class=\"swatch\" "
            "style=\"background: " +
            series_color(i) + "\"></span>" + std::to_string(run.id) + "</td><td class=\"" +
            status_class(run.status) + "\">" + xml_escape(run.status) + "</td><td>" +
            xml_escape(run.started) + "</td><td>" + xml_escape(run.ended) +
            "</td><td class=\"num\">" + xml_escape(run.duration) + "</td><td class=\"num\">" +
            xml_escape(run.exit) + "</td><td>" + xml_escape(text_or_dash(run.slurm_job)) +
            "</td><td class=\"wrap\">" + xml_escape(text_or_dash(run.tags)) + "</td>";
    if (comments) html += "<td class=\"wrap\">" + xml_escape(run.comment) + "</td>";
    html += "</tr>\n";
  }
  html += "</table>\n";

  if (!data.charts.empty()) html += "<h2>Learning curves</h2>\n";
  for (const auto& chart : data.charts) {
    LineChart line_chart{chart.metric, "step", {}};
    for (std::size_t i = 0; i < data.runs.size(); ++i) {
      auto found = chart.series.find(data.runs[i].id);
      if (found == chart.series.end()) continue;
      ChartSeries series{"run " + std::to_string(data.runs[i].id), series_color(i), {}};
      for (const auto& point : found->second.points) {
        series.points.push_back({point.step, point.value});
      }
      line_chart.series.push_back(std::move(series));
    }
    html += "<figure>\n";
    if (line_chart.series.empty()) {
      html +=
          "<p class=\"empty\">no values of " + xml_escape(chart.metric) + " in these runs</p>\n";
    } else {
      html += render_line_chart_svg(line_chart);
    }
    html += "</figure>\n";
  }
  if (!data.notes.empty()) {
    html += "<ul class=\"meta\">\n";
    for (const auto& note : data.notes) html += "<li>" + xml_escape(note) + "</li>\n";
    html += "</ul>\n";
  }
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace sqltrack
