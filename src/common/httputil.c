/* httputil.c -- small HTTP helpers shared by the daemon and modules. */
#include "httputil.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sbuf.h"

bool http_hop_by_hop(const char *name)
{
	static const char *const hop[] = { "Connection", "Keep-Alive", "Proxy-Connection", "TE",
					   "Trailer", "Transfer-Encoding", "Upgrade" };

	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (strcasecmp(name, hop[i]) == 0)
			return true;
	return false;
}

bool http_gateway_owned(const char *name)
{
	/* X-Request-Id: every answer names its own audit line; a backend
	 * behind the proxy has its own id, and a handler none to give */
	return http_hop_by_hop(name) || strcasecmp(name, "Content-Length") == 0 ||
	       strcasecmp(name, "Date") == 0 || strcasecmp(name, "X-Request-Id") == 0;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 507: return "Insufficient Storage";
	default: return "Error";
	}
}

char *http_error_body(int status, const char *detail, size_t *len)
{
	struct sbuf b;

	sb_init(&b);
	sb_printf(&b, "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
		  "<body><h1>%d %s</h1>\n", status, http_reason(status), status,
		  http_reason(status));
	if (detail && *detail) {
		sb_puts(&b, "<p>");
		sb_html(&b, detail);
		sb_puts(&b, "</p>\n");
	}
	sb_puts(&b, "</body></html>\n");
	*len = b.len;
	return b.s;
}

static const char wdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

void http_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The n digits at s as a number, or -1 unless all n are digits. */
static int fixed_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Which of the n three-letter names s starts with, or -1. */
static int name_index(const char *s, const char (*names)[4], int n)
{
	for (int i = 0; i < n; i++)
		if (strncmp(s, names[i], 3) == 0)
			return i;
	return -1;
}

static int days_in(int mon, int year)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 1 && leap ? 29 : days[mon];
}

/* An IMF-fixdate (RFC 9110 5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT", and
 * nothing else: fixed widths, digits only, every field in range and a day
 * its month has (sscanf took signs, blanks and single digits, and timegm()
 * made 29 Feb 2005 into 1 Mar).  A date that names no time is no date. */
time_t http_date_parse(const char *s)
{
	struct tm tm = { 0 };

	if (strlen(s) != 29 || strncmp(s + 3, ", ", 2) != 0 || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0 ||
	    name_index(s, wdays, 7) < 0)
		return (time_t)-1;
	tm.tm_mday = fixed_digits(s + 5, 2);
	tm.tm_mon = name_index(s + 8, months, 12);
	tm.tm_year = fixed_digits(s + 12, 4);
	tm.tm_hour = fixed_digits(s + 17, 2);
	tm.tm_min = fixed_digits(s + 20, 2);
	tm.tm_sec = fixed_digits(s + 23, 2);
	if (tm.tm_mon < 0 || tm.tm_year < 1970 || tm.tm_mday < 1 ||
	    tm.tm_mday > days_in(tm.tm_mon, tm.tm_year) || tm.tm_hour < 0 || tm.tm_hour > 23 ||
	    tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return (time_t)-1;
	tm.tm_year -= 1900;
	return timegm(&tm);
}
