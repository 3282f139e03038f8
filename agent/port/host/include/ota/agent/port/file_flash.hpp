// file_flash.hpp — host port: a FlashArea backed by a file that stands for a
// device's flash.
//
// One FileFlash is one area: `geometry.size` bytes of the file starting at
// `file_offset`, so a device's areas may live in one file at different offsets
// or in one file each. The file behaves like NOR flash: erase_sector fills a
// sector with the erased value, and write refuses (NotErased) to change a byte
// that does not read as erased — so the agent's host runs obey the same rules
// as the strict test flash and a real part.
//
// Every I/O failure is reported, never hidden: open/create return a
// FileFlashError naming what went wrong (with errno); read/write/erase return
// IoError when the operating system fails or returns short (the file was
// truncated, the disk is full, the file was opened read-only). Writes go to
// the file with pwrite; `sync` decides whether each write and erase is also
// flushed to stable storage (fdatasync) before the call returns, as a device's
// flash would be.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ota/agent/flash_area.hpp"

namespace ota::agent::port {

struct FlashGeometry {
  std::uint32_t size = 0;             // a whole number of sectors
  std::uint32_t sector_size = 4096;
  std::uint32_t write_alignment = 4;  // divides sector_size
  std::uint8_t erased_value = 0xFF;
};

enum class FileFlashError : std::uint8_t {
  Ok,
  BadGeometry,       // size 0 or not whole sectors, alignment 0 or not dividing the sector
  NotFound,          // open(): the file does not exist
  PermissionDenied,  // the file cannot be opened in the requested mode
  TooSmall,          // open(): the file ends before file_offset + size
  IoError,           // any other failure of the operating system (errno in `os_error`)
};

std::string_view to_string(FileFlashError e);

enum class FileFlashMode : std::uint8_t {
  ReadWrite,
  ReadOnly,  // reads work; write and erase_sector return IoError
};

class FileFlash;

struct FileFlashOpen {
  FileFlashError error = FileFlashError::IoError;
  int os_error = 0;  // errno of the failing call, 0 when not an OS failure
  std::unique_ptr<FileFlash> flash;  // set exactly when error == Ok
  bool ok() const { return error == FileFlashError::Ok; }
  // "<path>: <what> (<strerror>)", for messages.
  std::string message;
};

class FileFlash final : public FlashArea {
 public:
  // Creates (or truncates) `path` and fills it with the erased value: a blank
  // device flash of `geometry.size` bytes (plus `file_offset` bytes in front,
  // also erased).
  static FileFlashOpen create(const std::string& path, const FlashGeometry& geometry, std::uint64_t file_offset = 0,
                              bool sync = false);
  // Opens an existing file; it must hold at least file_offset + geometry.size bytes.
  static FileFlashOpen open(const std::string& path, const FlashGeometry& geometry, std::uint64_t file_offset = 0,
                            FileFlashMode mode = FileFlashMode::ReadWrite, bool sync = false);

  ~FileFlash() override;
  FileFlash(const FileFlash&) = delete;
  FileFlash& operator=(const FileFlash&) = delete;

  std::uint32_t size() const override { return geometry_.size; }
  std::uint32_t sector_size() const override { return geometry_.sector_size; }
  std::uint32_t write_alignment() const override { return geometry_.write_alignment; }
  std::uint8_t erased_value() const override { return geometry_.erased_value; }

  FlashStatus read(std::uint32_t offset, std::span<std::uint8_t> out) const override;
  FlashStatus write(std::uint32_t offset, std::span<const std::uint8_t> data) override;
  FlashStatus erase_sector(std::uint32_t offset) override;

  // errno of the last failed operating-system call (0 when none failed yet).
  int last_os_error() const { return last_os_error_; }

 private:
  FileFlash(int fd, const FlashGeometry& geometry, std::uint64_t file_offset, FileFlashMode mode, bool sync);
  FlashStatus io_error(int err) const;

  int fd_;
  FlashGeometry geometry_;
  std::uint64_t file_offset_;
  FileFlashMode mode_;
  bool sync_;
  mutable int last_os_error_ = 0;
};

}  // namespace ota::agent::port
