/* hello.c -- the smallest CGI program: what bench/run measures with it is
 * the cost of starting a program for a request (spawn, drop, exec), not
 * the cost of a shell. */
#include <unistd.h>

int main(void)
{
	static const char out[] = "Content-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";

	return write(1, out, sizeof(out) - 1) == (ssize_t)sizeof(out) - 1 ? 0 : 1;
}
