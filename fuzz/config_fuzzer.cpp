// libFuzzer target for the config file parsers behind sqltrack::resolve_settings: the
// configparser-style sqltrack.conf and the YAML form (sqltrack.yaml). The parsers are not
// exposed, so each input is written to both files in one temporary directory made at start-up
// and resolved through the public entry point, as `-c sqltrack.conf` and `-c sqltrack.yaml`.
// The typed getters the programs call afterwards run on every result too.
//
// ConfigError is the expected answer to bad input, and UsageError to a number out of its range
// (numeric_ranges.hpp: exit 2, like the same number given as a flag). Any other exception, a
// crash or a sanitizer report is a bug; an escaping exception aborts with its type and message.

#include <cxxabi.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <typeinfo>

#include "sqltrack/config/config.hpp"
#include "sqltrack/util/error.hpp"

namespace {

const std::filesystem::path& work_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sqltrack-config-fuzz.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("config_fuzzer: mkdtemp");
      std::abort();
    }
    std::filesystem::path made(pattern);
    // Removed when the fuzzer exits normally (not after a crash: the files are then evidence).
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(work_dir(), ignored);
    });
    return made;
  }();
  return dir;
}

void write_input(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  // A new file each time: truncating one that has data makes ext4 flush it at close
  // (auto_da_alloc), which costs milliseconds per input on a disk-backed /tmp.
  std::remove(path.c_str());
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr || (size > 0 && std::fwrite(data, 1, size, file) != size) ||
      std::fclose(file) != 0) {
    std::perror("config_fuzzer: writing the config file");
    std::abort();
  }
  // Whatever the umask: a config file others may write is refused before it is parsed.
  if (chmod(path.c_str(), 0600) != 0) {
    std::perror("config_fuzzer: chmod");
    std::abort();
  }
}

[[noreturn]] void unexpected(const char* file, const char* type, const char* what) {
  int status = 0;
  char* readable = abi::__cxa_demangle(type, nullptr, nullptr, &status);
  std::fprintf(stderr, "config_fuzzer: resolving %s threw %s (not ConfigError or UsageError): %s\n",
               file, readable != nullptr ? readable : type, what);
  std::abort();
}

void resolve(const char* name) {
  sqltrack::CommandLineSettings flags;
  flags.config_path = name;
  try {
    const sqltrack::Settings settings = sqltrack::resolve_settings(flags, {}, work_dir());
    // What the programs read next; each may throw ConfigError for a bad value.
    (void)settings.sqlite_path();
    (void)settings.describe_sources();
    (void)settings.postgres_parameters();
    (void)settings.get_bool("add_columns", false);
    (void)settings.get_number("busy_timeout", 5);
    (void)settings.get_number("flush_interval", 1);
    (void)settings.get_number("batch_rows", 250);
  } catch (const sqltrack::ConfigError&) {
    // Expected: bad input is reported to the user.
  } catch (const sqltrack::UsageError&) {
    // Expected: a setting out of its range.
  } catch (const std::exception& e) {
    unexpected(name, typeid(e).name(), e.what());
  } catch (...) {
    unexpected(name, "a non-std exception", "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::filesystem::path& dir = work_dir();
  write_input(dir / "sqltrack.conf", data, size);
  write_input(dir / "sqltrack.yaml", data, size);
  resolve("sqltrack.conf");
  resolve("sqltrack.yaml");
  return 0;
}
