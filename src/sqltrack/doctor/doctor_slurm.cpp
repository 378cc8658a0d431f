// The checks of Slurm: its tools, whether its controller answers, and its Epilog.
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "sqltrack/doctor/doctor.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/helper_process.hpp"
#include "sqltrack/util/input_file.hpp"
#include "sqltrack/util/text.hpp"
#include "sqltrack/util/utf8_text.hpp"

namespace sqltrack {
namespace {

// The tools sqltrack runs: scontrol (why a signal came, what became of a job), squeue and
// sacct (slurm-sync), sbatch (submit).
constexpr std::array<std::string_view, 4> kSlurmTools{"scontrol", "squeue", "sacct", "sbatch"};
constexpr std::size_t kEpilogLimit = std::size_t{1} << 20;
constexpr const char* kInstallEpilog =
    "install slurm/epilog.sh as Epilog= in slurm.conf (or call it from the epilog there is), "
    "or run `sqltrack slurm-sync --since 1d` from cron";

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::string first_line(std::string_view text) {
  return one_line(trim(text.substr(0, text.find('\n'))));
}

bool mentions_sqltrack(std::string_view text) {
  constexpr std::string_view kWord = "sqltrack";
  auto it = std::search(text.begin(), text.end(), kWord.begin(), kWord.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
  return it != text.end();
}

// The files a script entry names: itself, or what its glob pattern matches.
std::vector<std::string> expand(const std::string& script) {
  if (script.find_first_of("*?[") == std::string::npos) return {script};
  glob_t matches{};
  std::vector<std::string> files;
  if (::glob(script.c_str(), 0, nullptr, &matches) == 0) {
    for (std::size_t i = 0; i < matches.gl_pathc; ++i) files.emplace_back(matches.gl_pathv[i]);
  }
  ::globfree(&matches);
  return files;
}

// The epilog, once the controller answered: what `scontrol show config` names as Epilog.
CheckResult check_epilog(const std::filesystem::path& scontrol, std::chrono::milliseconds timeout) {
  HelperOutput config = run_helper({scontrol.string(), "show", "config"}, timeout);
  if (!config.succeeded()) {
    return {"epilog", CheckVerdict::failed, "scontrol show config: " + config.describe(),
            "set SLURM_CONF to the cluster's slurm.conf"};
  }
  return check_epilog_scripts(epilog_scripts(config.out));
}

}  // namespace

std::optional<std::filesystem::path> find_in_path(std::string_view program,
                                                  std::string_view path_value) {
  std::size_t start = 0;
  while (start <= path_value.size()) {
    const std::size_t end = std::min(path_value.find(':', start), path_value.size());
    // An empty entry is the working directory, as for execvp.
    std::filesystem::path dir(end == start ? "." : path_value.substr(start, end - start));
    const std::filesystem::path candidate = dir / program;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::vector<std::string> epilog_scripts(std::string_view show_config) {
  std::vector<std::string> scripts;
  std::size_t start = 0;
  while (start < show_config.size()) {
    const std::size_t end = std::min(show_config.find('\n', start), show_config.size());
    const std::string_view line = show_config.substr(start, end - start);
    start = end + 1;
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos || trim(line.substr(0, equals)) != "Epilog") continue;
    std::string_view value = trim(line.substr(equals + 1));
    if (value == "(null)") continue;
    while (!value.empty()) {
      const std::size_t comma = std::min(value.find(','), value.size());
      if (auto script = trim(value.substr(0, comma)); !script.empty()) {
        scripts.emplace_back(script);
      }
      value = value.substr(std::min(comma + 1, value.size()));
    }
  }
  return scripts;
}

CheckResult check_epilog_scripts(const std::vector<std::string>& scripts) {
  if (scripts.empty()) {
    return {"epilog", CheckVerdict::failed,
            "Slurm runs no Epilog: a run whose wrapper died (a lost node, the OOM killer) stays "
            "RUNNING until `sqltrack slurm-sync` runs",
            kInstallEpilog};
  }
  const std::string shown = "Epilog=" + escape_for_terminal(joined(scripts));
  std::vector<std::string> unreadable;
  for (const auto& script : scripts) {
    for (const auto& file : expand(script)) {
      try {
        if (mentions_sqltrack(read_input_file(file, "'" + file + "'", kEpilogLimit).bytes)) {
          return {
              "epilog", CheckVerdict::ok,
              "Epilog=" + escape_for_terminal(file) + " runs sqltrack slurm-sync after each job"};
        }
      } catch (const Error& e) {
        unreadable.push_back(one_line(e.what()));
      }
    }
  }
  if (!unreadable.empty()) {
    return {"epilog", CheckVerdict::warning,
            shown + ": " + unreadable.front() + " (it may be on the compute nodes only)",
            "make sure it runs slurm/epilog.sh, which calls `sqltrack slurm-sync` after each job"};
  }
  return {"epilog", CheckVerdict::failed, shown + " does not run sqltrack (it never names it)",
          kInstallEpilog};
}

std::vector<CheckResult> check_slurm(const Environment& env, std::chrono::milliseconds timeout) {
  const std::string path = lookup(env, "PATH").value_or("");
  std::vector<std::string> found, missing;
  std::optional<std::filesystem::path> scontrol;
  for (std::string_view tool : kSlurmTools) {
    auto where = find_in_path(tool, path);
    (where ? found : missing).emplace_back(tool);
    if (where && tool == "scontrol") scontrol = where;
  }
  if (found.empty()) {
    return {{"slurm", CheckVerdict::skipped,
             "no Slurm tools on PATH (" + joined({kSlurmTools.begin(), kSlurmTools.end()}) +
                 "): not under Slurm"},
            {"epilog", CheckVerdict::skipped, "no Slurm tools"}};
  }
  const std::string tools =
      "found " + joined(found) + (missing.empty() ? "" : " (not " + joined(missing) + ")");
  if (!scontrol) {
    return {{"slurm", CheckVerdict::failed, tools + ", but no scontrol on PATH",
             "put all of Slurm's tools on PATH: sqltrack-run asks scontrol why a signal came, "
             "slurm-sync what became of a job"},
            {"epilog", CheckVerdict::skipped, "no scontrol"}};
  }
  HelperOutput ping = run_helper({scontrol->string(), "ping"}, timeout);
  if (!ping.succeeded() || ping.out.find(" is UP") == std::string::npos) {
    const bool said = ping.started && !ping.timed_out && !trim(ping.out).empty();
    const std::string answer = said ? first_line(ping.out) : ping.describe();
    return {{"slurm", CheckVerdict::failed, tools + "; scontrol ping: " + answer,
             "start slurmctld, or set SLURM_CONF to the cluster's slurm.conf"},
            {"epilog", CheckVerdict::skipped, "Slurm does not answer"}};
  }
  return {{"slurm", CheckVerdict::ok, tools + "; " + first_line(ping.out)},
          check_epilog(*scontrol, timeout)};
}

}  // namespace sqltrack
