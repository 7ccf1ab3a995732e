#!/bin/sh
# make fuzz-smoke, as a test of make check (docs/FUZZING.md): the seeds
# mkseeds.c makes from the real encoders are the committed ones, and every
# libFuzzer target runs over its seeds (found-* among them: every earlier
# finding's input) and a second of mutations without a crash, a sanitizer
# report, a leak, a timeout or a broken property.  It needs clang and
# libFuzzer (scripts/deps installs them): without them it fails, never
# skips.
. "$top_srcdir/tests/integration/lib.sh"

if ! command -v clang >/dev/null; then
	not_ok "clang is not installed (scripts/deps installs clang and libclang-rt-14-dev)"
	finish
fi
${MAKE:-make} -C "$top_builddir" fuzz-smoke >"$T/smoke.out" 2>&1
check_eq "make fuzz-smoke exits 0" 0 "$?"
grep -E '^(seeds|fuzz_|fuzzing|the committed)' "$T/smoke.out"
check_grep "the generated seeds are the committed ones" "^seeds: [0-9]+ generated seeds, as committed$" \
	"$T/smoke.out"
for t in $FUZZ_TARGETS; do
	check_grep "fuzz_$t ran, without a finding" "^fuzz_$t: execs=[1-9][0-9]* .* findings=0$" \
		"$T/smoke.out"
done
check_no_grep "no target failed" "FAILED|fuzzing found something" "$T/smoke.out"
finish
