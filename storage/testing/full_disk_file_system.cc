#include "storage/testing/full_disk_file_system.h"

#include <memory>
#include <string>
#include <utility>

namespace georisk::storage::testing {
namespace {

constexpr uint64_t kFreeBytes = uint64_t{1} << 30;

class FullDiskFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FullDiskFile(std::unique_ptr<rocksdb::FSWritableFile> file,
               FullDiskFileSystem* fs)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (fs_->full()) return fs_->Refuse();
    return target()->Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (fs_->full()) return fs_->Refuse();
    return target()->Append(data, options, info, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (fs_->full()) return fs_->Refuse();
    return target()->PositionedAppend(data, offset, options, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    if (fs_->full()) return fs_->Refuse();
    return target()->PositionedAppend(data, offset, options, info, dbg);
  }

 private:
  FullDiskFileSystem* const fs_;
};

}  // namespace

FullDiskFileSystem::FullDiskFileSystem()
    : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

rocksdb::IOStatus FullDiskFileSystem::Refuse() {
  ++refused_writes_;
  return rocksdb::IOStatus::NoSpace("No space left on device");
}

rocksdb::IOStatus FullDiskFileSystem::Wrap(
    rocksdb::IOStatus s, std::unique_ptr<rocksdb::FSWritableFile>* result) {
  if (s.ok())
    *result = std::make_unique<FullDiskFile>(std::move(*result), this);
  return s;
}

rocksdb::IOStatus FullDiskFileSystem::NewWritableFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Wrap(target()->NewWritableFile(path, options, result, dbg), result);
}

rocksdb::IOStatus FullDiskFileSystem::ReopenWritableFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Wrap(target()->ReopenWritableFile(path, options, result, dbg), result);
}

rocksdb::IOStatus FullDiskFileSystem::ReuseWritableFile(
    const std::string& path, const std::string& old_path,
    const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Wrap(target()->ReuseWritableFile(path, old_path, options, result, dbg),
              result);
}

rocksdb::IOStatus FullDiskFileSystem::GetFreeSpace(const std::string&,
                                                   const rocksdb::IOOptions&,
                                                   uint64_t* free_bytes,
                                                   rocksdb::IODebugContext*) {
  *free_bytes = full_ ? 0 : kFreeBytes;
  return rocksdb::IOStatus::OK();
}

}  // namespace georisk::storage::testing
