#include "sqltrack/wrapper/command_name.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <string_view>

namespace sqltrack {
namespace {

// Long option names, each followed by a blank: "--rcfile --init-file ".
using Words = std::string_view;

// How one interpreter's command line is read, as far as finding its script goes.
struct Interpreter {
  std::string_view name;            // its file name, version digits removed (python3.11: python)
  std::string_view value_letters;   // short options whose value follows: python -W arg
  std::string_view inline_letters;  // the code follows, there is no script: bash -c
  std::string_view module_letters;  // a module follows: python -m pkg.train
  std::string_view module_flag_letters;  // the script word names a module: torchrun -m
  Words value_options;                   // long options whose value is the next word
  Words inline_options;                  // long options after which there is no script
  Words module_flags;                    // long options that make the script word a module
  // Launchers: every long option takes the next word as its value unless it is one of
  // `flags`, or the next word looks like a script (train.py).
  bool long_options_take_values = false;
  Words flags;
  bool plus_options = false;  // shells: +o name works like -o name
};

constexpr std::string_view kPythonValues = "--check-hash-based-pycs ";
constexpr std::string_view kShellValues = "--rcfile --init-file ";
constexpr std::string_view kJuliaValues =
    "--threads --procs --load --sysimage --cpu-target --home --machine-file ";
constexpr std::string_view kNodeValues =
    "--require --import --loader --experimental-loader --conditions --input-type ";
constexpr std::string_view kRubyValues =
    "--encoding --external-encoding --internal-encoding --enable --disable ";
constexpr std::string_view kEvalPrint = "--eval --print ";

constexpr std::array<Interpreter, 12> kInterpreters = {{
    {"python", "WX", "c", "m", "", kPythonValues, "", "", false, "", false},
    {"pypy", "WX", "c", "m", "", kPythonValues, "", "", false, "", false},
    {"sh", "oO", "cs", "", "", kShellValues, "", "", false, "", true},
    {"bash", "oO", "cs", "", "", kShellValues, "", "", false, "", true},
    {"dash", "oO", "cs", "", "", "", "", "", false, "", true},
    {"zsh", "oO", "cs", "", "", "", "", "", false, "", true},
    {"ksh", "oO", "cs", "", "", "", "", "", false, "", true},
    {"Rscript", "", "e", "", "", "", "", "", false, "", false},
    {"julia", "tpLJCH", "eE", "", "", kJuliaValues, kEvalPrint, "", false, "", false},
    {"node", "rC", "ep", "", "", kNodeValues, kEvalPrint, "", false, "", false},
    {"perl", "IMm", "eE", "", "", "", "", "", false, "", false},
    {"ruby", "IrCE", "e", "", "", kRubyValues, "", "", false, "", false},
}};

// torchrun, deepspeed and `accelerate launch` take the same shape of options.
constexpr Interpreter kLauncher = {
    "",
    "rt",
    "",
    "",
    "m",
    "",
    "",
    "--module ",
    true,
    "--standalone --no_python --no-python --run_path --run-path --module --cpu --multi_gpu "
    "--tpu --use_deepspeed --use_fsdp --use_megatron_lm --debug --quiet --force_multi "
    "--no_local_rank --no_ssh_check ",
    false};

bool contains(Words words, std::string_view word) {
  for (std::size_t at = words.find(word); at != std::string_view::npos;
       at = words.find(word, at + 1)) {
    const bool starts = at == 0 || words[at - 1] == ' ';
    const bool ends = at + word.size() < words.size() && words[at + word.size()] == ' ';
    if (starts && ends) return true;
  }
  return false;
}

bool has_letter(std::string_view letters, char letter) {
  return letters.find(letter) != std::string_view::npos;
}

std::string file_name(const std::string& word) {
  return std::filesystem::path(word).filename().string();
}

bool looks_like_script(std::string_view word) {
  return !word.starts_with('-') && word.find('.') != std::string_view::npos &&
         std::filesystem::path(word).has_extension();
}

// The index of the command that `env [OPTIONS] [NAME=VALUE]...` runs, or argv.size().
std::size_t after_env(const std::vector<std::string>& argv) {
  std::size_t at = 1;
  while (at < argv.size()) {
    const std::string& word = argv[at];
    if (word == "--") return at + 1;
    if (word == "-u" || word == "-C" || word == "--unset" || word == "--chdir") {
      at += 2;
    } else if (word.starts_with('-') || word.find('=') != std::string::npos) {
      ++at;
    } else {
      break;
    }
  }
  return at;
}

// What follows an interpreter's options: a script, a module, or nothing (code inline or on
// stdin, or no more words).
struct ScriptWord {
  enum class Kind { none, script, module } kind = Kind::none;
  std::string text;
  std::size_t next = 0;  // the word after it
};

// One word of short options (-u, -uB, -euo pipefail, -Wignore): what it means for the script.
// Returns true when the search ends here (`found` says how); advances `at` otherwise.
bool read_short_options(const Interpreter& in, const std::vector<std::string>& argv,
                        std::size_t& at, bool& module_flag, ScriptWord& found) {
  const std::string& word = argv[at];
  for (std::size_t i = 1; i < word.size(); ++i) {
    const char letter = word[i];
    const bool value_attached = i + 1 < word.size();
    if (has_letter(in.inline_letters, letter)) return true;
    if (has_letter(in.module_letters, letter)) {
      found.kind = ScriptWord::Kind::module;
      found.text = value_attached ? word.substr(i + 1) : (at + 1 < argv.size() ? argv[at + 1] : "");
      found.next = at + (value_attached ? 1 : 2);
      if (found.text.empty()) found.kind = ScriptWord::Kind::none;
      return true;
    }
    if (has_letter(in.module_flag_letters, letter)) module_flag = true;
    if (has_letter(in.value_letters, letter)) {
      at += value_attached ? 1 : 2;
      return false;
    }
  }
  ++at;
  return false;
}

ScriptWord find_script(const Interpreter& in, const std::vector<std::string>& argv,
                       std::size_t at) {
  ScriptWord found;
  bool module_flag = false;
  while (at < argv.size()) {
    const std::string& word = argv[at];
    if (word == "--") {
      ++at;
      break;
    }
    const bool option = word.size() > 1 && (word[0] == '-' || (in.plus_options && word[0] == '+'));
    if (!option) break;
    if (!word.starts_with("--")) {
      if (read_short_options(in, argv, at, module_flag, found)) return found;
      continue;
    }
    const std::string name = word.substr(0, word.find('='));
    if (contains(in.inline_options, name)) return found;
    if (contains(in.module_flags, name)) module_flag = true;
    const bool next_is_value = name.size() == word.size() && at + 1 < argv.size() &&
                               (contains(in.value_options, name) ||
                                (in.long_options_take_values && !contains(in.flags, name) &&
                                 !looks_like_script(argv[at + 1])));
    at += next_is_value ? 2 : 1;
  }
  if (at >= argv.size() || argv[at] == "-") return found;
  found.kind = module_flag ? ScriptWord::Kind::module : ScriptWord::Kind::script;
  found.text = argv[at];
  found.next = at + 1;
  return found;
}

// The interpreter a program name is, with version digits removed (python3.11, perl5.36).
const Interpreter* interpreter_named(const std::string& program) {
  std::string_view base = program;
  while (base.size() > 1 &&
         (std::isdigit(static_cast<unsigned char>(base.back())) != 0 || base.back() == '.')) {
    base.remove_suffix(1);
  }
  for (const Interpreter& in : kInterpreters) {
    if (in.name == base) return &in;
  }
  return nullptr;
}

std::string name_from(const std::vector<std::string>& argv, std::size_t at) {
  const std::string program = file_name(argv[at]);
  const Interpreter* in = interpreter_named(program);
  std::size_t options_start = at + 1;
  if (program == "torchrun" || program == "deepspeed") {
    in = &kLauncher;
  } else if (program == "accelerate" && at + 1 < argv.size() && argv[at + 1] == "launch") {
    in = &kLauncher;
    options_start = at + 2;
  }
  if (in == nullptr) return program;
  const ScriptWord found = find_script(*in, argv, options_start);
  if (found.kind == ScriptWord::Kind::none) return program;
  if (found.kind == ScriptWord::Kind::module) {
    if (found.text == "torch.distributed.run" || found.text == "torch.distributed.launch") {
      const ScriptWord launched = find_script(kLauncher, argv, found.next);
      if (launched.kind == ScriptWord::Kind::module) return launched.text;
      if (launched.kind == ScriptWord::Kind::script) {
        const std::string stem = std::filesystem::path(launched.text).stem().string();
        if (!stem.empty()) return stem;
      }
    }
    return found.text;
  }
  const std::string stem = std::filesystem::path(found.text).stem().string();
  return stem.empty() ? program : stem;
}

}  // namespace

std::string default_experiment_name(const std::vector<std::string>& command) {
  if (command.empty()) return {};
  std::size_t at = 0;
  if (file_name(command[0]) == "env") {
    at = after_env(command);
    if (at >= command.size()) return "env";
  }
  return name_from(command, at);
}

}  // namespace sqltrack
