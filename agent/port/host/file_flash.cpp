#include "ota/agent/port/file_flash.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace ota::agent::port {

namespace {

bool geometry_ok(const FlashGeometry& g) {
  return g.size != 0 && g.sector_size != 0 && g.size % g.sector_size == 0 && g.write_alignment != 0 &&
         g.sector_size % g.write_alignment == 0;
}

FileFlashOpen failure(FileFlashError e, int err, const std::string& path, std::string_view what) {
  FileFlashOpen r;
  r.error = e;
  r.os_error = err;
  r.message = path + ": " + std::string(what);
  if (err != 0) r.message += std::string(" (") + std::strerror(err) + ")";
  return r;
}

FileFlashError classify_open_error(int err) {
  switch (err) {
    case ENOENT: return FileFlashError::NotFound;
    case EACCES:
    case EPERM:
    case EROFS: return FileFlashError::PermissionDenied;
    default: return FileFlashError::IoError;
  }
}

// pwrite/pread until done; returns 0 or the errno (EIO for a short transfer at EOF).
int pwrite_all(int fd, const std::uint8_t* data, std::size_t n, std::uint64_t at) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(at));
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    data += w;
    n -= static_cast<std::size_t>(w);
    at += static_cast<std::uint64_t>(w);
  }
  return 0;
}

int pread_all(int fd, std::uint8_t* data, std::size_t n, std::uint64_t at) {
  while (n > 0) {
    const ssize_t r = ::pread(fd, data, n, static_cast<off_t>(at));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) return EIO;  // the file ends early: it was truncated behind our back
    data += r;
    n -= static_cast<std::size_t>(r);
    at += static_cast<std::uint64_t>(r);
  }
  return 0;
}

}  // namespace

std::string_view to_string(FileFlashError e) {
  switch (e) {
    case FileFlashError::Ok: return "ok";
    case FileFlashError::BadGeometry: return "bad flash geometry";
    case FileFlashError::NotFound: return "file not found";
    case FileFlashError::PermissionDenied: return "permission denied";
    case FileFlashError::TooSmall: return "file smaller than the flash area";
    case FileFlashError::IoError: return "I/O error";
  }
  return "unknown file flash error";
}

FileFlash::FileFlash(int fd, const FlashGeometry& geometry, std::uint64_t file_offset, FileFlashMode mode, bool sync)
    : fd_(fd), geometry_(geometry), file_offset_(file_offset), mode_(mode), sync_(sync) {}

FileFlash::~FileFlash() { ::close(fd_); }

FileFlashOpen FileFlash::create(const std::string& path, const FlashGeometry& geometry, std::uint64_t file_offset,
                                bool sync) {
  if (!geometry_ok(geometry)) return failure(FileFlashError::BadGeometry, 0, path, "bad flash geometry");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    return failure(classify_open_error(err), err, path, "cannot create");
  }
  const std::vector<std::uint8_t> blank(64 * 1024, geometry.erased_value);
  const std::uint64_t total = file_offset + geometry.size;
  for (std::uint64_t at = 0; at < total;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(blank.size(), total - at));
    if (const int err = pwrite_all(fd, blank.data(), n, at); err != 0) {
      ::close(fd);
      return failure(FileFlashError::IoError, err, path, "cannot fill with the erased value");
    }
    at += n;
  }
  if (sync && ::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return failure(FileFlashError::IoError, err, path, "cannot sync");
  }
  FileFlashOpen r;
  r.error = FileFlashError::Ok;
  r.flash.reset(new FileFlash(fd, geometry, file_offset, FileFlashMode::ReadWrite, sync));
  return r;
}

FileFlashOpen FileFlash::open(const std::string& path, const FlashGeometry& geometry, std::uint64_t file_offset,
                              FileFlashMode mode, bool sync) {
  if (!geometry_ok(geometry)) return failure(FileFlashError::BadGeometry, 0, path, "bad flash geometry");
  const int flags = (mode == FileFlashMode::ReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    return failure(classify_open_error(err), err, path, "cannot open");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return failure(FileFlashError::IoError, err, path, "cannot stat");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return failure(FileFlashError::IoError, 0, path, "not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) < file_offset + geometry.size) {
    ::close(fd);
    return failure(FileFlashError::TooSmall, 0, path, "file smaller than the flash area");
  }
  FileFlashOpen r;
  r.error = FileFlashError::Ok;
  r.flash.reset(new FileFlash(fd, geometry, file_offset, mode, sync));
  return r;
}

FlashStatus FileFlash::io_error(int err) const {
  last_os_error_ = err;
  return FlashStatus::IoError;
}

FlashStatus FileFlash::read(std::uint32_t offset, std::span<std::uint8_t> out) const {
  if (offset > geometry_.size || out.size() > geometry_.size - offset) return FlashStatus::OutOfBounds;
  if (const int err = pread_all(fd_, out.data(), out.size(), file_offset_ + offset); err != 0) return io_error(err);
  return FlashStatus::Ok;
}

FlashStatus FileFlash::write(std::uint32_t offset, std::span<const std::uint8_t> data) {
  if (offset > geometry_.size || data.size() > geometry_.size - offset) return FlashStatus::OutOfBounds;
  if (offset % geometry_.write_alignment != 0 || data.size() % geometry_.write_alignment != 0) {
    return FlashStatus::Misaligned;
  }
  if (mode_ == FileFlashMode::ReadOnly) return io_error(EBADF);
  // NOR rule: only erased bytes may be programmed. Check in small pieces.
  std::array<std::uint8_t, 4096> current{};
  for (std::size_t done = 0; done < data.size();) {
    const std::size_t n = std::min(current.size(), data.size() - done);
    if (const int err = pread_all(fd_, current.data(), n, file_offset_ + offset + done); err != 0) return io_error(err);
    if (!std::all_of(current.begin(), current.begin() + static_cast<std::ptrdiff_t>(n),
                     [this](std::uint8_t b) { return b == geometry_.erased_value; })) {
      return FlashStatus::NotErased;
    }
    done += n;
  }
  if (const int err = pwrite_all(fd_, data.data(), data.size(), file_offset_ + offset); err != 0) return io_error(err);
  if (sync_ && ::fdatasync(fd_) != 0) return io_error(errno);
  return FlashStatus::Ok;
}

FlashStatus FileFlash::erase_sector(std::uint32_t offset) {
  if (offset >= geometry_.size) return FlashStatus::OutOfBounds;
  if (offset % geometry_.sector_size != 0) return FlashStatus::Misaligned;
  if (mode_ == FileFlashMode::ReadOnly) return io_error(EBADF);
  const std::vector<std::uint8_t> blank(geometry_.sector_size, geometry_.erased_value);
  if (const int err = pwrite_all(fd_, blank.data(), blank.size(), file_offset_ + offset); err != 0) {
    return io_error(err);
  }
  if (sync_ && ::fdatasync(fd_) != 0) return io_error(errno);
  return FlashStatus::Ok;
}

}  // namespace ota::agent::port
