/* Bytecode: write/load round trip, and the loader against truncated,
 * corrupted and out-of-range files. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compile.h"
#include "runtime/proto/proto.h"
#include "vm/vm.h"
#include "helpers.h"

/* A small program with every kind of instruction. */
static const char *const every_op =
    "network every\nparty m = 0\nparty c = 1\n"
    "input x : u8[1,6,6,2] q(0.02, 120) from c\n"
    "input w : u8[3,3,3,2] q(0.01, 130) from m\n"
    "input b : i32[3] q(0.0002, 0) from m\n"
    "input dw : u8[1,3,3,3] q(0.01, 125) from m\n"
    "input db : i32[3] q(0.0005, 0) from m\n"
    "input fw : u8[4,12] q(0.01, 128) from m\n"
    "input fb : i32[4] q(0.0008, 0) from m\n"
    "input sw : i32[4,12] from m\n"
    "input sb : i32[4] from m\n"
    "input sp : i32[8] from m\n"
    "c1 = conv2d(x, w, b, stride=2, padding=same, activation=relu6, rounding=fast) -> q(0.05, 0)\n"
    "d1 = depthwise_conv2d(c1, dw, db, padding=same, activation=relu6) -> q(0.05, 0)\n"
    "h1 = hard_swish(d1) -> q(0.05, 10)\n"
    "s1 = add(c1, h1) -> q(0.08, 3)\n"
    "m1 = max_pool2d(s1, size=2, stride=1, padding=same)\n"
    "a1 = avg_pool2d(m1, size=2, stride=2, padding=valid, activation=relu6)\n"
    "p1 = pad(a1, paddings=[[0,0],[0,1],[0,1],[0,0]])\n"
    "k1 = concat(p1, p1, axis=3)\n"
    "r1 = reshape(k1, shape=[1, 24])\n"
    "f  = fully_connected(r1, fw, fb) -> q(0.1, 100)\n"
    "g  = fully_connected(r1, sw, sb, secret=sp, shift=38, bits=20) -> u8\n"
    "output argmax(f) to c\n"
    "output softmax(f) to c\n"
    "output argmax(g) to c\n";

static uint8_t *compile_bytes(const char *src, size_t *len)
{
    qbc_program p;
    char msg[4096];
    ck_assert_msg(th_compile(src, &p, msg, sizeof msg) == 0, "%s", msg);
    uint8_t *b = qbc_write(&p, len);
    qbc_free(&p);
    ck_assert_ptr_nonnull(b);
    return b;
}

START_TEST(round_trip_is_identical)
{
    size_t n, n2;
    uint8_t *b = compile_bytes(every_op, &n);
    qbc_program p;
    char err[512];
    ck_assert_msg(qbc_load(b, n, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.ninputs, 10);
    ck_assert_uint_eq(p.noutputs, 3);
    ck_assert_str_eq(p.party_names[1], "c");
    ck_assert_str_eq(p.inputs[1].name, "w");
    uint8_t *b2 = qbc_write(&p, &n2);
    ck_assert_uint_eq(n, n2);
    ck_assert(memcmp(b, b2, n) == 0);
    free(b2);
    qbc_free(&p);
    free(b);
}
END_TEST

START_TEST(every_opcode_is_emitted)
{
    size_t n;
    uint8_t *b = compile_bytes(every_op, &n);
    qbc_program p;
    char err[512];
    ck_assert(qbc_load(b, n, &p, err, sizeof err) == 0);
    int seen[OP__COUNT] = {0};
    for (uint32_t pc = 0; pc < p.ncode; pc += 1 + (uint32_t)qbc_nops(p.code[pc]))
        seen[qbc_op(p.code[pc])] = 1;
    for (int op = 0; op < OP__COUNT; op++)
        ck_assert_msg(seen[op], "%s never emitted", op_table[op].name);
    qbc_free(&p);
    free(b);
}
END_TEST

START_TEST(every_prefix_is_rejected)
{
    size_t n;
    uint8_t *b = compile_bytes(every_op, &n);
    char err[512];
    for (size_t k = 0; k < n; k++) {
        qbc_program p;
        ck_assert_msg(qbc_load(b, k, &p, err, sizeof err) != 0, "prefix %zu accepted", k);
        ck_assert_msg(strncmp(err, "offset ", 7) == 0, "message without offset: %s", err);
        ck_assert(strchr(err, '\n') == NULL);
    }
    free(b);
}
END_TEST

/* Runs a loaded program in clear on fresh inputs, twice: an accepted
 * program must run to the end, and to the same outputs each time. */
static void run_loaded(qbc_program *p, size_t k)
{
    th_run r[2];
    char err[256];
    memset(r, 0, sizeof r);
    size_t n;
    uint8_t *b = qbc_write(p, &n);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(qbc_load(b, n, &r[i].p, err, sizeof err) == 0, "byte %zu: reload: %s", k, err);
        th_random_inputs(&r[i], 1, 1000);
        ck_assert_msg(th_run_clear(&r[i], err, sizeof err) == 0, "byte %zu: accepted, then: %s", k, err);
    }
    for (uint32_t o = 0; o < r[0].p.noutputs; o++) {
        uint64_t m = shape_elems(&r[0].p.outputs[o].shape);
        ck_assert_msg(memcmp(r[0].out[o], r[1].out[o], m * sizeof(int64_t)) == 0, "byte %zu: output %u differs", k, o);
    }
    th_free(&r[0]);
    th_free(&r[1]);
    free(b);
    qbc_free(p);
}

START_TEST(every_byte_changed_is_rejected_or_runs)
{
    size_t n;
    uint8_t *b = compile_bytes(every_op, &n);
    static const uint8_t flips[] = {0x01, 0x80, 0xff};
    int rejected = 0, ran = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t f = 0; f < sizeof flips; f++) {
            uint8_t *c = malloc(n);
            memcpy(c, b, n);
            c[k] ^= flips[f];
            qbc_program p;
            char err[512];
            if (qbc_load(c, n, &p, err, sizeof err) == 0) {
                run_loaded(&p, k);
                ran++;
            } else {
                ck_assert_msg(strchr(err, '\n') == NULL && strlen(err) > 8, "byte %zu: '%s'", k, err);
                rejected++;
            }
            free(c);
        }
    ck_assert_int_gt(rejected, 0);
    ck_assert_int_gt(ran, 0);
    free(b);
}
END_TEST

/* Loads src's program, lets mutate change it, writes and reloads it:
 * the loader must reject it with a message containing want. */
static void expect_rejected(void (*mutate)(qbc_program *), const char *want)
{
    qbc_program p;
    char msg[4096], err[512];
    ck_assert_msg(th_compile(every_op, &p, msg, sizeof msg) == 0, "%s", msg);
    mutate(&p);
    size_t n;
    uint8_t *b = qbc_write(&p, &n);
    qbc_free(&p);
    ck_assert_msg(qbc_load(b, n, &p, err, sizeof err) != 0, "accepted; wanted: %s", want);
    ck_assert_msg(strstr(err, want) != NULL, "message '%s' lacks '%s'", err, want);
    free(b);
}

static uint32_t find_op(const qbc_program *p, int op)
{
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc]))
        if (qbc_op(p->code[pc]) == op)
            return pc;
    ck_abort_msg("no %s", op_table[op].name);
    return 0;
}

/* a COPY whose blocks repeat into the same place: with a count of 2^31
 * the VM would copy for hours */
static void copy_overlap(qbc_program *p)
{
    uint32_t pc = find_op(p, OP_COPY);
    p->code[pc + 3] = 2, p->code[pc + 5] = 0; /* two blocks, destination stride 0 */
}
static void bad_register(qbc_program *p) { p->code[find_op(p, OP_ADD) + 2] = p->nsregs; }
static void bad_opcode(qbc_program *p) { p->code[find_op(p, OP_ADD)] = qbc_encode(OP__COUNT, 3); }
static void bad_operand_count(qbc_program *p) { p->code[find_op(p, OP_ADD)] = qbc_encode(OP_ADD, 2); }
static void comm_outside_round(qbc_program *p)
{
    uint32_t pc = find_op(p, OP_ROUND);
    p->code[pc] = qbc_encode(OP_LAYER, 1), p->code[pc + 1] = 0; /* a valid layer */
}
static void bad_shift(qbc_program *p)
{
    p->cregs[p->code[find_op(p, OP_REQUANT) + 4]].val[0] = 40;
}
static void bad_divisor(qbc_program *p) { p->cregs[p->code[find_op(p, OP_DIVR) + 3]].val[0] = 0; }
static void bad_clamp_bounds(qbc_program *p)
{
    int64_t *b = p->cregs[p->code[find_op(p, OP_CLAMP) + 3]].val;
    int64_t t = b[0];
    b[0] = b[1], b[1] = t - 1; /* hi < lo */
}
static void bad_clamp_bits(qbc_program *p) { p->code[find_op(p, OP_CLAMP) + 4] = 63; }
/* the result of an ADDC that is no layer's register (those fail earlier) */
static void bad_length(qbc_program *p)
{
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        int layer = 0;
        for (uint32_t l = 0; l < p->nlayers; l++)
            layer |= p->layers[l].reg == p->code[pc + 1];
        if (qbc_op(p->code[pc]) == OP_ADDC && !layer) {
            p->slen[p->code[pc + 1]] += 1;
            return;
        }
    }
    ck_abort_msg("no ADDC result outside the layer table");
}
static void bad_reqclamp_bounds(qbc_program *p)
{
    int64_t *b = p->cregs[p->code[find_op(p, OP_REQCLAMP) + 5]].val;
    int64_t t = b[1];
    b[1] = b[2], b[2] = t - 1; /* hi < lo */
}
/* the fused truncation needs bound + 31 + right shift <= 63 */
static void bad_reqclamp_bits(qbc_program *p) { p->code[find_op(p, OP_REQCLAMP) + 6] = 40; }
/* a lazy convolution's unfinished sum read by a REQCLAMP that is not lazy */
static void unfinished_read(qbc_program *p)
{
    uint32_t pc = find_op(p, OP_REQCLAMP);
    ck_assert(qbc_flags(p->code[pc]) & QBC_LAZY);
    p->code[pc] &= 0xffffu;
}
static void flag_on_add(qbc_program *p) { p->code[find_op(p, OP_ADD)] |= QBC_LAZY << 16; }
static void exact_on_add(qbc_program *p) { p->code[find_op(p, OP_ADD)] |= QBC_EXACT << 16; }
/* the lazy REQCLAMP (rounding=fast) made exact too */
/* an exact REQCLAMP (d1's) with a right shift past 30 */
static void exact_shift(qbc_program *p)
{
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc]))
        if (qbc_op(p->code[pc]) == OP_REQCLAMP && (qbc_flags(p->code[pc]) & QBC_EXACT)) {
            p->cregs[p->code[pc + 4]].val[0] = -31;
            p->code[pc + 6] = 1; /* the bound REQCLAMP itself then allows */
            return;
        }
    ck_abort_msg("no exact REQCLAMP");
}
/* a LUT (hard_swish's) whose table is one value, or whose first code is neither 0 nor -128 */
static void constant_table(qbc_program *p)
{
    qbc_const *t = &p->cregs[p->code[find_op(p, OP_LUT) + 3]];
    for (uint32_t k = 0; k < t->len; k++)
        t->val[k] = 7;
}
static void bad_lut_codes(qbc_program *p) { p->code[find_op(p, OP_LUT) + 4] = 2; }
static void wide_table(qbc_program *p) { p->cregs[p->code[find_op(p, OP_LUT) + 3]].val[9] = (int64_t)1 << 40; }
static void bad_layer_reg(qbc_program *p) { p->layers[0].reg = p->nsregs + 5; }
static void bad_party(qbc_program *p) { p->inputs[0].party = 9; }
static void bad_geometry(qbc_program *p) { p->code[find_op(p, OP_CONV2D) + 4 + 9] = 50; }
static void dependent_block(qbc_program *p)
{
    /* a block of two comparisons (a clamp): make the second read the first's result */
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc]))
        if (qbc_op(p->code[pc]) == OP_ROUND && p->code[pc + 1] == 2 &&
            qbc_op(p->code[pc + 2]) == OP_LTZ) {
            p->code[pc + 8] = p->code[pc + 3];
            return;
        }
    ck_abort_msg("no comparison block");
}

START_TEST(rejects_out_of_range_fields)
{
    expect_rejected(bad_register, "out of range");
    expect_rejected(copy_overlap, "copy blocks overlap in the destination");
    expect_rejected(bad_opcode, "unknown opcode");
    expect_rejected(bad_operand_count, "takes 3 operands");
    expect_rejected(comm_outside_round, "outside a ROUND block");
    expect_rejected(bad_shift, "shift 40 out of range");
    expect_rejected(bad_divisor, "divisor 0 out of range");
    expect_rejected(bad_length, "length");
    expect_rejected(bad_clamp_bounds, "CLAMP wants two bounds lo <= hi");
    expect_rejected(bad_clamp_bits, "comparison bound 2^63 out of range");
    expect_rejected(bad_reqclamp_bounds, "REQCLAMP wants (zero point, lo, hi) with lo <= hi");
    expect_rejected(bad_reqclamp_bits, "REQCLAMP bound 2^40 out of range for right shifts 7..7");
    expect_rejected(bad_layer_reg, "does not hold its shape");
    expect_rejected(constant_table, "LUT table is constant");
    expect_rejected(bad_lut_codes, "LUT takes a table of 256 values and a first code of 0 or -128");
    expect_rejected(wide_table, "table value 1099511627776 out of range");
    expect_rejected(unfinished_read, "REQCLAMP reads an unfinished sum");
    expect_rejected(flag_on_add, "reserved bits set");
    expect_rejected(exact_on_add, "reserved bits set");
    expect_rejected(exact_shift, "exact shift -31 out of range");
    expect_rejected(bad_party, "input party 9 out of range");
    expect_rejected(bad_geometry, "padding larger than the window");
    expect_rejected(dependent_block, "depend on each other");
}
END_TEST

START_TEST(bad_magic_and_version)
{
    char err[512];
    qbc_program p;
    ck_assert(qbc_load((const uint8_t *)"ELF\177xxxxxxxxxx", 14, &p, err, sizeof err) != 0);
    ck_assert(strstr(err, "bad magic"));
    size_t n;
    uint8_t *b = compile_bytes(every_op, &n);
    ck_assert_int_eq(b[4], 7); /* every_op has a LUT (its hard_swish): version 7's */
    b[4] = 9;
    ck_assert(qbc_load(b, n, &p, err, sizeof err) != 0);
    ck_assert_str_eq(err, "offset 4: format version 9 out of range [5, 7]");
    b[4] = 6;
    ck_assert(qbc_load(b, n, &p, err, sizeof err) != 0);
    ck_assert_str_eq(err, "offset 4: a LUT instruction in a version 6 file (LUT is new in version 7)");
    free(b);
    /* a dequantized output (kind 3) is version 6's: the writer marks it so,
     * and the same bytes labelled 5 are refused at the kind */
    b = compile_bytes("network d\nparty c = 0\ninput x : i8[1,4] q(0.5, -1) from c\noutput dequantize(x) to c\n", &n);
    ck_assert_int_eq(b[4], 6);
    ck_assert(qbc_load(b, n, &p, err, sizeof err) == 0);
    qbc_free(&p);
    b[4] = 5;
    ck_assert(qbc_load(b, n, &p, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, "output kind 3 out of range [0, 2]"), "%s", err);
    free(b);
}
END_TEST

START_TEST(independent_communication_shares_rounds)
{
    /* two convolutions of one input: their dot products and truncations
     * are scheduled into the same blocks */
    qbc_program p;
    char msg[4096];
    ck_assert_msg(th_compile("network two\nparty m = 0\n"
                             "input x : u8[1,4,4,2] q(0.02, 0) from m\n"
                             "input w : u8[2,1,1,2] q(0.01, 0) from m\n"
                             "a = conv2d(x, w) -> q(0.05, 0)\nb = conv2d(x, w, activation=relu) -> q(0.05, 0)\n"
                             "c = concat(a, b)\noutput c to m\n",
                             &p, msg, sizeof msg) == 0,
                  "%s", msg);
    int blocks = 0, max = 0;
    for (uint32_t pc = 0; pc < p.ncode; pc += 1 + (uint32_t)qbc_nops(p.code[pc]))
        if (qbc_op(p.code[pc]) == OP_ROUND) {
            blocks++;
            max = (int)p.code[pc + 1] > max ? (int)p.code[pc + 1] : max;
        }
    /* inputs | 2 convs | 2 requantize-and-clamps | output */
    ck_assert_int_eq(blocks, 4);
    ck_assert_int_eq(max, 2);
    qbc_free(&p);
}
END_TEST

/* the instructions of the ROUND block holding the INPUT of slot s: 1 per opcode */
static void block_of_input(const qbc_program *p, uint32_t s, int *has, int *blocks)
{
    *blocks = 0;
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        if (qbc_op(p->code[pc]) != OP_ROUND)
            continue;
        ++*blocks;
        int mine = 0, ops[OP__COUNT] = {0};
        for (uint32_t i = 0, q = pc + 2; i < p->code[pc + 1]; i++, q += 1 + (uint32_t)qbc_nops(p->code[q])) {
            ops[qbc_op(p->code[q])] = 1;
            mine |= qbc_op(p->code[q]) == OP_INPUT && p->code[q + 2] == s;
        }
        if (mine)
            memcpy(has, ops, sizeof ops);
    }
}

START_TEST(inputs_join_the_block_before_their_first_use)
{
    /* with --late-inputs, w2 (first read by the second convolution) is
     * input, with its zero-point ADDC, in the first layer's REQCLAMP block,
     * in no block of its own; without, in the first block */
    static const char *const src = "network two\nparty m = 0\nparty c = 1\n"
                                   "input x : u8[1,4,4,2] q(0.02, 7) from c\n"
                                   "input w1 : u8[3,1,1,2] q(0.01, 3) from m\n"
                                   "input w2 : u8[2,1,1,3] q(0.01, 5) from m\n"
                                   "a = conv2d(x, w1) -> q(0.05, 0)\nb = conv2d(a, w2) -> q(0.05, 0)\n"
                                   "output b to c\n";
    for (int late = 0; late < 2; late++) {
        qbc_program p;
        char msg[4096];
        ck_assert_msg(th_compile_flags(src, late ? COMPILE_LATE_INPUTS : 0, &p, msg, sizeof msg) == 0, "%s", msg);
        int has[OP__COUNT] = {0}, blocks;
        block_of_input(&p, 2, has, &blocks);
        ck_assert_str_eq(p.inputs[2].name, "w2");
        ck_assert(has[OP_INPUT] && has[OP_REQCLAMP] == late);
        ck_assert_int_eq(blocks, 6); /* inputs | conv | REQCLAMP | conv | REQCLAMP | output */
        qbc_free(&p);
    }
}
END_TEST

START_TEST(inputs_skip_blocks_without_a_comparison)
{
    /* the average pool's division (a communicating block, no comparison)
     * stands between the first REQCLAMP and w2's reader: w2 goes to the
     * REQCLAMP's block, where it adds no round under any protocol, not to
     * the division's */
    static const char *const src = "network pool\nparty m = 0\nparty c = 1\n"
                                   "input x : u8[1,4,4,2] q(0.02, 7) from c\n"
                                   "input w1 : u8[3,1,1,2] q(0.01, 3) from m\n"
                                   "input w2 : u8[2,1,1,3] q(0.01, 5) from m\n"
                                   "a = conv2d(x, w1) -> q(0.05, 0)\n"
                                   "p = avg_pool2d(a, size=2, stride=2, padding=valid)\n"
                                   "b = conv2d(p, w2) -> q(0.05, 0)\noutput b to c\n";
    qbc_program p;
    char msg[4096];
    ck_assert_msg(th_compile_flags(src, COMPILE_LATE_INPUTS, &p, msg, sizeof msg) == 0, "%s", msg);
    int has[OP__COUNT] = {0}, blocks;
    block_of_input(&p, 2, has, &blocks);
    ck_assert(has[OP_INPUT] && has[OP_REQCLAMP] && !has[OP_DIVR]);
    ck_assert_int_eq(blocks, 7); /* inputs | conv | REQCLAMP | DIVR | conv | REQCLAMP | output */
    qbc_free(&p);
}
END_TEST

/* every_op compiled with flags[k] and run in clear on the same inputs,
 * with drop[k], for k = 0, 1; the outputs must agree */
static void run_both_ways(th_run r[2], const unsigned flags[2], const int drop[2])
{
    char msg[4096], err[256];
    for (int k = 0; k < 2; k++) {
        memset(&r[k], 0, sizeof r[k]);
        ck_assert_msg(th_compile_flags(every_op, flags[k], &r[k].p, msg, sizeof msg) == 0, "%s", msg);
        th_random_inputs(&r[k], 9, 3000);
        r[k].drop_inputs = drop[k];
        ck_assert_msg(th_run_clear(&r[k], err, sizeof err) == 0, "%s", err);
    }
    for (uint32_t o = 0; o < r[0].p.noutputs; o++)
        ck_assert(memcmp(r[0].out[o], r[1].out[o], shape_elems(&r[0].p.outputs[o].shape) * sizeof(int64_t)) == 0);
}

START_TEST(late_inputs_compute_the_same)
{
    /* every instruction kind, scheduled both ways: the same outputs in clear */
    th_run r[2];
    run_both_ways(r, (const unsigned[]){0, COMPILE_LATE_INPUTS}, (const int[]){0, 0});
    int moved = 0;
    for (uint32_t pc = 0; pc < r[0].p.ncode && !moved; pc++)
        moved = r[0].p.code[pc] != r[1].p.code[pc];
    ck_assert_msg(moved, "--late-inputs scheduled nothing differently");
    th_free(&r[0]);
    th_free(&r[1]);
}
END_TEST

START_TEST(inputs_are_freed_after_their_input_when_asked)
{
    /* drop_inputs frees every slot's values once its INPUT has run, and
     * the results are those of a run that keeps them */
    th_run r[2];
    run_both_ways(r, (const unsigned[]){0, 0}, (const int[]){0, 1});
    for (uint32_t s = 0; s < r[1].p.ninputs; s++) {
        ck_assert_ptr_nonnull(r[0].in[s]);
        ck_assert_ptr_null(r[1].in[s]);
    }
    th_free(&r[0]);
    th_free(&r[1]);
}
END_TEST

Suite *suite_bytecode(void)
{
    Suite *s = suite_create("bytecode");
    TCase *t = tcase_create("format");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, round_trip_is_identical);
    tcase_add_test(t, every_opcode_is_emitted);
    tcase_add_test(t, every_prefix_is_rejected);
    tcase_add_test(t, every_byte_changed_is_rejected_or_runs);
    tcase_add_test(t, rejects_out_of_range_fields);
    tcase_add_test(t, bad_magic_and_version);
    tcase_add_test(t, independent_communication_shares_rounds);
    tcase_add_test(t, inputs_join_the_block_before_their_first_use);
    tcase_add_test(t, inputs_are_freed_after_their_input_when_asked);
    tcase_add_test(t, inputs_skip_blocks_without_a_comparison);
    tcase_add_test(t, late_inputs_compute_the_same);
    suite_add_tcase(s, t);
    return s;
}
