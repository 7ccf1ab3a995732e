# tests/fuzz/fuzz.mk -- the libFuzzer targets (docs/FUZZING.md).
#
# Built with clang, apart from the main build (gcc): Makefile.am's
# `make fuzz`, `make fuzz-smoke`, `make fuzz-seeds` and `make fuzz-build`
# call this makefile with top_srcdir, the build directory `out`, the
# targets (TARGETS: NAME for fuzz_NAME.c), the sources of the code under
# test (SOURCES) and the libraries' flags that configure found.  Every
# object here is built with ASan and UBSan and libFuzzer's coverage; the
# targets link libFuzzer's main, mkseeds (the seed generator) its own.

CLANG ?= clang
TARGETS = $(error TARGETS: the fuzz targets, from Makefile.am)
FUZZ_SECONDS ?= 600
FUZZ_RUNS ?= 10000000
FUZZ_SMOKE_SECONDS ?= 2

obj = $(out)/obj
bin = $(out)/bin
fuzz_src = $(top_srcdir)/tests/fuzz

SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
WARN = -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers -Werror
SRC_DIRS = common identity config proto supervisor frontend authenticator worker spawner pamhelper ctl
CPPFLAGS_FUZZ = -D_GNU_SOURCE -I$(top_srcdir)/include $(SRC_DIRS:%=-I$(top_srcdir)/src/%) \
	-I$(top_srcdir)/modules -DIDGATE_POOL_USER='"idgate-pool"' \
	-DIDGATE_STATE_DIR='"/var/lib/idgate"' -DPACKAGE_VERSION='"fuzz"'
CFLAGS_FUZZ = -g -O1 -fno-omit-frame-pointer -pthread $(SAN) $(WARN) $(LIB_CFLAGS)

lib_objs = $(patsubst $(top_srcdir)/%.c,$(obj)/%.o,$(addprefix $(top_srcdir)/,$(filter %.c,$(SOURCES))))
bins = $(addprefix $(bin)/fuzz_,$(TARGETS))

all: $(bins) $(bin)/mkseeds

# V=1 shows the commands
Q = $(if $(filter 1,$(V)),,@)

$(obj)/libfuzzed.a: $(lib_objs)
	@echo "  AR      $(@F)"
	$(Q)rm -f $@ && ar rcs $@ $^

# The code under test: coverage for libFuzzer, no main.
$(obj)/%.o: $(top_srcdir)/%.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   $*.c"
	$(Q)$(CLANG) $(CPPFLAGS_FUZZ) $(CFLAGS_FUZZ) -fsanitize=fuzzer-no-link -MMD -c -o $@ $<

$(obj)/tests/fuzz/%.o: $(fuzz_src)/%.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   tests/fuzz/$*.c"
	$(Q)$(CLANG) $(CPPFLAGS_FUZZ) $(CFLAGS_FUZZ) -fsanitize=fuzzer-no-link -MMD -c -o $@ $<

$(bin)/fuzz_%: $(obj)/tests/fuzz/fuzz_%.o $(obj)/tests/fuzz/fuzz_util.o $(obj)/libfuzzed.a
	@mkdir -p $(bin)
	@echo "  LINK    $(@F)"
	$(Q)$(CLANG) -g -pthread $(SAN) -fsanitize=fuzzer -o $@ $^ $(LIB_LIBS)

# fuzz_config's account lookups, answered once per name; without coverage:
# whether a name was asked before is no feature of the code under test
$(bin)/fuzz_config: $(obj)/tests/fuzz/nsscache.o
$(obj)/tests/fuzz/nsscache.o: $(fuzz_src)/nsscache.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   tests/fuzz/nsscache.c"
	$(Q)$(CLANG) $(CPPFLAGS_FUZZ) $(CFLAGS_FUZZ) -MMD -c -o $@ $<

$(bin)/mkseeds: $(obj)/tests/fuzz/mkseeds.o $(obj)/libfuzzed.a
	@mkdir -p $(bin)
	@echo "  LINK    $(@F)"
	$(Q)$(CLANG) -g -pthread $(SAN) -o $@ $^ $(LIB_LIBS)

# run: every target for FUZZ_SECONDS or FUZZ_RUNS executions, whichever
# comes first, keeping what it finds in out/work.  smoke: the seeds that
# the encoders make now must be the committed ones; then every target over
# its seeds and FUZZ_SMOKE_SECONDS of mutations.  Either fails on any
# finding.  seeds: write mkseeds' seeds into the source tree.
run: all
	sh $(fuzz_src)/run.sh $(out) $(fuzz_src) run $(FUZZ_SECONDS) $(FUZZ_RUNS) $(TARGETS)
smoke: all
	sh $(fuzz_src)/seeds.sh check $(out)/bin/mkseeds $(fuzz_src)/corpus $(out)/seeds
	sh $(fuzz_src)/run.sh $(out) $(fuzz_src) smoke $(FUZZ_SMOKE_SECONDS) 0 $(TARGETS)
seeds: $(bin)/mkseeds
	sh $(fuzz_src)/seeds.sh write $(out)/bin/mkseeds $(fuzz_src)/corpus $(out)/seeds

.PHONY: all run smoke seeds
.SECONDARY:
-include $(lib_objs:.o=.d) $(wildcard $(obj)/tests/fuzz/*.d)
