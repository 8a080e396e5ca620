/* proto_spdz: SPDZ over F_p, p = 2^127 - 1 (the domain of the paper's
 * cowgear column; Damgard, Pastro, Smart, Zakarias 2012 with dealer
 * preprocessing): spdz_core over F_p (docs/protocols.md "spdz"). Runs the
 * programs that fit the field (fit_bits) with bounds proven from the
 * inputs' ranges (proven_bounds): a comparison past its bound gives no bit
 * over F_p, and the owner of an input must not be able to cause one. */
#include "runtime/proto/spdz_core.h"

SPDZ_WRAPPERS(proto_spdz, EL_FP)

const protocol proto_spdz = {
    .name = "spdz",
    .security = "active, dishonest majority: MACed additive sharing over F_p (p = 2^127 - 1), dealer "
                "preprocessing; a forged opening passes a check with probability <= 2^-125",
    .domain = "F_p, p = 2^127 - 1",
    .fit_bits = 63,
    .proven_bounds = 1,
    SPDZ_ENTRIES,
};
