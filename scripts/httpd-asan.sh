#!/bin/sh
# Starts Apache with AddressSanitizer's runtime loaded first, as a module
# built with -fsanitize=address needs (apache2 itself is not built with
# it).  Reports go to stderr, which is Apache's error log once it runs;
# scripts/test.sh fails the run when one appears there.  Leak checking is
# off here: the valgrind run in bench/README.md covers leaks.
LD_PRELOAD=$(gcc -print-file-name=libasan.so)
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:handle_segv=1:print_summary=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
exec /usr/sbin/apache2 "$@"
