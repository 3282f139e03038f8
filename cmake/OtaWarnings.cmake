# Warnings for the project's own targets (not applied to third-party headers).
function(ota_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
                         -Wconversion -Wno-sign-conversion -Wimplicit-fallthrough)
endfunction()
