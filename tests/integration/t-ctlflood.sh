#!/bin/sh
# A compromised worker floods the root supervisor's control channel with
# zero-length messages that carry descriptors (50 messages x 16 fds).
# The supervisor must not keep them: its descriptor count stays flat, it
# logs a protocol violation, drops the worker (a new one serves) and goes
# on answering idgatectl.
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
B="http://127.0.0.1:$PORT"
SOCK="$T/run/control"
mkdir -p "$T/modules"
cp "$MODULES_DIR/whoami.so" "$TESTMODS_DIR/tfdflood.so" "$T/modules/"

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $T/modules
control_socket = $SOCK
[pool evil]
user = nobody
threads = 2
[pool good]
user = nobody
threads = 2
[vdir /evil]
pool = evil
handler = tfdflood
auth = anonymous
[vdir /good]
pool = good
handler = whoami
auth = anonymous
EOF

ASAN_EXTRA=handle_segv=0
start_idgated "$T/idgate.conf" || finish
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
worker_of() { # the pid of pool $1's newest worker, from its start-up line
	grep -o "idgated\[[0-9]*\]: pool $1: serving" "$IDG_LOG" | tail -1 | tr -dc '0-9'
}
nfds() { ls "/proc/$IDG_PID/fd" | wc -l; }

check_eq "the flooding handler serves" 200 "$(code "$B/evil")"
OLD=$(worker_of evil)
BEFORE=$(nfds)
# (the messages all fit in the socket: the request may end either way)
curl -s -o /dev/null "$B/evil?flood"
wait_log "pool evil worker (pid $OLD) broke the control protocol"
sleep 0.5
check_eq "the supervisor's descriptors stay flat after the flood" "$BEFORE" "$(nfds)"
check_grep "the protocol violation is logged, naming the worker" \
	"supervisor: error: pool evil worker \(pid $OLD\) broke the control protocol: a malformed or empty message \(Protocol error\); dropping it" \
	"$IDG_LOG"
check_eq "the flooding worker is gone" no "$(kill -0 "$OLD" 2>/dev/null && echo yes || echo no)"
i=0
while [ "$(worker_of evil)" = "$OLD" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
NEW=$(worker_of evil)
check_eq "a new worker serves pool evil" yes "$([ -n "$NEW" ] && [ "$NEW" != "$OLD" ] && echo yes || echo "no: '$NEW'")"
check_eq "pool evil serves again" 200 "$(code "$B/evil")"
check_eq "the other pool never noticed" 200 "$(code "$B/good")"
check_eq "the restart counts as a failure" 1 \
	"$("$IDGATECTL" -s "$SOCK" --json status >"$T/st.json" && json "$T/st.json" 'j["pools"][0]["restarts"]')"
check_eq "no 'cannot restart' in the log" 0 "$(grep -c 'cannot restart' "$IDG_LOG")"

# and once more: every flood is dropped the same way, nothing accumulates
OLD=$NEW
BEFORE=$(nfds)
code "$B/evil?flood" >/dev/null
wait_log "pool evil worker (pid $OLD) broke the control protocol"
sleep 0.5
check_eq "a second flood: descriptors still flat" "$BEFORE" "$(nfds)"

stop_idgated
check_eq "SIGTERM: exit 0" 0 "$STOP_RC"
finish
