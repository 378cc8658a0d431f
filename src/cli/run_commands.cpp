// sqltrack rm and edit: tidying runs after the fact.
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "sqltrack/connect/connect.hpp"
#include "sqltrack/store/run_lifecycle.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/terminal_text.hpp"
#include "sqltrack_commands.hpp"

namespace sqltrack::cli {
namespace {

std::vector<std::int64_t> given_runs(const po::variables_map& vm) {
  std::vector<std::int64_t> ids;
  if (!vm.count("run")) return ids;
  for (auto id : vm["run"].as<std::vector<std::int64_t>>()) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

// "2 runs (3, 4)"
std::string runs_text(const std::vector<std::int64_t>& ids) {
  std::string list;
  for (auto id : ids) list += (list.empty() ? "" : ", ") + std::to_string(id);
  return std::to_string(ids.size()) + (ids.size() == 1 ? " run (" : " runs (") + list + ")";
}

// Asks on the terminal; only "y" or "yes" (any case) says yes.
bool confirmed(const std::string& question) {
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer == "y" || answer == "yes";
}

std::string removed_text(const std::vector<std::int64_t>& ids, const RemovedRows& removed) {
  std::string text = "removed " + runs_text(ids) + ": " + std::to_string(removed.metric_rows) +
                     " metric rows, " + std::to_string(removed.status_changes) +
                     " status changes, " + std::to_string(removed.resource_samples) +
                     " resource samples";
  if (removed.relationships > 0) {
    text += ", " + std::to_string(removed.relationships) + " relationships";
  }
  if (removed.queued_commands > 0) {
    text += ", " + std::to_string(removed.queued_commands) + " queued commands";
  }
  return text;
}

}  // namespace

int rm_command(const Arguments& args, const Arguments& /*command*/) {
  po::options_description options("rm options");
  options.add_options()("help,h", "show this help")("yes,y", "remove without asking")(
      "force,f", "also remove runs that have not ended (RUNNING, PENDING, ...)");
  auto vm = parse_with_positionals<std::int64_t>(args, options, "run");
  if (vm.count("help")) {
    print_command_help("rm", options);
    return 0;
  }
  const auto ids = given_runs(vm);
  if (ids.empty()) throw UsageError("rm needs the runs to remove: sqltrack rm 3 7");
  const bool force = vm.count("force") > 0;
  Settings settings = cli::resolve_connection(vm, current_environment(), "sqltrack");
  auto db = open_for_writing(settings, db::OpenMode::existing);
  // Every reason to refuse comes before the question.
  auto runs = find_runs_to_remove(*db, ids);
  if (!force) {
    if (auto refused = unended_runs_message(runs); !refused.empty()) throw Error(refused);
  }
  if (!vm.count("yes")) {
    if (!::isatty(STDIN_FILENO)) {
      throw Error("not asking for confirmation without a terminal: pass --yes to remove " +
                  runs_text(ids));
    }
    if (!confirmed("remove " + runs_text(ids) + "?")) {
      std::cerr << "sqltrack: nothing removed\n";
      return 1;
    }
  }
  std::cout << removed_text(ids, remove_runs(*db, ids, force)) << '\n';
  return 0;
}

int edit_command(const Arguments& args, const Arguments& /*command*/) {
  po::options_description options("edit options");
  options.add_options()("help,h", "show this help")("comment", po::value<std::string>(),
                                                    "the run's comment ('' removes it)")(
      "tag", po::value<std::vector<std::string>>()->composing(),
      "KEY=VALUE, added or overwritten, repeatable")(
      "untag", po::value<std::vector<std::string>>()->composing(), "KEY removed, repeatable");
  auto vm = parse_with_positionals<std::int64_t>(args, options, "run");
  if (vm.count("help")) {
    print_command_help("edit", options);
    return 0;
  }
  const auto ids = given_runs(vm);
  if (ids.size() != 1) throw UsageError("edit takes one run: sqltrack edit 3 --comment TEXT");
  RunEdit edit;
  edit.run_id = ids.front();
  if (vm.count("comment")) edit.comment = vm["comment"].as<std::string>();
  const nlohmann::json tags = parse_tags(vm);
  for (const auto& [key, value] : tags.items()) edit.set_tags[key] = value.get<std::string>();
  if (vm.count("untag")) edit.remove_tags = vm["untag"].as<std::vector<std::string>>();
  for (const auto& key : edit.remove_tags) {
    if (key.empty()) throw UsageError("--untag expects a tag's KEY, got ''");
  }
  check_run_edit(edit);
  Settings settings = cli::resolve_connection(vm, current_environment(), "sqltrack");
  auto db = open_for_writing(settings, db::OpenMode::existing);
  EditedRun edited = edit_run(*db, edit);
  std::cout << "run " << edit.run_id << ": comment "
            << (edited.comment ? "'" + printable(*edited.comment) + "'" : std::string("none"))
            << ", tags "
            << printable(edited.tags.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
            << '\n';
  return 0;
}

}  // namespace sqltrack::cli
