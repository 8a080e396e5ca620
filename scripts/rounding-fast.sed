# sed -f scripts/rounding-fast.sed FILE.qnn: the program with rounding=fast
# on every layer statement (one line each, as qnnc import and the
# benchmarks' generator write them), for the tests and benchmarks that
# measure both roundings
/^[A-Za-z_][A-Za-z0-9_.]* *=/{
/) -> /{
s/) -> /, rounding=fast) -> /
b
}
s/)\( *#.*\)\{0,1\}$/, rounding=fast)\1/
}
