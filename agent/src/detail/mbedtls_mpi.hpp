// mbedtls_mpi.hpp — owns one mbedTLS big number for the length of a scope.
// Shared by the verifier (agent/src) and the host signer (agent/encoder).
//
// Internal to the agent: not installed, not part of its API.
#pragma once

#include <mbedtls/bignum.h>

namespace ota::agent::detail {

class Mpi {
 public:
  Mpi() { mbedtls_mpi_init(&v_); }
  ~Mpi() { mbedtls_mpi_free(&v_); }
  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;

  mbedtls_mpi* get() { return &v_; }
  const mbedtls_mpi* get() const { return &v_; }

 private:
  mbedtls_mpi v_;
};

}  // namespace ota::agent::detail
