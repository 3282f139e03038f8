# Toolchain file for the device agent on Cortex-M (Debian's gcc-arm-none-eabi
# with picolibc). Pick the CPU with -DOTA_TARGET_CPU=cortex-m4 (QEMU
# mps2-an386, FPU single precision) or cortex-m33 (QEMU mps2-an505).
#   cmake -S tests/target -B build-target-m4 \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DOTA_TARGET_CPU=cortex-m4
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar)
set(CMAKE_RANLIB arm-none-eabi-ranlib)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy)
set(CMAKE_SIZE arm-none-eabi-size)

set(OTA_TARGET_CPU cortex-m4 CACHE STRING "cortex-m4 (mps2-an386) or cortex-m33 (mps2-an505)")
set_property(CACHE OTA_TARGET_CPU PROPERTY STRINGS cortex-m4 cortex-m33)
if(OTA_TARGET_CPU STREQUAL "cortex-m4")
  set(_ota_cpu_flags "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
elseif(OTA_TARGET_CPU STREQUAL "cortex-m33")
  set(_ota_cpu_flags "-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16")
else()
  message(FATAL_ERROR "OTA_TARGET_CPU must be cortex-m4 or cortex-m33, not '${OTA_TARGET_CPU}'")
endif()

# picolibc: --specs selects its headers and libraries; semihosting for output
# and exit. Size-optimised, sections for --gc-sections, no exceptions or RTTI
# (the agent never throws: STYLE.md "No exceptions cross the agent's API").
set(_ota_common "${_ota_cpu_flags} --specs=picolibc.specs -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${_ota_common}")
set(CMAKE_CXX_FLAGS_INIT "${_ota_cpu_flags} --specs=picolibcpp.specs -ffunction-sections -fdata-sections -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "${_ota_cpu_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--oslib=semihost -Wl,--gc-sections")

set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")
set(CMAKE_CXX_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
