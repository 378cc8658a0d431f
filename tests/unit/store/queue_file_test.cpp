// The queue file of `sqltrack enqueue --from-file`: one command a line, refused whole (with
// the line number) when a line could not be stored as it is.
#include <gtest/gtest.h>

#include <string>

#include "sqltrack/store/run_queue.hpp"
#include "sqltrack/util/error.hpp"

namespace sqltrack {
namespace {

// The message parse_queue_file throws for `text`, or a test failure.
std::string queue_file_error(const std::string& text) {
  try {
    auto commands = parse_queue_file(text);
    ADD_FAILURE() << "no error; " << commands.size() << " command(s) read";
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

TEST(QueueFile, LinesBecomeShellCommands) {
  auto commands = parse_queue_file("# sweep\npython t.py --lr 0.1\r\n\n  \ncaf\xC3\xA9 --x\n");
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0], (std::vector<std::string>{"/bin/sh", "-c", "python t.py --lr 0.1"}));
  EXPECT_EQ(commands[1][2], "caf\xC3\xA9 --x");
}

TEST(QueueFile, NulByteIsRefusedWithItsLineNumber) {
  std::string message = queue_file_error(std::string("echo a\necho b\0c\n", 16));
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;
  EXPECT_NE(message.find("NUL"), std::string::npos) << message;
}

TEST(QueueFile, InvalidUtf8IsRefusedWithItsLineNumber) {
  std::string message = queue_file_error("echo ok\n# fine\necho caf\xE9\n");
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("UTF-8"), std::string::npos) << message;
}

TEST(QueueFile, CommandOver64KiBIsRefusedWithItsLineNumber) {
  std::string message = queue_file_error("echo a\n\necho " + std::string(64 * 1024, 'x') + "\n");
  EXPECT_NE(message.find("line 3"), std::string::npos) << message;
  EXPECT_NE(message.find("64 KiB"), std::string::npos) << message;
}

}  // namespace
}  // namespace sqltrack
