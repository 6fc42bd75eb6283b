# The module's files that build outside Apache, the stubs that stand in for
# httpd there, and how to compile and link them: shared by the fuzz targets
# (fuzz/Makefile) and the unit tests (unit/Makefile), both one directory
# below the top, so these paths hold for both.
SRC      = ../src
# the parsers and what they call, not the store (no database, no libpq)
MODULE_C = $(SRC)/pchat_query.c $(SRC)/pchat_sql.c $(SRC)/pchat_json.c \
           $(SRC)/pchat_collections.c $(SRC)/pchat_http.c $(SRC)/pchat_time.c \
           $(SRC)/pchat_validate.c $(SRC)/pchat_jwt.c $(SRC)/pchat_config.c \
           $(SRC)/pchat_dialect.c
STUBS_C  = ../fuzz/stubs.c ../fuzz/unreached.c
MODULE_H = $(wildcard $(SRC)/*.h)
HTTPD_CFLAGS = -std=c11 -D_GNU_SOURCE -I$(SRC) \
           $(shell apxs -q CFLAGS) -I$(shell apxs -q INCLUDEDIR) \
           $(shell apr-1-config --includes) $(shell apu-1-config --includes)
MODULE_LIBS = -lapr-1 -laprutil-1 -ljansson -lcrypto
