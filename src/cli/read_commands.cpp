// sqltrack status, export, report and compare: where runs stand, the runs of experiments as
// CSV, JSON lines or one HTML file, and runs side by side.
#include "sqltrack_commands.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/read/export.hpp"
#include "sqltrack/read/report.hpp"
#include "sqltrack/read/run_comparison.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/output_file.hpp"
#include "sqltrack/util/text.hpp"
#include "status_command.hpp"

namespace sqltrack::cli {

int status_subcommand(const Arguments& args, const Arguments& /*command*/) {
  return status_command(args, "sqltrack");
}

int report_command(const Arguments& args, const Arguments& /*command*/) {
  po::options_description options("report options");
  options.add_options()("help,h", "show this help")("experiment,e", po::value<std::string>(),
                                                    "the experiment to report on (required)")(
      "metric", po::value<std::vector<std::string>>()->composing(),
      "a metric column to chart, repeatable (default: every numeric column with values, at "
      "most 6)")("limit", po::value<std::size_t>()->default_value(50),
                 "the newest N runs of the experiment, 0 for all")(
      "output,o", po::value<std::string>()->default_value("report.html"), "the HTML file to write");
  auto vm = parse_subcommand(args, options);
  if (vm.count("help")) {
    print_command_help("report", options);
    return 0;
  }
  if (!vm.count("experiment")) throw UsageError("report needs -e NAME");
  ReportOptions report;
  report.experiment = vm["experiment"].as<std::string>();
  if (vm.count("metric")) report.metrics = vm["metric"].as<std::vector<std::string>>();
  report.limit = vm["limit"].as<std::size_t>();
  std::string output = vm["output"].as<std::string>();
  Settings settings = cli::resolve_connection(vm, current_environment(), "sqltrack");
  auto db = open_for_reading(settings);
  ReportData data = read_report(*db, report, Clock::now());
  OutputFileStream out(output, settings.file_mode());
  try {
    out.stream() << render_report_html(data);
    out.close();
  } catch (...) {
    out.discard();
    throw;
  }
  for (const auto& note : data.notes) std::cerr << "sqltrack: note: " << note << '\n';
  std::cout << "report: " << output << " (" << counted(data.runs.size(), "run") << ", "
            << counted(data.charts.size(), "chart") << ")\n";
  return 0;
}

int export_command(const Arguments& args, const Arguments& /*command*/) {
  po::options_description options("export options");
  options.add_options()("help,h", "show this help")(
      "experiment,e", po::value<std::vector<std::string>>()->composing(),
      "only runs of this experiment, repeatable (default: every experiment)")(
      "status", po::value<std::vector<std::string>>()->composing(),
      "only runs with this status (COMPLETED, FAILED, ...), repeatable")(
      "format", po::value<std::string>()->default_value("csv"), "csv, or json for JSON lines")(
      "metrics", po::value<std::string>()->default_value("last"),
      "result.<metric> per run: its last, min or max value; all: every metric row instead")(
      "output,o", po::value<std::string>(), "write to this file instead of standard output");
  auto vm = parse_subcommand(args, options);
  if (vm.count("help")) {
    print_command_help("export", options);
    return 0;
  }
  ExportOptions request;
  if (vm.count("experiment")) request.experiments = vm["experiment"].as<std::vector<std::string>>();
  request.statuses = cli::parse_statuses(vm);
  auto format = parse_export_format(vm["format"].as<std::string>());
  if (!format) {
    throw UsageError("--format expects csv or json, got '" + vm["format"].as<std::string>() + "'");
  }
  request.format = *format;
  auto metrics = parse_metric_summary(vm["metrics"].as<std::string>());
  if (!metrics) {
    throw UsageError("--metrics expects last, min, max or all, got '" +
                     vm["metrics"].as<std::string>() + "'");
  }
  request.metrics = *metrics;

  Settings settings = cli::resolve_connection(vm, current_environment(), "sqltrack");
  // The file before the database: a path that cannot be written fails before it is asked.
  std::optional<std::string> path;
  std::unique_ptr<OutputFileStream> file;
  if (vm.count("output")) {
    path = vm["output"].as<std::string>();
    file = std::make_unique<OutputFileStream>(*path, settings.file_mode());
  }
  try {
    // Reading never creates a database: a mistyped path is an error, not an empty export.
    auto db = open_for_reading(settings);
    std::size_t rows = export_runs(*db, request, file ? file->stream() : std::cout);
    if (file) file->close();
    if (path) std::cout << "export: " << counted(rows, "row") << " written to " << *path << '\n';
  } catch (...) {
    // No half-written file that looks like a complete export.
    if (file) file->discard();
    throw;
  }
  return 0;
}

int compare_command(const Arguments& args, const Arguments& /*command*/) {
  po::options_description options("compare options");
  options.add_options()("help,h", "show this help")("json", "print one JSON object");
  auto vm = parse_with_positionals<std::int64_t>(args, options, "run");
  if (vm.count("help")) {
    print_command_help("compare", options);
    return 0;
  }
  std::vector<std::int64_t> ids;
  if (vm.count("run")) {
    for (auto id : vm["run"].as<std::vector<std::int64_t>>()) {
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
  }
  if (ids.size() < 2) throw UsageError("compare needs two or more runs: sqltrack compare 3 7");
  Settings settings = cli::resolve_connection(vm, current_environment(), "sqltrack");
  auto db = open_for_reading(settings);
  RunComparison comparison = read_run_comparison(*db, ids);
  if (vm.count("json")) {
    std::cout << comparison_to_json(comparison)
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
  } else {
    for (const auto& line : comparison_table_lines(comparison)) std::cout << line << '\n';
  }
  return 0;
}

}  // namespace sqltrack::cli
