#include "sqltrack/store/run_queue.hpp"

#include <array>

#include "sqltrack/store/run_status.hpp"
#include "sqltrack/util/capture.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/input_file.hpp"
#include "sqltrack/util/redaction.hpp"
#include "sqltrack/util/text.hpp"
#include "sqltrack/util/timestamp.hpp"

namespace sqltrack {
namespace {

using db::Value;

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::vector<std::string>> command_from_args(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  auto args = nlohmann::json::parse(*text, nullptr, false);
  if (!args.is_array() || args.empty()) return std::nullopt;
  std::vector<std::string> command;
  for (const auto& arg : args) {
    if (!arg.is_string()) return std::nullopt;
    command.push_back(arg.get<std::string>());
  }
  return command;
}

// Why a command line could not be stored as it is (runs.args is JSON text), or nullopt.
std::optional<std::string> unstorable_text(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return "holds a NUL byte";
  if (!is_valid_utf8(text)) {
    return "is not valid UTF-8 (" + escape_for_terminal(text.substr(0, 80)) + ")";
  }
  if (text.size() > kLongestQueuedCommand) {
    return "is longer than " + describe_size(kLongestQueuedCommand);
  }
  return std::nullopt;
}

}  // namespace

void forget_queued_command(db::Database& db, std::int64_t run_id) {
  const std::array<Value, 1> id{run_id};
  db.query("DELETE FROM queued_commands WHERE run_id = $1", id);
}

void forget_command_of_ended_run(db::Database& db, std::int64_t run_id) {
  const std::array<Value, 1> id{run_id};
  auto status = db.query("SELECT status FROM runs WHERE id = $1", id).scalar();
  auto parsed = status ? parse_run_status(*status) : std::nullopt;
  if (parsed && is_terminal(*parsed)) forget_queued_command(db, run_id);
}

std::vector<std::int64_t> enqueue_runs(db::Database& db, const QueueRequest& request) {
  if (request.commands.empty()) throw UsageError("nothing to enqueue: no command given");
  RunStore store(db);
  std::string now = format_timestamp(request.time);
  db::Transaction transaction(db);
  std::int64_t experiment_id = store.ensure_experiment(request.experiment);
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < request.commands.size(); ++i) {
    const auto& command = request.commands[i];
    if (command.empty()) throw UsageError("an empty command cannot be enqueued");
    check_queued_command(command, i + 1);
    const std::string recorded = json_text(capture_args(command, request.redact_patterns));
    const std::vector<Value> params{
        experiment_id,           now,        db::optional_value(request.comment),
        json_text(request.tags), recorded,   request.hostname,
        request.username,        request.cwd};
    auto inserted = db.query(
        "INSERT INTO runs (experiment_id, status, time_created, time_updated, comment, tags, "
        "args, hostname, username, cwd, queue_attempts) "
        "VALUES ($1, 'PENDING', $2, $2, $3, $4, $5, $6, $7, $8, 0) RETURNING id",
        params);
    std::int64_t run_id = std::stoll(inserted.scalar().value_or("0"));
    if (const std::string real = json_text(nlohmann::json(command)); real != recorded) {
      const std::array<Value, 2> queued{run_id, real};
      db.query("INSERT INTO queued_commands (run_id, args) VALUES ($1, $2)", queued);
    }
    store.add_history(run_id, RunStatus::PENDING, "enqueued", request.time);
    ids.push_back(run_id);
  }
  transaction.commit();
  return ids;
}

std::vector<std::vector<std::string>> parse_queue_file(std::string_view text,
                                                       std::string_view name) {
  std::vector<std::vector<std::string>> commands;
  std::size_t start = 0;
  for (std::size_t number = 1; start <= text.size(); ++number) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    if (auto problem = unstorable_text(line)) {
      throw Error(std::string(name) + " line " + std::to_string(number) + " " + *problem +
                  ": nothing was enqueued");
    }
    commands.push_back({"/bin/sh", "-c", std::string(line)});
  }
  return commands;
}

std::vector<std::vector<std::string>> read_queue_file(const std::filesystem::path& path) {
  const std::string name = "queue file '" + escape_for_terminal(path.string()) + "'";
  return parse_queue_file(read_input_file(path, name, kLargestQueueFile).bytes, name);
}

void check_queued_command(const std::vector<std::string>& command, std::size_t number) {
  std::size_t length = 0;
  for (std::size_t i = 0; i < command.size(); ++i) {
    length += command[i].size() + 1;
    if (auto problem = unstorable_text(command[i])) {
      throw Error("command " + std::to_string(number) + ": argument " + std::to_string(i + 1) +
                  " " + *problem + ": nothing was enqueued");
    }
  }
  if (length > kLongestQueuedCommand) {
    throw Error("command " + std::to_string(number) + " is longer than " +
                describe_size(kLongestQueuedCommand) + ": nothing was enqueued");
  }
}

std::optional<ClaimedRun> claim_next_run(db::Database& db, std::string_view experiment,
                                         std::string_view worker, double heartbeat_seconds) {
  RunStore store(db);
  // SKIP LOCKED: workers asking at once each get another run instead of waiting for the
  // first one's transaction. SQLite's immediate transaction lets one claimer in at a time.
  // A command with secrets runs from queued_commands; runs.args is its redacted record.
  const std::string select =
      "SELECT r.id, COALESCE(q.args, r.args), r.queue_attempts, q.run_id FROM runs r "
      "JOIN experiments e "
      "ON e.id = r.experiment_id LEFT JOIN queued_commands q ON q.run_id = r.id "
      "WHERE e.name = $1 AND r.status = 'PENDING' AND "
      "r.queue_attempts IS NOT NULL ORDER BY r.id LIMIT 1" +
      std::string(db.engine() == db::Engine::postgres ? " FOR UPDATE OF r SKIP LOCKED" : "");
  for (;;) {
    auto now = Clock::now();
    db::Transaction transaction(db);
    const std::array<Value, 1> name{std::string(experiment)};
    auto found = db.query(select, name);
    if (found.empty()) {
      transaction.commit();
      return std::nullopt;
    }
    const auto& row = found.rows[0];
    ClaimedRun claimed;
    claimed.run_id = std::stoll(row[0].value_or("0"));
    claimed.attempt = std::stoi(row[2].value_or("0")) + 1;
    claimed.from_queued_commands = row[3].has_value();
    auto command = command_from_args(row[1]);
    const std::array<Value, 2> update{claimed.run_id, format_timestamp(now)};
    if (!command) {
      db.query(
          "UPDATE runs SET status = 'FAILED', time_updated = $2, time_ended = $2 "
          "WHERE id = $1",
          update);
      store.add_history(claimed.run_id, RunStatus::FAILED,
                        "the stored command is not a list of strings; not run", now);
      forget_queued_command(db, claimed.run_id);
      transaction.commit();
      continue;
    }
    claimed.command = std::move(*command);
    // The worker's heartbeat interval from the claim on: a worker that dies before its
    // wrapper has written anything is found stale on the right schedule.
    const std::array<Value, 3> claim{claimed.run_id, format_timestamp(now), heartbeat_seconds};
    db.query(
        "UPDATE runs SET status = 'RUNNING', time_updated = $2, heartbeat_seconds = $3, "
        "queue_attempts = queue_attempts + 1 WHERE id = $1",
        claim);
    store.add_history(
        claimed.run_id, RunStatus::RUNNING,
        "claimed by " + std::string(worker) + " (attempt " + std::to_string(claimed.attempt) + ")",
        now);
    transaction.commit();
    return claimed;
  }
}

std::vector<RequeuedRun> requeue_stale_runs(db::Database& db,
                                            const std::optional<std::string>& experiment,
                                            int max_attempts, Clock::time_point now) {
  std::string sql =
      "SELECT r.id, r.time_updated, r.heartbeat_seconds, r.queue_attempts FROM runs r "
      "JOIN experiments e ON e.id = r.experiment_id WHERE r.status = 'RUNNING' AND "
      "r.queue_attempts IS NOT NULL";
  std::vector<Value> params;
  if (experiment) {
    sql += " AND e.name = $1";
    params.emplace_back(*experiment);
  }
  auto candidates = db.query(sql + " ORDER BY r.id", params);
  RunStore store(db);
  std::vector<RequeuedRun> requeued;
  for (const auto& row : candidates.rows) {
    auto updated = row[1] ? parse_timestamp(*row[1]) : std::nullopt;
    std::optional<double> interval;
    if (row[2]) interval = std::stod(*row[2]);
    if (!updated || !heartbeat_overdue(*updated, interval, now)) continue;
    RequeuedRun run;
    run.run_id = std::stoll(row[0].value_or("0"));
    run.attempts = std::stoi(row[3].value_or("0"));
    run.status = run.attempts >= max_attempts ? RunStatus::FAILED : RunStatus::PENDING;
    run.detail = "its worker's heartbeat stopped at " + format_timestamp(*updated) + " after " +
                 counted(static_cast<std::uint64_t>(run.attempts), "attempt");
    run.detail += run.status == RunStatus::FAILED
                      ? "; not retried (at most " + std::to_string(max_attempts) + ")"
                      : "; back in the queue";
    db::Transaction transaction(db);
    const std::array<Value, 5> change{run.run_id, std::string(to_string(run.status)),
                                      format_timestamp(now), *row[1],
                                      run.status == RunStatus::FAILED};
    // Only while nobody else moved it (a worker's heartbeat, another requeue-stale).
    auto written = db.query(
        "UPDATE runs SET status = $2, time_updated = $3, time_ended = CASE WHEN $5 THEN $3 "
        "ELSE time_ended END WHERE id = $1 AND status = 'RUNNING' AND time_updated = $4 "
        "RETURNING id",
        change);
    if (written.empty()) continue;
    if (run.status == RunStatus::FAILED) forget_queued_command(db, run.run_id);
    store.add_history(run.run_id, run.status, run.detail, now);
    transaction.commit();
    requeued.push_back(std::move(run));
  }
  return requeued;
}

}  // namespace sqltrack
