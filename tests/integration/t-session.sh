#!/bin/sh
# Session cookies (vdir `session = cookie`, issue "ready for a real site"
# item 7) against a real KDC, with curl's cookie jar and python requests:
# a Negotiate login sets the cookie (exact attributes; Secure on the tls
# listener; SameSite as configured; Max-Age the lifetime), the jar alone
# then authenticates -- no Authorization header sent, no token accepted
# (the -d log), counted as "session" in the metrics -- at the level the
# cookie holds (never delegation), with PAM and `require` checked on every
# request; a tampered cookie, an expired one, one for another vdir and one
# from a gateway with another key are ignored (401 with the challenge) and
# logged without their contents; a second gateway with the same key file
# accepts the cookie; the cookie never reaches a handler or a backend; a
# handler that needs the caller's delegated credentials is never served
# from a cookie; key rotation; and idgated -t refuses what cannot work.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
TPORT=$(free_port)
APORT=$(free_port)
PORT2=$(free_port)
PORT3=$(free_port)
B="http://localhost:$PORT"
U=idgt$$
SVC=idgate-session-$$
BACKEND="$PY $top_srcdir/tests/integration/backend.py"
JAR="$T/jar"

realm_create "$T/kdc" || finish
for p in alice bob; do realm_addprinc "$U$p" "pw-$p" || finish; done
realm_addservice HTTP/localhost "$T/http.keytab" || finish
chmod 600 "$T/http.keytab"
add_group "${U}staff"
add_user "${U}alice" -G "${U}staff"
add_user "${U}bob" -G "${U}staff"
add_pam_service "$SVC" "auth required pam_unix.so
account required pam_unix.so"
PASSWORD="Correct-Horse-$$"
echo "${U}alice:$PASSWORD" | chpasswd
for p in alice bob; do realm_kinit "$U$p" "pw-$p" "$T/$p.cc" || finish; done
PRINC="${U}alice@$REALM"
ALICE=$(id -u "${U}alice")

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }
# the key files: root's, 0600; the third gateway has another key
KEY1=$(openssl rand -hex 32)
KEY2=$(openssl rand -hex 48)
(umask 077 && printf '# session keys\n%s\n' "$KEY1" >"$T/session.key" &&
	openssl rand -hex 32 >"$T/other.key")

mkdir -p "$T/cgi"
cat >"$T/cgi/env.cgi" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
echo "AUTH_TYPE=$AUTH_TYPE"
echo "REMOTE_USER=$REMOTE_USER"
echo "HTTP_COOKIE=$HTTP_COOKIE"
EOF
chmod 755 "$T/cgi" "$T/cgi/env.cgi"

$BACKEND tcp "$T/backend.port" 2>"$T/backend.log" &
at_exit "kill $! 2>/dev/null"
i=0
while [ ! -s "$T/backend.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
BP=$(cat "$T/backend.port")

RELAY_AUTH=
write_conf() {
	cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$TPORT tls
tls_cert = $T/tls.crt
tls_key = $T/tls.key
admin_listen = 127.0.0.1:$APORT
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
account_cache = 1s
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
session_key_file = $T/session.key
[pool default]
user = nobody
group = nogroup
[pool imp]
user = idgate-pool
threads = 2
[vdir /who]
handler = whoami
session = cookie
[vdir /short]
handler = whoami
session = cookie
session_lifetime = 2s
session_cookie = short_session
[vdir /strict]
handler = whoami
session = cookie
session_samesite = Strict
[vdir /staff]
handler = whoami
session = cookie
require = group ${U}staff
[vdir /imp]
pool = imp
handler = whoami
impersonate = true
session = cookie
[vdir /relay]
handler = proxy
backend = http://127.0.0.1:$BP/
session = cookie
$RELAY_AUTH
[vdir /basic]
handler = cgi
root = $T/cgi
auth = negotiate basic
session = cookie
[vdir /echo]
handler = proxy
backend = http://127.0.0.1:$BP/
auth = anonymous
EOF
}
write_conf
IDG_ARGS=-d start_idgated "$T/idgate.conf" || finish

# other gateways: the same key file, and another key
gateway() { # gateway N PORT KEYFILE
	mkdir -p "$T/g$1"
	cat >"$T/g$1/idgate.conf" <<EOF
[server]
runtime_dir = $T/g$1/run
replay_cache_dir = $T/g$1/rcache
listen = 127.0.0.1:$2
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
audit_log = $T/g$1/audit.jsonl
modules_dir = $MODULES_DIR
session_key_file = $3
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
session = cookie
[vdir /short]
handler = whoami
session = cookie
session_lifetime = 2s
session_cookie = short_session
EOF
	start_backend_idgated "$T/g$1/idgate.conf" "$T/g$1/idgated.log" -d
}
gateway 2 "$PORT2" "$T/session.key" || finish
gateway 3 "$PORT3" "$T/other.key" || finish

KRB5CCNAME="$T/alice.cc"
export KRB5CCNAME
metric() { curl -s "http://127.0.0.1:$APORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
tokens() { grep -c "negotiate: a token of" "$IDG_LOG"; }
# the value of the cookie NAME set in the response fetched as REQ
cookie_of() { sed -n "s/^Set-Cookie: $2=\([^;]*\);.*/\1/p" "$T/$1.hdr" | tr -d '\r'; }
COOKIE_RE='[A-Za-z0-9_-]+'

# ---------------------------------------------------------------- the login sets the cookie
check_eq "Negotiate with the jar: 200" 200 "$(fetch n1 "$B/who" --negotiate -u : -c "$JAR" -b "$JAR")"
check_eq "as alice" "$PRINC" "$(json "$T/n1.body" 'j["principal"]')"
check_eq "one Set-Cookie" 1 "$(grep -ci '^Set-Cookie:' "$T/n1.hdr")"
check_grep "its attributes: Path the vdir, Max-Age 1h, HttpOnly, SameSite=Lax, no Secure on plain HTTP" \
	"^Set-Cookie: idgate_session=$COOKIE_RE; Path=/who; Max-Age=3600; HttpOnly; SameSite=Lax.$" "$T/n1.hdr"
check_eq "the mutual-authentication token goes with it" yes \
	"$(grep -q '^WWW-Authenticate: Negotiate .' "$T/n1.hdr" && echo yes)"
V1=$(cookie_of n1 idgate_session)
check_eq "the jar holds it for localhost, path /who, HttpOnly" "#HttpOnly_localhost FALSE /who FALSE $V1" \
	"$(awk '$6 == "idgate_session" { print $1, $2, $3, $4, $7 }' "$JAR")"
check_eq "an authenticated login counted as ok" 1 "$(metric 'idgate_auth_total{result="ok"}')"

# ---------------------------------------------------------------- the cookie alone
T0=$(tokens)
check_eq "the jar alone, no --negotiate: 200" 200 \
	"$(fetch s1 "$B/who" -b "$JAR" -c "$JAR" -v 2>"$T/s1.err")"
check_eq "as the same principal and account" "$PRINC ${U}alice impersonation" \
	"$(json "$T/s1.body" 'j["principal"] + " " + j["user"] + " " + j["level"]')"
check_eq "curl sent the cookie" 1 "$(grep -c "^> Cookie: idgate_session=$V1" "$T/s1.err")"
check_eq "and no Authorization header" 0 "$(grep -ci '^> Authorization' "$T/s1.err")"
check_eq "no token reached gss_accept_sec_context (-d log)" "$T0" "$(tokens)"
wait_log "session: $PRINC authenticated by cookie for vdir /who (level impersonation"
check_grep "the -d log says the cookie authenticated" \
	"session: $PRINC authenticated by cookie for vdir /who \(level impersonation, 3[56][0-9]{2} s left\)" "$IDG_LOG"
check_eq "no new cookie on a cookie request" 0 "$(grep -ci '^Set-Cookie:' "$T/s1.hdr")"
check_eq "no challenge either" 0 "$(grep -ci '^WWW-Authenticate:' "$T/s1.hdr")"
check_eq "audit: principal, user, level, status" "$PRINC ${U}alice impersonation 200" \
	"$(audit s1 'j["principal"] + " " + j["user"] + " " + j["level"] + " " + str(j["status"])')"
check_eq "the metrics count it as a session" 1 "$(metric 'idgate_auth_total{result="session"}')"
check_eq "and not as a fresh ok" 1 "$(metric 'idgate_auth_total{result="ok"}')"
check_eq "the same cookie again (a bearer token: no replay check)" 200 \
	"$(fetch s2 "$B/who" -H "Cookie: idgate_session=$V1")"
check_eq "Allowed-Impersonation-Level still lowers the level per request" "200 identification" \
	"$(fetch s3 "$B/who" -H "Cookie: idgate_session=$V1" -H 'Allowed-Impersonation-Level: identification') $(json "$T/s3.body" 'j["level"]')"

# ---------------------------------------------------------------- refused cookies
TAMPERED=$(printf '%s' "$V1" | $PY -c 'import sys; v = sys.stdin.read(); print(v[:40] + ("A" if v[40] != "A" else "B") + v[41:])')
check_eq "a tampered cookie: 401" 401 "$(fetch t1 "$B/who" -H "Cookie: idgate_session=$TAMPERED")"
check_eq "with the Negotiate challenge" Negotiate "$(header t1 WWW-Authenticate)"
check_eq "and the cookie deleted" "idgate_session=; Path=/who; Max-Age=0; HttpOnly; SameSite=Lax" \
	"$(header t1 Set-Cookie)"
check_eq "the audit reason" "no credentials (session cookie ignored: does not authenticate (tampered with, or forged))" \
	"$(audit t1 'j["reason"]')"
check_grep "logged with the client" \
	"client 127\.0\.0\.1: session cookie for vdir /who ignored: does not authenticate \(tampered with, or forged\)$" "$IDG_LOG"
check_eq "not base64url: 401" 401 "$(fetch t2 "$B/who" -H "Cookie: idgate_session=a+b/c=")"
check_eq "its reason" "no credentials (session cookie ignored: malformed)" "$(audit t2 'j["reason"]')"
check_eq "too long: 401" 401 "$(fetch t3 "$B/who" -H "Cookie: idgate_session=$(head -c 1500 /dev/zero | tr '\0' A)")"
check_eq "its reason" "no credentials (session cookie ignored: too long)" "$(audit t3 'j["reason"]')"
check_eq "a cookie for /who sent to /strict: 401" 401 \
	"$(fetch t4 "$B/strict" -H "Cookie: idgate_session=$V1")"
check_eq "another vdir's cookie is no news: plain reason, not deleted" "no credentials None" \
	"$(audit t4 'j["reason"]') $(header t4 Set-Cookie | grep . || echo None)"
check_eq "a good and a bad cookie of the name: the good one counts" 200 \
	"$(fetch t5 "$B/who" -H "Cookie: idgate_session=$TAMPERED; idgate_session=$V1")"
check_no_grep "no cookie value in the log" "$(printf '%s' "$V1" | cut -c 30-60)" "$IDG_LOG"
check_no_grep "none in the audit log" "$(printf '%s' "$V1" | cut -c 30-60)" "$AUDIT"

# ---------------------------------------------------------------- expiry
check_eq "a 2 s vdir: login" 200 "$(fetch e1 "$B/short" --negotiate -u :)"
check_grep "Max-Age is its lifetime, under its own name" \
	"^Set-Cookie: short_session=$COOKIE_RE; Path=/short; Max-Age=2; HttpOnly; SameSite=Lax.$" "$T/e1.hdr"
VS=$(cookie_of e1 short_session)
# (the second gateway keeps what a cookie opened for 30 s, account_cache's
# default: what it keeps must end with the cookie)
check_eq "within the lifetime, on a gateway with the same key: 200" 200 \
	"$(fetch e2g "http://localhost:$PORT2/short" -H "Cookie: short_session=$VS")"
check_eq "within the lifetime: 200" 200 "$(fetch e2 "$B/short" -H "Cookie: short_session=$VS")"
sleep 2.2
check_eq "after it: 401" 401 "$(fetch e3 "$B/short" -H "Cookie: short_session=$VS")"
check_eq "and there too, though its front end kept the cookie's verdict: 401" 401 \
	"$(fetch e3g "http://localhost:$PORT2/short" -H "Cookie: short_session=$VS")"
check_eq "reason: expired" "no credentials (session cookie ignored: expired)" "$(audit e3 'j["reason"]')"
check_grep "logged with whose it was" "session cookie of $PRINC for vdir /short ignored: expired$" "$IDG_LOG"

# ---------------------------------------------------------------- other gateways
check_eq "a second gateway with the same key file accepts the jar" "200 $PRINC" \
	"$(st=$(fetch g2 "http://localhost:$PORT2/who" -b "$JAR"); echo "$st $(json "$T/g2.body" 'j["principal"]')")"
check_grep "authenticated by the cookie there" "session: $PRINC authenticated by cookie for vdir /who" "$T/g2/idgated.log"
check_no_grep "with no Kerberos exchange (its -d log)" "negotiate: a token" "$T/g2/idgated.log"
# The front end keeps the verdict a cookie got (sesscache.h): the same
# cookie on another connection is served without asking the authenticator
# -- stopped here, so that a question would go unanswered.
G2=$(pgrep -f "idgated -c $T/g2/idgate.conf" | head -1)
G2AUTHN=$(pgrep -P "$G2" -x idgate-authn)
kill -STOP "$G2AUTHN"
ST=$(fetch g2b "http://localhost:$PORT2/who" -b "$JAR" --max-time 5)
kill -CONT "$G2AUTHN"
check_eq "its authenticator stopped, the cookie again on a new connection: 200, as alice" \
	"200 $PRINC" "$ST $(json "$T/g2b.body" 'j["principal"]')"
check_eq "the authenticator opened that cookie once (its -d log)" 1 \
	"$(grep -c "session: $PRINC authenticated by cookie for vdir /who" "$T/g2/idgated.log")"
check_eq "from another client address: 200" 200 \
	"$(fetch g2c "http://localhost:$PORT2/who" -b "$JAR" --interface 127.0.0.2)"
check_eq "opened again there, not kept across addresses (PAM's answer is per address)" 2 \
	"$(grep -c "session: $PRINC authenticated by cookie for vdir /who" "$T/g2/idgated.log")"
check_eq "a tampered cookie is not served from what was kept: 401" 401 \
	"$(fetch g2t "http://localhost:$PORT2/who" -H "Cookie: idgate_session=$TAMPERED")"
check_eq "a gateway with another key: 401" 401 "$(fetch g3 "http://localhost:$PORT3/who" -b "$JAR")"
# (that gateway's audit log; its line is written just after the answer)
MAIN_AUDIT=$AUDIT
AUDIT="$T/g3/audit.jsonl"
check_eq "its reason" "no credentials (session cookie ignored: sealed with a key not in session_key_file)" \
	"$(audit g3 'j["reason"]')"
AUDIT=$MAIN_AUDIT
check_grep "and its log" "session cookie for vdir /who ignored: sealed with a key not in session_key_file" "$T/g3/idgated.log"

# ---------------------------------------------------------------- TLS, SameSite
check_eq "over TLS: 200" 200 "$(fetch tls1 "https://localhost:$TPORT/who" -k --negotiate -u :)"
check_grep "Secure on a tls listener" \
	"^Set-Cookie: idgate_session=$COOKIE_RE; Path=/who; Max-Age=3600; HttpOnly; Secure; SameSite=Lax.$" "$T/tls1.hdr"
check_eq "and it works there" 200 \
	"$(fetch tls2 "https://localhost:$TPORT/who" -k -H "Cookie: idgate_session=$(cookie_of tls1 idgate_session)")"
check_eq "SameSite=Strict where configured" 200 "$(fetch ss1 "$B/strict" --negotiate -u :)"
check_grep "its attribute" \
	"^Set-Cookie: idgate_session=$COOKIE_RE; Path=/strict; Max-Age=3600; HttpOnly; SameSite=Strict.$" "$T/ss1.hdr"

# ---------------------------------------------------------------- Basic, and what a handler sees
TB="https://localhost:$TPORT/basic/env.cgi"
env_of() { sed -n "s/^$2=//p" "$T/$1.body"; }
check_eq "Basic over TLS: 200" 200 "$(fetch ba1 "$TB" -k -u "${U}alice:$PASSWORD")"
check_grep "its cookie" \
	"^Set-Cookie: idgate_session=$COOKIE_RE; Path=/basic; Max-Age=3600; HttpOnly; Secure; SameSite=Lax.$" "$T/ba1.hdr"
check_eq "the cookie alone, with another cookie beside it" 200 \
	"$(fetch ba2 "$TB" -k -H "Cookie: x=1; idgate_session=$(cookie_of ba1 idgate_session)")"
check_eq "the handler sees AUTH_TYPE Basic, the user, and not the session cookie" \
	"Basic ${U}alice x=1" "$(env_of ba2 AUTH_TYPE) $(env_of ba2 REMOTE_USER) $(env_of ba2 HTTP_COOKIE)"
check_eq "a Negotiate login there" 200 "$(fetch ba3 "$B/basic/env.cgi" --negotiate -u :)"
check_eq "its cookie: AUTH_TYPE Negotiate, the account, no HTTP_COOKIE" \
	"200 Negotiate ${U}alice " \
	"$(fetch ba4 "$B/basic/env.cgi" -H "Cookie: idgate_session=$(cookie_of ba3 idgate_session)") $(env_of ba4 AUTH_TYPE) $(env_of ba4 REMOTE_USER) $(env_of ba4 HTTP_COOKIE)"

# ---------------------------------------------------------------- levels
check_eq "delegated credentials at the login: level delegation" "200 delegation" \
	"$(fetch d1 "$B/who" --negotiate -u : --delegation always) $(json "$T/d1.body" 'j["level"]')"
check_eq "its cookie gives impersonation, never delegation" "200 impersonation False" \
	"$(fetch d2 "$B/who" -H "Cookie: idgate_session=$(cookie_of d1 idgate_session)") $(json "$T/d2.body" 'j["level"] + " " + str(j["delegated"])')"
check_eq "impersonation from a cookie: runs as alice" "200 $ALICE True" \
	"$(fetch i1 "$B/imp" --negotiate -u : >/dev/null; fetch i2 "$B/imp" -H "Cookie: idgate_session=$(cookie_of i1 idgate_session)") $(json "$T/i2.body" 'str(j["euid"]) + " " + str(j["impersonated"])')"

# ---------------------------------------------------------------- PAM and require, every request
check_eq "bob logs in to /staff" 200 "$(KRB5CCNAME="$T/bob.cc" fetch b1 "$B/staff" --negotiate -u :)"
VB=$(cookie_of b1 idgate_session)
check_eq "his cookie: 200" 200 "$(fetch b2 "$B/staff" -H "Cookie: idgate_session=$VB")"
gpasswd -d "${U}bob" "${U}staff" >/dev/null
sleep 1.2
check_eq "out of the group, his cookie: 403 (require)" 403 "$(fetch b3 "$B/staff" -H "Cookie: idgate_session=$VB")"
check_eq "reason" "require group: ${U}bob is in none of the groups" "$(audit b3 'j["reason"]')"
chage -E 1970-01-02 "${U}alice"
sleep 1.2
check_eq "alice's account expired, her cookie: 403 (PAM)" 403 "$(fetch p1 "$B/who" -b "$JAR")"
check_eq "reason" "pam: account ${U}alice refused: User account has expired" "$(audit p1 'j["reason"]')"
chage -E -1 "${U}alice"
sleep 1.2

# ---------------------------------------------------------------- never for the handler
check_eq "the cookie does not reach a backend; other cookies do" "200 a=1; b=2" \
	"$(fetch h1 "$B/echo/echo" -H "Cookie: a=1; idgate_session=$V1; b=2") $(json "$T/h1.body" '[v for k, v in j["headers"] if k.lower() == "cookie"][0]')"
check_eq "a Cookie header of only the session cookie is dropped" "200 []" \
	"$(fetch h2 "$B/echo/echo" -H "Cookie: short_session=x;idgate_session=$V1") $(json "$T/h2.body" '[v for k, v in j["headers"] if k.lower() == "cookie"]')"
check_eq "nor a backend behind a vdir with sessions" "200 $PRINC []" \
	"$(fetch h3 "$B/relay/echo" --negotiate -u : >/dev/null; fetch h4 "$B/relay/echo" -H "Cookie: idgate_session=$(cookie_of h3 idgate_session)") $(json "$T/h4.body" '[v for k, v in j["headers"] if k.lower() == "x-remote-principal"][0] + " " + str([v for k, v in j["headers"] if k.lower() == "cookie"])')"

# ---------------------------------------------------------------- python requests
cat >"$T/req.py" <<'EOF'
import sys
import requests
from requests_kerberos import HTTPKerberosAuth, REQUIRED
s = requests.Session()
r1 = s.get(sys.argv[1], auth=HTTPKerberosAuth(mutual_authentication=REQUIRED))
print(r1.status_code, r1.json()["principal"], "idgate_session" in s.cookies)
r2 = s.get(sys.argv[1])
print(r2.status_code, r2.json()["principal"], r2.request.headers.get("Authorization"),
      "idgate_session=" in r2.request.headers.get("Cookie", ""))
EOF
$PY "$T/req.py" "$B/who" >"$T/req.out" 2>"$T/req.err"
check_eq "requests + requests_kerberos: Negotiate, and the Session keeps the cookie" \
	"200 $PRINC True" "$(sed -n 1p "$T/req.out")"
check_eq "the next request of the Session: the cookie, no Authorization" "200 $PRINC None True" \
	"$(sed -n 2p "$T/req.out")"

# ---------------------------------------------------------------- credentials a cookie cannot carry
check_eq "/relay (no backend_auth): its cookie works" 200 "$(fetch r1 "$B/relay/echo" --negotiate -u :)"
VR=$(cookie_of r1 idgate_session)
RELAY_AUTH="backend_auth = negotiate
backend_service = HTTP@localhost"
write_conf
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 2 serves"
check_grep "after backend_auth = negotiate: sessions have no effect there" \
	"vdir /relay: session = cookie has no effect: its handler uses the caller's Kerberos credentials, which a cookie never carries" "$IDG_LOG"
check_eq "the old cookie: 401, so that the client negotiates (and delegates)" 401 \
	"$(fetch r2 "$B/relay/echo" -H "Cookie: idgate_session=$VR")"
check_eq "with the challenge" Negotiate "$(header r2 WWW-Authenticate)"
check_eq "Negotiate without delegation: the proxy's 403, and no cookie" "403 0" \
	"$(fetch r3 "$B/relay/echo" --negotiate -u :) $(grep -ci '^Set-Cookie:' "$T/r3.hdr")"
check_eq "cookies still work elsewhere after the reload" 200 "$(fetch r4 "$B/who" -b "$JAR")"

# ---------------------------------------------------------------- key rotation
(umask 077 && printf '%s\n%s\n' "$KEY2" "$KEY1" >"$T/session.key")
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 3 serves"
check_eq "a new key first: the old cookie still opens" 200 "$(fetch k1 "$B/who" -H "Cookie: idgate_session=$V1")"
check_eq "a login now" 200 "$(fetch k2 "$B/who" --negotiate -u :)"
VK=$(cookie_of k2 idgate_session)
check_eq "its cookie is sealed with the new key: the gateway with the old file refuses it" 401 \
	"$(fetch k3 "http://localhost:$PORT2/who" -H "Cookie: idgate_session=$VK")"
(umask 077 && printf '%s\n' "$KEY2" >"$T/session.key")
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 4 serves"
check_eq "the old key removed: its cookie is refused" 401 "$(fetch k4 "$B/who" -H "Cookie: idgate_session=$V1")"
check_eq "reason" "no credentials (session cookie ignored: sealed with a key not in session_key_file)" \
	"$(audit k4 'j["reason"]')"
check_eq "the new key's cookie works" 200 "$(fetch k5 "$B/who" -H "Cookie: idgate_session=$VK")"

# ---------------------------------------------------------------- idgated -t
checkconf() { # checkconf NAME EDIT -- the first error line of -t on an edited copy
	sed "$2" "$T/idgate.conf" >"$T/$1.conf"
	"$IDGATED" -t -c "$T/$1.conf" >"$T/$1.out" 2>&1
	echo "$? $(grep -m1 ': \[' "$T/$1.out")"
}
line_of() { grep -n -m1 -- "$1" "$T/idgate.conf" | cut -d: -f1; }
L=$(line_of '^session_key_file')
chmod 640 "$T/session.key"
check_eq "a key file others may read" \
	"1 $T/c1.conf:$L: [server] session_key_file $T/session.key: mode 0640: group or others may read or change it, and it holds the keys that make sessions (chmod 600)" \
	"$(checkconf c1 's/^x//')"
chmod 600 "$T/session.key"
check_eq "a missing key file" \
	"1 $T/c2.conf:$L: [server] session_key_file $T/nokey: No such file or directory" \
	"$(checkconf c2 "s|^session_key_file = .*|session_key_file = $T/nokey|")"
printf '%s\n' "$(openssl rand -hex 16)" >"$T/short.key"
chmod 600 "$T/short.key"
check_eq "a key too short" \
	"1 $T/c3.conf:$L: [server] session_key_file $T/short.key: line 1: not a key: expected 64 to 128 hexadecimal digits (e.g. the output of openssl rand -hex 32)" \
	"$(checkconf c3 "s|^session_key_file = .*|session_key_file = $T/short.key|")"
S=$(grep -n -m1 '^session = cookie' "$T/idgate.conf" | cut -d: -f1)
check_eq "sessions without a key file" \
	"1 $T/c4.conf:$((S - 1)): [vdir /who] session = cookie needs [server] session_key_file, the keys that seal cookies" \
	"$(checkconf c4 '/^session_key_file/d')"
check_eq "delegation = store with a session" \
	"1 $T/c5.conf:$S: [vdir /who] session = cookie cannot serve delegation = store: a cookie never carries delegated credentials, and the handler would run without them" \
	"$(checkconf c5 "${S}s/\$/\ndelegation = store\nimpersonate = true/")"
check_eq "an anonymous vdir with a session" \
	"1 $T/c6.conf:$S: [vdir /who] session = cookie: auth = anonymous authenticates nobody to remember" \
	"$(checkconf c6 "${S}s/\$/\nauth = anonymous/")"
check_eq "a bad SameSite" \
	"1 $T/c7.conf:$((S + 1)): [vdir /who] session_samesite: 'Sometimes': expected Lax, Strict or None" \
	"$(checkconf c7 "${S}s/\$/\nsession_samesite = Sometimes/")"
check_eq "a bad cookie name" \
	"1 $T/c8.conf:$((S + 1)): [vdir /who] session_cookie: 'a;b': a cookie name is 1-64 letters, digits or !#\$%&'*+-.^_\`|~" \
	"$(checkconf c8 "${S}s/\$/\nsession_cookie = a;b/")"
check_eq "a lifetime of 0" \
	"1 $T/c9.conf:$((S + 1)): [vdir /who] session_lifetime: '0s': must be between 1s and 30 days" \
	"$(checkconf c9 "${S}s/\$/\nsession_lifetime = 0s/")"
check_eq "the configuration itself passes" "0 " "$(checkconf c10 's/^x//')"
finish
