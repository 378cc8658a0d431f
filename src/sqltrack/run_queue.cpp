#include "sqltrack/run_queue.hpp"

#include <unistd.h>

#include <array>
#include <csignal>
#include <iostream>

#include "sqltrack/capture.hpp"
#include "sqltrack/error.hpp"
#include "sqltrack/schema.hpp"
#include "sqltrack/timestamp.hpp"

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

std::string describe_command(const std::vector<std::string>& command) {
  std::string text;
  for (const auto& arg : command) {
    if (!text.empty()) text += ' ';
    text += arg;
  }
  return text;
}

}  // namespace

std::vector<std::int64_t> enqueue_runs(db::Database& db, const QueueRequest& request) {
  if (request.commands.empty()) throw UsageError("nothing to enqueue: no command given");
  RunStore store(db);
  std::string now = format_timestamp(request.time);
  db::Transaction transaction(db);
  std::int64_t experiment_id = store.ensure_experiment(request.experiment);
  std::vector<std::int64_t> ids;
  for (const auto& command : request.commands) {
    if (command.empty()) throw UsageError("an empty command cannot be enqueued");
    const std::vector<Value> params{experiment_id,
                                    now,
                                    db::optional_value(request.comment),
                                    json_text(request.tags),
                                    json_text(capture_args(command)),
                                    request.hostname,
                                    request.username,
                                    request.cwd};
    auto inserted = db.query(
        "INSERT INTO runs (experiment_id, status, time_created, time_updated, comment, tags, "
        "args, hostname, username, cwd, queue_attempts) "
        "VALUES ($1, 'PENDING', $2, $2, $3, $4, $5, $6, $7, $8, 0) RETURNING id",
        params);
    std::int64_t run_id = std::stoll(inserted.scalar().value_or("0"));
    store.add_history(run_id, RunStatus::PENDING, "enqueued", request.time);
    ids.push_back(run_id);
  }
  transaction.commit();
  return ids;
}

std::vector<std::vector<std::string>> parse_queue_file(std::string_view text) {
  std::vector<std::vector<std::string>> commands;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto first = line.find_first_not_of(" \t");
    if (first != std::string_view::npos && line[first] != '#') {
      commands.push_back({"/bin/sh", "-c", std::string(line)});
    }
    start = end + 1;
  }
  return commands;
}

std::optional<ClaimedRun> claim_next_run(db::Database& db, std::string_view experiment,
                                         std::string_view worker, double heartbeat_seconds) {
  RunStore store(db);
  // SKIP LOCKED: workers asking at once each get another run instead of waiting for the
  // first one's transaction. SQLite's immediate transaction lets one claimer in at a time.
  const std::string select =
      "SELECT r.id, r.args, r.queue_attempts FROM runs r JOIN experiments e ON "
      "e.id = r.experiment_id WHERE e.name = $1 AND r.status = 'PENDING' AND "
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
    auto command = command_from_args(row[1]);
    const std::array<Value, 2> update{claimed.run_id, format_timestamp(now)};
    if (!command) {
      db.query(
          "UPDATE runs SET status = 'FAILED', time_updated = $2, time_ended = $2 "
          "WHERE id = $1",
          update);
      store.add_history(claimed.run_id, RunStatus::FAILED,
                        "the stored command is not a list of strings; not run", now);
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
    double interval = row[2] ? std::stod(*row[2]) : 30.0;
    if (!updated || now - *updated <= std::chrono::duration<double>(3 * interval)) continue;
    RequeuedRun run;
    run.run_id = std::stoll(row[0].value_or("0"));
    run.attempts = std::stoi(row[3].value_or("0"));
    run.status = run.attempts >= max_attempts ? RunStatus::FAILED : RunStatus::PENDING;
    run.detail = "its worker's heartbeat stopped at " + format_timestamp(*updated) + " after " +
                 std::to_string(run.attempts) + " attempt(s)";
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
    store.add_history(run.run_id, run.status, run.detail, now);
    transaction.commit();
    requeued.push_back(std::move(run));
  }
  return requeued;
}

int run_queued(const WrapOptions& options, const Settings& settings, const Environment& env,
               bool loop) {
  if (!options.experiment || options.experiment->empty()) {
    throw UsageError("--next needs the experiment whose queue to take from: -e NAME");
  }
  const std::string worker = capture_host_facts().hostname + " pid " + std::to_string(::getpid());
  int status = 0;
  std::optional<std::int64_t> previous;
  for (;;) {
    std::optional<ClaimedRun> claimed;
    {
      // Closed before the run starts: the wrapper opens its own, one connection at a time.
      auto db = open_database(settings);
      ensure_schema(*db, settings.get("schema"));
      if (previous) {
        // A run that ended other than by its command's own exit (CANCELLED, TIMEOUT,
        // PREEMPTED, ...): the worker was told to stop, so it takes no next run.
        const std::array<Value, 1> id{*previous};
        auto ended = db->query("SELECT status FROM runs WHERE id = $1", id).scalar();
        if (ended && *ended != "COMPLETED" && *ended != "FAILED") {
          std::cerr << "sqltrack-run: run " << *previous << " ended " << *ended
                    << "; no next run\n";
          return status;
        }
      }
      claimed = claim_next_run(*db, *options.experiment, worker, options.heartbeat_seconds);
    }
    if (!claimed) {
      std::cout << "sqltrack-run: the queue of experiment '" << *options.experiment << "' is "
                << (previous ? "now empty" : "empty") << '\n';
      return status;
    }
    previous = claimed->run_id;
    std::cerr << "sqltrack-run: run " << claimed->run_id << " (attempt " << claimed->attempt
              << "): " << describe_command(claimed->command) << '\n';
    WrapOptions one = options;
    one.command = claimed->command;
    one.run_id = claimed->run_id;
    int code = run_wrapped(one, settings, env);
    if (!loop) return code;
    if (code != 0) status = code;
    // The worker was told to stop (Ctrl-C, scancel, the time limit): no next run.
    if (code == 128 + SIGINT || code == 128 + SIGTERM || code == 128 + SIGHUP) return code;
  }
}

}  // namespace sqltrack
