// qemu_board.hpp — what a test image on QEMU's mps2 boards needs besides the
// agent: the end of the run (semihosting exit with a status QEMU returns), a
// tick counter (the CMSDK APB timer 0), peak stack by painting, and the fixed
// heap mbedTLS allocates from (memory_buffer_alloc; see
// mbedtls_target_config.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ota::agent::port::qemu {

// Ends the run through semihosting (SYS_EXIT_EXTENDED,
// ADP_Stopped_ApplicationExit): QEMU exits with `status`.
[[noreturn]] void exit(int status);

// Console output through semihosting (SYS_WRITE0), without printf: the
// footprint images use these so that the C library's formatted output does
// not count as the agent's flash.
void write(const char* text);
void write_number(unsigned long value);

// Timer ticks since start_ticks(), 32 bits at OTA_TIMER_HZ (QEMU: the board's
// system clock; with -icount shift=0 one instruction is 1 ns of it).
void start_ticks();
std::uint32_t ticks();
std::uint32_t ticks_per_second();
// Host wall-clock milliseconds since the run started (semihosting SYS_CLOCK,
// 10 ms resolution): for progress output, not for measurements.
std::uint32_t millis();

// Fills the unused stack below the caller's frame with a pattern; peak_stack()
// then reports the deepest byte ever changed, counted from the stack top.
void paint_stack();
std::size_t peak_stack();

// mbedTLS's heap: its size, and the most it held at once, block headers
// included (0 unless built with OTA_MBEDTLS_MEMORY_DEBUG).
std::size_t crypto_heap_size();
std::size_t crypto_heap_peak();

}  // namespace ota::agent::port::qemu
