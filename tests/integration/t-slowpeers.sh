#!/bin/sh
# Slow and many peers.  A slowloris client (a request head a byte a second,
# never silent for idle_timeout) is cut off after header_timeout and holds
# no pool worker meanwhile; a body that trickles in frees its worker at
# request_timeout (408); 10 000 idle keep-alive connections are held and a
# new one is still served (the front end's RSS is printed); out of
# descriptors (EMFILE), the front end neither spins nor floods its log, and
# serves again once connections close.  SLOWPEERS_CONNS: how many
# connections for the second part (10000).
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
PORT2=$(free_port)
APORT=$(free_port)
B="http://127.0.0.1:$PORT"
M="http://127.0.0.1:$APORT/metrics"
SP="$PY $top_srcdir/tests/integration/slowpeer.py"
CONNS=${SLOWPEERS_CONNS:-10000}
HARD=$(ulimit -Hn)
[ "$HARD" = unlimited ] && HARD=1048576
if [ "$HARD" -lt $((CONNS + 1000)) ]; then
	CONNS=$((HARD - 1000))
	echo "# only $CONNS connections: the hard RLIMIT_NOFILE is $HARD"
fi
ulimit -Sn "$HARD"

mkdir -p "$T/spool"
chown nobody:nogroup "$T/spool"
# conf FILE IDLE -- the test's configuration: small timeouts, one worker
# thread, idle_timeout IDLE
conf() {
	cat >"$1" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$PORT2
user = idgate
pam_service =
audit_log = $AUDIT
modules_dir = $MODULES_DIR
admin_listen = 127.0.0.1:$APORT
idle_timeout = $2
header_timeout = 3s
request_timeout = 3s
max_connections = 30000
[pool default]
user = nobody
group = nogroup
threads = 1
[vdir /who]
handler = whoami
auth = anonymous
[vdir /up]
handler = spool
root = $T/spool
auth = anonymous
EOF
}
conf "$T/idgate.conf" 2s
start_idgated "$T/idgate.conf" || finish

# metric NAME -- its value now
metric() { curl -s "$M" | awk -v k="$1" 'index($0, k " ") == 1 { print $2 }'; }
BUSY='idgate_pool_busy_threads{pool="default"}'
QUEUED='idgate_pool_queued_requests{pool="default"}'
# wait_file FILE PATTERN SECONDS -- until a line of FILE matches
wait_file() {
	i=0
	while ! grep -Eq -- "$2" "$1" 2>/dev/null && [ $i -lt $(($3 * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
# in_range X LOW HIGH -- "yes" if LOW <= X <= HIGH (decimals)
in_range() { $PY -c 'import sys; x, a, b = map(float, sys.argv[1:]); print("yes" if a <= x <= b else "no: %s" % x)' "$@"; }

# ---------------------------------------------------------------- slowloris
# 6 connections, a byte a second for up to 10 s: idle_timeout (2 s) never
# fires; header_timeout (3 s, checked every second, from the first byte
# seen) must, within 3 to 6 s
$SP loris "$PORT" 6 1 10 "$T/loris.out" &
LORIS=$!
sleep 1.5
check_eq "slowloris: a normal request is served meanwhile" 200 "$(fetch n1 "$B/who" -m 3)"
check_eq "slowloris: no pool worker is busy" "0 0" "$(metric "$BUSY") $(metric "$QUEUED")"
wait $LORIS
check_eq "slowloris: all 6 connections were closed by the server" 6 "$(grep -c '^closed ' "$T/loris.out")"
check_eq "slowloris: none got an answer" 0 "$(grep -c '^closed .* [0-9]' "$T/loris.out")"
for t in $(awk '$1 == "closed" { print $2 }' "$T/loris.out"); do
	check_eq "slowloris: closed after header_timeout, not idle_timeout ($t s)" yes "$(in_range "$t" 2.9 6.5)"
done
check_eq "slowloris: the 3 whose request line came in are audited 408" 3 \
	"$(grep -c '"path":"/who".*"status":408,.*"reason":"request head not received within header_timeout"' "$AUDIT")"
check_grep "slowloris: logged, a line per scan" \
	"closed [0-9] connections whose request head took longer than header_timeout \(3000 ms\)" "$IDG_LOG"

# ---------------------------------------------------------------- slow body
# the spool handler reads the body as it comes: the one worker thread is
# held while it trickles, and let go at request_timeout (3 s)
$SP slowbody "$PORT" /up 0.5 12 "$T/body.out" &
BODY=$!
sleep 1.5
check_eq "slow body: the worker is busy with it" 1 "$(metric "$BUSY")"
wait_file "$T/body.out" "^closed" 6
check_eq "slow body: the worker is free again" "0 0" "$(metric "$BUSY") $(metric "$QUEUED")"
check_eq "slow body: a normal request is served" 200 "$(fetch n2 "$B/who" -m 3)"
wait $BODY
check_eq "slow body: the connection was closed, no answer" "closed none" \
	"$(awk '$1 != "done" { print $1, $3 }' "$T/body.out")"
check_eq "slow body: closed after request_timeout" yes \
	"$(in_range "$(awk '$1 == "closed" { print $2 }' "$T/body.out")" 2.9 6)"
check_eq "slow body: audited 408 with the reason" "408 request body not received within request_timeout" \
	"$(grep '"path":"/up"' "$AUDIT" | tail -1 | $PY -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j["reason"])')"
check_eq "slow body: nothing was queued" "" "$(find "$T/spool" -type f | head -1)"

# ---------------------------------------------------------------- many peers
stop_idgated
conf "$T/idgate.conf" 60s # idle connections stay open
start_idgated "$T/idgate.conf" || finish
FE=$(child_pid idgate-front)
$SP many "$PORT" "$CONNS" /who "$T/many.out" &
MANY=$!
wait_file "$T/many.out" "^answered" 60
check_eq "$CONNS keep-alive connections: all answered 200" "answered $CONNS/$CONNS" \
	"$(cut -d' ' -f1-2 "$T/many.out")"
echo "# $(head -1 "$T/many.out")"
sleep 1
RSS=$(status_field "$FE" VmRSS)
FDS=$(ls "/proc/$FE/fd" | wc -l)
echo "# front end with $CONNS idle keep-alive connections: VmRSS $RSS kB, $FDS descriptors"
check_eq "the front end holds a descriptor for each" yes "$(in_range "$FDS" "$CONNS" $((CONNS + 100)))"
# libmicrohttpd's per-connection pool (max_header_size + 16k, zeroed
# between requests) is most of it: a bound that catches a leak
check_eq "the front end's RSS is at most 40 kB a connection" yes \
	"$(in_range "$RSS" 0 $((CONNS * 40 + 20000)))"
check_eq "a new connection is still served" 200 "$(fetch n3 "$B/who" -m 5)"
kill -TERM "$MANY"
wait "$MANY"
check_eq "none of them was closed while idle" "still-open $CONNS" "$(tail -1 "$T/many.out")"

# ---------------------------------------------------------------- EMFILE
# a front end with 200 descriptors (a test as root without CAP_SYS_RESOURCE
# cannot prlimit another user's process: it inherits the limit); 300
# connections that send nothing to
# the first listener; then one to the second, whose daemon holds none
# (libmicrohttpd 0.9.75 retried accept() there in a busy loop)
stop_idgated
ulimit -Sn 200
start_idgated "$T/idgate.conf" || finish
ulimit -Sn "$HARD"
FE=$(child_pid idgate-front)
$SP hold "$PORT" 300 "$T/hold.out" &
HOLD=$!
wait_file "$T/hold.out" "^opened" 20
check_eq "300 connections opened (the rest wait in the backlog)" "opened 300" "$(cat "$T/hold.out")"
curl -s -m 15 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT2/who" >"$T/second.out" &
SECOND=$!
sleep 1
cpu() { awk '{ print $14 + $15 }' "/proc/$FE/stat"; }
c1=$(cpu)
sleep 2
c2=$(cpu)
check_eq "out of descriptors: the front end does not spin (CPU over 2 s < 0.2 s)" yes \
	"$(in_range $((c2 - c1)) 0 $(($(getconf CLK_TCK) / 5)))"
n=$(grep -c "cannot accept connections: Too many open files" "$IDG_LOG")
check_eq "out of descriptors: said, at most once per event loop in 10 s ($n)" yes "$(in_range "$n" 1 4)"
check_eq "out of descriptors: no line per failed accept()" 0 "$(grep -c "Error accepting connection" "$IDG_LOG")"
kill -TERM "$HOLD"
wait "$HOLD"
wait "$SECOND"
check_eq "the connection that waited in the backlog is served" 200 "$(cat "$T/second.out")"
check_eq "new connections are served again" 200 "$(fetch n4 "$B/who" -m 5)"
check_eq "on the second listener too" 200 "$(fetch n5 "http://127.0.0.1:$PORT2/who" -m 5)"

finish
