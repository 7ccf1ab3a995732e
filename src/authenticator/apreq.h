/* apreq.h -- the authenticator ciphertext of every Kerberos AP-REQ in a
 * Negotiate token, for a replay cache of our own.
 *
 * MIT krb5's replay cache keys an AP-REQ on a hash of its authenticator's
 * ciphertext (k5_rc_tag_from_ciphertext of req->authenticator.ciphertext).
 * To keep that cache in memory, the authenticator needs the same bytes from
 * the token before gss_accept_sec_context() sees it.  The token's framing
 * (SPNEGO NegTokenInit or NegTokenResp, a GSS krb5 or IAKERB token header,
 * NegoEx, none at all) is not walked: every offset where MIT's decoder
 * could start an AP-REQ is tried, so the one MIT decodes is found whatever
 * wraps it.  This holds because every MIT path hands decode_krb5_ap_req() a
 * contiguous slice of the token's bytes (the GSS header is stripped, SPNEGO
 * copies a primitive OCTET STRING, NegoEx points into its message); none
 * reassembles pieces.
 *
 * Security property: every AP-REQ that MIT krb5 1.20's decoder accepts, at
 * any offset of the token, is found, with the very ciphertext MIT keys on.
 * Finding more (a candidate MIT would refuse) is harmless: it only adds an
 * entry to the cache.  So the decoder below is at least as lenient as MIT's
 * on the path to the ciphertext (asn1_encode.c get_tag, decode_sequence,
 * decode_atype; asn1_k_encode.c ap_req, encrypted_data), and checks the
 * same thing where it must select the same field:
 *
 * - the same tag syntax: class, the constructed bit, a number of 5 bits or
 *   the high-tag-number form (accepted for any number, leading 0x80 bytes
 *   too), refused as MIT does above ASN1_TAGNUM_MAX (INT_MAX - 1);
 * - the same lengths: definite only (0x80 is refused), short form, long
 *   form of 1 to sizeof(size_t) bytes, not necessarily minimal; a length
 *   must fit in what its parent has left;
 * - the same path: [APPLICATION 14] (constructed: the only candidates are
 *   bytes 0x6e and 0x7f), a UNIVERSAL 16 inside it, a CONTEXT 4 element of
 *   that, a UNIVERSAL 16 inside it, a CONTEXT 2 element of that, a
 *   UNIVERSAL 4 that is primitive inside it (MIT refuses a constructed
 *   OCTET STRING): its contents are the ciphertext.
 *
 * What MIT checks and this decoder deliberately does not (each only
 * narrows what MIT accepts):
 * - krb5_rd_req's first-byte test (0x4e or 0x6e) -- the GSS acceptor calls
 *   decode_krb5_ap_req() directly, so 0x7f 0x0e is possible there;
 * - that an explicit tag's contents are exactly one element (rlen == 0);
 * - the constructed bit of the SEQUENCEs and explicit context tags;
 * - that the AP-REQ's elements are [0] pvno = 5, [1] msg-type = 14, [2]
 *   ap-options, [3] ticket, [4] in this order (so [4] is the fifth): every
 *   CONTEXT 4 element of the SEQUENCE, wherever it is, is taken;
 * - that EncryptedData starts with [0] etype, then [1] kvno or not, then
 *   [2]: every CONTEXT 2 element of it is taken;
 * - that the AP-REQ fits in the slice MIT was given (the GSS or SPNEGO
 *   contents): it is held to the end of the token, a looser bound.
 * MIT ignores what follows the fields it knows; so does this decoder.
 *
 * Cost: linear.  Each candidate is decoded in place, nothing is allocated,
 * and the bytes of tags and lengths read in all are limited to a multiple
 * of the token's size: a token built so that its candidates overlap and
 * re-read the same long high-tag-number runs (quadratic otherwise) is
 * given up on with APREQ_TOO_COSTLY, which a real client's token never
 * comes near. */
#ifndef IDGATE_APREQ_H
#define IDGATE_APREQ_H

#include <stddef.h>
#include <stdint.h>

/* What apreq_find returns when it gave up (see above): refuse the token,
 * as for any value above max. */
#define APREQ_TOO_COSTLY SIZE_MAX

struct apreq_cipher {
	const uint8_t *p; /* points into tok */
	size_t len;
};

/* The ciphertext of the authenticator of every AP-REQ that can be decoded
 * at any offset of tok[0..n), by offset, each span once.  Returns how many
 * there are; at most max are stored, and a return value > max tells the
 * caller there were more (the scan stops at max + 1) or that the token cost
 * too much to scan (APREQ_TOO_COSTLY).  No allocation, no global state. */
size_t apreq_find(const uint8_t *tok, size_t n, struct apreq_cipher *out, size_t max);

#endif
