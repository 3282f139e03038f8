#include "ota/agent/port/qemu_board.hpp"

#include <cstring>

#include <mbedtls/memory_buffer_alloc.h>

#ifndef OTA_TIMER_BASE
#error "OTA_TIMER_BASE: the CMSDK APB timer 0 of the board (an386 0x40000000, an505 secure 0x50000000)"
#endif
#ifndef OTA_TIMER_HZ
#error "OTA_TIMER_HZ: the board's system clock"
#endif
#ifndef OTA_CRYPTO_HEAP_BYTES
#define OTA_CRYPTO_HEAP_BYTES 4096
#endif

extern "C" char __stack[];       // top of the stack (picolibc.ld)
extern "C" char __stack_size[];  // its size, a linker symbol (--defsym)

namespace ota::agent::port::qemu {
namespace {

constexpr std::uint32_t kPaint = 0xA5A5A5A5u;

struct Timer {
  volatile std::uint32_t ctrl, value, reload, intstatus;
};
Timer& timer() { return *reinterpret_cast<Timer*>(OTA_TIMER_BASE); }

alignas(8) unsigned char g_crypto_heap[OTA_CRYPTO_HEAP_BYTES];

// Before any static constructor: the agent's Verifier allocates in its own.
__attribute__((constructor(101))) void init_crypto_heap() {
  mbedtls_memory_buffer_alloc_init(g_crypto_heap, sizeof g_crypto_heap);
  start_ticks();
}

}  // namespace

void exit(int status) {
  const std::uint32_t block[2] = {0x20026u, static_cast<std::uint32_t>(status)};  // ADP_Stopped_ApplicationExit
  register std::uint32_t r0 asm("r0") = 0x20;                                      // SYS_EXIT_EXTENDED
  register const std::uint32_t* r1 asm("r1") = block;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  for (;;) {
  }
}

void write(const char* text) {
  register std::uint32_t r0 asm("r0") = 0x04;  // SYS_WRITE0: a NUL-terminated string
  register const char* r1 asm("r1") = text;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

void write_number(unsigned long value) {
  char digits[24];
  char* p = digits + sizeof digits;
  *--p = '\0';
  do {
    *--p = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  write(p);
}

void start_ticks() {
  timer().ctrl = 0;
  timer().reload = 0xFFFFFFFFu;
  timer().value = 0xFFFFFFFFu;
  timer().ctrl = 1;  // enable, system clock
}
std::uint32_t ticks() { return 0xFFFFFFFFu - timer().value; }
std::uint32_t ticks_per_second() { return OTA_TIMER_HZ; }

std::uint32_t millis() {
  register std::uint32_t r0 asm("r0") = 0x10;  // SYS_CLOCK: centiseconds since the run started
  register std::uint32_t r1 asm("r1") = 0;
  asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0 * 10u;
}

void paint_stack() {
  auto* bottom = reinterpret_cast<std::uint32_t*>(__stack - reinterpret_cast<std::uintptr_t>(__stack_size));
  std::uint32_t here = 0;
  auto* limit = reinterpret_cast<std::uint32_t*>(reinterpret_cast<std::uintptr_t>(&here) - 256);
  for (std::uint32_t* p = bottom; p < limit; ++p) *reinterpret_cast<volatile std::uint32_t*>(p) = kPaint;
}

std::size_t peak_stack() {
  auto* bottom = reinterpret_cast<const std::uint32_t*>(__stack - reinterpret_cast<std::uintptr_t>(__stack_size));
  const auto* top = reinterpret_cast<const std::uint32_t*>(__stack);
  const std::uint32_t* p = bottom;
  while (p < top && *p == kPaint) ++p;
  return static_cast<std::size_t>(reinterpret_cast<const char*>(top) - reinterpret_cast<const char*>(p));
}

std::size_t crypto_heap_size() { return sizeof g_crypto_heap; }
std::size_t crypto_heap_peak() {
#if defined(OTA_MBEDTLS_MEMORY_DEBUG)
  std::size_t max_used = 0, max_blocks = 0;
  mbedtls_memory_buffer_alloc_max_get(&max_used, &max_blocks);
  // Payload bytes plus the allocator's header per block (8 words, memory_buffer_alloc.c).
  return max_used + max_blocks * 8 * sizeof(void*);
#else
  return 0;
#endif
}

}  // namespace ota::agent::port::qemu
