#pragma once
// Where a job writes its metric lines, read on the launcher's event loop: the FIFO named by
// SQLTRACK_METRICS, a pipe on a descriptor of the job's choosing, and a file the job appends
// to. Reading never blocks the loop, and after the command ends drain() takes what is left.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "sqltrack/metrics/metric_reader.hpp"

namespace sqltrack {

class MetricSources {
 public:
  MetricSources(boost::asio::io_context& io, MetricReader& reader) : io_(io), reader_(reader) {}
  ~MetricSources();
  MetricSources(const MetricSources&) = delete;
  MetricSources& operator=(const MetricSources&) = delete;

  // Creates a FIFO `name` in `dir` (a private directory the caller made) and reads it. The
  // wrapper holds it open for reading, so writers never block on open and nothing written
  // is lost between one writer and the next. When every writer has closed it and all they
  // wrote is read, a last line without "\n" ends there (MetricReader::finish), so the next
  // writer's first line starts fresh. Throws Error.
  std::filesystem::path open_fifo(const std::filesystem::path& dir, const std::string& name,
                                  const std::string& source_name);

  // A pipe for the child: returns the wrapper's copy of the write end, to be passed as the
  // child's descriptor (LaunchOptions::inherit_fds). Call close_child_ends() once the child
  // runs, so the pipe ends when the job's last writer closes it. Throws Error.
  int open_pipe(const std::string& source_name);
  void close_child_ends();

  // Reads `path` as the job appends to it: it may not exist yet; truncation starts over from
  // its beginning, a new file under the same name (rotation) is read after the rest of the
  // old one. Only a regular file of the user is read, never through a symbolic link that
  // another user put in a sticky directory (a warning on stderr says so, once).
  void follow_file(const std::filesystem::path& path, std::chrono::milliseconds poll_interval,
                   const std::string& source_name);

  // After the command and its process group are gone: reads everything still buffered in
  // every source without waiting, ends each source's last line, and stops reading.
  void drain();

 private:
  struct StreamSource {
    std::uint32_t source;
    boost::asio::posix::stream_descriptor stream;
    // Not zeroed: a read fills what it uses, and a source that stays quiet (most FIFOs of
    // short jobs) then touches none of these pages.
    static constexpr std::size_t kBufferSize = 65536;
    std::unique_ptr<char[]> buffer = std::make_unique_for_overwrite<char[]>(kBufferSize);
    bool ended = false;
    std::filesystem::path fifo{};  // a FIFO's path; empty for a pipe
  };
  struct FileSource {
    std::uint32_t source;
    std::filesystem::path path;
    std::chrono::milliseconds interval;
    boost::asio::steady_timer timer;
    int fd = -1;
    dev_t device = 0;
    ino_t inode = 0;
    off_t offset = 0;
    bool refused = false;  // said once: the file may not be read (another user's)
  };

  void read_next(StreamSource& source);
  void wait_fifo(StreamSource& source);
  // Reads what a FIFO holds; false when it cannot be read any more.
  bool read_fifo(StreamSource& source);
  void read_available(StreamSource& source);
  void schedule_poll(FileSource& file);
  void poll_file(FileSource& file);
  // Opens the file the path names when the user may read it into the run; false when not (yet).
  bool open_followed_file(FileSource& file);
  void read_file_to_end(FileSource& file);

  boost::asio::io_context& io_;
  MetricReader& reader_;
  std::vector<std::unique_ptr<StreamSource>> streams_;
  std::vector<std::unique_ptr<FileSource>> files_;
  std::vector<int> child_ends_;
  std::vector<std::filesystem::path> fifos_;
};

}  // namespace sqltrack
