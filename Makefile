# herokupq — see README.md. `make` builds build/libherokupq.so.

CC      ?= cc
CFLAGS  ?= -O2 -g
BUILD   := build
LIB     := $(BUILD)/libherokupq.so

PKGS    := libpq libcurl libcjson libcrypto
DEPS_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Messages are cut to fit their buffers on purpose: no truncation warnings.
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-truncation
# initial-exec: the shim is loaded at start-up (LD_PRELOAD), so its few
# thread-locals take static TLS; the default model's __tls_get_addr made it
# need ld.so, which then sat early in every lookup scope (~270,000
# instructions at psql's start).
HPQ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -ftls-model=initial-exec $(WARN) $(DEPS_CFLAGS)

# No -lpq (the shim binds to the program's own libpq), no -lcurl, -lcjson nor
# -lcrypto (loaded on first use; their headers give the types): every library
# linked is one more object every process searches at start-up. -z defs proves
# nothing else is needed.
SHIM_LIBS := -ldl -lpthread
SHIM_SRC  := $(wildcard shim/*.c)
SHIM_OBJ  := $(SHIM_SRC:shim/%.c=$(BUILD)/shim/%.o)

VERSION := $(shell sed -n 's/^\#define HPQ_VERSION "\(.*\)"/\1/p' shim/version.h)
CMD     := $(BUILD)/herokupq

.PHONY: all test check test-build unit fuzz demo clean readme-matrix install uninstall deb bench
all: $(LIB) $(CMD)

$(BUILD)/shim/%.o: shim/%.c $(wildcard shim/*.h) Makefile
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(HPQ_CFLAGS) -c $< -o $@

# dlsym's pass-through must be a tail call (see entry.c), whatever CFLAGS say.
$(BUILD)/shim/entry.o: CFLAGS += -O2 -foptimize-sibling-calls

# The version script, from the one list of interposed names (shim/interposed.h).
$(BUILD)/exports.map: shim/exports.map.in shim/interposed.h
	@mkdir -p $(@D)
	$(CC) -E -P -x c -Ishim $< -o $@

$(LIB): $(SHIM_OBJ) $(BUILD)/exports.map
	$(CC) $(LDFLAGS) -shared -o $@ $(SHIM_OBJ) -Wl,--version-script=$(BUILD)/exports.map \
	    -Wl,-z,defs -Wl,-z,relro -Wl,-z,now $(SHIM_LIBS)

# The same library built with ASan and UBSan for the suite's sanitizer runs. libasan and
# libubsan are its own dependencies (DT_NEEDED), so a program needs nothing preloaded but
# the shim. Any UBSan finding aborts (no recovery), as an ASan error does.
ASAN_LIB   := $(BUILD)/asan/libherokupq.so
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_OBJ   := $(SHIM_SRC:shim/%.c=$(BUILD)/asan/shim/%.o)

$(BUILD)/asan/shim/%.o: shim/%.c $(wildcard shim/*.h) Makefile
	@mkdir -p $(@D)
	$(CC) $(ASAN_OPT) $(ASAN_FLAGS) $(HPQ_CFLAGS) -c $< -o $@

ASAN_OPT := -O1 -g
$(BUILD)/asan/shim/entry.o: ASAN_OPT := -O2 -g -foptimize-sibling-calls

$(ASAN_LIB): $(ASAN_OBJ) $(BUILD)/exports.map
	$(CC) -shared $(ASAN_FLAGS) -o $@ $(ASAN_OBJ) -Wl,--version-script=$(BUILD)/exports.map \
	    -Wl,-z,defs -Wl,-z,now $(SHIM_LIBS)

# The herokupq command: its own sources plus the library's URL, pure and leaf
# files, compiled again for a program (no -fPIC, no hidden visibility). It
# links libpq (the doctor connects); --gc-sections drops what it never calls.
CMD_SRC  := $(wildcard shim/cmd/*.c) $(addprefix shim/,config.c source.c source_file.c source_exec.c source_text.c \
            netrc.c curl.c cjson.c parse.c rewrite.c log.c redact.c secret.c libc.c once.c \
            cache.c filecache.c sha256.c clock.c)
CMD_OBJ  := $(CMD_SRC:shim/%.c=$(BUILD)/cmdobj/%.o)
CMD_LIBS := $(shell pkg-config --libs libpq libcjson 2>/dev/null || echo -lpq -lcjson) -ldl -lpthread

$(BUILD)/cmdobj/%.o: shim/%.c $(wildcard shim/*.h shim/cmd/*.h) Makefile
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE -ffunction-sections $(WARN) $(DEPS_CFLAGS) -c $< -o $@

$(CMD): $(CMD_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CMD_OBJ) -Wl,--gc-sections -Wl,--as-needed -Wl,-z,relro -Wl,-z,now \
	    $(CMD_LIBS)

# make install / uninstall: PREFIX (default /usr/local) and DESTDIR, as usual.
PREFIX  ?= /usr/local
LIBDIR  := $(PREFIX)/lib/herokupq
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man
INSTALLED := $(LIBDIR)/libherokupq.so $(BINDIR)/herokupq $(MANDIR)/man1/herokupq.1 \
             $(MANDIR)/man7/herokupq.7

install: $(LIB) $(CMD)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libherokupq.so
	install -m 755 $(CMD) $(DESTDIR)$(BINDIR)/herokupq
	install -m 644 shim/man/herokupq.1 $(DESTDIR)$(MANDIR)/man1/herokupq.1
	install -m 644 shim/man/herokupq.7 $(DESTDIR)$(MANDIR)/man7/herokupq.7

# uninstall also removes the directories install made, when left empty: herokupq's own and the
# man sections; under a DESTDIR (a staging root) every one up to the DESTDIR. Never, without a
# DESTDIR, a directory such as /usr/local/bin that other software shares.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
ifeq ($(DESTDIR),)
	rmdir --ignore-fail-on-non-empty $(LIBDIR) $(MANDIR)/man1 $(MANDIR)/man7 2>/dev/null || true
else
	if cd "$(DESTDIR)" 2>/dev/null; then for d in $(patsubst /%,%,$(dir $(INSTALLED))); do \
	    [ ! -d "$$d" ] || rmdir -p --ignore-fail-on-non-empty "$$d"; done; fi
endif

# The Debian package (Debian's tools: dpkg-buildflags, dpkg-shlibdeps, dpkg-deb), from the tree,
# built apart in build/deb-build with Debian's hardening flags.
DEB := $(BUILD)/herokupq_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null).deb
deb: $(DEB)
$(DEB): $(SHIM_SRC) $(CMD_SRC) $(wildcard shim/*.h shim/cmd/*.h shim/man/*) $(wildcard scripts/debian/*) \
        shim/exports.map.in LICENSE Makefile
	scripts/debian/build-deb.sh $(VERSION) $@

# Proof that an error under the ASan library, or under memcheck, fails the program
# (tests/integration/70-sanitizers.sh): the same probe with ASan and without.
$(BUILD)/asan/libprobe.so: tests/sanitizers/probe.c Makefile
	@mkdir -p $(@D)
	$(CC) -O1 -g $(ASAN_FLAGS) -std=gnu11 $(WARN) -shared -fPIC $< -o $@

$(BUILD)/sanitizers/libprobe.so: tests/sanitizers/probe.c Makefile
	@mkdir -p $(@D)
	$(CC) -O1 -g -std=gnu11 $(WARN) -shared -fPIC $< -o $@ -lpthread

# Unit tests link the pure parts against the system libpq and cmocka.
UNIT_SRC  := $(wildcard tests/unit/*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_SHIM := $(filter-out $(BUILD)/shim/entry.o,$(SHIM_OBJ))

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_SHIM) $(wildcard shim/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE $(WARN) $(DEPS_CFLAGS) -Ishim $< $(UNIT_SHIM) -o $@ \
	    $(shell pkg-config --libs libpq cmocka libcrypto) $(SHIM_LIBS)

# The proxy's PgBouncer configuration is pure too; it lives on the command's side.
$(BUILD)/tests/test_pgbouncer: tests/unit/test_pgbouncer.c shim/cmd/pgbouncer.c $(UNIT_SHIM) \
        $(wildcard shim/*.h shim/cmd/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE $(WARN) $(DEPS_CFLAGS) -Ishim $< shim/cmd/pgbouncer.c \
	    $(UNIT_SHIM) -o $@ $(shell pkg-config --libs libpq cmocka libcrypto) $(SHIM_LIBS)

# The tests' own libpq programs (linked normally, as any program is).
PROG_SRC := $(wildcard tests/progs/*.c)
PROG_BIN := $(PROG_SRC:tests/progs/%.c=$(BUILD)/progs/%)

$(BUILD)/progs/%: tests/progs/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE $(WARN) $(DEPS_CFLAGS) $< -o $@ \
	    $(shell pkg-config --libs libpq) -ldl -lpthread

# The same programs built with ASan and UBSan, for the suite's run against the ASan library
# (tests/integration/70-sanitizers.sh): an executable linked with -fsanitize=address has
# libasan as its first dependency, so ASan's malloc is the whole process's, the shim's
# included: heap blocks get red zones and LeakSanitizer sees every allocation.
ASAN_PROGS    := hpq_connect reset_client fork_client two_databases conninfo_reconnect cycles errno_client
ASAN_PROG_BIN := $(ASAN_PROGS:%=$(BUILD)/asan/progs/%)

$(BUILD)/asan/progs/%: tests/progs/%.c Makefile
	@mkdir -p $(@D)
	$(CC) -O1 -g $(ASAN_FLAGS) -std=gnu11 -D_GNU_SOURCE $(WARN) $(DEPS_CFLAGS) $< -o $@ \
	    $(shell pkg-config --libs libpq) -ldl -lpthread

# dlopen_client finds libpq only through dlopen: it must not link it.
$(BUILD)/progs/dlopen_client: tests/progs/dlopen_client.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE $(WARN) $(DEPS_CFLAGS) $< -o $@ -ldl

# The tests' own shared libraries (a constructor that connects).
TLIB_SRC := $(wildcard tests/libs/*.c)
TLIB_BIN := $(TLIB_SRC:tests/libs/%.c=$(BUILD)/libs/lib%.so)

$(BUILD)/libs/lib%.so: tests/libs/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE $(WARN) $(DEPS_CFLAGS) -shared -fPIC $< -o $@ \
	    $(shell pkg-config --libs libpq)

# libFuzzer targets (tests/fuzz/): clang with ASan and UBSan, linked with the
# shim's objects built the same way (a second set, under build/fuzz/).
FUZZ_CC     ?= clang
FUZZ_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
               -std=gnu11 -D_GNU_SOURCE $(filter-out -Wno-format-truncation,$(WARN)) $(DEPS_CFLAGS)
FUZZ_SHIM   := $(filter-out $(BUILD)/fuzz/shim/entry.o,$(SHIM_SRC:shim/%.c=$(BUILD)/fuzz/shim/%.o))
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 300
.SECONDARY: $(FUZZ_SHIM) $(BUILD)/fuzz/common.o

$(BUILD)/fuzz/shim/%.o: shim/%.c $(wildcard shim/*.h) Makefile
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -fPIC -c $< -o $@

$(BUILD)/fuzz/common.o: tests/fuzz/common.c tests/fuzz/fuzz.h Makefile
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/fuzz/common.o $(FUZZ_SHIM)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ishim $< $(BUILD)/fuzz/common.o $(FUZZ_SHIM) \
	    -o $@ $(shell pkg-config --libs libpq) $(SHIM_LIBS)

# Longer campaigns than the suite's 30-second smoke runs: FUZZ_SECONDS each.
fuzz:
	scripts/install-deps.sh --fuzz
	$(MAKE) --no-print-directory $(FUZZ_BIN)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN:$(BUILD)/fuzz/fuzz_%=%)

unit: $(UNIT_BIN) $(PROG_BIN)
	@for t in $(UNIT_BIN); do $$t || exit 1; done

# On a fresh machine `make test` first installs what it needs (nothing, if present).
# make test: every behaviour, in minutes. make check: make test, then the long runs
# (tests/run.sh --check: the 10,000-cycle soak, the suite again under ASan, valgrind,
# the fuzz smoke runs, the .deb and the minimal root), even when make test failed, so
# one run reports both; it fails if either did. Each ends with its own
# "N passed, N failed, N skipped" line; TESTFLAGS (default --times) go to tests/run.sh.
TESTFLAGS ?= --times
test:
	scripts/install-deps.sh --tests
	scripts/install-node-deps.sh
	$(MAKE) --no-print-directory test-build
	tests/run.sh $(TESTFLAGS)

check:
	@$(MAKE) --no-print-directory test; rc=$$?; \
	    echo; echo "make check: the long runs (make test: $$([ $$rc = 0 ] && echo passed || echo failed))"; \
	    tests/run.sh --check $(TESTFLAGS) && exit $$rc

test-build: $(LIB) $(ASAN_LIB) $(BUILD)/asan/libprobe.so $(BUILD)/sanitizers/libprobe.so $(ASAN_PROG_BIN) $(UNIT_BIN) $(PROG_BIN) $(TLIB_BIN) $(FUZZ_BIN) $(CMD)
	@tests/check_structure.py $(LIB) # the layers (README.md) and the loader calls

demo:
	scripts/demo.sh

# Benchmarks (not part of `make test`): bench/run.sh starts its own test
# environment and writes bench/results/ (git-ignored).
$(BUILD)/bench/warm: bench/warm.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=gnu11 -D_GNU_SOURCE $(WARN) $(DEPS_CFLAGS) $< -o $@ \
	    $(shell pkg-config --libs libpq)

bench:
	scripts/install-deps.sh --bench
	$(MAKE) --no-print-directory $(LIB) $(BUILD)/progs/hpq_connect $(BUILD)/bench/warm
	bench/run.sh

clean:
	rm -rf $(BUILD)

# The README's client table is a person's choice to refresh, from the last
# `make test` (which writes build/client-matrix.md and never touches README.md).
readme-matrix:
	@test -f $(BUILD)/client-matrix.md || { echo "run make test first" >&2; exit 1; }
	scripts/readme-matrix.sh README.md $(BUILD)/client-matrix.md
