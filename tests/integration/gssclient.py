#!/usr/bin/python3
"""gssclient.py -- a Negotiate client for the integration tests, built on
python3-gssapi, for what curl cannot do: keep a token to replay it, set
context flags, name another service, check the server's mutual-
authentication token, and run a SPNEGO exchange of two legs.

  token [--target HTTP@localhost] [--mech spnego|krb5] [--flags a,b]
        print one fresh base64 token
  get URL [--flags a,b] [--header 'Name: value']
        GET with a fresh token; print "STATUS" then "mutual ok" when the
        server's WWW-Authenticate token completes our context
  twoleg URL
  persist URL [--header 'Name: value']
        one connection: a request with a token, then one without (with
        the headers); print both statuses and the second answer's
        principal (or "-")
        send a SPNEGO NegTokenInit without a mechanism token (the server
        must answer 401 + Negotiate <token>), then the krb5 token in a
        NegTokenResp on the same connection; print both statuses and the
        body of the second answer
  rewrap TOKEN --form krb5|ms|longlen|apreq
        the AP-REQ of a SPNEGO token (base64) in another framing: a raw
        krb5 token, SPNEGO with Microsoft's krb5 OID, a non-minimal length,
        or bare

Credentials come from KRB5CCNAME, configuration from KRB5_CONFIG."""

import argparse
import base64
import http.client
import sys
import urllib.parse

import gssapi

SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
FLAGS = {
    "mutual": gssapi.RequirementFlag.mutual_authentication,
    "deleg": gssapi.RequirementFlag.delegate_to_peer,
    "identify": gssapi.RequirementFlag(0x2000),
    "anonymous": gssapi.RequirementFlag.anonymity,
    "integrity": gssapi.RequirementFlag.integrity,
}


def context(target, mech, flags, mutual=True):
    name = gssapi.Name(target, gssapi.NameType.hostbased_service)
    # (an empty list would mean python-gssapi's defaults, mutual included)
    req = [gssapi.RequirementFlag.mutual_authentication if mutual
           else gssapi.RequirementFlag.integrity]
    req += [FLAGS[f] for f in filter(None, (flags or "").split(","))]
    return gssapi.SecurityContext(name=name, usage="initiate",
                                  mech=SPNEGO if mech == "spnego" else KRB5, flags=req)


def b64(data):
    return base64.b64encode(data).decode()


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port), u.path or "/"


def server_token(resp):
    for name, value in resp.getheaders():
        if name.lower() == "www-authenticate" and value.startswith("Negotiate "):
            return base64.b64decode(value[len("Negotiate "):])
    return None


def cmd_token(a):
    print(b64(context(a.target, a.mech, a.flags).step()))


def cmd_get(a):
    ctx = context(a.target, a.mech, a.flags)
    conn, path = connect(a.url)
    headers = {"Authorization": "Negotiate " + b64(ctx.step())}
    for h in a.header or []:
        k, v = h.split(":", 1)
        headers[k.strip()] = v.strip()
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    print(resp.status)
    tok = server_token(resp)
    if tok is not None:
        ctx.step(tok)
        print("mutual ok" if ctx.complete else "mutual incomplete")
    sys.stdout.write(body.decode(errors="replace"))


def der(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        enc = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(enc)]) + enc
    return bytes([tag]) + length + content


def oid_der(dotted):
    return gssapi.OID.from_int_seq(dotted).__bytes__()


def cmd_twoleg(a):
    conn, path = connect(a.url)
    mech_types = der(0x30, der(0x06, oid_der("1.2.840.113554.1.2.2")))
    init = der(0x60, der(0x06, oid_der("1.3.6.1.5.5.2")) +
               der(0xA0, der(0x30, der(0xA0, mech_types))))
    conn.request("GET", path, headers={"Authorization": "Negotiate " + b64(init)})
    resp = conn.getresponse()
    resp.read()
    print(resp.status)
    if server_token(resp) is None:
        print("no continuation token")
        return
    ctx = context(a.target, "krb5", "", mutual=False)  # complete at once: it can sign
    krb5_token = ctx.step()
    mic = ctx.get_signature(mech_types)
    leg2 = der(0xA1, der(0x30, der(0xA2, der(0x04, krb5_token)) +
                     der(0xA3, der(0x04, mic))))
    conn.request("GET", path, headers={"Authorization": "Negotiate " + b64(leg2)})
    resp = conn.getresponse()
    body = resp.read()
    print(resp.status)
    sys.stdout.write(body.decode(errors="replace"))


KRB5_DER = bytes.fromhex("06092a864886f712010202")
KRB5_MS_DER = bytes.fromhex("06092a864882f712010202")
SPNEGO_DER = bytes.fromhex("06062b0601050502")


def der_tlv(buf, at):
    """(tag, content start, end) of the DER element at buf[at]."""
    n = buf[at + 1]
    if n < 0x80:
        return buf[at], at + 2, at + 2 + n
    k = n & 0x7F
    length = int.from_bytes(buf[at + 2:at + 2 + k], "big")
    return buf[at], at + 2 + k, at + 2 + k + length


def ap_req_of(token):
    """The AP-REQ of a SPNEGO token's krb5 mechanism token."""
    j = token.index(KRB5_DER + b"\x01\x00")
    for p in range(j - 2, max(j - 7, -1), -1):
        if token[p] == 0x60:
            _, start, end = der_tlv(token, p)
            if start == j:
                return token[j + len(KRB5_DER) + 2:end]
    raise SystemExit("no krb5 token in it")


def spnego_init(mech_der, inner):
    mech_types = der(0x30, mech_der)
    return der(0x60, SPNEGO_DER + der(0xA0, der(0x30, der(0xA0, mech_types) +
                                                 der(0xA2, der(0x04, inner)))))


def cmd_rewrap(a):
    """The same AP-REQ (the same authenticator) in another framing that MIT
    also accepts: a replay cache must not tell them apart."""
    ap_req = ap_req_of(base64.b64decode(a.url))
    if a.form == "krb5":  # a raw krb5 GSS token, no SPNEGO
        out = der(0x60, KRB5_DER + b"\x01\x00" + ap_req)
    elif a.form == "ms":  # Microsoft's krb5 OID, in SPNEGO
        out = spnego_init(KRB5_MS_DER, der(0x60, KRB5_MS_DER + b"\x01\x00" + ap_req))
    elif a.form == "longlen":  # the AP-REQ's length in a non-minimal long form
        _, start, end = der_tlv(ap_req, 0)
        body = ap_req[start:end]
        ap_req = bytes([ap_req[0], 0x84]) + len(body).to_bytes(4, "big") + body
        out = spnego_init(KRB5_DER, der(0x60, KRB5_DER + b"\x01\x00" + ap_req))
    else:  # "apreq": the bare AP-REQ
        out = ap_req
    print(b64(out))


def cmd_persist(a):
    ctx = context(a.target, a.mech, a.flags)
    conn, path = connect(a.url)
    conn.request("GET", path, headers={"Authorization": "Negotiate " + b64(ctx.step())})
    first = conn.getresponse()
    first.read()
    extra = dict(h.split(": ", 1) for h in (a.header or []))
    conn.request("GET", path, headers=extra)
    second = conn.getresponse()
    body = second.read()
    try:
        principal = __import__("json").loads(body)["principal"]
    except Exception:
        principal = "-"
    print(first.status, second.status, principal)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["token", "get", "twoleg", "persist", "rewrap"])
    p.add_argument("url", nargs="?")
    p.add_argument("--target", default="HTTP@localhost")
    p.add_argument("--mech", default="spnego", choices=["spnego", "krb5"])
    p.add_argument("--flags", default="")
    p.add_argument("--header", action="append")
    p.add_argument("--form", default="krb5", choices=["krb5", "ms", "longlen", "apreq"])
    a = p.parse_args()
    {"token": cmd_token, "get": cmd_get, "twoleg": cmd_twoleg, "persist": cmd_persist,
     "rewrap": cmd_rewrap}[a.cmd](a)


if __name__ == "__main__":
    main()
