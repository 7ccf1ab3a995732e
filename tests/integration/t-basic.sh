#!/bin/sh
# Basic through PAM, only on a TLS listener: both challenges on TLS, only
# Negotiate on plain HTTP, a right and a wrong password, Basic refused over
# plain HTTP, failures logged with a running count, no password anywhere
# in the logs.  Negotiate over TLS works too.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
TPORT=$(free_port)
SVC=idgate-test-$$
U=idgt$$
PASSWORD="Correct-Horse-$$"

realm_create "$T/kdc" || finish
realm_addprinc "${U}carol" "krb-pw" || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_kinit "${U}carol" krb-pw "$T/carol.cc" || finish
add_user "${U}carol"
echo "${U}carol:$PASSWORD" | chpasswd
add_pam_service "$SVC" "auth required pam_unix.so
account required pam_unix.so"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$TPORT tls
tls_cert = $T/tls.crt
tls_key = $T/tls.key
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /]
handler = whoami
auth = negotiate basic
EOF
start_idgated "$T/idgate.conf" || finish
S="https://localhost:$TPORT"
H="http://localhost:$PORT"

check_eq "TLS: 401 without credentials" 401 "$(fetch tchal "$S/" -k)"
check_eq "TLS: both challenges" "Negotiate|Basic realm=\"idgate\", charset=\"UTF-8\"" \
	"$(grep -i '^WWW-Authenticate:' "$T/tchal.hdr" | sed 's/^[^:]*: //; s/\r$//' | paste -sd'|')"
check_eq "plain HTTP: 401" 401 "$(fetch pchal "$H/")"

# TLS 1.2 and 1.3 only (RFC 8996): the protocol each client version gets
tls_proto() { # tls_proto 1.0|1.1|1.2|1.3 -> the protocol negotiated, or "refused"
	$PY -W ignore - "$TPORT" "$1" <<'PYEOF'
import socket, ssl, sys
v = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
     "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[sys.argv[2]]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # the client would offer the old versions
ctx.minimum_version = ctx.maximum_version = v
try:
    print(ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])))).version())
except (ssl.SSLError, OSError):
    print("refused")
PYEOF
}
check_eq "TLS 1.3 is offered" TLSv1.3 "$(tls_proto 1.3)"
check_eq "TLS 1.2 is offered" TLSv1.2 "$(tls_proto 1.2)"
check_eq "TLS 1.1 is refused" refused "$(tls_proto 1.1)"
check_eq "TLS 1.0 is refused" refused "$(tls_proto 1.0)"
check_eq "plain HTTP: Negotiate only" "Negotiate" \
	"$(grep -i '^WWW-Authenticate:' "$T/pchal.hdr" | sed 's/^[^:]*: //; s/\r$//' | paste -sd'|')"

check_eq "Basic over TLS: 200" 200 "$(fetch good "$S/" -k -u "${U}carol:$PASSWORD")"
check_eq "Basic: principal and user" "${U}carol ${U}carol" \
	"$(json "$T/good.body" 'j["principal"] + " " + j["user"]')"
check_eq "Basic: uid" "$(id -u "${U}carol")" "$(json "$T/good.body" 'j["uid"]')"
check_eq "Basic: level" impersonation "$(json "$T/good.body" 'j["level"]')"

check_eq "Basic, wrong password: 401" 401 "$(fetch bad1 "$S/" -k -u "${U}carol:wrong-1")"
check_eq "Basic, wrong password: reason" "basic: PAM refused the credentials" "$(audit bad1 'j["reason"]')"
check_eq "Basic, wrong password again: 401" 401 "$(fetch bad2 "$S/" -k -u "${U}carol:wrong-2")"
check_grep "failures are logged with a count" \
	"basic: authentication failed for user ${U}carol from 127.0.0.1 \(2 in the last minute\)" "$IDG_LOG"
check_eq "Basic, unknown user: 401" 401 "$(fetch nouser "$S/" -k -u "nosuchuser$$:x")"
check_eq "Basic over plain HTTP: 401" 401 "$(fetch plain "$H/" -u "${U}carol:$PASSWORD")"
check_eq "Basic over plain HTTP: reason" "basic: credentials over plain HTTP refused" "$(audit plain 'j["reason"]')"
check_eq "Basic without a colon: 401" 401 "$(fetch nocolon "$S/" -k -H "Authorization: Basic $(printf 'justauser' | base64)")"
check_eq "Basic without a colon: reason" "basic: malformed credentials" "$(audit nocolon 'j["reason"]')"
check_eq "Basic with a bad name: 401" 401 "$(fetch badname "$S/" -k -H "Authorization: Basic $(printf '../x:y' | base64)")"
check_eq "Basic with a bad name: reason" "basic: not a valid user name" "$(audit badname 'j["reason"]')"

KRB5CCNAME="$T/carol.cc"
export KRB5CCNAME
check_eq "Negotiate over TLS: 200" 200 "$(fetch tneg "$S/" -k --negotiate -u :)"
check_eq "Negotiate over TLS: principal" "${U}carol@IDGATE.TEST" "$(json "$T/tneg.body" 'j["principal"]')"

check_no_grep "no password in the audit log" "$PASSWORD|wrong-1" "$T/audit.jsonl"
check_no_grep "no password in the log" "$PASSWORD|wrong-1" "$IDG_LOG"
finish
