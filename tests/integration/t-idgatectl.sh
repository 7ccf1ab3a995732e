#!/bin/sh
# idgatectl against a running gateway: status (pools, pids, states,
# request counts), pool recycle (a new worker while a request in flight
# completes, no request failing), pool stop/start, a rapid_fail-disabled
# pool started again, reload and check, clear errors and exit codes, and
# the control socket's walls: mode 0600 root's, and SO_PEERCRED refusing
# any other uid even when the mode is loosened.
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
B="http://127.0.0.1:$PORT"
SOCK="$T/run/control"
CTL() { "$IDGATECTL" -s "$SOCK" "$@"; }
mkdir -p "$T/modules"
cp "$MODULES_DIR/whoami.so" "$TESTMODS_DIR/tcrash.so" "$T/modules/"

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
shutdown_timeout = 10s
[pool a]
user = nobody
threads = 4
[pool b]
user = nobody
threads = 2
[pool c]
user = nobody
threads = 1
rapid_fail = 2/1m
[vdir /a]
pool = a
handler = tcrash
auth = anonymous
[vdir /b]
pool = b
handler = whoami
auth = anonymous
[vdir /c]
pool = c
handler = tcrash
auth = anonymous
EOF

# ---------------------------------------------------------------- no daemon
CTL status >"$T/none.out" 2>"$T/none.err"
check_eq "no daemon: exit 3" 3 $?
check_eq "no daemon: says so" "idgatectl: cannot connect to $SOCK: No such file or directory (is idgated running?)" "$(cat "$T/none.err")"
"$IDGATECTL" frobnicate 2>/dev/null
check_eq "unknown command: exit 2" 2 $?
"$IDGATECTL" pool explode a 2>"$T/usage.err"
check_eq "unknown pool action: exit 2" 2 $?
check_grep "and why" "unknown pool action 'explode'" "$T/usage.err"

# deliberate crashes: under ASan, let the kernel deliver them as in production
ASAN_EXTRA=handle_segv=0
start_idgated "$T/idgate.conf" || finish
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
worker_of() { # the pid of pool $1's newest worker, from its start-up line
	grep -o "idgated\[[0-9]*\]: pool $1: serving" "$IDG_LOG" | tail -1 | tr -dc '0-9'
}
st() { # st EXPR -- a field of `idgatectl --json status` (Python on j)
	CTL --json status >"$T/st.json" && json "$T/st.json" "$1"
}

# ---------------------------------------------------------------- the socket
check_eq "socket: a socket, 0600, root's" "socket 600 0" "$(stat -c '%F %a %u' "$SOCK")"

# ---------------------------------------------------------------- status
for i in 1 2 3; do code "$B/b" >/dev/null; done
code "$B/a" >/dev/null
CTL status >"$T/status.txt"
check_eq "status: exit 0" 0 $?
check_grep "status: the version and the supervisor's pid" "^idgated [0-9.]+, pid $IDG_PID, up " "$T/status.txt"
check_grep "status: the configuration file" "^configuration $T/idgate.conf \(generation 1\)$" "$T/status.txt"
check_grep "status: pool b with its worker's pid" "^b +serving +$(worker_of b) " "$T/status.txt"
check_eq "json: pools in order" "['a', 'b', 'c']" "$(st '[p["name"] for p in j["pools"]]')"
check_eq "json: pool a's pid" "$(worker_of a)" "$(st 'j["pools"][0]["pid"]')"
check_eq "json: the front end's pid" "$(child_pid idgate-front)" "$(st 'j["frontend_pid"]')"
check_eq "json: requests per pool, from the front end" "1 3 0" "$(st '" ".join(str(p["requests"]) for p in j["pools"])')"
check_eq "json: states" "serving serving serving" "$(st '" ".join(p["state"] for p in j["pools"])')"
check_eq "json: restarts" "0 0 0" "$(st '" ".join(str(p["restarts"]) for p in j["pools"])')"

# ---------------------------------------------------------------- recycle
OLD=$(worker_of a)
# a request on the old worker through the recycle and the status after it
# (5 s: under ASan on a loaded machine those steps took more than the 1.5 s
# of ?slow, and the old worker had drained before status was asked)
curl -s -o "$T/slow.body" -w '%{http_code}' "$B/a?hold" >"$T/slow.code" &
SLOW=$!
i=0
while [ "$(st 'j["pools"][0]["busy"]')" != 1 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_eq "the held request is on pool a's worker (busy 1)" 1 "$(st 'j["pools"][0]["busy"]')"
seq 1 200 | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$B/a" >"$T/load" &
LOAD=$!
sleep 0.3
CTL --json pool recycle a >"$T/recycle.json"
check_eq "recycle: exit 0" 0 $?
NEW=$(json "$T/recycle.json" 'j["pid"]')
check_eq "recycle: reports the old worker" "$OLD" "$(json "$T/recycle.json" 'j["old_pid"]')"
check_eq "recycle: a new worker" "yes" "$([ -n "$NEW" ] && [ "$NEW" != "$OLD" ] && [ "$NEW" = "$(worker_of a)" ] && echo yes || echo "no: $NEW")"
check_eq "recycle: the new worker is idgated's child" "$IDG_PID" "$(awk '/^PPid/{print $2}' "/proc/$NEW/status")"
check_eq "recycle: status lists the old one draining" "[$OLD]" "$(st 'j["pools"][0]["draining"]')"
wait $SLOW
check_eq "the request in flight during the recycle completes" "200 alive" "$(cat "$T/slow.code") $(cat "$T/slow.body")"
wait $LOAD
check_eq "200 requests during the recycle: all 200" 200 "$(grep -c '^200$' "$T/load")"
wait_log "old worker (pid $OLD) has drained"
check_grep "the old worker drains and exits" "pool a: old worker \(pid $OLD\) has drained and exited with status 0" "$IDG_LOG"
check_eq "the old worker is gone" no "$(kill -0 "$OLD" 2>/dev/null && echo yes || echo no)"
check_eq "status: pool a serves with the new worker, nothing draining" "serving $NEW []" "$(st '"%s %s %s" % (j["pools"][0]["state"], j["pools"][0]["pid"], j["pools"][0]["draining"])')"
check_eq "a recycle is not a restart" 0 "$(st 'j["pools"][0]["restarts"]')"
check_eq "pool a serves" 200 "$(code "$B/a")"

# ---------------------------------------------------------------- stop and start
BOLD=$(worker_of b)
CTL pool stop b >"$T/stop.out"
check_eq "stop: exit 0" 0 $?
check_eq "stop: says so" "pool b: stopped; worker $BOLD finishes its requests" "$(cat "$T/stop.out")"
check_eq "a stopped pool: 503" 503 "$(fetch stopped "$B/b")"
check_eq "with Retry-After" 60 "$(header stopped Retry-After)"
check_eq "the audit reason" "pool stopped by idgatectl" "$(audit stopped 'j["reason"]')"
wait_log "old worker (pid $BOLD) has drained"
check_eq "status: stopped, no worker" "stopped None" "$(st '"%s %s" % (j["pools"][1]["state"], j["pools"][1]["pid"])')"
check_eq "stop again: nothing to do" "pool b: already stopped" "$(CTL pool stop b)"
check_eq "recycle a stopped pool: refused, exit 1" "1" "$(CTL pool recycle b 2>"$T/rec.err"; echo $?)"
check_eq "and why" "idgatectl: pool b is stopped: start it instead" "$(cat "$T/rec.err")"
CTL pool start b >"$T/start.out"
check_eq "start: exit 0" 0 $?
check_eq "start: the new worker" "pool b: worker $(worker_of b) serves" "$(cat "$T/start.out")"
check_eq "a started pool serves" 200 "$(code "$B/b")"

# ---------------------------------------------------------------- rapid_fail, then start
check_eq "pool c crash 1" 502 "$(code "$B/c?segv")"
check_eq "pool c crash 2" 502 "$(code "$B/c?segv")"
check_eq "pool c disabled" 503 "$(code "$B/c")"
check_eq "status: disabled, one restart before" "disabled 1" "$(st '"%s %s" % (j["pools"][2]["state"], j["pools"][2]["restarts"])')"
check_eq "start re-enables it" 0 "$(CTL pool start c >/dev/null; echo $?)"
check_eq "pool c serves again" 200 "$(code "$B/c")"

# ---------------------------------------------------------------- errors
CTL pool recycle nope 2>"$T/nope.err"
check_eq "unknown pool: exit 1" 1 $?
check_eq "unknown pool: says so" "idgatectl: no pool 'nope' in $T/idgate.conf" "$(cat "$T/nope.err")"

# ---------------------------------------------------------------- check and reload
check_eq "check: OK" "configuration OK" "$(CTL check)"
cp "$T/idgate.conf" "$T/good.conf"
printf '[vdir /x]\nhandler = whoami\nbogus = 1\n' >>"$T/idgate.conf"
CTL check 2>"$T/check.err"
check_eq "check of a bad file: exit 1" 1 $?
check_grep "with FILE:LINE" "^idgatectl: $T/idgate.conf:[0-9]+: \[vdir /x\] unknown key 'bogus'" "$T/check.err"
CTL reload 2>"$T/reload.err"
check_eq "reload of a bad file: exit 1" 1 $?
check_grep "reload refused, and why" "unknown key 'bogus'" "$T/reload.err"
check_eq "still generation 1" 1 "$(st 'j["generation"]')"
cp "$T/good.conf" "$T/idgate.conf"
check_eq "reload: done" "reloaded" "$(CTL reload)"
check_eq "generation 2" 2 "$(st 'j["generation"]')"
check_eq "serves after the reload" 200 "$(code "$B/b")"

# ---------------------------------------------------------------- who may talk
check_eq "another user: refused by the file mode, exit 3" 3 "$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$IDGATECTL" -s "$SOCK" status 2>"$T/nobody.err"; echo $?)"
check_grep "and told why" "cannot connect to $SOCK: Permission denied \(idgatectl needs root\)" "$T/nobody.err"
chmod 755 "$T/run"
chmod 666 "$SOCK" # as if an administrator loosened it
check_eq "another user through a loosened mode: refused by SO_PEERCRED, exit 1" 1 "$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$IDGATECTL" -s "$SOCK" status 2>"$T/peer.err"; echo $?)"
check_eq "and told why" "idgatectl: permission denied: only root may control idgated" "$(cat "$T/peer.err")"
check_grep "the refusal is logged" "control socket: refused uid $(id -u nobody)" "$IDG_LOG"
chmod 600 "$SOCK"

# ---------------------------------------------------------------- a malformed request
$PY - "$SOCK" >"$T/bad.out" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
# W_ADM_POOL whose header claims more payload than it carries
s.send(struct.pack("<HHI", 65, 0, 100) + b"\x01\x00\x00\x00")
typ, flags, n = struct.unpack("<HHI", s.recv(65536)[:8])
print(typ)
EOF
check_eq "a lying frame gets W_ADM_ERROR" 73 "$(cat "$T/bad.out")"
check_eq "and idgated goes on" "serving" "$(st 'j["pools"][0]["state"]')"

stop_idgated
check_eq "SIGTERM: exit 0" 0 "$STOP_RC"
check_eq "the socket is removed at exit" no "$([ -e "$SOCK" ] && echo yes || echo no)"
finish
