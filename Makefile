# strangler: top-level build.
#
#   make            build/ngx_http_strangler_module.so and build/cdc-bridge
#                   (plus ASan and ThreadSanitizer builds for the tests)
#   make test       install what is missing, build, run every test
#   make demo       install what is missing, build, run the live demo
#   make demo-stop  stop the demo and remove its data
#   make bench      run the benchmarks in tests/bench/
#   make deb        Debian packages into build/deb/ (auto/build-deb)
#
# Every C file under cdc-bridge/ except main.c goes into build/libcdc.a, so a
# new file needs no edit here.  Unit tests are tests/unit/test_*.c, each
# linked against libcdc.a and cmocka, built with ASan and UBSan; the
# test-only programs tests/tools/*.c likewise, without cmocka.

CC      ?= cc
BUILD   ?= build
PKGS     = rdkafka libmariadb libpq jansson inih libmicrohttpd libzstd zlib

WARN     = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wformat=2 \
           -Wno-unused-parameter -Wno-format-nonliteral
CSTD     = -std=gnu11 -D_GNU_SOURCE
INCS     = -Iinclude -Icdc-bridge
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS     = $(PKG_LIBS) -lpthread -lm

# The one version (VERSION): cdc-bridge --version, strangler-ctl --version,
# the module's status JSON (ngx_strangler_module/config reads it) and the
# Debian packages (make deb).
STRANGLER_VERSION := $(shell cat VERSION)
VERSION_DEF = -DSTRANGLER_VERSION='"$(STRANGLER_VERSION)"'

OPT     ?= -O2 -g
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
# ThreadSanitizer build of the daemon (tests/integration/test_tsan.py)
TSAN     = -fsanitize=thread -fno-omit-frame-pointer

CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) $(INCS) $(PKG_CFLAGS) $(CFLAGS)

BRIDGE_SRCS := $(filter-out cdc-bridge/main.c, \
                 $(shell find cdc-bridge -name '*.c' 2>/dev/null | sort))
BRIDGE_HDRS := $(shell find cdc-bridge include -name '*.h' 2>/dev/null)
BRIDGE_OBJS := $(BRIDGE_SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_OBJS   := $(BRIDGE_SRCS:%.c=$(BUILD)/asan/obj/%.o)
TSAN_OBJS   := $(BRIDGE_SRCS:%.c=$(BUILD)/tsan/obj/%.o)
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS   := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS   := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%)
MODULE_SRCS := $(wildcard ngx_strangler_module/*.c ngx_strangler_module/*.h \
                 ngx_strangler_module/config include/strangler/*.h) VERSION

.PHONY: all module bridge unit ctl deps test check demo demo-stop bench fuzz \
        style clean deb

all: module bridge unit ctl

module: $(BUILD)/ngx_http_strangler_module.so

$(BUILD)/ngx_http_strangler_module.so: $(MODULE_SRCS) auto/build-module
	auto/build-module $(BUILD)

bridge: $(BUILD)/cdc-bridge $(BUILD)/asan/cdc-bridge $(BUILD)/tsan/cdc-bridge

# strangler-ctl: the operator's command (docs/operations.md)
CTL_SRCS := $(wildcard ngx_strangler_module/ctl/*.c)
CTL_HDRS := $(wildcard ngx_strangler_module/ctl/*.h) include/strangler/bucket.h \
            include/strangler/route_grammar.h \
            include/strangler/lagfile.h

ctl: $(BUILD)/strangler-ctl $(BUILD)/asan/strangler-ctl

$(BUILD)/strangler-ctl: $(CTL_SRCS) $(CTL_HDRS) VERSION
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) -Iinclude $(VERSION_DEF) $(CFLAGS) -o $@ \
	    $(CTL_SRCS) -ljansson

$(BUILD)/asan/strangler-ctl: $(CTL_SRCS) $(CTL_HDRS) VERSION
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) $(SAN) -Iinclude $(VERSION_DEF) \
	    $(CFLAGS) -o $@ $(CTL_SRCS) -ljansson

$(BUILD)/obj/%.o: %.c $(BRIDGE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/asan/obj/%.o: %.c $(BRIDGE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(SAN) -c -o $@ $<

$(BUILD)/tsan/obj/%.o: %.c $(BRIDGE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(TSAN) -c -o $@ $<

$(BUILD)/libcdc.a: $(BRIDGE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/libcdc.a: $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tsan/libcdc.a: $(TSAN_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# tests/tsan/c11threads.c: librdkafka's C11 threads, made visible to TSan
$(BUILD)/tsan/cdc-bridge: cdc-bridge/main.c $(BUILD)/tsan/libcdc.a \
                          tests/tsan/c11threads.c $(BRIDGE_HDRS) VERSION
	$(CC) $(CFLAGS_ALL) $(TSAN) $(VERSION_DEF) -o $@ $< \
	    tests/tsan/c11threads.c \
	    $(BUILD)/tsan/libcdc.a $(LIBS)

$(BUILD)/cdc-bridge: cdc-bridge/main.c $(BUILD)/libcdc.a $(BRIDGE_HDRS) VERSION
	$(CC) $(CFLAGS_ALL) $(VERSION_DEF) -o $@ $< $(BUILD)/libcdc.a $(LIBS)

$(BUILD)/asan/cdc-bridge: cdc-bridge/main.c $(BUILD)/asan/libcdc.a \
                          $(BRIDGE_HDRS) VERSION
	$(CC) $(CFLAGS_ALL) $(SAN) $(VERSION_DEF) -o $@ $< \
	    $(BUILD)/asan/libcdc.a $(LIBS)

unit: $(UNIT_BINS) $(TOOL_BINS) $(BUILD)/tests/libwalljump.so

# test-only programs the integration tests drive (not installed)
$(BUILD)/tests/tools/%: tests/tools/%.c $(BUILD)/asan/libcdc.a \
                        $(BRIDGE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(SAN) -o $@ $< $(BUILD)/asan/libcdc.a $(LIBS)

# an LD_PRELOAD that steps the wall clock (tests/integration/test_source_clock.py)
$(BUILD)/tests/libwalljump.so: tests/lib/walljump.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) -fPIC -shared -o $@ $< -ldl

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/asan/libcdc.a $(BRIDGE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(SAN) -o $@ $< $(BUILD)/asan/libcdc.a \
	    $(LIBS) -lcmocka

deps:
	@auto/deps

# The one test command: README and .ci/run use exactly this.
test: deps
	@$(MAKE) --no-print-directory -j2 style all
	@tests/run

check: test

style:
	@auto/style-check

demo: deps
	@$(MAKE) --no-print-directory -j2 all
	@auto/demo start

demo-stop:
	@auto/demo stop

bench: deps
	@$(MAKE) --no-print-directory -j2 all
	@tests/bench/run

fuzz: deps
	@tests/fuzz/run

# from a clean copy of the tree, in a temporary directory: only build/deb/
# changes here
deb: deps
	@auto/build-deb $(BUILD)

clean:
	rm -rf $(BUILD)
