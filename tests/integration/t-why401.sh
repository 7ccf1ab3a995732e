#!/bin/sh
# "Why 401?": every refused Negotiate token gets a reason that says what it
# means before krb5's own words -- NTLM sent inside Negotiate (a client
# without a Kerberos ticket for the name it uses), clock skew, a service
# whose key the keytab does not have (and which keys it has), a key
# version the keytab does not have (a rotated key) -- and idgated -d logs
# each step of an authentication.  idgated(8)'s TROUBLESHOOTING names
# every one of these reasons.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

G="$PY $top_srcdir/tests/integration/gssclient.py"
PORT=$(free_port)
B="http://localhost:$PORT"
U=idgt$$

realm_create "$T/kdc" || finish
realm_addprinc "${U}alice" pw-alice || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_addservice HTTP/otherhost "$T/other.keytab" || finish
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
KVNO=$(klist -k "$T/http.keytab" | awk '/HTTP\/localhost/ { print $1; exit }')
HAS="HTTP/localhost@$REALM kvno $KVNO"

cat >"$T/idgate.conf" <<CONF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
keytab = $T/http.keytab
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
CONF
IDG_ARGS=-d start_idgated "$T/idgate.conf" || finish

why() { # why NAME 'Authorization value' -> "STATUS reason"
	st=$(fetch "$1" "$B/who" -H "Authorization: $2")
	echo "$st $(audit "$1" 'j["reason"]')"
}
NTLM_WHY="negotiate: the client has no Kerberos ticket for this service and offered NTLM (idgate accepts Kerberos only: the client needs a ticket for HTTP/<the name it uses for this host>)"

# ---------------------------------------------------------------- NTLM in Negotiate
# an NTLMSSP NEGOTIATE_MESSAGE (type 1), as a client without a ticket sends it
TYPE1=TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==
check_eq "bare NTLM inside Negotiate: 401, and why" "401 $NTLM_WHY" "$(why n1 "Negotiate $TYPE1")"
# SPNEGO's NegTokenInit offering NTLM (1.3.6.1.4.1.311.2.2.10) and no Kerberos
SPNEGO_NTLM=$($PY - "$TYPE1" <<'PYEOF'
import base64, sys
def der(tag, body):
    n = len(body)
    ln = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255])
    return bytes([tag]) + ln + body
ntlm_oid = bytes.fromhex("060a2b0601040182370202 0a".replace(" ", ""))
init = der(0x30, der(0xa0, der(0x30, ntlm_oid)) + der(0xa2, der(0x04, base64.b64decode(sys.argv[1]))))
spnego_oid = bytes.fromhex("06062b0601050502")
print(base64.b64encode(der(0x60, spnego_oid + der(0xa0, init))).decode())
PYEOF
)
check_eq "SPNEGO offering NTLM only: 401, and why" "401 $NTLM_WHY" "$(why n2 "Negotiate $SPNEGO_NTLM")"
check_eq "the challenge still offers Negotiate" "Negotiate" "$(header n2 WWW-Authenticate)"

# ---------------------------------------------------------------- clock skew
KRB5CCNAME="$T/alice.cc"
export KRB5CCNAME
# the service ticket first, at the right time (the KDC checks clocks too);
# then an authenticator made 10 minutes ahead with it
$G token --target HTTP@localhost >/dev/null
SKEWED=$(faketime -f '+10m' $G token --target HTTP@localhost)
r=$(why s1 "Negotiate $SKEWED")
check_eq "a client 10 minutes ahead: 401" 401 "${r%% *}"
check_eq "the reason starts with what it means" \
	"clock skew: the client's clock and this server's differ by more than krb5 allows (clockskew, 300 s by default): check NTP on both; gss_accept_sec_context:" \
	"$(printf '%s' "${r#* }" | sed 's/\(gss_accept_sec_context:\).*/\1/')"
check_grep "then krb5's own words" "Clock skew too great" "$T/s1.audit"

# ---------------------------------------------------------------- the wrong service
r=$(why w1 "Negotiate $($G token --target HTTP@otherhost)")
check_eq "a ticket for another service: 401" 401 "${r%% *}"
check_eq "the reason says which keys this server has" \
	"wrong service: the client asked for a service whose key this server does not hold (the keytab has: $HAS); gss_accept_sec_context:" \
	"$(printf '%s' "${r#* }" | sed 's/\(gss_accept_sec_context:\).*/\1/')"
check_grep "then krb5's own words" "Request ticket server HTTP/otherhost@$REALM not found in keytab" \
	"$T/w1.audit"

# ---------------------------------------------------------------- a rotated key
# the KDC's key for HTTP/localhost changes (as adcli or a realm admin does);
# this keytab still has the old one
realm_admin "cpw -randkey HTTP/localhost@$REALM" || not_ok "cpw -randkey"
realm_kinit "${U}alice" pw-alice "$T/fresh.cc" || finish
KRB5CCNAME="$T/fresh.cc"
r=$(why k1 "Negotiate $($G token --target HTTP@localhost)")
check_eq "a ticket for a key version the keytab lacks: 401" 401 "${r%% *}"
check_eq "the reason says the keytab is out of date and what it has" \
	"kvno mismatch: the ticket is for a key version the keytab does not have -- the service's key changed; export the new one (the keytab has: $HAS); gss_accept_sec_context:" \
	"$(printf '%s' "${r#* }" | sed 's/\(gss_accept_sec_context:\).*/\1/')"

# ---------------------------------------------------------------- -d: every step
KRB5CCNAME="$T/alice.cc"
check_grep "-d: the kind of each token" "negotiate: a token of [0-9]+ bytes \\(NTLM\\)" "$IDG_LOG"
check_grep "-d: SPNEGO without Kerberos" "negotiate: a token of [0-9]+ bytes \\(SPNEGO without Kerberos\\)" "$IDG_LOG"
check_grep "-d: each refusal" "negotiate: refused: clock skew:" "$IDG_LOG"
check_no_grep "no token in the log" "Negotiate [A-Za-z0-9+/]{20}|TlRMTVNT" "$IDG_LOG"

# ---------------------------------------------------------------- the manual
for r in "offered NTLM" "clock skew" "wrong service" "kvno mismatch"; do
	check_grep "idgated(8) TROUBLESHOOTING explains '$r'" "$r" "$top_srcdir/man/idgated.8"
done
finish
