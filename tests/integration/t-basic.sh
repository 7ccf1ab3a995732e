#!/bin/sh
# Basic through PAM, only on a TLS listener: both challenges on TLS, only
# Negotiate on plain HTTP, a right and a wrong password, Basic refused over
# plain HTTP, failures logged with their counts, no password anywhere in
# the logs.  Negotiate over TLS works too.  The brake on password guessing:
# every failure is answered after a fixed delay (without holding an event
# loop), and an address or an account with too many failures is refused
# with 429 and Retry-After before PAM is asked; the metrics count both.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
TPORT=$(free_port)
APORT=$(free_port)
SVC=idgate-test-$$
U=idgt$$
PASSWORD="Correct-Horse-$$"

realm_create "$T/kdc" || finish
realm_addprinc "${U}carol" "krb-pw" || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_kinit "${U}carol" krb-pw "$T/carol.cc" || finish
add_user "${U}carol"
add_user "${U}dave"
echo "${U}carol:$PASSWORD" | chpasswd
echo "${U}dave:$PASSWORD" | chpasswd
add_pam_service "$SVC" "auth required pam_unix.so
account required pam_unix.so"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$TPORT tls
tls_cert = $T/tls.crt
tls_key = $T/tls.key
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
admin_listen = 127.0.0.1:$APORT
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
check_grep "failures are logged with their counts" \
	"basic: authentication failed for user ${U}carol from 127.0.0.1 \(2 failures of the account, 2 from the address\)" "$IDG_LOG"
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

# ---------------------------------------------------------------- the brake
# timed NAME FROM USER:PASSWORD -- Basic from source address FROM; prints
# "STATUS SECONDS" (curl's time_total)
timed() {
	curl -s -g -k -D "$T/$1.hdr" -o "$T/$1.body" -w '%{http_code} %{time_total}' \
		--interface "$2" -u "$3" "$S/"
}
# speed SECONDS -- "delayed" from 2 s (the fail delay), "quick" under 1.5 s
# (a PAM check under the sanitizers on a loaded machine takes up to ~0.8 s)
speed() { $PY -c 'import sys; t = float(sys.argv[1]); print("quick" if t < 1.5 else "delayed" if t >= 2 else "in between: %s" % t)' "$1"; }
out=$(timed delay 127.0.0.1 "${U}carol:wrong-3")
check_eq "a failure is answered after the fail delay" "401 delayed" "${out% *} $(speed "${out#* }")"
out=$(timed nodelay 127.0.0.1 "${U}carol:$PASSWORD")
check_eq "a success is not delayed" "200 quick" "${out% *} $(speed "${out#* }")"
# while 8 failures wait out their delay, the event loops keep serving
# (wait for those curls by PID: a bare `wait` would wait for idgated too)
pids=
for i in 1 2 3 4 5 6 7 8; do
	timed "spray$i" 127.0.0.2 "nosuch$i-$$:guess" >"$T/spray$i.out" &
	pids="$pids $!"
done
sleep 0.3
out=$(timed busy 127.0.0.3 "${U}carol:$PASSWORD")
check_eq "meanwhile, a right password from elsewhere: not delayed" "200 quick" "${out% *} $(speed "${out#* }")"
wait $pids
# 10 failures from 127.0.0.2 (8 names + 2 more): that address is stopped
timed spray9 127.0.0.2 "nosuch9-$$:guess" >"$T/spray9.out"
timed spray10 127.0.0.2 "nosuch10-$$:guess" >"$T/spray10.out"
check_eq "10 failures from one address: each a delayed 401" "$(printf '401 delayed %.0s' 1 2 3 4 5 6 7 8 9 10)" \
	"$(for i in 1 2 3 4 5 6 7 8 9 10; do o=$(cat "$T/spray$i.out"); printf '%s %s ' "${o% *}" "$(speed "${o#* }")"; done)"
out=$(timed lockaddr 127.0.0.2 "${U}carol:$PASSWORD")
check_eq "then even a right password from there: 429, at once" "429 quick" "${out% *} $(speed "${out#* }")"
check_eq "429: Retry-After, 30 s from the 10th failure (less its 2 s delay and the time since)" yes \
	"$(r=$(header lockaddr Retry-After); [ "$r" -ge 26 ] && [ "$r" -le 30 ] && echo yes || echo "no: '$r'")"
check_eq "429: the reason" "basic: too many failures from 127.0.0.2 (10); refused for 30 s after the last" \
	"$(audit lockaddr 'j["reason"]')"
check_eq "429: no challenge" "" "$(header lockaddr WWW-Authenticate)"
out=$(timed other 127.0.0.3 "${U}dave:$PASSWORD")
check_eq "another account from another address: 200, not delayed" "200 quick" "${out% *} $(speed "${out#* }")"
# 5 failures for dave, each from its own address: the account is stopped
pids=
for i in 4 5 6 7 8; do
	timed "dave$i" "127.0.0.$i" "${U}dave:wrong-$i" >"$T/dave$i.out" &
	pids="$pids $!"
done
wait $pids
check_eq "5 failures for one account: each a delayed 401" "$(printf '401 delayed %.0s' 4 5 6 7 8)" \
	"$(for i in 4 5 6 7 8; do o=$(cat "$T/dave$i.out"); printf '%s %s ' "${o% *}" "$(speed "${o#* }")"; done)"
out=$(timed lockacct 127.0.0.9 "${U}dave:$PASSWORD")
check_eq "then dave's right password from a fresh address: 429, at once" "429 quick" "${out% *} $(speed "${out#* }")"
check_eq "429 for the account: the reason" \
	"basic: too many failures for account ${U}dave (5); refused for 30 s after the last" \
	"$(audit lockacct 'j["reason"]')"
out=$(timed after 127.0.0.9 "${U}carol:$PASSWORD")
check_eq "carol from that address: 200, not delayed" "200 quick" "${out% *} $(speed "${out#* }")"
check_eq "Negotiate is not braked by Basic's failures" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -k --interface 127.0.0.2 --negotiate -u : "$S/")"

sleep 0.3 # the last counts are written after the answer
curl -s "http://127.0.0.1:$APORT/metrics" >"$T/metrics.txt"
metric() {
	awk -v k="$1" 'index($0, k " ") == 1 { print $2; found = 1 } END { if (!found) print "absent" }' "$T/metrics.txt"
}
# failures: bad1, bad2, nouser, delay (4), 10 from 127.0.0.2, 5 for dave
check_eq "metrics: Basic failures answered after the delay" 19 "$(metric idgate_basic_delayed_total)"
check_eq "metrics: auth bad_password" 19 "$(metric 'idgate_auth_total{result="bad_password"}')"
check_eq "metrics: refused by address" 1 "$(metric 'idgate_basic_throttled_total{by="address"}')"
check_eq "metrics: refused by account" 1 "$(metric 'idgate_basic_throttled_total{by="account"}')"
check_eq "metrics: auth throttled" 2 "$(metric 'idgate_auth_total{result="throttled"}')"
check_eq "metrics: 429s" 2 "$(metric 'idgate_requests_total{vdir="/",status="429"}')"
check_grep "the log says when an address is stopped" \
	"basic: 127.0.0.2 stopped for 30 s after 10 failures" "$IDG_LOG"
check_grep "the log says when an account is stopped" \
	"basic: account ${U}dave stopped for 30 s after 5 failures" "$IDG_LOG"

check_no_grep "no password in the audit log" "$PASSWORD|wrong-1" "$T/audit.jsonl"
check_no_grep "no password in the log" "$PASSWORD|wrong-1" "$IDG_LOG"
finish
