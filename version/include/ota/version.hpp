// version.hpp — which build this is: "0.1.0 (git 0d4faec1a2b3-dirty)".
//
// Printed by every command's --version and written into every report's run
// block, so a report says which build produced it. The text comes from
// `git describe` at build time (cmake/OtaVersionFile.cmake); only the one
// generated source file recompiles when it changes.
#pragma once

namespace ota {

const char* build_version();

}  // namespace ota
