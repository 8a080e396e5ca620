/* proto_spdz2k: SPDZ2k (Cramer, Damgard, Escudero, Scholl, Xing, CRYPTO
 * 2018) with k = s = 64: spdz_core over Z_2^128 (docs/protocols.md
 * "spdz2k"). */
#include "runtime/proto/spdz_core.h"

SPDZ_WRAPPERS(proto_spdz2k, EL_Z2K)

const protocol proto_spdz2k = {
    .name = "spdz2k",
    .security = "active, dishonest majority: MACed additive sharing over Z_2^128 (s = 64), dealer preprocessing",
    .domain = "Z_2^64 in Z_2^128 (k = s = 64)",
    SPDZ_ENTRIES,
};
