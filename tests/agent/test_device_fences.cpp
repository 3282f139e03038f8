// The fences between the device agent and host-only code (issue 17): what a
// device build includes must not reach liblzma's headers, ByteArea or the
// whole-artifact verifier; those live in agent/host (ota_agent_artifact).
// This file includes every device header and nothing of liblzma, so a device
// header that includes <lzma.h> again fails the #error below.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "ota/agent/agent_status.hpp"
#include "ota/agent/boot_control.hpp"
#include "ota/agent/boot_store.hpp"
#include "ota/agent/delta.hpp"
#include "ota/agent/flash_area.hpp"
#include "ota/agent/manifest.hpp"
#include "ota/agent/sha256.hpp"
#include "ota/agent/slot_writer.hpp"
#include "ota/agent/update_agent.hpp"
#include "ota/agent/verdict.hpp"
#include "ota/agent/verifier.hpp"

#if defined(LZMA_H) || defined(LZMA_VERSION)
#error "a device header of the agent includes <lzma.h>"
#endif

namespace fs = std::filesystem;
using namespace ota::agent;

TEST_CASE("device headers include no host-only header and no liblzma", "[fences]") {
  const fs::path include_dir = fs::path(OTA_SOURCE_DIR) / "agent" / "include" / "ota" / "agent";
  REQUIRE(fs::is_directory(include_dir));
  int headers = 0;
  for (const auto& entry : fs::directory_iterator(include_dir)) {
    std::ifstream f(entry.path());
    std::stringstream text;
    text << f.rdbuf();
    const std::string s = text.str();
    INFO(entry.path().filename().string());
    CHECK(s.find("#include <lzma.h>") == std::string::npos);
    CHECK(s.find("#include \"ota/agent/byte_area.hpp\"") == std::string::npos);
    CHECK(s.find("#include \"ota/agent/artifact_verifier.hpp\"") == std::string::npos);
    ++headers;
  }
  CHECK(headers >= 10);
  CHECK_FALSE(fs::exists(include_dir / "byte_area.hpp"));
  CHECK(fs::exists(fs::path(OTA_SOURCE_DIR) / "agent" / "host" / "include" / "ota" / "agent" / "byte_area.hpp"));
}

TEST_CASE("the decoder handle is opaque bytes sized for liblzma's types", "[fences]") {
  // delta_apply.cpp static_asserts the exact size against lzma_stream +
  // lzma_allocator; here: the host build is the default one (delta, 64 KiB).
  STATIC_REQUIRE(OTA_AGENT_DELTA == 1);
  STATIC_REQUIRE(kMaxDictLog2 == 16);
  STATIC_REQUIRE(DeltaApplier::kDecoderHandleBytes == (15 * sizeof(void*) + 40 + 7) / 8 * 8);
  STATIC_REQUIRE(sizeof(ota::agent::UpdateAgent) > sizeof(ota::agent::DeltaApplier));
}
