// File: storage/testing/full_disk_file_system.h
//
// FullDiskFileSystem: RocksDB's default file system, except that a test can
// say the disk is full. While it is, every write to a file (Append,
// PositionedAppend) fails with RocksDB's NoSpace ("No space left on
// device"), as the kernel's ENOSPC does, and GetFreeSpace reports 0 bytes;
// otherwise 1 GiB. Reads, renames and
// deletions always work.
//
//   auto fs = std::make_shared<FullDiskFileSystem>();
//   options.file_system_for_testing = fs;
//   ... open, write ...
//   fs->SetFull(true);   // Writes fail from now on.
//   fs->SetFull(false);  // Space is back.
//
// Thread-safe.
#ifndef GEORISK_STORAGE_TESTING_FULL_DISK_FILE_SYSTEM_H_
#define GEORISK_STORAGE_TESTING_FULL_DISK_FILE_SYSTEM_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "rocksdb/file_system.h"

namespace georisk::storage::testing {

class FullDiskFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FullDiskFileSystem();

  const char* Name() const override { return "FullDiskFileSystem"; }

  void SetFull(bool full) { full_ = full; }
  bool full() const { return full_; }
  // Writes refused so far.
  int64_t refused_writes() const { return refused_writes_; }

  rocksdb::IOStatus NewWritableFile(
      const std::string& path, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& path, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& path, const std::string& old_path,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFreeSpace(const std::string& path,
                                 const rocksdb::IOOptions& options,
                                 uint64_t* free_bytes,
                                 rocksdb::IODebugContext* dbg) override;

  // Counts a refused write and returns the error (used by its files).
  rocksdb::IOStatus Refuse();

 private:
  rocksdb::IOStatus Wrap(rocksdb::IOStatus s,
                         std::unique_ptr<rocksdb::FSWritableFile>* result);

  std::atomic<bool> full_{false};
  std::atomic<int64_t> refused_writes_{0};
};

}  // namespace georisk::storage::testing

#endif  // GEORISK_STORAGE_TESTING_FULL_DISK_FILE_SYSTEM_H_
