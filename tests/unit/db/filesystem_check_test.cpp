// The refusal of SQLite files on network filesystems: the classification of
// statfs(2) f_type values, and the decision and its message for a real file
// on the local disk with an f_type given by the test.
#include "sqltrack/db/filesystem_check.hpp"
#include "sqltrack/connect/connect.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "sqltrack/config/config.hpp"
#include "sqltrack/util/error.hpp"
#include "support/test_support.hpp"

namespace sqltrack {
namespace {

using db::check_sqlite_filesystem;
using db::check_sqlite_location;
using db::examine_filesystem;
using db::filesystem_kind;
using db::FilesystemFacts;
using test::TempDir;

TEST(FilesystemKind, EveryNetworkMagicIsNamed) {
  const std::vector<std::pair<unsigned long, const char*>> network = {
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
  };
  for (const auto& [magic, name] : network) {
    EXPECT_EQ(filesystem_kind(magic), std::optional<std::string>(name)) << std::hex << magic;
  }
}

TEST(FilesystemKind, LocalFilesystemsPass) {
  for (unsigned long magic : {0xEF53UL,      // ext2/3/4
                              0x58465342UL,  // xfs
                              0x01021994UL,  // tmpfs
                              0x9123683EUL,  // btrfs
                              0x794C7630UL,  // overlayfs (containers)
                              0x2FC12FC1UL,  // zfs
                              0xF2F52010UL,  // f2fs
                              0x7461636FUL,  // ocfs2: shared-disk, cluster-wide locks
                              0x01161970UL,  // gfs2: likewise
                              0x0UL}) {
    EXPECT_FALSE(filesystem_kind(magic).has_value()) << std::hex << magic;
  }
}

TEST(FilesystemKind, SignExtendedFTypeIsStillRecognized) {
  // f_type is a signed word on some ABIs: CIFS's 0xFF534D42 may come sign-extended.
  EXPECT_EQ(filesystem_kind(static_cast<unsigned long>(
                static_cast<long>(static_cast<std::int32_t>(0xFF534D42U)))),
            "CIFS/SMB");
}

TEST(FilesystemKind, FuseCountsOnlyWithANetworkSubtype) {
  constexpr unsigned long fuse = 0x65735546;
  EXPECT_EQ(filesystem_kind(fuse, "glusterfs"), "FUSE glusterfs");
  EXPECT_EQ(filesystem_kind(fuse, "sshfs"), "FUSE sshfs");
  EXPECT_EQ(filesystem_kind(fuse, "ceph-fuse"), "FUSE ceph-fuse");
  EXPECT_EQ(filesystem_kind(fuse, "s3fs"), "FUSE s3fs");
  // Local FUSE filesystems (lxcfs, gocryptfs over a local disk, ntfs-3g as fuseblk)
  // and an unknown subtype pass.
  EXPECT_FALSE(filesystem_kind(fuse, "lxcfs").has_value());
  EXPECT_FALSE(filesystem_kind(fuse, "gocryptfs").has_value());
  EXPECT_FALSE(filesystem_kind(fuse, "").has_value());
  // A subtype means nothing on another filesystem.
  EXPECT_FALSE(filesystem_kind(0xEF53, "glusterfs").has_value());
}

TEST(FilesystemCheck, RealLocalFileAndDirectoryPass) {
  TempDir dir;
  auto facts = examine_filesystem(dir / "sqltrack.db");  // not there yet: its directory
  ASSERT_TRUE(facts.has_value());
  if (auto kind = filesystem_kind(facts->f_type, facts->fuse_subtype)) {
    GTEST_SKIP() << "the temporary directory is itself on " << *kind;
  }
  EXPECT_NO_THROW(check_sqlite_location(dir / "sqltrack.db"));
  test::write_file(dir / "sqltrack.db", "");
  auto file_facts = examine_filesystem(dir / "sqltrack.db");
  ASSERT_TRUE(file_facts.has_value());
  EXPECT_EQ(file_facts->f_type, facts->f_type);
  EXPECT_NO_THROW(check_sqlite_location(dir / "sqltrack.db"));
}

TEST(FilesystemCheck, MissingDirectoryIsLeftToSqlite) {
  TempDir dir;
  EXPECT_FALSE(examine_filesystem(dir / "no" / "such" / "sqltrack.db").has_value());
  EXPECT_NO_THROW(check_sqlite_location(dir / "no" / "such" / "sqltrack.db"));
}

TEST(FilesystemCheck, InjectedNfsIsRefusedWithPathReasonAndWayOut) {
  TempDir dir;
  test::write_file(dir / "sqltrack.db", "");
  try {
    check_sqlite_filesystem(dir / "sqltrack.db", FilesystemFacts{0x6969, ""});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "refusing SQLite database '" + (dir / "sqltrack.db").string() +
                  "': it is on a network filesystem (NFS, statfs f_type 0x6969) where file "
                  "locking is unreliable, so concurrent wrappers may corrupt the database; use "
                  "PostgreSQL (settings 'host' and 'dbname'), or put the SQLite file on a local "
                  "disk with 'path', or, at your own risk, set 'sqlite_on_network_fs = true'");
  }
}

TEST(FilesystemCheck, EachNetworkKindIsRefusedOnOneLine) {
  TempDir dir;
  for (FilesystemFacts facts : {FilesystemFacts{0x0BD00BD0, ""}, FilesystemFacts{0x47504653, ""},
                                FilesystemFacts{0xFE534D42, ""}, FilesystemFacts{0x19830326, ""},
                                FilesystemFacts{0x65735546, "glusterfs"}}) {
    try {
      check_sqlite_filesystem(dir / "runs.db", facts);
      ADD_FAILURE() << "not refused: " << std::hex << facts.f_type;
    } catch (const ConfigError& e) {
      std::string message = e.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      EXPECT_NE(message.find(*filesystem_kind(facts.f_type, facts.fuse_subtype)), std::string::npos)
          << message;
    }
  }
  EXPECT_NO_THROW(check_sqlite_filesystem(dir / "runs.db", FilesystemFacts{0xEF53, ""}));
  EXPECT_NO_THROW(check_sqlite_filesystem(dir / "runs.db", FilesystemFacts{0x65735546, ""}));
}

TEST(FilesystemCheck, RelativePathIsShownAbsolute) {
  try {
    check_sqlite_filesystem("sqltrack.db", FilesystemFacts{0x6969, ""});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    std::string expected = "'" + (std::filesystem::current_path() / "sqltrack.db").string() + "'";
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(FilesystemCheckSetting, OverrideIsAKnownBooleanSetting) {
  TempDir dir;
  test::write_file(dir / "sqltrack.conf", "sqlite_on_network_fs = true\n");
  Settings settings = resolve_settings({}, {}, dir.path());
  EXPECT_EQ(settings.engine, db::Engine::sqlite);  // our own key: does not imply PostgreSQL
  EXPECT_TRUE(settings.get_bool("sqlite_on_network_fs", false));

  test::write_file(dir / "sqltrack.conf", "sqlite_on_network_fs = maybe\n");
  Settings bad = resolve_settings({}, {}, dir.path());
  EXPECT_THROW(open_database(bad), ConfigError);
}

}  // namespace
}  // namespace sqltrack
