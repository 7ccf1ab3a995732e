/* test_netmatch.c -- address lists: parsing (every refusal) and matching
 * (prefixes on and off byte boundaries, IPv4-mapped IPv6 peers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "netmatch.h"

static bool has(const struct netlist *l, const char *addr)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		fail_msg("bad test address %s", addr);
	return netlist_has(l, (struct sockaddr *)&ss);
}

static void test_match(void **state)
{
	struct netlist l;
	const char *why = NULL;
	char item[64];

	(void)state;
	assert_int_equal(netlist_parse("10.0.0.0/8, 192.168.1.128/25 ::1 2001:db8::/33 127.0.0.1",
				       &l, &why, item, sizeof(item)), 0);
	assert_int_equal(l.n, 5);
	assert_true(has(&l, "10.200.3.4"));
	assert_false(has(&l, "11.0.0.1"));
	assert_true(has(&l, "192.168.1.200"));
	assert_false(has(&l, "192.168.1.127"));   /* the /25 boundary */
	assert_true(has(&l, "127.0.0.1"));
	assert_false(has(&l, "127.0.0.2"));
	assert_true(has(&l, "::1"));
	assert_false(has(&l, "::2"));
	assert_true(has(&l, "2001:db8:7fff::1"));
	assert_false(has(&l, "2001:db8:8000::1")); /* the /33 boundary */
	assert_true(has(&l, "::ffff:10.1.2.3"));   /* IPv4-mapped counts as IPv4 */
	assert_false(has(&l, "::ffff:11.1.2.3"));
	netlist_free(&l);
	/* empty: nobody */
	assert_int_equal(netlist_parse("", &l, &why, item, sizeof(item)), 0);
	assert_false(has(&l, "127.0.0.1"));
	netlist_free(&l);
}

static void test_refusals(void **state)
{
	struct netlist l;
	const char *why = NULL;
	char item[64];

	(void)state;
	assert_int_equal(netlist_parse("10.0.0.0/8 host.example", &l, &why, item, sizeof(item)), -1);
	assert_string_equal(item, "host.example");
	assert_string_equal(why, "not an IPv4 or IPv6 address");
	assert_int_equal(netlist_parse("10.0.0.0/33", &l, &why, item, sizeof(item)), -1);
	assert_string_equal(why, "the prefix length is not a number up to 32 (IPv4) or 128 (IPv6)");
	assert_int_equal(netlist_parse("::1/129", &l, &why, item, sizeof(item)), -1);
	assert_int_equal(netlist_parse("10.0.0.0/", &l, &why, item, sizeof(item)), -1);
	assert_int_equal(netlist_parse("10.0.0.0/8x", &l, &why, item, sizeof(item)), -1);
	assert_null(l.v);
	/* found by fuzz_confvalues: a prefix length is digits only (strtoul
	 * took a sign: "/+28", and "/-0" was 0, the whole address space) */
	const char *sign[] = { "10.0.0.0/+8", "10.0.0.0/-0", "::ffff:192.0.2.1/+28", "::1/-0",
			       "10.0.0.0/\t8" };
	for (size_t i = 0; i < sizeof(sign) / sizeof(sign[0]); i++) {
		if (netlist_parse(sign[i], &l, &why, item, sizeof(item)) == 0)
			fail_msg("'%s' accepted, %u bits", sign[i], l.v[0].bits);
	}
	assert_int_equal(netlist_parse("10.0.0.0/008", &l, &why, item, sizeof(item)), 0);
	assert_int_equal(l.v[0].bits, 8);
	netlist_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests_name("netmatch", tests, NULL, NULL);
}
