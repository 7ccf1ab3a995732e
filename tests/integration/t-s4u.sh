#!/bin/sh
# Constrained delegation through the proxy (s4u2proxy = true), against a
# realm whose KDC can authorize it (MIT with an LDAP KDB, OpenLDAP in a
# temporary directory): the gateway, HTTP/localhost, may delegate to
# HTTP/backend.test and nowhere else.  The caller does not delegate
# anything (curl --delegation none); the second idgated behind the proxy
# sees the caller's principal all the same.  A target the realm does not
# allow is refused by the KDC, and an identification-level caller gets no
# proxy credential at all.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
PORT2=$(free_port)
B="http://localhost:$PORT"
U=idgt$$

REALM_LDAP=1 realm_create "$T/kdc" || finish
realm_addprinc "${U}alice" pw-alice || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_addservice HTTP/backend.test "$T/backend.keytab" || finish
realm_addservice HTTP/other.test "$T/other.keytab" || finish
realm_allow_delegation HTTP/localhost HTTP/backend.test || finish
add_user "${U}alice"
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
PRINC="${U}alice@$REALM"

mkdir -p "$T/modules" "$T/b2"
cp "$MODULES_DIR/whoami.so" "$MODULES_DIR/proxy.so" "$TESTMODS_DIR/tcreds.so" "$T/modules/"
cat "$T/other.keytab" >/dev/null
# the backend: a second idgated with both services' keys
ktutil >/dev/null 2>&1 <<EOF
rkt $T/backend.keytab
rkt $T/other.keytab
wkt $T/b2/keys.keytab
EOF
cat >"$T/b2/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT2
user = idgate
keytab = $T/b2/keys.keytab
pam_service =
audit_log = $T/b2/audit.jsonl
modules_dir = $T/modules
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
EOF
start_backend_idgated "$T/b2/idgate.conf" "$T/b2/idgated.log" || finish

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run2
replay_cache_dir = $T/run2/rcache
listen = 127.0.0.1:$PORT
user = idgate
keytab = $T/http.keytab
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $T/modules
[pool default]
user = nobody
group = nogroup
[vdir /s4u]
handler = proxy
backend = http://localhost:$PORT2/
backend_auth = negotiate
backend_service = HTTP@backend.test
s4u2proxy = true
[vdir /s4u-other]
handler = proxy
backend = http://localhost:$PORT2/
backend_auth = negotiate
backend_service = HTTP@other.test
s4u2proxy = true
[vdir /creds]
handler = tcreds
target = HTTP@backend.test
EOF
start_idgated "$T/idgate.conf" || finish

neg() { n=$1; url=$2; shift 2; KRB5CCNAME="$T/alice.cc" fetch "$n" "$url" --negotiate -u : "$@"; }

check_eq "constrained delegation, nothing delegated by the client: 200" 200 \
	"$(neg s1 "$B/s4u/who" --delegation none)"
check_eq "the backend sees the caller's principal" "$PRINC" "$(json "$T/s1.body" 'j["principal"]')"
# the backend (an idgated) answered with an X-Request-Id of its own: the
# client gets one, the gateway's, which names the gateway's audit line
check_eq "one X-Request-Id in the answer, the gateway's" "1 $(header s1 X-Request-Id)" \
	"$(grep -ci '^x-request-id:' "$T/s1.hdr") $(audit s1 'j["request_id"]')"
check_eq "the gateway's audit: level impersonation, no delegation" impersonation \
	"$(audit s1 'j["level"]')"
check_eq "the KDC granted it as constrained delegation" 1 \
	"$(grep -c "CONSTRAINED-DELEGATION s4u-client=$PRINC" "$T/kdc/kdc.log")"
check_eq "a target the realm does not allow: 502" 502 "$(neg s2 "$B/s4u-other/who" --delegation none)"
audit s2 'j["reason"]' >"$T/s2.reason"
check_grep "the KDC's refusal is the reason (the front end asked: the keys are there)" \
	"^s4u2proxy: .*KDC can't fulfill requested option \(to HTTP@other.test\)$" \
	"$T/s2.reason"
check_eq "identification only: no proxy credential, 403" 403 \
	"$(neg s3 "$B/s4u/who" --delegation none -H 'Allowed-Impersonation-Level: identification')"
check_eq "refusal reason" \
	"proxy: http://localhost:$PORT2/: s4u2proxy: no evidence of the caller to delegate with (level identification; a ticket that is not forwardable gives none)" \
	"$(audit s3 'j["reason"]')"
check_eq "the backend saw exactly the allowed request" 1 "$(grep -c '"status":200' "$T/b2/audit.jsonl")"

# what the pool worker is given: the caller's ticket to the target, and
# nothing else -- above all not the gateway's TGT (krbtgt/), with which
# code in the pool could get tickets to any service as the gateway
# (MIT caches the ticket under the name asked for, whose realm is empty
# until the KDC's referral answers it)
check_eq "the worker holds only the caller's ticket to the target" \
	"{'$PRINC -> HTTP/backend.test'}" \
	"$(neg c1 "$B/creds" --delegation none >/dev/null; json "$T/c1.body" 'set(t.rsplit("@", 1)[0] for t in j["tickets"])')"
check_no_grep "no krbtgt/ among them" "krbtgt/" "$T/c1.body"
finish
