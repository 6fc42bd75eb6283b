# mod_payloadchat — build, run and test.  `make run` and `make test` are the
# two commands of the README; both install missing Debian packages first.

APXS     ?= apxs
PORT     ?= 8080
RUNDIR   ?= $(CURDIR)/run
CFLAGS_W  = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter
SAN      ?=
SRCS      = mod_payloadchat.c $(wildcard src/*.c)
HDRS      = $(wildcard src/*.h)
MODULE    = .libs/mod_payloadchat.so
LIBS      = -ljansson -lcrypto

# What the tests need beyond the service: PostgreSQL for the second backend.
TEST_PKGS = postgresql libaprutil1-dbd-pgsql

.PHONY: all deps deps-test build run test install clean format

all: build

deps:
	@sh scripts/deps.sh

deps-test:
	@sh scripts/deps.sh $(TEST_PKGS)

build: $(MODULE)

$(MODULE): $(SRCS) $(HDRS) Makefile
	$(APXS) -c -o mod_payloadchat.la \
	    -Wc,"$(CFLAGS_W) $(SAN)" -Wl,"$(SAN)" -I src $(SRCS) $(LIBS)

run: deps build
	@sh scripts/run.sh "$(PORT)" "$(RUNDIR)"

test: deps-test build
	@sh scripts/test.sh

install: deps build
	$(APXS) -i -n payloadchat $(MODULE)
	install -m 644 conf/payloadchat.load conf/payloadchat.conf \
	    $$($(APXS) -q SYSCONFDIR)/mods-available/

format:
	clang-format -i mod_payloadchat.c src/*.c src/*.h

clean:
	rm -rf .libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs
	rm -rf t/logs t/conf/apache_test_config.pm t/conf/extra.conf t/conf/httpd.conf
