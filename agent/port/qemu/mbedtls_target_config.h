/* mbedtls_target_config.h — mbedTLS 2.28 configuration for the device agent
 * on Cortex-M: SHA-256 and ECDSA P-256 verification, nothing else.
 *
 * Used as MBEDTLS_CONFIG_FILE when tests/target/CMakeLists.txt compiles
 * Debian's mbedTLS source for the target (scripts/target-deps fetches it).
 * Choices follow MCUboot's bootloader configurations: a small comb window
 * and no precomputed generator tables (RAM and flash over speed), big
 * numbers limited to 256 bits, and the heap of mbedTLS served from a fixed
 * buffer (memory_buffer_alloc) so that its RAM is a link-time number.
 */
#ifndef OTA_MBEDTLS_TARGET_CONFIG_H
#define OTA_MBEDTLS_TARGET_CONFIG_H

/* System */
#define MBEDTLS_HAVE_ASM            /* bn_mul.h: Thumb-2 multiply-accumulate */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#if defined(OTA_MBEDTLS_MEMORY_DEBUG)
#define MBEDTLS_MEMORY_DEBUG        /* peak heap for the footprint table */
#endif

/* SHA-256 (image and manifest digests, key ids) */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

/* ECDSA P-256 verification */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_NO_INTERNAL_RNG /* verification handles public data only: no blinding RNG */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C        /* required by ECDSA_C; unused code is dropped at link */
#define MBEDTLS_ASN1_WRITE_C

/* Sizes */
#define MBEDTLS_MPI_WINDOW_SIZE        1
#define MBEDTLS_MPI_MAX_SIZE          32
#define MBEDTLS_ECP_MAX_BITS         256
#define MBEDTLS_ECP_WINDOW_SIZE        2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM  0

#include "mbedtls/check_config.h"

#endif /* OTA_MBEDTLS_TARGET_CONFIG_H */
