#include "sqltrack/wrapper/metric_sources.hpp"

#include <boost/asio/read.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "sqltrack/util/error.hpp"
#include "sqltrack/util/output_file.hpp"

namespace sqltrack {
namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

MetricSources::~MetricSources() {
  for (int fd : child_ends_) ::close(fd);
  for (auto& file : files_) {
    if (file->fd >= 0) ::close(file->fd);
  }
  for (const auto& fifo : fifos_) ::unlink(fifo.c_str());
}

std::filesystem::path MetricSources::open_fifo(const std::filesystem::path& dir,
                                               const std::string& name,
                                               const std::string& source_name) {
  std::filesystem::path path = dir / name;
  if (::mkfifo(path.c_str(), 0600) != 0) {
    throw Error(errno_text("cannot create the metrics FIFO " + path.string()));
  }
  fifos_.push_back(path);
  // The wrapper holds the read end from the start, so a writer's open never blocks and what
  // one writer leaves in the FIFO waits there for the wrapper.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error(errno_text("cannot open the metrics FIFO " + path.string()));
  auto source = std::make_unique<StreamSource>(StreamSource{
      reader_.add_source(source_name), boost::asio::posix::stream_descriptor(io_, fd)});
  source->fifo = path;
  wait_fifo(*source);
  streams_.push_back(std::move(source));
  return path;
}

void MetricSources::wait_fifo(StreamSource& source) {
  // Waits for readiness instead of reading at once: a FIFO without writers reads as
  // end-of-file, but polls as ready only once a writer came and went.
  source.stream.async_wait(boost::asio::posix::descriptor_base::wait_read,
                           [this, &source](const boost::system::error_code& ec) {
                             if (ec == boost::asio::error::operation_aborted) return;
                             if (ec || !read_fifo(source)) {
                               reader_.finish(source.source);
                               source.ended = true;
                               return;
                             }
                             wait_fifo(source);
                           });
}

bool MetricSources::read_fifo(StreamSource& source) {
  int fd = source.stream.native_handle();
  for (;;) {
    ssize_t n = ::read(fd, source.buffer.get(), StreamSource::kBufferSize);
    if (n > 0) {
      reader_.feed(source.source,
                   std::string_view(source.buffer.get(), static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN;  // EAGAIN: everything read, writers still there
    break;
  }
  // End-of-file: every writer has closed the FIFO and all they wrote is read. What the last
  // one left without a newline is a line of its own, not the start of the next writer's.
  reader_.finish(source.source);
  // The old descriptor would now report end-of-file for ever; a new one waits for the next
  // writer. It is opened before the old one closes, so the FIFO never lacks a reader, and
  // through /proc, so a FIFO removed by the job still works.
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  int fresh = ::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fresh < 0) fresh = ::open(source.fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fresh < 0) return false;
  boost::system::error_code ignored;
  source.stream.close(ignored);
  source.stream.assign(fresh, ignored);
  return !ignored;
}

int MetricSources::open_pipe(const std::string& source_name) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw Error(errno_text("cannot create the metrics pipe"));
  ::fcntl(ends[0], F_SETFL, O_NONBLOCK);
  child_ends_.push_back(ends[1]);
  auto source = std::make_unique<StreamSource>(StreamSource{
      reader_.add_source(source_name), boost::asio::posix::stream_descriptor(io_, ends[0])});
  read_next(*source);
  streams_.push_back(std::move(source));
  return ends[1];
}

void MetricSources::close_child_ends() {
  for (int fd : child_ends_) ::close(fd);
  child_ends_.clear();
}

void MetricSources::read_next(StreamSource& source) {
  source.stream.async_read_some(
      boost::asio::buffer(source.buffer.get(), StreamSource::kBufferSize),
      [this, &source](const boost::system::error_code& ec, std::size_t n) {
        if (n > 0) reader_.feed(source.source, std::string_view(source.buffer.get(), n));
        if (ec == boost::asio::error::operation_aborted) return;
        if (ec) {
          // End of file (the last writer of a pipe closed it) or an error: this source is done.
          reader_.finish(source.source);
          source.ended = true;
          return;
        }
        read_next(source);
      });
}

void MetricSources::read_available(StreamSource& source) {
  if (source.ended || !source.stream.is_open()) return;
  int fd = source.stream.native_handle();
  for (;;) {
    ssize_t n = ::read(fd, source.buffer.get(), StreamSource::kBufferSize);
    if (n > 0) {
      reader_.feed(source.source,
                   std::string_view(source.buffer.get(), static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN: nothing more buffered; 0: end of file
  }
  reader_.finish(source.source);
  source.ended = true;
}

void MetricSources::follow_file(const std::filesystem::path& path,
                                std::chrono::milliseconds poll_interval,
                                const std::string& source_name) {
  auto file = std::make_unique<FileSource>(FileSource{
      reader_.add_source(source_name), path, poll_interval, boost::asio::steady_timer(io_)});
  poll_file(*file);
  schedule_poll(*file);
  files_.push_back(std::move(file));
}

void MetricSources::schedule_poll(FileSource& file) {
  file.timer.expires_after(file.interval);
  file.timer.async_wait([this, &file](const boost::system::error_code& ec) {
    if (ec) return;
    poll_file(file);
    schedule_poll(file);
  });
}

void MetricSources::read_file_to_end(FileSource& file) {
  std::array<char, 65536> buffer;
  for (;;) {
    ssize_t n = ::pread(file.fd, buffer.data(), buffer.size(), file.offset);
    if (n > 0) {
      file.offset += n;
      reader_.feed(file.source, std::string_view(buffer.data(), static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

bool MetricSources::open_followed_file(FileSource& file) {
  // What the job's user would read themselves, the way the kernel follows links with
  // fs.protected_symlinks on: never a link another user planted in /tmp, nor their file.
  FollowedPath found = follow_protected_links(file.path);
  std::optional<std::string> refusal = found.refusal;
  if (!refusal && found.file) refusal = refusal_of(*found.file, Owners::user);
  if (refusal) {
    if (!file.refused) {
      std::cerr << "sqltrack-run: warning: the metrics file " << file.path.string()
                << " is not read: " << *refusal << '\n';
    }
    file.refused = true;
    return false;
  }
  if (!found.file) return false;
  // Non-blocking only to open; the file that was checked, or none (it changed meanwhile).
  const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat opened {};
  if (fd < 0) return false;
  if (::fstat(fd, &opened) != 0 || opened.st_dev != found.file->st_dev ||
      opened.st_ino != found.file->st_ino) {
    ::close(fd);
    return false;
  }
  file.fd = fd;
  file.device = opened.st_dev;
  file.inode = opened.st_ino;
  file.offset = 0;
  return true;
}

void MetricSources::poll_file(FileSource& file) {
  struct stat named {};
  bool exists = ::stat(file.path.c_str(), &named) == 0;
  if (file.fd >= 0 && exists && (named.st_dev != file.device || named.st_ino != file.inode)) {
    // Rotated: finish the old file, then start on the new one.
    read_file_to_end(file);
    reader_.finish(file.source);
    ::close(file.fd);
    file.fd = -1;
  }
  if (file.fd < 0 && (!exists || !open_followed_file(file))) return;
  struct stat current {};
  if (::fstat(file.fd, &current) == 0 && current.st_size < file.offset) {
    // Truncated: what follows is new text from the start of the file.
    file.offset = 0;
    reader_.restart(file.source);
  }
  read_file_to_end(file);
}

void MetricSources::drain() {
  // Reads that completed but whose handlers have not run yet hold data in the buffers.
  io_.restart();
  io_.poll();
  for (auto& source : streams_) {
    read_available(*source);
    boost::system::error_code ignored;
    source->stream.close(ignored);
  }
  for (auto& file : files_) {
    file->timer.cancel();
    poll_file(*file);
    reader_.finish(file->source);
  }
  // Let the cancelled reads and timers complete while everything they refer to still lives.
  io_.restart();
  io_.poll();
}

}  // namespace sqltrack
