/* The unit test runner: every suite of tests/unit in one Check run. */
#include <check.h>
#include <stdlib.h>

Suite *suite_qmath(void);
Suite *suite_bytecode(void);
Suite *suite_layers(void);
Suite *suite_dsl(void);
Suite *suite_tensorio(void);
Suite *suite_import(void);
Suite *suite_bits(void);
Suite *suite_limits(void);
Suite *suite_protocols(void);
Suite *suite_ot(void);
Suite *suite_he(void);
Suite *suite_rep3a(void);
Suite *suite_bounds(void);
Suite *suite_fields(void);
Suite *suite_dzkp(void);
Suite *suite_dzka(void);
Suite *suite_net(void);

int main(void)
{
    SRunner *r = srunner_create(suite_qmath());
    srunner_add_suite(r, suite_bytecode());
    srunner_add_suite(r, suite_layers());
    srunner_add_suite(r, suite_dsl());
    srunner_add_suite(r, suite_tensorio());
    srunner_add_suite(r, suite_import());
    srunner_add_suite(r, suite_bits());
    srunner_add_suite(r, suite_limits());
    srunner_add_suite(r, suite_protocols());
    srunner_add_suite(r, suite_ot());
    srunner_add_suite(r, suite_he());
    srunner_add_suite(r, suite_rep3a());
    srunner_add_suite(r, suite_bounds());
    srunner_add_suite(r, suite_fields());
    srunner_add_suite(r, suite_dzkp());
    srunner_add_suite(r, suite_dzka());
    srunner_add_suite(r, suite_net());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
