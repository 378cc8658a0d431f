// libFuzzer target for `sqltrack enqueue --from-file`: the queue file reader
// (sqltrack::read_queue_file, through a real file) and what enqueue stores of each command
// (the record, with secrets redacted). sqltrack::Error is the expected answer to a file that
// cannot be stored as it is. Besides "no crash, no sanitizer report", it checks:
//   * every command read is /bin/sh -c LINE, its line valid UTF-8 without a NUL byte and at
//     most kLongestQueuedCommand bytes, so its JSON text stores it byte for byte;
//   * the record (capture_args) dumps as strict JSON, and redacting a record again changes
//     nothing (what a second look would still find, the first missed);
//   * the real argv, as JSON text, parses back to the same argv.
// A broken promise aborts with a message, which libFuzzer records as a crash.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "sqltrack/store/run_queue.hpp"
#include "sqltrack/util/capture.hpp"
#include "sqltrack/util/error.hpp"
#include "sqltrack/util/redaction.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "queue_file_fuzzer: %s\n", what);
  if (!detail.empty()) std::fprintf(stderr, "  detail: %s\n", detail.c_str());
  std::abort();
}

const std::filesystem::path& work_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sqltrack-queue-fuzz.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) fail("mkdtemp failed");
    std::filesystem::path made(pattern);
    // Removed when the fuzzer exits normally (not after a crash: the file is then evidence).
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(work_dir(), ignored);
    });
    return made;
  }();
  return dir;
}

void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::remove(path.c_str());
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr || (size > 0 && std::fwrite(data, 1, size, file) != size) ||
      std::fclose(file) != 0) {
    fail("cannot write the queue file");
  }
}

void check_command(const std::vector<std::string>& command) {
  if (command.size() != 3 || command[0] != "/bin/sh" || command[1] != "-c") {
    fail("a command is not /bin/sh -c LINE");
  }
  const std::string& line = command[2];
  if (line.find('\0') != std::string::npos || !sqltrack::is_valid_utf8(line) ||
      line.size() > sqltrack::kLongestQueuedCommand) {
    fail("a line that cannot be stored as it is was accepted", sqltrack::escape_for_terminal(line));
  }
  const nlohmann::json record = sqltrack::capture_args(command);
  std::vector<std::string> recorded;
  try {
    recorded = record.get<std::vector<std::string>>();
    (void)record.dump();  // strict: throws on invalid UTF-8
  } catch (const std::exception& e) {
    fail("the record is not JSON text", e.what());
  }
  if (sqltrack::redact_args(recorded) != recorded) {
    fail("redacting the record again changed it", sqltrack::escape_for_terminal(record.dump()));
  }
  const auto real = nlohmann::json::parse(nlohmann::json(command).dump());
  if (real.get<std::vector<std::string>>() != command) fail("the real argv changed in JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = work_dir() / "grid.txt";
  write_file(path, data, size);
  std::vector<std::vector<std::string>> commands;
  try {
    commands = sqltrack::read_queue_file(path);
  } catch (const sqltrack::Error&) {
    return 0;  // expected: the file is refused with its line number
  } catch (const std::exception& e) {
    fail("read_queue_file threw something else than sqltrack::Error", e.what());
  }
  for (const auto& command : commands) check_command(command);
  return 0;
}
