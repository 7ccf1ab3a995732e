/* static_mime.h -- Content-Type by file extension. */
#ifndef IDGATE_STATIC_MIME_H
#define IDGATE_STATIC_MIME_H

/* The media type for a file name; application/octet-stream if unknown. */
const char *static_mime_type(const char *name);

#endif
