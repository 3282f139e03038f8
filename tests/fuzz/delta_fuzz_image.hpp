// delta_fuzz_image.hpp — the fixed old image that fuzz_delta_apply applies
// patches against, and the new image its seed patches (corpus/delta_apply/) make.
// tests/agent/test_delta.cpp checks that the committed seeds still apply, so a
// format change cannot silently leave the fuzzer with a useless seed.
#pragma once

#include <cstdint>
#include <vector>

namespace ota::agent::fuzz {

// 3000 bytes: a run of "code-like" halfwords (a repeating instruction shape with a
// varying immediate), then pseudo-random bytes, then a zero tail — enough
// variety for matches, diffs and extras in one small patch.
inline std::vector<std::uint8_t> delta_fuzz_old_image() {
  std::vector<std::uint8_t> img;
  img.reserve(3000);
  for (std::uint32_t i = 0; img.size() < 1200; ++i) {
    const std::uint32_t insn = 0x00000593u | ((0x100u + 8u * (i % 37u)) << 20);  // addi a1, x0, imm
    for (int b = 0; b < 4; ++b) img.push_back(static_cast<std::uint8_t>(insn >> (8 * b)));
  }
  std::uint32_t x = 0x2545F491u;
  while (img.size() < 2600) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    img.push_back(static_cast<std::uint8_t>(x));
  }
  img.resize(3000, 0);
  return img;
}

// The old image with immediates shifted by 8, a block inserted, a block
// removed and a few bytes appended: a patch with several records of each kind.
inline std::vector<std::uint8_t> delta_fuzz_new_image() {
  const std::vector<std::uint8_t> old = delta_fuzz_old_image();
  std::vector<std::uint8_t> img(old.begin(), old.begin() + 1200);
  for (std::size_t i = 0; i + 3 < img.size(); i += 4) {
    std::uint32_t insn = img[i] | img[i + 1] << 8 | img[i + 2] << 16 | static_cast<std::uint32_t>(img[i + 3]) << 24;
    insn += 8u << 20;
    for (int b = 0; b < 4; ++b) img[i + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(insn >> (8 * b));
  }
  for (std::uint8_t b = 0; b < 40; ++b) img.push_back(static_cast<std::uint8_t>(b * 7 + 1));
  img.insert(img.end(), old.begin() + 1400, old.end());
  for (std::uint8_t b = 0; b < 9; ++b) img.push_back(static_cast<std::uint8_t>(0xA0 + b));
  return img;
}

}  // namespace ota::agent::fuzz
