# strangler: top-level build.
#
#   make            build/ngx_http_strangler_module.so and build/cdc-bridge
#   make test       install what is missing, build, run every test
#   make demo       install what is missing, build, run the live demo
#   make demo-stop  stop the demo and remove its data
#   make bench      run the benchmarks in tests/bench/
#
# Every C file under cdc-bridge/ except main.c goes into build/libcdc.a, so a
# new file needs no edit here.  Unit tests are tests/unit/test_*.c, each
# linked against libcdc.a and cmocka, built with ASan and UBSan; the
# test-only programs tests/tools/*.c likewise, without cmocka.

CC      ?= cc
BUILD   ?= build
PKGS     = rdkafka libmariadb libpq jansson inih libmicrohttpd libzstd

WARN     = -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wformat=2 \
           -Wno-unused-parameter -Wno-format-nonliteral
CSTD     = -std=gnu11 -D_GNU_SOURCE
INCS     = -Iinclude -Icdc-bridge
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS     = $(PKG_LIBS) -lpthread -lm

OPT     ?= -O2 -g
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined

CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) $(INCS) $(PKG_CFLAGS) $(CFLAGS)

BRIDGE_SRCS := $(filter-out cdc-bridge/main.c, \
                 $(shell find cdc-bridge -name '*.c' 2>/dev/null | sort))
BRIDGE_HDRS := $(shell find cdc-bridge include -name '*.h' 2>/dev/null)
BRIDGE_OBJS := $(BRIDGE_SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_OBJS   := $(BRIDGE_SRCS:%.c=$(BUILD)/asan/obj/%.o)
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS   := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS   := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%)
MODULE_SRCS := $(wildcard ngx_strangler_module/*.c ngx_strangler_module/*.h \
                 ngx_strangler_module/config include/strangler/*.h)

.PHONY: all module bridge unit ctl deps test check demo demo-stop bench fuzz \
        style clean

all: module bridge unit ctl

module: $(BUILD)/ngx_http_strangler_module.so

$(BUILD)/ngx_http_strangler_module.so: $(MODULE_SRCS) auto/build-module
	auto/build-module $(BUILD)

bridge: $(BUILD)/cdc-bridge $(BUILD)/asan/cdc-bridge

# strangler-ctl: the operator's command (docs/operations.md)
CTL_SRCS := $(wildcard ngx_strangler_module/ctl/*.c)
CTL_HDRS := $(wildcard ngx_strangler_module/ctl/*.h) include/strangler/bucket.h \
            include/strangler/lagfile.h

ctl: $(BUILD)/strangler-ctl $(BUILD)/asan/strangler-ctl

$(BUILD)/strangler-ctl: $(CTL_SRCS) $(CTL_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) -Iinclude $(CFLAGS) -o $@ $(CTL_SRCS) \
	    -ljansson

$(BUILD)/asan/strangler-ctl: $(CTL_SRCS) $(CTL_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) $(SAN) -Iinclude $(CFLAGS) -o $@ \
	    $(CTL_SRCS) -ljansson

$(BUILD)/obj/%.o: %.c $(BRIDGE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/asan/obj/%.o: %.c $(BRIDGE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(SAN) -c -o $@ $<

$(BUILD)/libcdc.a: $(BRIDGE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/libcdc.a: $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/cdc-bridge: cdc-bridge/main.c $(BUILD)/libcdc.a $(BRIDGE_HDRS)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libcdc.a $(LIBS)

$(BUILD)/asan/cdc-bridge: cdc-bridge/main.c $(BUILD)/asan/libcdc.a \
                          $(BRIDGE_HDRS)
	$(CC) $(CFLAGS_ALL) $(SAN) -o $@ $< $(BUILD)/asan/libcdc.a $(LIBS)

unit: $(UNIT_BINS) $(TOOL_BINS)

# test-only programs the integration tests drive (not installed)
$(BUILD)/tests/tools/%: tests/tools/%.c $(BUILD)/asan/libcdc.a \
                        $(BRIDGE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(SAN) -o $@ $< $(BUILD)/asan/libcdc.a $(LIBS)

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

clean:
	rm -rf $(BUILD)
