// sqltrack enqueue, requeue-stale and mark-stale: the run queue and runs whose wrapper died.
#include "sqltrack_commands.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/store/run_queue.hpp"
#include "sqltrack/store/stale_runs.hpp"
#include "sqltrack/util/capture.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/text.hpp"

namespace sqltrack::cli {

int enqueue_command(const Arguments& flags, const Arguments& command) {
  po::options_description options("enqueue options");
  options.add_options()("help,h", "show this help")(
      "experiment,e", po::value<std::string>(),
      "the experiment whose queue gets the runs (default: $SQLTRACK_EXPERIMENT)")(
      "comment", po::value<std::string>(), "a comment stored with each run")(
      "tag", po::value<std::vector<std::string>>()->composing(), "KEY=VALUE, repeatable")(
      "from-file", po::value<std::string>(),
      "one command per line, run by /bin/sh -c (blank lines and # comments skipped)");
  auto vm = parse_subcommand(flags, options);
  if (vm.count("help")) {
    print_command_help("enqueue", options);
    return 0;
  }
  Environment env = current_environment();
  QueueRequest request;
  if (vm.count("experiment")) {
    request.experiment = vm["experiment"].as<std::string>();
  } else if (auto name = lookup(env, "SQLTRACK_EXPERIMENT"); name && !name->empty()) {
    request.experiment = *name;
  } else {
    throw UsageError("enqueue needs the experiment: -e NAME");
  }
  if (vm.count("comment")) request.comment = vm["comment"].as<std::string>();
  request.tags = parse_tags(vm);
  if (!command.empty()) {
    check_queued_command(command, 1);
    request.commands.push_back(command);
  }
  if (vm.count("from-file")) {
    auto lines = read_queue_file(vm["from-file"].as<std::string>());
    request.commands.insert(request.commands.end(), lines.begin(), lines.end());
  }
  if (request.commands.empty()) {
    throw UsageError("nothing to enqueue: give a command after -- or --from-file FILE");
  }
  HostFacts host = capture_host_facts();
  request.hostname = host.hostname;
  request.username = host.user;
  request.cwd = host.cwd;
  Settings settings = cli::resolve_connection(vm, env, "sqltrack");
  request.redact_patterns = split_redact_patterns(settings.get("env_redact").value_or(""));
  const auto with_secrets = std::count_if(
      request.commands.begin(), request.commands.end(),
      [&](const auto& queued) { return redact_args(queued, request.redact_patterns) != queued; });
  auto db = open_for_writing(settings);
  auto ids = enqueue_runs(*db, request);
  if (with_secrets > 0) {
    std::cerr << "sqltrack: warning: " << counted(with_secrets, "command")
              << (with_secrets == 1 ? " holds" : " hold")
              << " secrets: their runs' records have them redacted, and their "
                 "real command lines wait in the table queued_commands, readable by whoever "
                 "can read the database, until the runs end; pass secrets through the workers' "
                 "environment instead\n";
  }
  std::cout << "enqueued " << counted(ids.size(), "run") << " in experiment '" << request.experiment
            << "': " << (ids.size() == 1 ? "run " : "runs ") << ids.front();
  if (ids.size() > 1) std::cout << " to " << ids.back();
  std::cout << " (PENDING)\n";
  return 0;
}

int requeue_stale_command(const Arguments& args, const Arguments& /*command*/) {
  po::options_description options("requeue-stale options");
  options.add_options()("help,h", "show this help")("experiment,e", po::value<std::string>(),
                                                    "only runs of this experiment")(
      "max-attempts", po::value<int>()->default_value(3),
      "a run claimed this many times already ends FAILED instead");
  auto vm = parse_subcommand(args, options);
  if (vm.count("help")) {
    print_command_help("requeue-stale", options);
    return 0;
  }
  int max_attempts = vm["max-attempts"].as<int>();
  if (max_attempts < 1) throw UsageError("--max-attempts must be 1 or more");
  std::optional<std::string> experiment;
  if (vm.count("experiment")) experiment = vm["experiment"].as<std::string>();
  Settings settings = cli::resolve_connection(vm, current_environment(), "sqltrack");
  auto db = open_for_writing(settings);
  auto runs = requeue_stale_runs(*db, experiment, max_attempts);
  for (const auto& run : runs) {
    std::cout << "run " << run.run_id << ": " << to_string(run.status) << ": " << run.detail
              << '\n';
  }
  std::cout << "requeue-stale: " << counted(runs.size(), "run") << " whose worker was gone\n";
  return 0;
}

int mark_stale_command(const Arguments& args, const Arguments& /*command*/) {
  po::options_description options("mark-stale options");
  options.add_options()("help,h", "show this help")("experiment,e", po::value<std::string>(),
                                                    "only runs of this experiment")(
      "older-than", po::value<double>()->default_value(0),
      "only heartbeats older than this many seconds (and than three heartbeat intervals)");
  auto vm = parse_subcommand(args, options);
  if (vm.count("help")) {
    print_command_help("mark-stale", options);
    return 0;
  }
  const double older_than = vm["older-than"].as<double>();
  if (!(older_than >= 0)) throw UsageError("--older-than takes seconds >= 0");
  std::optional<std::string> experiment;
  if (vm.count("experiment")) experiment = vm["experiment"].as<std::string>();
  Settings settings = cli::resolve_connection(vm, current_environment(), "sqltrack");
  auto db = open_for_writing(settings, db::OpenMode::existing);
  auto runs = mark_stale_runs(*db, experiment, std::chrono::duration<double>(older_than));
  for (const auto& run : runs) {
    std::cout << "run " << run.run_id << ": FAILED: " << run.detail << '\n';
  }
  std::cout << "mark-stale: " << counted(runs.size(), "run") << " whose wrapper was lost\n";
  return 0;
}

}  // namespace sqltrack::cli
