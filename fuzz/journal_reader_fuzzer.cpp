// libFuzzer target for the journal reader (sqltrack::read_journal), which `sqltrack sync` runs
// on files a wrapper wrote, possibly a torn, corrupted or foreign one.
//
// Each input is written to a file in a temporary directory made at start-up and read back,
// from the start and from an offset taken from the input. Random bytes rarely carry a valid
// CRC-32, so when the first byte is odd the rest of the input is first turned into a journal
// whose lines carry their right checksums: the JSON decoding of headers and records is then
// what is fuzzed. Besides "no crash, no sanitizer report", it checks what the reader promises:
//   * it throws only when the file cannot be read at all, so never here;
//   * end_offset is inside the file and at the end of a line;
//   * round trip: a header or record it decoded, encoded again (journal_header_to_json,
//     journal_record_to_json) and decoded once more, encodes to the same JSON.
// A broken promise aborts with a message, which libFuzzer records as a crash.

#include <boost/crc.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "sqltrack/journal/journal.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "journal_reader_fuzzer: %s\n", what);
  if (!detail.empty()) std::fprintf(stderr, "  detail: %s\n", detail.c_str());
  std::abort();
}

const std::filesystem::path& work_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/sqltrack-journal-fuzz.XXXXXX";
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

void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::remove(path.c_str());
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr ||
      (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) ||
      std::fclose(file) != 0) {
    fail("cannot write the journal file");
  }
}

// Each line of `text` as "<crc32> <line>", as JournalWriter writes them.
std::string with_checksums(std::string_view text) {
  std::string journal;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    const bool complete = end != std::string_view::npos;
    if (!complete) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    boost::crc_32_type crc;
    crc.process_bytes(line.data(), line.size());
    char hex[9];
    std::snprintf(hex, sizeof(hex), "%08x", crc.checksum());
    journal.append(hex, 8).append(" ").append(line);
    if (complete) journal += '\n';
    start = end + 1;
  }
  return journal;
}

std::string dump(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Decodes the encoded form again (through a file, as sync would) and compares the encodings.
// Records after a header that could not be read are checked behind a made-up one.
void check_round_trip(const sqltrack::JournalContents& contents) {
  sqltrack::JournalHeader header;
  header.client_id = "fuzz";
  header.run_id = 1;
  if (contents.header) header = *contents.header;
  std::string journal = sqltrack::journal_line(journal_header_to_json(header));
  for (const auto& record : contents.records) {
    journal += sqltrack::journal_line(journal_record_to_json(record));
  }
  const auto path = work_dir() / "again.journal";
  write_file(path, journal);
  const sqltrack::JournalContents again = sqltrack::read_journal(path);
  if (!again.problems.empty()) fail("a re-encoded journal has problems", again.problems.front());
  if (!again.header ||
      dump(journal_header_to_json(*again.header)) != dump(journal_header_to_json(header))) {
    fail("the header changed in a round trip", dump(journal_header_to_json(header)));
  }
  if (again.records.size() != contents.records.size()) fail("records were lost in a round trip");
  for (std::size_t i = 0; i < again.records.size(); ++i) {
    const std::string before = dump(journal_record_to_json(contents.records[i]));
    if (dump(journal_record_to_json(again.records[i])) != before) {
      fail("a record changed in a round trip", before);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string bytes = (data[0] & 1) != 0 ? with_checksums(input) : std::string(input);
  const auto path = work_dir() / "input.journal";
  write_file(path, bytes);
  try {
    const sqltrack::JournalContents contents = sqltrack::read_journal(path);
    if (contents.end_offset > bytes.size() ||
        (contents.end_offset > 0 && bytes[contents.end_offset - 1] != '\n')) {
      fail("end_offset is not the end of a line", std::to_string(contents.end_offset));
    }
    (void)sqltrack::read_journal(path, (data[0] >> 1) * bytes.size() / 128);
    check_round_trip(contents);
  } catch (const std::exception& e) {
    fail("read_journal threw", e.what());
  }
  return 0;
}
