/* tstream.c -- bodies that are too large to buffer, for the streaming
 * tests.  POST/PUT: read the whole body in chunks and answer its length
 * and CRC-32 ("LEN CRC\n").  POST/PUT with query "early": answer 413 at
 * once without reading the body.  GET with query "bytes=N": send N bytes
 * (byte i is i mod 256) in 64 KiB writes, length announced. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idgate/module.h"

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static int send_text(struct idg_request *req, int status, const char *text)
{
	req->ops->set_status(req, status);
	req->ops->set_length(req, (int64_t)strlen(text));
	return req->ops->write(req, text, strlen(text)) == 0 ? IDG_OK : IDG_ERROR;
}

static int digest_body(struct idg_request *req)
{
	unsigned char buf[65536];
	uint64_t total = 0;
	uint32_t crc = 0;
	ssize_t n;
	char out[64];

	while ((n = req->ops->read(req, buf, sizeof(buf))) > 0) {
		crc = crc_update(crc, buf, (size_t)n);
		total += (uint64_t)n;
	}
	if (n < 0)
		return IDG_ERROR;
	snprintf(out, sizeof(out), "%llu %u\n", (unsigned long long)total, crc);
	return send_text(req, 200, out);
}

static int generate(struct idg_request *req, uint64_t len)
{
	unsigned char buf[65536];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)i;
	req->ops->set_status(req, 200);
	req->ops->add_header(req, "Content-Type", "application/octet-stream");
	req->ops->set_length(req, (int64_t)len);
	while (len > 0) { /* 65536 is a multiple of 256: the pattern continues */
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		if (req->ops->write(req, buf, n) < 0)
			return IDG_ERROR;
		len -= n;
	}
	return IDG_OK;
}

static int tstream_init(const struct idg_init *ini, void **ctx)
{
	(void)ini;
	crc_init();
	*ctx = NULL;
	return 0;
}

static int tstream_handle(void *ctx, struct idg_request *req)
{
	(void)ctx;
	if (strcmp(req->method, "GET") == 0) {
		if (strncmp(req->query, "bytes=", 6) != 0)
			return 400;
		return generate(req, strtoull(req->query + 6, NULL, 10));
	}
	if (strcmp(req->query, "early") == 0)
		return send_text(req, 413, "too large, said without reading\n");
	return digest_body(req);
}

static const struct idg_key tstream_keys[] = { { NULL, 0, 0, NULL, NULL } };

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "tstream",
	.impersonation = IDG_IMPERSONATION_ALLOWED,
	.methods = IDG_METHOD_GET | IDG_METHOD_POST | IDG_METHOD_PUT,
	.keys = tstream_keys,
	.init = tstream_init,
	.handle = tstream_handle,
};
