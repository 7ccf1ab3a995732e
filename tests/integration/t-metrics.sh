#!/bin/sh
# The metrics endpoint ([server] admin_listen): exact counter values after
# known requests -- by vdir and status, authentication outcomes (with a
# real KDC: no credentials, ok, a replay, garbage, a wrong service, a
# require refusal), impersonated against trusted, impersonation refused
# by level, the latency histogram, worker restarts and rapid_fail state
# -- its content type, 404/405 for anything but GET /metrics, no identity
# anywhere in it, and the refusal of a non-loopback admin_listen.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

G="$PY $top_srcdir/tests/integration/gssclient.py"
PORT=$(free_port)
APORT=$(free_port)
B="http://localhost:$PORT"
M="http://127.0.0.1:$APORT/metrics"
U=idgt$$
mkdir -p "$T/modules"
cp "$MODULES_DIR/whoami.so" "$TESTMODS_DIR/tcrash.so" "$T/modules/"

realm_create "$T/kdc" || finish
for p in alice bob; do realm_addprinc "$U$p" "pw-$p" || finish; done
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_addservice HTTP/otherhost "$T/other.keytab" || finish
add_user "${U}alice"
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
KRB5CCNAME="$T/alice.cc"
export KRB5CCNAME

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
admin_listen = 127.0.0.1:$APORT
user = idgate
keytab = $T/http.keytab
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $T/modules
control_socket =
[pool default]
user = nobody
group = nogroup
[pool imp]
user = nobody
group = nogroup
[pool c]
user = nobody
threads = 1
rapid_fail = 2/1m
[vdir /who]
handler = whoami
[vdir /anon]
handler = whoami
auth = anonymous
[vdir /bobonly]
handler = whoami
require = user ${U}bob
[vdir /imp]
pool = imp
handler = whoami
impersonate = true
[vdir /c]
pool = c
handler = tcrash
auth = anonymous
EOF

# ---------------------------------------------------------------- refused addresses
sed "s/^admin_listen = .*/admin_listen = 0.0.0.0:$APORT/" "$T/idgate.conf" >"$T/remote.conf"
"$IDGATED" -t -c "$T/remote.conf" 2>"$T/remote.err"
check_eq "a non-loopback admin_listen: refused" 1 $?
check_grep "and why" "remote.conf:5: \[server\] admin_listen: '0.0.0.0:$APORT' is not a loopback address, and the metrics endpoint has no authentication; set admin_allow_remote = true" "$T/remote.err"
printf 'admin_allow_remote = true\n' >"$T/allow.txt"
sed "/^admin_listen/r $T/allow.txt" "$T/remote.conf" >"$T/allowed.conf"
check_eq "allowed explicitly: accepted (besides the keytab's listing)" "configuration OK" \
	"$("$IDGATED" -t -c "$T/allowed.conf" 2>&1 | grep -v '^keytab ')"

# deliberate crashes: under ASan, let the kernel deliver them as in production
ASAN_EXTRA=handle_segv=0
start_idgated "$T/idgate.conf" || finish
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
scrape() { curl -s "$M" >"$T/metrics.txt"; }
# metric 'NAME{LABELS}' -- its value in the last scrape ("absent" if none)
metric() {
	awk -v k="$1" 'index($0, k " ") == 1 { print $2; found = 1 } END { if (!found) print "absent" }' "$T/metrics.txt"
}

# ---------------------------------------------------------------- the endpoint
scrape
check_eq "GET /metrics: 200" 200 "$(fetch m0 "$M")"
check_eq "the exposition format's content type" "text/plain; version=0.0.4; charset=utf-8" "$(header m0 Content-Type)"
check_eq "a fresh front end has served nothing" 0 "$(metric 'idgate_request_duration_seconds_count')"
check_eq "other paths: 404" 404 "$(code "http://127.0.0.1:$APORT/")"
check_eq "other methods: 405" 405 "$(code -X POST "$M")"
check_eq "scrapes are not requests of the gateway" 0 "$(scrape; metric 'idgate_request_duration_seconds_count')"

# ---------------------------------------------------------------- requests by vdir and status
for i in 1 2 3; do code "$B/anon" >/dev/null; done
code "$B/nowhere" >/dev/null
code "$B/who" >/dev/null                                  # no credentials: 401
check_eq "alice, one token" "200" "$($G get "$B/who" | sed -n 1p)" # ok
TOK=$($G token)
check_eq "a token" 200 "$(code -H "Authorization: Negotiate $TOK" "$B/who")"      # ok
check_eq "the same token again" 401 "$(code -H "Authorization: Negotiate $TOK" "$B/who")" # replay
check_eq "garbage" 401 "$(code -H "Authorization: Negotiate AAAAAAAA" "$B/who")"  # bad token
check_eq "another service's ticket" 401 "$(code -H "Authorization: Negotiate $($G token --target HTTP@otherhost)" "$B/who")"
check_eq "require user bob" 403 "$($G get "$B/bobonly" | sed -n 1p)"               # require
check_eq "impersonated" 200 "$($G get "$B/imp" | sed -n 1p)"                       # ok, as alice
check_eq "identification level on impersonate = true" 403 "$($G get "$B/imp" --header 'Allowed-Impersonation-Level: identification' | sed -n 1p)"
sleep 0.3 # the last audit lines and counts are written after the answer
scrape
check_eq "requests_total /anon 200" 3 "$(metric 'idgate_requests_total{vdir="/anon",status="200"}')"
check_eq "requests_total no vdir 404" 1 "$(metric 'idgate_requests_total{vdir="(none)",status="404"}')"
check_eq "requests_total /who 200" 2 "$(metric 'idgate_requests_total{vdir="/who",status="200"}')"
check_eq "requests_total /who 401" 4 "$(metric 'idgate_requests_total{vdir="/who",status="401"}')"
check_eq "requests_total /bobonly 403" 1 "$(metric 'idgate_requests_total{vdir="/bobonly",status="403"}')"
check_eq "requests_total /imp 200 and 403" "1 1" "$(metric 'idgate_requests_total{vdir="/imp",status="200"}') $(metric 'idgate_requests_total{vdir="/imp",status="403"}')"
check_eq "no line for a status never answered" absent "$(metric 'idgate_requests_total{vdir="/anon",status="500"}')"

# ---------------------------------------------------------------- authentication outcomes
check_eq "auth ok (the level is refused after authentication)" 4 "$(metric 'idgate_auth_total{result="ok"}')"
check_eq "auth no_credentials" 1 "$(metric 'idgate_auth_total{result="no_credentials"}')"
check_eq "auth replay" 1 "$(metric 'idgate_auth_total{result="replay"}')"
check_eq "auth bad_token" 1 "$(metric 'idgate_auth_total{result="bad_token"}')"
check_eq "auth wrong_service" 1 "$(metric 'idgate_auth_total{result="wrong_service"}')"
check_eq "auth require_denied" 1 "$(metric 'idgate_auth_total{result="require_denied"}')"
check_eq "auth pam_denied (no PAM here)" 0 "$(metric 'idgate_auth_total{result="pam_denied"}')"

# ---------------------------------------------------------------- identities
check_eq "impersonated on /imp" 1 "$(metric 'idgate_requests_impersonated_total{vdir="/imp"}')"
check_eq "none impersonated on /who" 0 "$(metric 'idgate_requests_impersonated_total{vdir="/who"}')"
check_eq "trusted on /who (as the pool)" 2 "$(metric 'idgate_requests_trusted_total{vdir="/who"}')"
check_eq "trusted on /anon" 3 "$(metric 'idgate_requests_trusted_total{vdir="/anon"}')"
check_eq "refused by level" 1 "$(metric 'idgate_impersonation_refused_total{reason="level"}')"
check_eq "refused below min_uid" 0 "$(metric 'idgate_impersonation_refused_total{reason="below_min_uid"}')"
check_no_grep "no principal or user name in the metrics" "$U" "$T/metrics.txt"

# ---------------------------------------------------------------- latency
check_eq "histogram count: every request" 13 "$(metric 'idgate_request_duration_seconds_count')"
check_eq "the +Inf bucket holds them all" 13 "$(metric 'idgate_request_duration_seconds_bucket{le="+Inf"}')"
check_eq "buckets are cumulative" yes "$(awk '/^idgate_request_duration_seconds_bucket/ { if ($2 < last) bad = 1; last = $2 } END { print bad ? "no" : "yes" }' "$T/metrics.txt")"
check_eq "pool requests: default" 10 "$(metric 'idgate_pool_requests_total{pool="default"}')"
check_eq "nothing in flight" 0 "$(metric 'idgate_requests_in_flight')"

# ---------------------------------------------------------------- pools
check_eq "pool c serving" 1 "$(metric 'idgate_pool_state{pool="c",state="serving"}')"
code "$B/c?segv" >/dev/null
wait_log "pool c: serving"
sleep 0.3
scrape
check_eq "one restart" 1 "$(metric 'idgate_pool_worker_restarts_total{pool="c"}')"
check_eq "not disabled" 0 "$(metric 'idgate_pool_disabled{pool="c"}')"
code "$B/c?segv" >/dev/null
wait_log "pool c disabled"
sleep 0.3
scrape
check_eq "rapid_fail: disabled" 1 "$(metric 'idgate_pool_disabled{pool="c"}')"
check_eq "rapid_fail: state" "1 0" "$(metric 'idgate_pool_state{pool="c",state="disabled"}') $(metric 'idgate_pool_state{pool="c",state="serving"}')"
check_eq "502 twice on /c" 2 "$(metric 'idgate_requests_total{vdir="/c",status="502"}')"
check_eq "other pools unaffected" "0 0" "$(metric 'idgate_pool_worker_restarts_total{pool="default"}') $(metric 'idgate_pool_disabled{pool="default"}')"

# ---------------------------------------------------------------- reloads
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 2"
check_eq "the admin listener survives a reload" 200 "$(code "$M")"
scrape
check_eq "a new front end counts from zero" 0 "$(metric 'idgate_request_duration_seconds_count')"
check_eq "and the reload re-enabled pool c" 1 "$(metric 'idgate_pool_state{pool="c",state="serving"}')"
finish
