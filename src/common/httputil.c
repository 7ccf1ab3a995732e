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

time_t http_date_parse(const char *s)
{
	char wd[4], mon[4], tz[4];
	int day, year, h, m, sec, n = 0;
	struct tm tm = { 0 };

	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", wd, &day, mon,
		   &year, &h, &m, &sec, tz, &n) != 8 || s[n] != '\0' || strcmp(tz, "GMT") != 0)
		return (time_t)-1;
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (strcmp(mon, months[i]) == 0)
			tm.tm_mon = i;
	if (tm.tm_mon < 0 || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60 || year < 1970)
		return (time_t)-1;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	return timegm(&tm);
}
