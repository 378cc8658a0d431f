// The report's HTML: the page around the data, its style and its two small scripts (drawing
// the charts with dygraphs, sorting the run table), all inline.
#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "sqltrack/read/report.hpp"
#include "sqltrack/read/report_assets.hpp"
#include "sqltrack/util/html_text.hpp"
#include "sqltrack/util/sparkline.hpp"

namespace sqltrack {
namespace {

constexpr const char* kStyle = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: #1f2328; background: #ffffff; margin: 24px 32px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #57606a; margin: 0 0 8px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; }
th, td { padding: 4px 12px 4px 0; border-bottom: 1px solid #d8dee4; text-align: left;
         vertical-align: top; white-space: nowrap; }
th { font-weight: 600; color: #57606a; cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " \25B2"; }
th[aria-sort=descending]::after { content: " \25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.wrap { white-space: normal; max-width: 360px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
          margin-right: 6px; }
.ok { color: #1a7f37; } .bad { color: #cf222e; } .live { color: #0969da; }
.stopped { color: #9a6700; }
.chart { display: grid; grid-template-columns: minmax(0, 1fr) 240px; gap: 8px 20px;
         margin: 8px 0 28px; }
.chart h3 { grid-column: 1 / 3; font-size: 15px; margin: 0; display: flex; gap: 16px;
            align-items: baseline; }
.chart h3 label { font-size: 13px; font-weight: normal; color: #57606a; }
.plot { height: 320px; position: relative; }
.legend { font-size: 12px; line-height: 1.5; overflow-wrap: anywhere; max-height: 320px;
          overflow-y: auto; }
.empty { color: #57606a; font-style: italic; }
)";

// Draws each chart of the data with dygraphs; sorts the run table by a click on a heading;
// with #layout-check in the address, writes what overlaps or is missing to <body data-layout>
// (the report's browser test reads it).
constexpr const char* kScript = R"(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  function rows(chart) {
    var byX = new Map();
    chart.series.forEach(function (s, i) {
      s.points.forEach(function (p) {
        if (!byX.has(p[0])) byX.set(p[0], new Array(chart.series.length).fill(null));
        byX.get(p[0])[i] = p[1];
      });
    });
    return Array.from(byX.keys()).sort(function (a, b) { return a - b; })
      .map(function (x) { return [x].concat(byX.get(x)); });
  }
  function draw(chart, id) {
    var single = {};
    chart.series.forEach(function (s) {
      if (s.points.length === 1) single[s.label] = {drawPoints: true, pointSize: 4};
    });
    var graph = new Dygraph(document.getElementById('plot-' + id), rows(chart), {
      labels: [chart.x_label].concat(chart.series.map(function (s) { return s.label; })),
      colors: chart.series.map(function (s) { return s.color; }),
      series: single, strokeWidth: 2.5, connectSeparatedPoints: true, logscale: chart.log,
      legend: 'always', labelsSeparateLines: true,
      labelsDiv: document.getElementById('legend-' + id),
      xlabel: chart.x_label, ylabel: chart.title, showRoller: true, rollPeriod: 1,
      axes: {y: {axisLabelWidth: 64}},
      underlayCallback: function (ctx, area) {
        ctx.fillStyle = data.plot_background;
        ctx.fillRect(area.x, area.y, area.w, area.h);
      }
    });
    var log = document.getElementById('log-' + id);
    if (log) log.addEventListener('change', function () {
      graph.updateOptions({logscale: log.checked});
    });
  }
  data.charts.forEach(function (c, i) { draw(c, 'm' + i); });
  data.resources.forEach(function (c, i) { draw(c, 'r' + i); });

  function sortKey(row, column) {
    var cell = row.cells[column], key = cell.getAttribute('data-sort');
    if (key === null) return cell.textContent;
    return key === '' ? null : Number(key);
  }
  document.querySelectorAll('table.runs thead th').forEach(function (th, column) {
    th.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      th.parentNode.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var body = th.closest('table').tBodies[0];
      Array.from(body.rows).sort(function (a, b) {
        var x = sortKey(a, column), y = sortKey(b, column);
        if (x === null || y === null) return (x === null) - (y === null);
        var order = typeof x === 'number' ? x - y : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      }).forEach(function (row) { body.appendChild(row); });
    });
  });

  function overlap(a, b) {
    return a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 &&
      b.top < a.bottom - 1;
  }
  function layoutProblems() {
    var problems = [];
    var blocks = Array.from(document.querySelectorAll('h1, h2, p.meta, .table-wrap, .chart'));
    blocks.forEach(function (a, i) {
      blocks.slice(i + 1).forEach(function (b) {
        if (overlap(a.getBoundingClientRect(), b.getBoundingClientRect())) {
          problems.push(a.textContent.slice(0, 30) + ' overlaps ' + b.textContent.slice(0, 30));
        }
      });
    });
    document.querySelectorAll('.chart').forEach(function (chart) {
      var name = chart.querySelector('h3').textContent.split('\n')[0];
      var plot = chart.querySelector('.plot'), legend = chart.querySelector('.legend');
      if (!plot.querySelector('canvas')) problems.push(name + ': no plot');
      if (!plot.querySelector('.dygraph-axis-label-x')) problems.push(name + ': no x axis');
      if (!plot.querySelector('.dygraph-axis-label-y')) problems.push(name + ': no y axis');
      if (!legend.textContent.trim()) problems.push(name + ': no legend');
      if (overlap(plot.getBoundingClientRect(), legend.getBoundingClientRect())) {
        problems.push(name + ': legend over the plot');
      }
    });
    var page = document.documentElement;
    if (page.scrollWidth > page.clientWidth) problems.push('page wider than the window');
    return problems;
  }
  if (location.hash === '#layout-check') {
    document.body.setAttribute('data-layout', layoutProblems().join('; ') || 'ok');
  }
})();
)";

const char* status_class(std::string_view status) {
  if (status == "COMPLETED") return "ok";
  if (status == "RUNNING" || status == "PENDING" || status == "REQUEUED" ||
      status == "CONFIGURING" || status == "COMPLETING" || status == "SUSPENDED") {
    return "live";
  }
  // Stopped from outside (a user, the scheduler, a deadline), not failed by itself.
  if (status == "CANCELLED" || status == "TIMEOUT" || status == "PREEMPTED" ||
      status == "DEADLINE") {
    return "stopped";
  }
  return "bad";
}

std::string text_or_dash(const std::string& value) {
  return value.empty() ? "-" : value;
}

std::string number_attribute(double value) {
  if (!std::isfinite(value)) return "";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

// A table cell sorted by `key` (a number; none sorts last).
std::string number_cell(const std::string& text, double key) {
  return "<td class=\"num\" data-sort=\"" + number_attribute(key) + "\">" + xml_escape(text) +
         "</td>";
}

std::string metric_cells(const ReportChart& chart, std::int64_t run_id) {
  auto found = chart.series.find(run_id);
  if (found == chart.series.end()) return number_cell("-", NAN) + number_cell("-", NAN);
  const MetricSeries& series = found->second;
  double best = chart.lower_is_better ? series.min_value : series.max_value;
  return number_cell(short_number(series.last_value), series.last_value) +
         number_cell(short_number(best), best);
}

bool any_rejected(const ReportData& data) {
  return std::any_of(data.runs.begin(), data.runs.end(),
                     [](const ReportRun& run) { return run.rejected_lines > 0; });
}

std::string table_head(const ReportData& data, bool comments) {
  std::string html =
      "<thead><tr><th>Run</th><th>Status</th><th>Started</th><th>Ended</th>"
      "<th>Duration</th><th>Exit</th><th>Slurm job</th><th>Tags</th>";
  if (comments) html += "<th>Comment</th>";
  if (any_rejected(data)) html += "<th>Rejected lines</th>";
  for (const auto& chart : data.charts) {
    html += "<th>" + xml_escape(chart.metric) + " last</th><th>" + xml_escape(chart.metric) +
            (chart.lower_is_better ? " best (min)" : " best (max)") + "</th>";
  }
  return html + "</tr></thead>\n";
}

std::string run_row(const ReportData& data, std::size_t i, bool comments) {
  const ReportRun& run = data.runs[i];
  std::string html =
      "<tr id=\"run-" + std::to_string(run.id) + "\"><td class=\"num\" data-sort=\"" +
      std::to_string(run.id) + "\"><span class=\"swatch\" style=\"background: " + series_color(i) +
      "\"></span>" + std::to_string(run.id) + "</td><td class=\"" + status_class(run.status) +
      "\">" + xml_escape(run.status) + "</td><td>" + xml_escape(run.started) + "</td><td>" +
      xml_escape(run.ended) + "</td>" +
      number_cell(run.duration, run.duration_seconds < 0 ? NAN : run.duration_seconds) +
      "<td class=\"num\">" + xml_escape(run.exit) + "</td><td>" +
      xml_escape(text_or_dash(run.slurm_job)) + "</td><td class=\"wrap\">" +
      xml_escape(text_or_dash(run.tags)) + "</td>";
  if (comments) html += "<td class=\"wrap\">" + xml_escape(run.comment) + "</td>";
  if (any_rejected(data)) {
    html +=
        number_cell(std::to_string(run.rejected_lines), static_cast<double>(run.rejected_lines));
  }
  for (const auto& chart : data.charts) html += metric_cells(chart, run.id);
  return html + "</tr>\n";
}

std::string runs_table(const ReportData& data) {
  bool comments = std::any_of(data.runs.begin(), data.runs.end(),
                              [](const ReportRun& run) { return !run.comment.empty(); });
  std::string html = "<h2>Runs</h2>\n<div class=\"table-wrap\"><table class=\"runs\">\n" +
                     table_head(data, comments) + "<tbody>\n";
  for (std::size_t i = 0; i < data.runs.size(); ++i) html += run_row(data, i, comments);
  return html + "</tbody></table></div>\n";
}

// A chart's place on the page; the script draws into it. Runs keep their table color.
std::string chart_section(const ReportData& data, const ReportChart& chart, const std::string& id,
                          nlohmann::json& charts) {
  nlohmann::json series = nlohmann::json::array();
  bool positive = true;
  for (std::size_t i = 0; i < data.runs.size(); ++i) {
    auto found = chart.series.find(data.runs[i].id);
    if (found == chart.series.end()) continue;
    nlohmann::json points = nlohmann::json::array();
    for (const auto& point : found->second.points) {
      points.push_back({point.step, point.value});
      if (std::isfinite(point.value) && point.value <= 0) positive = false;
    }
    series.push_back(
        {{"label", data.runs[i].label}, {"color", series_color(i)}, {"points", points}});
  }
  std::string title = xml_escape(chart.metric);
  if (series.empty()) {
    return "<p class=\"empty\">no values of " + title + " in these runs</p>\n";
  }
  charts.push_back({{"title", chart.metric},
                    {"x_label", chart.x_label},
                    {"log", chart.log_scale},
                    {"series", series}});
  std::string toggle = positive ? "<label><input type=\"checkbox\" id=\"log-" + id + "\"" +
                                      (chart.log_scale ? " checked" : "") + "> log scale</label>"
                                : "";
  return "<section class=\"chart\"><h3>" + title + toggle + "</h3><div class=\"plot\" id=\"plot-" +
         id + "\"></div><div class=\"legend\" id=\"legend-" + id + "\"></div></section>\n";
}

std::string page_head(const ReportData& data) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>sqltrack report: " +
         xml_escape(data.experiment) + "</title>\n<style>" + kStyle + dygraphs_css() +
         "</style>\n<script>" + dygraphs_js() + "</script>\n</head>\n<body>\n";
}

}  // namespace

std::string render_report_html(const ReportData& data) {
  std::string html = page_head(data);
  html += "<h1>Experiment " + xml_escape(data.experiment) + "</h1>\n";
  if (!data.comment.empty()) html += "<p class=\"meta\">" + xml_escape(data.comment) + "</p>\n";
  html += "<p class=\"meta\">" + std::to_string(data.runs.size()) +
          (data.runs.size() == 1 ? " run" : " runs") + ", report made " +
          xml_escape(data.generated) + " by sqltrack report</p>\n";
  html += runs_table(data);
  nlohmann::json page{{"plot_background", kPlotBackground},
                      {"charts", nlohmann::json::array()},
                      {"resources", nlohmann::json::array()}};
  if (!data.charts.empty()) html += "<h2>Learning curves</h2>\n";
  for (std::size_t c = 0; c < data.charts.size(); ++c) {
    html += chart_section(data, data.charts[c], "m" + std::to_string(page["charts"].size()),
                          page["charts"]);
  }
  if (!data.resources.empty()) html += "<h2>Resources</h2>\n";
  for (const auto& chart : data.resources) {
    html += chart_section(data, chart, "r" + std::to_string(page["resources"].size()),
                          page["resources"]);
  }
  if (!data.notes.empty()) {
    html += "<ul class=\"meta\">\n";
    for (const auto& note : data.notes) html += "<li>" + xml_escape(note) + "</li>\n";
    html += "</ul>\n";
  }
  html += "<script type=\"application/json\" id=\"report-data\">" + script_json(page) +
          "</script>\n<script>" + kScript + "</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace sqltrack
