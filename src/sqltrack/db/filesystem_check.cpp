#include "sqltrack/db/filesystem_check.hpp"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "sqltrack/util/error.hpp"

namespace sqltrack::db {
namespace {

// Magic numbers from <linux/magic.h> and the out-of-tree filesystems' sources.
constexpr unsigned long kFuseMagic = 0x65735546;
constexpr std::array<std::pair<unsigned long, const char*>, 15> kNetworkFilesystems{{
    {0x6969, "NFS"},
    {0x0BD00BD0, "Lustre"},
    {0x47504653, "GPFS (IBM Spectrum Scale)"},
    {0xFF534D42, "CIFS/SMB"},
    {0xFE534D42, "SMB2/3"},
    {0x517B, "SMB (smbfs)"},
    {0x00C36400, "CephFS"},
    {0x19830326, "BeeGFS"},
    {0x01021997, "9p (v9fs)"},
    {0x5346414F, "AFS"},
    {0x6B414653, "AFS (kAFS)"},
    {0x73757245, "Coda"},
    {0x564C, "NCP (NetWare)"},
    {0x20030528, "OrangeFS (PVFS2)"},
    {0xAAD7AAEA, "Panasas PanFS"},
}};

// FUSE filesystems whose files live on other machines, by mountinfo subtype.
constexpr std::array<std::string_view, 19> kNetworkFuseSubtypes{
    "glusterfs",    "sshfs",       "s3fs",     "rclone",  "gcsfuse",  "goofys",    "ceph-fuse",
    "mfs",          "juicefs",     "lizardfs", "moosefs", "blobfuse", "blobfuse2", "weed",
    "alluxio-fuse", "objectivefs", "xtreemfs", "quobyte", "davfs"};

// The subtype of the FUSE mount with device number dev: "glusterfs" for type
// "fuse.glusterfs"; empty when /proc/self/mountinfo does not tell.
std::string fuse_subtype_of(dev_t dev) {
  std::ifstream in("/proc/self/mountinfo");
  std::string wanted = std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mountpoint options [optional fields...] - fstype source super
    std::istringstream fields(line);
    std::string id, parent, device;
    fields >> id >> parent >> device;
    if (device != wanted) continue;
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string type;
    rest >> type;
    if (type.starts_with("fuse.")) return type.substr(5);
    return {};
  }
  return {};
}

}  // namespace

std::optional<std::string> filesystem_kind(unsigned long f_type, std::string_view fuse_subtype) {
  // f_type is a signed word on some ABIs: 0xFF534D42 may arrive sign-extended.
  f_type &= 0xFFFFFFFFUL;
  for (const auto& [magic, name] : kNetworkFilesystems) {
    if (f_type == magic) return std::string(name);
  }
  if (f_type == kFuseMagic) {
    for (std::string_view subtype : kNetworkFuseSubtypes) {
      if (fuse_subtype == subtype) return "FUSE " + std::string(subtype);
    }
  }
  return std::nullopt;
}

std::optional<FilesystemFacts> examine_filesystem(const std::filesystem::path& path) {
  // The file itself when it exists (a symlink leads SQLite, and its -wal and
  // -shm files, to the target); else the directory that will hold it.
  std::filesystem::path target = path;
  struct stat st {};
  if (::stat(target.c_str(), &st) != 0) {
    target = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    if (::stat(target.c_str(), &st) != 0) return std::nullopt;
  }
  struct statfs fs {};
  if (::statfs(target.c_str(), &fs) != 0) return std::nullopt;
  FilesystemFacts facts;
  facts.f_type = static_cast<unsigned long>(fs.f_type);
  if ((facts.f_type & 0xFFFFFFFFUL) == kFuseMagic) facts.fuse_subtype = fuse_subtype_of(st.st_dev);
  return facts;
}

void check_sqlite_filesystem(const std::filesystem::path& path, const FilesystemFacts& facts) {
  auto kind = filesystem_kind(facts.f_type, facts.fuse_subtype);
  if (!kind) return;
  std::error_code ec;
  std::filesystem::path shown = std::filesystem::absolute(path, ec);
  if (ec) shown = path;
  char magic[32];
  std::snprintf(magic, sizeof magic, "0x%lX", facts.f_type & 0xFFFFFFFFUL);
  throw ConfigError(
      "refusing SQLite database '" + shown.string() + "': it is on a network filesystem (" + *kind +
      ", statfs f_type " + magic +
      ") where file locking is unreliable, so concurrent wrappers may corrupt the database; use "
      "PostgreSQL (settings 'host' and 'dbname'), or put the SQLite file on a local disk with "
      "'path', or, at your own risk, set 'sqlite_on_network_fs = true'");
}

void check_sqlite_location(const std::filesystem::path& path) {
  if (auto facts = examine_filesystem(path)) check_sqlite_filesystem(path, *facts);
}

}  // namespace sqltrack::db
