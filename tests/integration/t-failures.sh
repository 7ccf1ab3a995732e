#!/bin/sh
# Failures stay where they happen: a crashing handler fails its request
# with 502 and its worker is restarted; kill -9 of one pool's worker under
# load leaves the other pool at zero errors and the killed pool serving
# again; rapid_fail disables a pool (503 + Retry-After) until a reload; a
# bad reload changes nothing; a good reload applies, while an in-flight
# download finishes; readiness and reloads are reported to systemd.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
B="http://127.0.0.1:$PORT"
mkdir -p "$T/modules" "$T/www"
cp "$MODULES_DIR/static.so" "$MODULES_DIR/whoami.so" "$TESTMODS_DIR/tcrash.so" "$T/modules/"
head -c 20000000 /dev/urandom >"$T/www/big.bin"
chmod -R a+rX "$T/www"

write_conf() { # write_conf EXTRA-SECTIONS
	cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $T/modules
[pool a]
user = nobody
threads = 4
rapid_fail = 100/1m
[pool b]
user = nobody
threads = 4
[pool c]
user = nobody
threads = 1
rapid_fail = 3/1m
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
[vdir /files]
pool = b
handler = static
root = $T/www
auth = anonymous
$1
EOF
}
write_conf ""

# systemd's notification socket, listened to by a tiny datagram server
NOTIFY_SOCKET="$T/notify.sock"
export NOTIFY_SOCKET
$PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        f.flush()' "$NOTIFY_SOCKET" "$T/notify.log" &
NOTIFY_PID=$!
at_exit "kill $NOTIFY_PID 2>/dev/null"
sleep 0.2

# notified WANT -- the last notification, once it is WANT (up to 5 s)
notified() {
	i=0
	while [ "$(tail -1 "$T/notify.log")" != "$1" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	tail -1 "$T/notify.log"
}

# deliberate crashes: under ASan, let the kernel deliver them as in production
ASAN_EXTRA=handle_segv=0
start_idgated "$T/idgate.conf" || finish
check_grep "systemd hears READY=1" "^READY=1" "$T/notify.log"
# STATUS= is what `systemctl status idgate` shows: what serves, exactly
W="READY=1 STATUS=serving generation 1: 3 pools, 4 vdirs"
check_eq "and what serves" "$W" "$(notified "$W")"
worker_of() { # the pid of pool $1's newest worker, from its start-up line
	grep -o "idgated\[[0-9]*\]: pool $1: serving" "$IDG_LOG" | tail -1 | tr -dc '0-9'
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# ---------------------------------------------------------------- a crashing handler
check_eq "alive" 200 "$(code "$B/a")"
check_eq "a segfaulting handler: 502" 502 "$(fetch segv "$B/a?segv")"
check_eq "502 reason" "pool worker closed the channel" "$(audit segv 'j["reason"]')"
check_grep "the crash is logged" "pool a worker \(pid [0-9]+\) killed by signal 11" "$IDG_LOG"
check_eq "the pool serves again at once" 200 "$(code "$B/a")"
check_eq "an aborting handler: 502" 502 "$(code "$B/a?abort")"
check_eq "and again it serves" 200 "$(code "$B/a")"
check_eq "the other pool never noticed" 200 "$(code "$B/b")"

# ---------------------------------------------------------------- kill -9 under load
seq 1 600 | xargs -P 6 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$B/b" >"$T/load_b" &
LOAD_B=$!
seq 1 300 | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' "$B/a?slow" >"$T/load_a" 2>/dev/null &
LOAD_A=$!
sleep 1
A_PID=$(worker_of a)
check_eq "pool a's worker is a child of idgated" "$IDG_PID" "$(awk '/^PPid/{print $2}' /proc/$A_PID/status)"
kill -9 "$A_PID"
wait $LOAD_B
kill $LOAD_A 2>/dev/null
wait $LOAD_A 2>/dev/null
check_eq "600 requests to the other pool during the kill: all 200" 600 "$(grep -c '^200$' "$T/load_b")"
check_eq "the killed pool serves again" 200 "$(code "$B/a")"
check_grep "the kill is logged" "pool a worker \(pid $A_PID\) killed by signal 9" "$IDG_LOG"

# ---------------------------------------------------------------- rapid_fail
for i in 1 2 3; do
	check_eq "pool c crash $i: 502" 502 "$(code "$B/c?segv")"
done
check_eq "pool c disabled: 503" 503 "$(fetch dis "$B/c")"
check_eq "Retry-After" 60 "$(header dis Retry-After)"
check_eq "the reason" "pool disabled by rapid_fail" "$(audit dis 'j["reason"]')"
check_grep "the disabling is logged" "pool c disabled: 3 worker failures within 60 s" "$IDG_LOG"
W="STATUS=serving generation 1: 3 pools, 4 vdirs; pool c disabled by rapid_fail"
check_eq "and told to systemd" "$W" "$(notified "$W")"
check_eq "still disabled a moment later" 503 "$(sleep 0.5; code "$B/c")"
check_eq "the other pools go on" "200 200" "$(code "$B/a") $(code "$B/b")"

# ---------------------------------------------------------------- reloads
cp "$T/idgate.conf" "$T/good.conf"
printf '[vdir /broken]\npool = nope\nbogus = 1\n' >>"$T/idgate.conf"
kill -HUP "$IDG_PID"
sleep 1
check_grep "a bad reload is refused" "reload refused: the configuration is not valid" "$IDG_LOG"
check_grep "with each problem" "reload: $T/idgate.conf:[0-9]+: \[vdir /broken\] pool: no \[pool nope\] section" "$IDG_LOG"
check_eq "still serving after the bad reload" 200 "$(code "$B/b")"
check_eq "pool c is still disabled (nothing changed)" 503 "$(code "$B/c")"
check_eq "systemd hears the reload begin" "RELOADING=1 STATUS=reloading $T/idgate.conf; generation 1 serves" \
	"$(grep '^RELOADING=1' "$T/notify.log" | tail -1)"
W="READY=1 STATUS=serving generation 1: 3 pools, 4 vdirs; pool c disabled by rapid_fail; the last reload was refused (see the log)"
check_eq "and that it was refused" "$W" "$(notified "$W")"

write_conf "[vdir /new]
pool = b
handler = whoami
auth = anonymous"
curl -s --limit-rate 4M -o "$T/slow.body" "$B/files/big.bin" &
SLOW=$!
sleep 0.5
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 2 serves"
check_grep "a good reload applies" "reloaded: configuration generation 2 serves, 1 drains" "$IDG_LOG"
check_grep "systemd hears the new generation, and the old one draining" \
	"^READY=1 STATUS=serving generation 2: 3 pools, 5 vdirs; generation 1 drains$" "$T/notify.log"
check_eq "the new vdir answers" 200 "$(code "$B/new")"
check_eq "the disabled pool serves again" 200 "$(code "$B/c")"
wait $SLOW
check_eq "the download that spanned the reload is whole" "$(sha256sum <"$T/www/big.bin")" "$(sha256sum <"$T/slow.body")"
wait_log "configuration generation 1 has stopped"
check_grep "the old generation stops after draining" "configuration generation 1 has stopped" "$IDG_LOG"
check_eq "one front end left" 1 "$(pgrep -P "$IDG_PID" -x idgate-front | wc -l)"
check_eq "three pool workers left" 3 "$(pgrep -P "$IDG_PID" -x idgate-pool | wc -l)"
W="STATUS=serving generation 2: 3 pools, 5 vdirs"
check_eq "systemd hears when the old one is gone" "$W" "$(notified "$W")"
check_grep "systemd hears RELOADING=1" "^RELOADING=1" "$T/notify.log"
check_eq "and READY=1 after it (three: start, bad reload, good reload)" 3 "$(grep -c '^READY=1' "$T/notify.log")"

stop_idgated
check_eq "SIGTERM: exit 0" 0 "$STOP_RC"
check_grep "systemd hears STOPPING=1" "^STOPPING=1" "$T/notify.log"
check_grep "with what it does" "^STOPPING=1 STATUS=stopping: draining requests$" "$T/notify.log"
finish
