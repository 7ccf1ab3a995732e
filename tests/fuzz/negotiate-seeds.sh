#!/bin/sh
# tests/fuzz/negotiate-seeds.sh -- make the seed tokens of fuzz_negotiate
# (corpus/negotiate) with a throwaway realm FUZZ.TEST (scripts/realm.sh):
# the service HTTP/fuzz.test gets its key from the password the target
# derives its keytab from; alice asks for tickets to it (and to a service
# the target has no key for) through SPNEGO and raw Kerberos, with and
# without mutual authentication and delegation.  The target's krb5.conf
# allows a clock skew of ten years, so the tokens stay valid that long.
# Each seed is fuzz_negotiate's input: a flag byte (1: raw bytes the target
# encodes, 0: the base64 text as sent), then the token as one leg (a
# 16-bit big-endian length, the bytes; fuzz.h).  Run as root on Debian 12
# (krb5-kdc, python3-gssapi); writes only the corpus directory (or DIR)
# and a temporary directory.  Usage: negotiate-seeds.sh [DIR]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/tests/fuzz/corpus/negotiate}
tmp=$(mktemp -d)
. "$top/scripts/realm.sh"
trap 'realm_stop; rm -rf "$tmp"' EXIT
realm_create "$tmp/realm" FUZZ.TEST
realm_admin "addprinc -pw idgate-fuzz-only HTTP/fuzz.test@FUZZ.TEST"
realm_admin "addprinc -pw other-only HTTP/other.test@FUZZ.TEST"
realm_addprinc alice alice-pw
realm_kinit alice alice-pw "$tmp/cc" -f
mkdir -p "$out"
KRB5CCNAME=$tmp/cc /usr/bin/python3 - "$out" <<'PY'
import base64, gssapi, os, sys
out = sys.argv[1]
spnego = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
krb5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
F = gssapi.RequirementFlag
for host in ("fuzz.test", "other.test"):
    name = gssapi.Name("HTTP@" + host, gssapi.NameType.hostbased_service)
    for mname, mech in (("spnego", spnego), ("krb5", krb5)):
        for fname, flags in (("plain", []), ("mutual", [F.mutual_authentication]),
                             ("deleg", [F.mutual_authentication, F.delegate_to_peer])):
            if host != "fuzz.test" and fname != "plain":
                continue
            ctx = gssapi.SecurityContext(name=name, usage="initiate", mech=mech, flags=flags)
            tok = ctx.step()
            base = "%s-%s-%s" % (host.split(".")[0], mname, fname)
            # raw: flag byte 1, the token as a leg
            with open(os.path.join(out, base + "-raw"), "wb") as f:
                f.write(bytes([1]) + len(tok).to_bytes(2, "big") + tok)
            # as sent: flag byte 0, the base64 text as a leg
            text = base64.b64encode(tok)
            with open(os.path.join(out, base + "-b64"), "wb") as f:
                f.write(bytes([0]) + len(text).to_bytes(2, "big") + text)
PY
ls "$out"
