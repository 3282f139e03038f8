/* lzma_config.h — the config.h for liblzma's LZMA2 decoder on Cortex-M.
 *
 * tests/target/CMakeLists.txt compiles only the raw LZMA2 decoder of
 * Debian's xz-utils source (common/, lz/lz_decoder.c, lzma/lzma*_decoder.c and
 * the preset table) with this file as config.h: no encoders, no .xz
 * container, no integrity checks (the agent checks SHA-256 itself), no
 * threads. The agent's delta applier calls the same liblzma API on the
 * device as on the host (lzma_raw_decoder), so one source file serves both.
 */
#define HAVE_DECODER_LZMA1 1
#define HAVE_DECODER_LZMA2 1
#define HAVE_STDBOOL_H 1
#define HAVE__BOOL 1
#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_STRING_H 1
#define HAVE_VISIBILITY 0
#define SIZEOF_SIZE_T 4
#define HAVE_SMALL 1
#define PACKAGE "xz"
#define PACKAGE_NAME "XZ Utils"
#define PACKAGE_URL "https://tukaani.org/xz/"
