#include "sqltrack/journal/journal.hpp"

#include <boost/crc.hpp>
#include <boost/uuid/uuid_generators.hpp>
#include <boost/uuid/uuid_io.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/output_file.hpp"

namespace sqltrack {
namespace {

using nlohmann::json;

std::string errno_text(int error) {
  return std::strerror(error);
}

std::uint32_t crc32_of(std::string_view text) {
  boost::crc_32_type crc;
  crc.process_bytes(text.data(), text.size());
  return crc.checksum();
}

std::optional<std::uint32_t> parse_hex32(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      value |= static_cast<std::uint32_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
  }
  return value;
}

JournalHeader header_from_json(const json& object) {
  try {
    JournalHeader header;
    header.client_id = object.at("client_id").get<std::string>();
    if (auto id = object.find("run_id"); id != object.end() && !id->is_null()) {
      header.run_id = integer_from_json<std::int64_t>(*id, "run_id");
    }
    if (auto start = object.find("start"); start != object.end() && !start->is_null()) {
      header.start = run_start_from_json(*start);
    }
    header.add_columns = object.value("add_columns", false);
    header.database = object.value("database", "");
    if (auto target = object.find("target"); target != object.end() && !target->is_null()) {
      header.target = identity_from_json(*target);
    }
    if (!header.run_id && !header.start) throw Error("the header names no run");
    return header;
  } catch (const json::exception& e) {
    throw Error(std::string("malformed header: ") + e.what());
  }
}

JournalRecord record_from_json(const json& object) {
  if (object.value("type", "") == "metrics") {
    MetricRecord record;
    try {
      for (const auto& row : object.at("rows")) {
        record.rows.push_back({row.at(0).get<std::string>(), row.at(1).get<std::string>()});
      }
    } catch (const json::exception& e) {
      throw Error(std::string("malformed metrics record: ") + e.what());
    }
    return record;
  }
  return run_event_from_json(object);
}

}  // namespace

std::filesystem::path default_journal_dir(const Environment& env) {
  if (auto state = lookup(env, "XDG_STATE_HOME"); state && !state->empty() && (*state)[0] == '/') {
    return std::filesystem::path(*state) / "sqltrack";
  }
  if (auto home = lookup(env, "HOME"); home && !home->empty()) {
    return std::filesystem::path(*home) / ".local" / "state" / "sqltrack";
  }
  return std::filesystem::temp_directory_path() / "sqltrack-journal";
}

std::filesystem::path journal_path(const std::filesystem::path& dir, const std::string& client_id) {
  return dir / (client_id + ".journal");
}

std::string new_client_id() {
  return boost::uuids::to_string(boost::uuids::random_generator()());
}

std::string journal_line(const json& record) {
  std::string text = record.dump(-1, ' ', false, json::error_handler_t::replace);
  std::array<char, 10> crc{};
  std::snprintf(crc.data(), crc.size(), "%08x", crc32_of(text));
  std::string line;
  line.reserve(text.size() + 10);
  line.append(crc.data(), 8);
  line += ' ';
  line += text;
  line += '\n';
  return line;
}

json journal_header_to_json(const JournalHeader& header) {
  json object = {{"type", "header"},
                 {"version", 2},
                 {"client_id", header.client_id},
                 {"add_columns", header.add_columns},
                 {"database", header.database}};
  object["run_id"] = header.run_id ? json(*header.run_id) : json(nullptr);
  object["start"] = header.start ? run_start_to_json(*header.start) : json(nullptr);
  object["target"] = header.target ? identity_to_json(*header.target) : json(nullptr);
  return object;
}

json journal_record_to_json(const JournalRecord& record) {
  if (const auto* metrics = std::get_if<MetricRecord>(&record)) {
    json rows = json::array();
    for (const auto& row : metrics->rows) rows.push_back(json::array({row.origin, row.line}));
    return {{"type", "metrics"}, {"rows", std::move(rows)}};
  }
  return run_event_to_json(std::get<RunEvent>(record));
}

JournalWriter::JournalWriter(const std::filesystem::path& path, const JournalHeader& header)
    : path_(path) {
  // Journals hold the captured environment (redacted) and the run's data: the user's only.
  try {
    create_private_directory(path.parent_path());
  } catch (const OutputFileError& e) {
    throw Error("cannot create the journal directory '" + path.parent_path().string() +
                "': " + e.reason());
  }
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    open_locked(path, IfExists::append);
    write_line(journal_header_to_json(header));
    return;
  }
  // A new journal is written under another name, locked, and given its own name only with its
  // header in it: `sqltrack sync` never finds it empty or unlocked, and a disk too full for
  // the header leaves nothing behind.
  std::filesystem::path partial = path;
  partial += ".partial";
  open_locked(partial, IfExists::overwrite);
  try {
    write_line(journal_header_to_json(header));
    if (::rename(partial.c_str(), path.c_str()) != 0) {
      throw Error("cannot create the journal '" + path.string() + "': " + errno_text(errno));
    }
  } catch (...) {
    ::unlink(partial.c_str());
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

void JournalWriter::open_locked(const std::filesystem::path& file, IfExists if_exists) {
  try {
    fd_ = open_output_file(file, O_WRONLY | O_APPEND, if_exists, kPrivateFileMode).fd;
  } catch (const OutputFileError& e) {
    throw Error("cannot create the journal '" + path_.string() + "': " + e.reason());
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw Error("cannot lock the journal '" + path_.string() + "': " + errno_text(error));
  }
  struct stat info {};
  if (::fstat(fd_, &info) == 0) size_ = static_cast<std::uint64_t>(info.st_size);
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::append(const JournalRecord& record) {
  write_line(journal_record_to_json(record));
}

void JournalWriter::write_line(const json& record) {
  std::string line = journal_line(record);
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = n < 0 ? errno : ENOSPC;
      // A torn line fails its checksum on replay; cut it off so later lines start clean.
      if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        // The checksum still catches it.
      }
      throw Error("cannot write the journal '" + path_.string() + "': " + errno_text(error));
    }
    done += static_cast<std::size_t>(n);
  }
  size_ += line.size();
}

void JournalWriter::sync() {
  if (fd_ >= 0 && ::fdatasync(fd_) != 0) {
    throw Error("cannot write the journal '" + path_.string() + "' to disk: " + errno_text(errno));
  }
}

void JournalWriter::remove() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

JournalContents read_journal(const std::filesystem::path& path, std::uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read the journal '" + path.string() + "'");
  JournalContents contents;
  std::string line;
  std::uint64_t position = 0;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::uint64_t start = position;
    position += line.size() + 1;
    if (in.eof()) {
      // No newline: the wrapper died while writing it.
      contents.problems.push_back("line " + std::to_string(number) +
                                  ": truncated record (no end of line), skipped");
      position = start;
      break;
    }
    contents.end_offset = position;
    const bool header_line = number == 1;
    if (!header_line && start < offset) continue;
    auto crc = line.size() > 9 && line[8] == ' ' ? parse_hex32(line.substr(0, 8)) : std::nullopt;
    std::string_view text = line.size() > 9 ? std::string_view(line).substr(9) : "";
    if (!crc || *crc != crc32_of(text)) {
      contents.problems.push_back("line " + std::to_string(number) +
                                  ": checksum mismatch (a torn or corrupted record), skipped");
      continue;
    }
    try {
      json object = json::parse(text);
      if (header_line) {
        contents.header = header_from_json(object);
      } else {
        contents.records.push_back(record_from_json(object));
      }
    } catch (const std::exception& e) {
      contents.problems.push_back("line " + std::to_string(number) + ": " + e.what() + ", skipped");
    }
  }
  return contents;
}

}  // namespace sqltrack
