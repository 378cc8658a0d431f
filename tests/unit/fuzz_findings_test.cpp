// Inputs the fuzzers in fuzz/ found (scripts/fuzz.sh), kept as regression tests.
#include <gtest/gtest.h>

#include <string>

#include "sqltrack/config.hpp"
#include "sqltrack/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using test::TempDir;
using test::write_file;

// resolve_settings promises ConfigError naming the file for any invalid config; for YAML
// whose key, or list item, is itself a list or a mapping, yaml-cpp's
// YAML::TypedBadConversion<std::string> escaped instead ("yaml-cpp: error at line 1,
// column 1: bad conversion", without the file's name). config_fuzzer found it within seconds.
void expect_config_error_naming_file(const std::string& yaml) {
  TempDir dir;
  write_file(dir / "sqltrack.yaml", yaml);
  try {
    resolve_settings({}, {}, dir.path());
    ADD_FAILURE() << "no error for sqltrack.yaml: " << yaml;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("sqltrack.yaml"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a ConfigError for sqltrack.yaml: " << yaml << "\n  " << e.what();
  }
}

TEST(FuzzFindings, YamlKeyThatIsAListIsAConfigError) {
  expect_config_error_naming_file("[a]: b\n");
}

TEST(FuzzFindings, YamlKeyThatIsAMappingIsAConfigError) {
  expect_config_error_naming_file("{a: b}: c\n");
  expect_config_error_naming_file("? host: x\n: y\n");
}

TEST(FuzzFindings, YamlListItemThatIsAListIsAConfigError) {
  expect_config_error_naming_file("env_redact: [[MY_*]]\n");
}

TEST(FuzzFindings, YamlListItemThatIsAMappingIsAConfigError) {
  expect_config_error_naming_file("env_redact:\n  - {a: b}\n");
}

}  // namespace
}  // namespace sqltrack
