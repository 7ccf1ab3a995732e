#!/bin/sh
# A compromised front end cannot claim an identity.  tests/helpers/
# idgated-forge is idgated whose front end tampers with each request head
# as the request's X-Forge header says (tests/helpers/forge.c): it drops
# the authenticator's verdict, sends random bytes or a verdict sealed with
# a key of its own, flips a bit, replays an old head, swaps verdicts
# between requests and between pools, moves a valid verdict to another
# path, method, credential, connection or session cookie, and turns over
# the run-as flag.
# Every one is refused by the worker (403), with the reason in the audit
# line and in the worker's log, and no handler runs.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

IDGATED="$HELPERS_DIR/idgated-forge"
G="$PY $top_srcdir/tests/integration/gssclient.py"
PORT=$(free_port)
B="http://localhost:$PORT"
U=idgf$$

realm_create "$T/kdc" || finish
realm_addprinc "${U}alice" pw-alice || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
chmod 600 "$T/http.keytab"
add_user "${U}alice"
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
KRB5CCNAME="$T/alice.cc"
export KRB5CCNAME

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
keytab = $T/http.keytab
connection_auth = true
account_cache = 30s
session_key_file = $T/session.key
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
[pool a]
user = nobody
group = nogroup
[pool b]
user = nobody
group = nogroup
[vdir /app]
pool = a
handler = whoami
[vdir /other]
pool = b
handler = whoami
[vdir /anon]
pool = a
handler = whoami
auth = anonymous
[vdir /s]
pool = a
handler = whoami
session = cookie
EOF
(umask 077 && openssl rand -hex 32 >"$T/session.key")
start_idgated "$T/idgate.conf" || finish
AUDIT="$T/audit.jsonl"

# tok -- a fresh token of alice's
tok() { $G token; }
# refused NAME WHY -- 403, the audit's reason, the worker's log line, and
# no handler ran (whoami would have answered 200 with alice).  (The audit
# line names alice all the same: the front end writes it, and it was told
# who authenticated -- what it cannot do is make a worker act as her.)
# (a replayed head names the request it was first sent for: IDNAME)
refused() {
	check_eq "$1: 403" 403 "$(cat "$T/$1.status")"
	check_eq "$1: audit reason" "verdict refused: $2" "$(audit "$1" 'j["reason"]')"
	check_grep "$1: the worker logged it" \
		"request $(header "${3:-$1}" X-Request-Id): verdict refused: $(printf '%s' "$2" | sed 's/[()]/\\&/g')" \
		"$IDG_LOG"
	check_no_grep "$1: no whoami answer" "${U}alice" "$T/$1.body"
}
# try NAME URL MODE WHY [IDNAME] -- a request with a real token, tampered with as MODE
try() {
	fetch "$1" "$2" -H "Authorization: Negotiate $(tok)" -H "X-Forge: $3" >"$T/$1.status"
	refused "$1" "$4" "${5:-}"
}
honest() { # honest NAME URL -- a request to remember, 200
	check_eq "$1: an honest request, 200" 200 \
		"$(fetch "$1" "$2" -H "Authorization: Negotiate $(tok)")"
}

# ---------------------------------------------------------------- baseline
honest ok "$B/app"
check_grep "an honest request: the caller" "\"principal\": *\"${U}alice@IDGATE.TEST\"" "$T/ok.body"

# ---------------------------------------------------------------- forged
try none "$B/app" none "none came with the request"
try random "$B/app" random "not sealed by this generation's authenticator (or altered)"
try flip "$B/app" flip "not sealed by this generation's authenticator (or altered)"
try selfseal "$B/app" selfseal "not sealed by this generation's authenticator (or altered)"

# ---------------------------------------------------------------- replayed and swapped
honest first "$B/app"
try replay "$B/app" replay "used before (a replay)" first
honest second "$B/app/x"
try swap "$B/app/x" swap "made for another request"
honest third "$B/app"
try swappool "$B/other" swap "made for another vdir"
honest fourth "$B/app"
fetch swapanon "$B/anon" -H "X-Forge: swap" >"$T/swapanon.status"
refused swapanon "a verdict for a vdir that does not authenticate"

# ---------------------------------------------------------------- a valid verdict, moved
try path "$B/app/x" path=/app/y "made for another method or path"
try method "$B/app/x" method=HEAD "made for another method or path"
try digest "$B/app" digest "made for other credentials"
try runas "$B/app" runas "the front end's run-as disagrees with the caller's level"

# ---------------------------------------------------------------- connection_auth
check_eq "connection_auth: honest" "200 200 ${U}alice@IDGATE.TEST" "$($G persist "$B/app")"
check_eq "connection_auth: the connection's verdict for another connection" "200 403 -" \
	"$($G persist "$B/app" --header "X-Forge: conn")"
check_grep "connection_auth: the worker said why" \
	"verdict refused: made for another connection" "$IDG_LOG"

# ---------------------------------------------------------------- session cookies
# The front end keeps the verdict a cookie got, for that cookie: it names
# the cookie's digest, which the head must carry, and its vdir.
honest login "$B/s"
SC=$(sed -n 's/^Set-Cookie: idgate_session=\([^;]*\);.*/\1/p' "$T/login.hdr" | tr -d '\r')
check_eq "session: the cookie, asked about once" 200 "$(fetch s1 "$B/s" -H "Cookie: idgate_session=$SC")"
check_eq "session: the cookie again, from the kept verdict" "200 ${U}alice@IDGATE.TEST" \
	"$(fetch s2 "$B/s" -H "Cookie: idgate_session=$SC") $(json "$T/s2.body" 'j["principal"]')"
fetch sdigest "$B/s" -H "Cookie: idgate_session=$SC" -H "X-Forge: digest" >"$T/sdigest.status"
refused sdigest "made for another session cookie"
check_eq "session: and again" 200 "$(fetch s3 "$B/s" -H "Cookie: idgate_session=$SC")"
try sswap "$B/app" swap "made for another vdir"

# ---------------------------------------------------------------- a new worker
honest fifth "$B/app"
N=$(grep -c "pool a: serving" "$IDG_LOG")
kill -9 $(pgrep -P "$IDG_PID" -x idgate-pool)
i=0
while [ "$(grep -c "pool a: serving" "$IDG_LOG")" -le "$N" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
try oldgen "$B/app" replay "made before this worker started" fifth
honest last "$B/app"
finish
