/* proto_spdz: SPDZ over F_p, p = 2^127 - 1 (the domain of the paper's
 * cowgear column; Damgard, Pastro, Smart, Zakarias 2012 with dealer
 * preprocessing): spdz_core over F_p (docs/protocols.md "spdz"). Runs the
 * programs that fit the field (fit_bits). */
#include "runtime/proto/spdz_core.h"

SPDZ_WRAPPERS(proto_spdz, EL_FP)

const protocol proto_spdz = {
    .name = "spdz",
    .security = "active, dishonest majority: MACed additive sharing over F_p (p = 2^127 - 1), dealer "
                "preprocessing; a forged opening passes a check with probability <= 2^-126",
    .domain = "F_p, p = 2^127 - 1",
    .fit_bits = 63,
    SPDZ_ENTRIES,
};
