/* ISO-8601 dates.  apr-util parses RFC 822/1123 dates only, so the small
 * strict ISO reader lives here; formatting goes through apr_time_exp_gmt. */
#include <ctype.h>
#include <stdio.h>
#include "apr_lib.h"
#include "apr_strings.h"
#include "pchat_time.h"

apr_int64_t pchat_now_ms(void)
{
    return apr_time_as_msec(apr_time_now());
}

void pchat_time_format(char *buf, apr_int64_t ms)
{
    apr_time_exp_t t;
    apr_int64_t sec = ms / 1000, rem = ms % 1000;
    char tmp[64];

    if (rem < 0) {
        rem += 1000;
        sec -= 1;
    }
    apr_time_exp_gmt(&t, apr_time_from_sec(sec));
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             (t.tm_year + 1900) % 10000, t.tm_mon + 1, t.tm_mday,
             t.tm_hour, t.tm_min, t.tm_sec, (int)rem);
    apr_cpystrn(buf, tmp, PCHAT_ISO_LEN);
}

/* Reads exactly n digits. */
static int read_digits(const char **p, int n, int *out)
{
    int v = 0;

    while (n--) {
        if (!apr_isdigit(**p)) {
            return -1;
        }
        v = v * 10 + (*(*p)++ - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to the civil date (proleptic Gregorian). */
static apr_int64_t days_from_civil(int y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 ? 28 + leap : days[m - 1];
}

static int read_time_of_day(const char **p, int *hh, int *mi, int *ss,
                            int *msec)
{
    if (read_digits(p, 2, hh) || *(*p)++ != ':' || read_digits(p, 2, mi)) {
        return -1;
    }
    if (**p == ':') {
        (*p)++;
        if (read_digits(p, 2, ss)) {
            return -1;
        }
        if (**p == '.') {
            int scale = 100, digits = 0;
            (*p)++;
            while (apr_isdigit(**p)) {
                *msec += (**p - '0') * scale;
                scale /= 10;
                (*p)++;
                digits++;
            }
            if (!digits) {
                return -1;
            }
        }
    }
    return (*hh > 23 || *mi > 59 || *ss > 59) ? -1 : 0;
}

static int read_zone(const char **p, int *offset_min)
{
    int oh, om, sign;

    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        return 0;
    }
    if (**p != '+' && **p != '-') {
        return 0; /* no zone: UTC, as the stored values are */
    }
    sign = *(*p)++ == '-' ? -1 : 1;
    if (read_digits(p, 2, &oh)) {
        return -1;
    }
    if (**p == ':') {
        (*p)++;
    }
    if (read_digits(p, 2, &om) || oh > 23 || om > 59) {
        return -1;
    }
    *offset_min = sign * (oh * 60 + om);
    return 0;
}

int pchat_time_parse(const char *text, apr_int64_t *ms)
{
    const char *p = text;
    int y, m, d, hh = 0, mi = 0, ss = 0, msec = 0, offset = 0;

    if (!p || read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &m)
        || *p++ != '-' || read_digits(&p, 2, &d)
        || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        return -1;
    }
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (read_time_of_day(&p, &hh, &mi, &ss, &msec)
            || read_zone(&p, &offset)) {
            return -1;
        }
    }
    if (*p) {
        return -1;
    }
    *ms = ((days_from_civil(y, m, d) * 24 + hh) * 60 + mi - offset) * 60000
          + ss * 1000 + msec;
    /* In UTC the year must still have four digits, or it comes back as
     * text no ISO reader (JavaScript's Date) accepts. */
    if (*ms < days_from_civil(1, 1, 1) * 86400000
        || *ms >= days_from_civil(10000, 1, 1) * 86400000) {
        return -1;
    }
    return 0;
}
