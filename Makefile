# mod_payloadchat — build, run and test.  `make run` and `make test` are the
# two commands of the README; both install missing Debian packages first.

APXS     ?= apxs
PORT     ?= 8080
RUNDIR   ?= $(CURDIR)/run
CONF     ?=
CFLAGS_W  = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter
SAN      ?=
SRCS      = mod_payloadchat.c $(wildcard src/*.c)
HDRS      = $(wildcard src/*.h)
MODULE    = .libs/mod_payloadchat.so
LIBS      = -ljansson -lcrypto

# The sanitizer build the test command runs one pass with (see scripts/
# test.sh): its own copy of the sources, so the plain module stays.
ASAN_DIR   = build/asan
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer

# What the tests need beyond the service: PostgreSQL for the second backend,
# Chromium (and Node, when the machine has none) for the browser tests;
# python3-h2 drives HTTP/2 in t/sse/h2.t, openssl makes its certificate;
# fail2ban's fail2ban-regex checks the shipped filter (t/ops/fail2ban.t),
# curl scrapes the metrics (t/ops/metrics.t), Check runs the C unit tests.
UNIT_PKGS = check
TEST_PKGS = libapache2-mod-perl2 libwww-perl libjson-pp-perl \
            postgresql libaprutil1-dbd-pgsql chromium clang libclang-rt-14-dev \
            python3-h2 openssl fail2ban curl $(UNIT_PKGS) \
            $(if $(shell command -v node),,nodejs npm)

.PHONY: all deps deps-test build build-asan run test unit fuzz valgrind install uninstall deb deb-test clean format

all: build

deps:
	@sh scripts/deps.sh

deps-test:
	@sh scripts/deps.sh $(TEST_PKGS)
	@[ t/browser/node_modules/.package-lock.json -nt t/browser/package-lock.json ] \
	    || (cd t/browser && npm ci --no-audit --no-fund --loglevel=error)

build: $(MODULE)

$(MODULE): $(SRCS) $(HDRS) Makefile
	$(APXS) -c -o mod_payloadchat.la \
	    -Wc,"$(CFLAGS_W) $(SAN)" -Wl,"$(SAN)" -I src $(SRCS) $(LIBS)

build-asan: $(ASAN_DIR)/.libs/mod_payloadchat.so

$(ASAN_DIR)/.libs/mod_payloadchat.so: $(SRCS) $(HDRS) Makefile
	rm -rf $(ASAN_DIR)
	mkdir -p $(ASAN_DIR)/src
	cp mod_payloadchat.c $(ASAN_DIR)/
	cp $(SRCS:mod_payloadchat.c=) $(HDRS) $(ASAN_DIR)/src/
	cd $(ASAN_DIR) && $(APXS) -c -o mod_payloadchat.la \
	    -Wc,"$(CFLAGS_W) $(ASAN_FLAGS)" -Wl,"$(ASAN_FLAGS)" -I src \
	    $(SRCS) $(LIBS) >/dev/null

run: deps build
	@sh scripts/run.sh "$(PORT)" "$(RUNDIR)" "$(CONF)"

# The unit tests first: seconds, where the Apache suites take minutes.
test: deps-test unit build build-asan
	@sh scripts/test.sh

# The C unit tests (unit/, Check) under ASan and UBSan; fails on any
# failed test, sanitizer report or leak.
unit:
	@sh scripts/deps.sh $(UNIT_PKGS)
	@$(MAKE) -s -C unit run

# The fuzz targets, each for SECONDS (default 60), one after the other.
fuzz: deps-test
	$(MAKE) -C fuzz run SECONDS=$(or $(SECONDS),60)

# Apache with the module under valgrind memcheck, driven through every
# kind of request; fails on a memory error or a definite leak of ours.
valgrind: deps build
	@sh scripts/deps.sh valgrind
	@sh scripts/valgrind.sh

# The system Apache: the module, Debian's .load/.conf pair and the web
# client under $(SHAREDIR); `a2enmod payloadchat` then loads it.
SHAREDIR ?= /usr/share/payloadchat
LIBEXEC   = $(shell $(APXS) -q LIBEXECDIR)
SYSCONF   = $(shell $(APXS) -q SYSCONFDIR)

install: deps build
	$(APXS) -i -n payloadchat mod_payloadchat.la
	install -d $(DESTDIR)$(SYSCONF)/mods-available $(DESTDIR)$(SHAREDIR)/htdocs
	install -m 644 conf/payloadchat.load conf/payloadchat.conf \
	    $(DESTDIR)$(SYSCONF)/mods-available/
	install -m 644 htdocs/* $(DESTDIR)$(SHAREDIR)/htdocs/

# Undoes `make install` (the database, under /var/lib, is left alone).
uninstall:
	-a2dismod -q payloadchat 2>/dev/null
	rm -f $(DESTDIR)$(LIBEXEC)/mod_payloadchat.so \
	    $(DESTDIR)$(SYSCONF)/mods-available/payloadchat.load \
	    $(DESTDIR)$(SYSCONF)/mods-available/payloadchat.conf
	rm -rf $(DESTDIR)$(SHAREDIR)

# The Debian package libapache2-mod-payloadchat (debian/), built with
# debhelper and dh_apache2 (which apache2-dev ships) from a copy of the
# tree under $(DEB_DIR), so its clean step leaves the checkout alone.
DEB_PKGS = debhelper dpkg-dev apache2-dev libjansson-dev libssl-dev \
           libaprutil1-dev
DEB_DIR  = build/deb

deb:
	@sh scripts/deps.sh $(DEB_PKGS)
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/tree/src
	cp -r Makefile mod_payloadchat.c README.md conf docs htdocs debian \
	    $(DEB_DIR)/tree/
	cp src/*.c src/*.h $(DEB_DIR)/tree/src/
	cd $(DEB_DIR)/tree && dpkg-buildpackage -b -uc -us >../build.log 2>&1 \
	    || { tail -30 ../build.log; exit 1; }
	@ls $(DEB_DIR)/*.deb

# Installs the package into the system Apache, checks it serves, removes
# it and checks that the machine is as it was (scripts/deb-test.sh).
deb-test: deb
	@sh scripts/deb-test.sh $(DEB_DIR)/libapache2-mod-payloadchat_*.deb

format:
	clang-format -i mod_payloadchat.c src/*.c src/*.h

clean:
	rm -rf build .libs fuzz/out unit/out *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs
	rm -rf t/logs t/conf/apache_test_config.pm t/conf/extra.conf t/conf/httpd.conf
