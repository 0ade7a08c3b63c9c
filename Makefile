# nseg: nsegd (daemon) and nsegctl (CLI).
#
#   make                build into $(BUILD) (default build/)
#   sudo make check     install missing Debian packages, unit tests, each
#                       fuzz target for a short time, integration tests,
#                       then unit + integration again under ASan+UBSan
#   make fuzz           every fuzz target for FUZZ_SECONDS (default 60)
#   sudo make demo      build, install what is missing, run the demo
#   make bench          benchmarks (measure, never pass/fail)
#   make soak           10 minutes of enforcement under load (SOAK_SECONDS)
#   make install        PREFIX=/usr/local DESTDIR=
#   make SANITIZER=address,undefined   sanitizer build (into build-san/)
#   make V=1            show commands

PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
BINDIR    ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/nseg
UNITDIR   ?= /lib/systemd/system
SYSCONFDIR ?= /etc

CC        ?= cc
SANITIZER ?=
ifeq ($(SANITIZER),)
BUILD     ?= build
else
BUILD     ?= build-san
endif

PKGS      := libnftnl libmnl libnetfilter_queue jansson yaml-0.1 sqlite3 libpcap
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wpointer-arith -Wcast-qual \
             -Wno-unused-parameter
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -MMD -MP
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifneq ($(SANITIZER),)
CFLAGS    += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS   += -fsanitize=$(SANITIZER)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Everything but the two main()s goes into one archive: each binary and
# each unit test links against it and pulls in only the objects it uses.
LIB_SRC   := $(wildcard lib/*.c learner/*.c policies/*.c capture/*.c) \
             $(filter-out enforcer/main.c,$(wildcard enforcer/*.c))
CLI_SRC   := $(wildcard cli/*.c)
HOOK      := $(BUILD)/nseg-oci-hook
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_FIXTURE := $(wildcard tests/unit/fixture_*.c)
HELPER_SRC := $(wildcard tests/helpers/*.c)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_LIB := $(wildcard bench/lib/*.c)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(BUILD)/tests/helpers/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/replay/%)
LIBNSEG   := $(BUILD)/libnseg.a

NSEGD     := $(BUILD)/nsegd
NSEGCTL   := $(BUILD)/nsegctl

.PHONY: all check check-unit check-integration check-san deps demo bench soak \
        install uninstall clean format format-check fuzz fuzz-build \
        fuzz-build-if-available

all: $(NSEGD) $(NSEGCTL) $(HOOK) $(HELPER_BIN) $(BENCH_BIN) $(REPLAY_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIBNSEG): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(NSEGD): $(BUILD)/enforcer/main.o $(LIBNSEG)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(NSEGCTL): $(CLI_OBJ) $(LIBNSEG)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(HOOK): $(BUILD)/hooks/nseg-oci-hook.o $(LIBNSEG)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Fixtures shared by unit tests (tests/unit/fixture_*.c) link into each.
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o \
		$(UNIT_FIXTURE:%.c=$(BUILD)/%.o) $(LIBNSEG)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

$(BUILD)/tests/helpers/%: $(BUILD)/tests/helpers/%.o $(LIBNSEG)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Fuzz targets linked with a plain main() that replays the seed corpus.
$(BUILD)/tests/replay/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay.o $(LIBNSEG)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer targets (clang), one per parser: build/fuzz/fuzz_NAME, linked
# against the library compiled once more with coverage and ASan+UBSan
# (warnings not fatal: -Werror is the gcc build's job; clang also flags
# the kernel headers' NLMSG_* casts and a GNU struct extension we use).
# `make fuzz` runs each for FUZZ_SECONDS on tests/fuzz/corpus/NAME (see
# tests/fuzz/run.sh); `make check` runs each for a short time.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=gnu11 $(filter-out -Werror -Wcast-qual,$(WARN)) \
	-Wno-gnu-variable-sized-type-not-at-end -D_GNU_SOURCE -Iinclude \
	-g -O1 -MMD -MP -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_LIB     := $(FUZZ_DIR)/libnseg.a

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

# For `make check`: the targets when clang has libFuzzer, else a note
# (tests/run.sh then reports the fuzz step as skipped).
fuzz-build-if-available:
	$(Q)if printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' | \
	    $(FUZZ_CC) -fsanitize=fuzzer -x c - -o /dev/null >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory -j$$(nproc) fuzz-build; \
	else \
		rm -f $(FUZZ_BIN); \
		echo "fuzz: $(FUZZ_CC) cannot link -fsanitize=fuzzer (libFuzzer):" \
		     "the fuzz step of make check is skipped (scripts/deps.sh installs clang)"; \
	fi

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BENCH_LIB:%.c=$(BUILD)/%.o) $(LIBNSEG)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread

# Installs the Debian packages the build, tests and demo need, only when
# one is missing (so a prepared machine never touches the network).
deps:
	$(Q)scripts/deps.sh

check: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BIN)
	$(Q)$(MAKE) --no-print-directory fuzz-build-if-available
	$(Q)tests/run.sh $(BUILD)
	$(Q)$(MAKE) --no-print-directory check-san

# The whole suite once more under AddressSanitizer + UBSan (but for the
# fuzzers, which ran under them already).
check-san:
	$(Q)$(MAKE) --no-print-directory SANITIZER=address,undefined all \
		$(UNIT_SRC:tests/unit/%.c=build-san/tests/%)
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    tests/run.sh build-san unit integration

check-unit: all $(UNIT_BIN)
	$(Q)tests/run.sh $(BUILD) unit

check-integration: all
	$(Q)tests/run.sh $(BUILD) integration

demo: deps all
	$(Q)demo/demo.sh $(BUILD)

bench: deps all
	$(Q)bench/run.sh $(BUILD)

# A 10-minute soak (SOAK_SECONDS): not part of check.
soak: deps all
	$(Q)bench/soak.sh $(BUILD)

HOOKSDIR  ?= /usr/share/containers/oci/hooks.d

install: $(NSEGD) $(NSEGCTL) $(HOOK)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $(NSEGD) $(DESTDIR)$(SBINDIR)/nsegd
	install -m 0755 $(NSEGCTL) $(DESTDIR)$(BINDIR)/nsegctl
	install -m 0755 $(HOOK) $(DESTDIR)$(LIBEXECDIR)/nseg-oci-hook
	install -d $(DESTDIR)$(HOOKSDIR)
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' contrib/oci/nseg-hook.json.in \
		> $(DESTDIR)$(HOOKSDIR)/nseg.json
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' contrib/systemd/nsegd.service.in \
		> $(DESTDIR)$(UNITDIR)/nsegd.service
	install -d $(DESTDIR)$(SYSCONFDIR)/nseg
	install -m 0644 contrib/nsegd.yaml $(DESTDIR)$(SYSCONFDIR)/nseg/nsegd.yaml.example

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/nsegd $(DESTDIR)$(BINDIR)/nsegctl \
	      $(DESTDIR)$(LIBEXECDIR)/nseg-oci-hook $(DESTDIR)$(HOOKSDIR)/nseg.json \
	      $(DESTDIR)$(UNITDIR)/nsegd.service \
	      $(DESTDIR)$(SYSCONFDIR)/nseg/nsegd.yaml.example

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san

# Keep objects of test and helper programs (make deletes intermediates).
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
