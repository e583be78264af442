# proxyd — run ./configure first; it writes config.mk.
-include config.mk

ifeq ($(wildcard config.mk),)
$(error config.mk is missing: run ./configure first)
endif

VERSION    := 0.1.0
BUILDDIR   := build
ifeq ($(SANITIZE),1)
BUILDDIR   := build-san
endif

WARN       := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
              -Wno-unused-parameter -Wno-missing-field-initializers
OPT        := -O2 -g
ifeq ($(DEBUG),1)
OPT        := -O0 -g3
endif
SANFLAGS   :=
ifeq ($(SANITIZE),1)
SANFLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

CFLAGS_ALL := -std=gnu11 -D_GNU_SOURCE -pthread -Iinclude $(OPT) $(SANFLAGS) $(DEP_CFLAGS) \
              -DPROXYD_VERSION='"$(VERSION)"' $(USER_CFLAGS)
LDFLAGS_ALL:= -pthread $(SANFLAGS) $(USER_LDFLAGS)
# llhttp's generated C warns under -Wextra: it gets its own, quieter flags.
LLHTTP_CFLAGS := -std=gnu11 -O2 -g $(SANFLAGS) $(DEP_CFLAGS) -w

SRCS       := $(sort $(wildcard src/*.c))
OBJS       := $(SRCS:src/%.c=$(BUILDDIR)/%.o)
LIB_OBJS   := $(filter-out $(BUILDDIR)/main.o,$(OBJS))
LLHTTP_DIR := $(patsubst %/,%,$(dir $(firstword $(LLHTTP_SRCS))))
LLHTTP_OBJS:= $(patsubst %.c,$(BUILDDIR)/llhttp/%.o,$(notdir $(LLHTTP_SRCS)))

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILDDIR)/unit/%)

PREFIX     ?= /usr/local
# Where "make install" puts the systemd unit (a directory systemd reads
# for both /usr and /usr/local); empty: no unit.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# make V=1 shows the full command lines
Q          := $(if $(V),,@)
DESTDIR    ?=

.PHONY: all check unit e2e install uninstall clean distclean bench lb-bench bench-tls
all: proxyd

# config.mk too: switching between the plain and the sanitizer build keeps
# both object trees, and the one binary must follow the last configure.
proxyd: $(OBJS) $(LLHTTP_OBJS) config.mk
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(DEP_LIBS)
	@$(if $(Q),echo "  LD      $@")

$(BUILDDIR)/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) $(WARN) -MMD -MP -c $< -o $@
	@$(if $(Q),echo "  CC      $<")

$(BUILDDIR)/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LLHTTP_CFLAGS) -c $< -o $@
	@$(if $(Q),echo "  CC      $< (llhttp)")

$(BUILDDIR)/unit/%: tests/unit/%.c $(LIB_OBJS) $(LLHTTP_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) $(WARN) -Wno-missing-prototypes $(CMOCKA_CFLAGS) -MMD -MP -o $@ $< $(LIB_OBJS) $(LLHTTP_OBJS) \
		$(LDFLAGS_ALL) $(CMOCKA_LIBS) $(DEP_LIBS)
	@$(if $(Q),echo "  CCLD    $@")

unit-bins: $(UNIT_BINS)

# One runner for everything: unit binaries, end-to-end suites, examples.
check: proxyd $(UNIT_BINS)
	python3 tests/run_tests.py --bin ./proxyd --unit-dir $(BUILDDIR)/unit $(TESTFLAGS)

unit: $(UNIT_BINS)
	python3 tests/run_tests.py --bin ./proxyd --unit-dir $(BUILDDIR)/unit --only unit

e2e: proxyd
	python3 tests/run_tests.py --bin ./proxyd --only e2e $(TESTFLAGS)

bench: proxyd
	tests/bench/run-bench --proxyd ./proxyd $(BENCHFLAGS)

# Cost of a pick per balance algorithm (LBBENCHFLAGS="--callgrind" adds
# instruction counts, "--servers N" another backend size).
$(BUILDDIR)/lb_pick_bench: tests/bench/lb_pick_bench.c tests/unit/lb_fixture.h $(LIB_OBJS) $(LLHTTP_OBJS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) $(WARN) -Wno-missing-prototypes -Itests/unit -o $@ $< $(LIB_OBJS) $(LLHTTP_OBJS) \
		$(LDFLAGS_ALL) $(DEP_LIBS)
	@$(if $(Q),echo "  CCLD    $@")

lb-bench: $(BUILDDIR)/lb_pick_bench
	$(BUILDDIR)/lb_pick_bench $(LBBENCHFLAGS)
bench-tls: proxyd
	tests/bench/run-tls-bench --proxyd ./proxyd $(BENCHFLAGS)

install: proxyd
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 proxyd $(DESTDIR)$(PREFIX)/sbin/proxyd
	install -m 644 man/proxyd.1 $(DESTDIR)$(PREFIX)/share/man/man1/proxyd.1
	install -m 644 man/proxyd.cfg.5 $(DESTDIR)$(PREFIX)/share/man/man5/proxyd.cfg.5
# the unit names the binary where this install puts it (contrib/README)
	$(if $(SYSTEMDUNITDIR),install -d $(DESTDIR)$(SYSTEMDUNITDIR))
	$(if $(SYSTEMDUNITDIR),sed 's|/usr/sbin/proxyd|$(PREFIX)/sbin/proxyd|g' contrib/systemd/proxyd.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/proxyd.service && chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/proxyd.service)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/proxyd $(DESTDIR)$(PREFIX)/share/man/man1/proxyd.1 \
	      $(DESTDIR)$(PREFIX)/share/man/man5/proxyd.cfg.5
	$(if $(SYSTEMDUNITDIR),rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/proxyd.service)

clean:
	rm -rf build build-san proxyd

distclean: clean
	rm -f config.mk

-include $(OBJS:.o=.d) $(UNIT_BINS:=.d)
