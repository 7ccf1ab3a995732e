#!/bin/sh
# Module code never runs as root: init() -- which parses the vdir's keys
# and may resolve names (proxy) -- runs as the vdir's pool user, with no
# capability, under idgated -t, at start-up, at a SIGHUP reload and for
# idgatectl check, as in the worker.  A module records who ran its init();
# one that fails says so as FILE:LINE, and one that crashes in init() is a
# failed check, not a dead supervisor.
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
B="http://127.0.0.1:$PORT"
SOCK="$T/run/control"
mkdir -p "$T/modules"
cp "$TESTMODS_DIR/tinitid.so" "$MODULES_DIR/whoami.so" "$T/modules/"
REC="$T/rec"
: >"$REC"
chmod 666 "$REC"
NOBODY=$(id -u nobody)
add_user idgtinit || finish
INITU=$(id -u idgtinit)

write_conf() { # write_conf EXTRA-KEYS-OF-/b
	cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
pam_service =
audit_log =
modules_dir = $T/modules
control_socket = $SOCK
[pool a]
user = nobody
[pool b]
user = idgtinit
[vdir /a]
pool = a
handler = tinitid
record = $REC
auth = anonymous
[vdir /b]
pool = b
handler = tinitid
record = $REC
auth = anonymous
$1
EOF
}
# lines UID CHECKING -- how many lines of $REC say so
# next_rec -- keep what $REC has in $T/all, and empty it
lines() { grep -c "^uid=$1 euid=$1 capeff=0000000000000000 checking=$2\$" "$REC"; }
next_rec() { cat "$REC" >>"$T/all"; : >"$REC"; }
write_conf ""

"$IDGATED" -t -c "$T/idgate.conf" >"$T/out" 2>&1
check_eq "idgated -t: OK" "configuration OK" "$(cat "$T/out")"
check_eq "-t: pool a's init() ran as pool a's user, no capabilities" 1 "$(lines "$NOBODY" 1)"
check_eq "-t: pool b's init() ran as pool b's user, no capabilities" 1 "$(lines "$INITU" 1)"
check_eq "-t: two init() calls in all" 2 "$(wc -l <"$REC")"

next_rec
ASAN_EXTRA=handle_segv=0
start_idgated "$T/idgate.conf" || finish
check_eq "start: the check ran each init() as its pool's user" "1 1" "$(lines "$NOBODY" 1) $(lines "$INITU" 1)"
check_eq "start: each worker's init() too" "1 1" "$(lines "$NOBODY" 0) $(lines "$INITU" 0)"
check_eq "start: four init() calls in all" 4 "$(wc -l <"$REC")"
check_eq "it serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$B/a")"

next_rec
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 2 serves"
check_grep "SIGHUP: reloaded" "reloaded: configuration generation 2 serves" "$IDG_LOG"
check_eq "SIGHUP: the check and the new workers, as the pools' users" "1 1 1 1" \
	"$(lines "$NOBODY" 1) $(lines "$INITU" 1) $(lines "$NOBODY" 0) $(lines "$INITU" 0)"

next_rec
check_eq "idgatectl check: OK" "configuration OK" "$("$IDGATECTL" -s "$SOCK" check 2>&1)"
check_eq "idgatectl check: init() as the pools' users" "1 1" "$(lines "$NOBODY" 1) $(lines "$INITU" 1)"
check_eq "idgatectl check: two init() calls" 2 "$(wc -l <"$REC")"

# an init() that refuses: its message, with the key's line, as the pool's user
write_conf "refuse = not today"
LINE=$(grep -n '^refuse = ' "$T/idgate.conf" | cut -d: -f1)
"$IDGATED" -t -c "$T/idgate.conf" >"$T/out" 2>"$T/err"
check_eq "a refusing init(): exit 1" 1 $?
check_eq "its message with FILE:LINE, written as pool b's user" \
	"$T/idgate.conf:$LINE: [vdir /b] handler 'tinitid': refuse: not today (uid $INITU)" "$(cat "$T/err")"
"$IDGATECTL" -s "$SOCK" check >"$T/out" 2>"$T/err"
check_eq "idgatectl check of it: exit 1" 1 $?
check_eq "idgatectl check: the same message" \
	"idgatectl: $T/idgate.conf:$LINE: [vdir /b] handler 'tinitid': refuse: not today (uid $INITU)" \
	"$(cat "$T/err")"

# an init() that crashes: a failed check; the supervisor lives on
write_conf "crash = true"
LINE=$(grep -n '^\[vdir /b\]' "$T/idgate.conf" | cut -d: -f1)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0" "$IDGATED" -t -c "$T/idgate.conf" >"$T/out" 2>"$T/err"
check_eq "a crashing init(): exit 1" 1 $?
check_eq "and why" \
	"$T/idgate.conf:$LINE: [vdir /b] handler 'tinitid': init() was killed by signal 11 (Segmentation fault)" \
	"$(cat "$T/err")"
"$IDGATECTL" -s "$SOCK" reload >"$T/out" 2>"$T/err"
check_eq "a reload to it: refused, exit 1" 1 $?
check_grep "and why" "\[vdir /b\] handler 'tinitid': init\(\) was killed by signal 11" "$T/err"
check_eq "the supervisor still runs" yes "$(kill -0 "$IDG_PID" 2>/dev/null && echo yes || echo no)"
check_eq "generation 2 still serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$B/b")"

next_rec
check_eq "init() ran 18 times in all" 18 "$(wc -l <"$T/all")"
check_eq "init() never ran as root" 0 "$(grep -c 'uid=0 ' "$T/all")"
stop_idgated
check_eq "SIGTERM: exit 0" 0 "$STOP_RC"
finish
