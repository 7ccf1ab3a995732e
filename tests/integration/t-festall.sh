#!/bin/sh
# A front end that stops reading its control channel (here: SIGSTOP) must
# not wedge the root supervisor.  Its messages fill the socket (pool b's
# worker is killed again and again: each restart sends 256 channels in 16
# messages, and two states); then they wait in the supervisor, which goes
# on: idgatectl gets answers (an error for what needs the front end,
# status without the counts), the queue is delivered when the front end
# reads again, SIGTERM still stops everything, and a front end that stays
# stalled for 30 s is killed, and a new one serves.
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
B="http://127.0.0.1:$PORT"
SOCK="$T/run/control"
mkdir -p "$T/modules"
cp "$MODULES_DIR/whoami.so" "$T/modules/"
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
shutdown_timeout = 3s
[pool a]
user = nobody
threads = 1
[pool b]
user = nobody
threads = 256
rapid_fail = 1000/1m
[vdir /a]
pool = a
handler = whoami
auth = anonymous
[vdir /b]
pool = b
handler = whoami
auth = anonymous
EOF
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"; }
worker_of() { # the pid of pool $1's newest worker, from its start-up line
	grep -o "idgated\[[0-9]*\]: pool $1: serving" "$IDG_LOG" | tail -1 | tr -dc '0-9'
}
# CTL ARGS -- idgatectl with 8 s to answer; "rc seconds" in $T/ctl.rc
CTL() {
	t0=$(date +%s)
	timeout 8 "$IDGATECTL" -s "$SOCK" "$@"
	echo "$? $(($(date +%s) - t0))" >"$T/ctl.rc"
}
# quick -- the last CTL's "rc quick" when it took at most 3 s (whole seconds
# of `date`: a quick call may cross one), else "rc N"; a wedged supervisor
# makes idgatectl wait for its 8 s timeout
quick() { awk '{ print $1, ($2 <= 3 ? "quick" : $2) }' "$T/ctl.rc"; }
# hard_stop -- kill what is left of a wedged idgated (its children first)
hard_stop() {
	if [ -n "$IDG_PID" ] && kill -0 "$IDG_PID" 2>/dev/null; then
		for p in $(pgrep -P "$IDG_PID"); do kill -KILL "$p"; done
		kill -KILL "$IDG_PID"
		wait "$IDG_PID"
	fi
	IDG_PID=
}
# stall -- SIGSTOP the front end, then kill pool b's worker until the
# supervisor says the front end does not read (at most 30 times); "wedged"
# in $T/fill when a killed worker was not restarted within 5 s
stall() {
	FE=$(child_pid idgate-front)
	kill -STOP "$FE"
	at_exit "kill -CONT $FE 2>/dev/null"
	echo ok >"$T/fill"
	n=0
	# each restart of pool b sends its channels to the stalled front end,
	# about ten messages; how many fill the socket depends on the kernel's
	# buffers and the machine's load: go on until the supervisor says so
	while ! grep -q "is not reading its control channel" "$IDG_LOG" && [ $n -lt 120 ]; do
		W=$(worker_of b)
		kill -KILL "$W"
		i=0
		while [ "$(worker_of b)" = "$W" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		if [ "$(worker_of b)" = "$W" ]; then echo wedged >"$T/fill"; break; fi
		n=$((n + 1))
	done
	grep -q "is not reading its control channel" "$IDG_LOG" || echo "not filled after $n" >"$T/fill"
}
# poke N -- N pool stop/start of pool b; one "rc seconds" line per
# idgatectl in $T/pokes, its errors in $T/poke.err
poke() {
	: >"$T/pokes"
	: >"$T/poke.err"
	i=0
	while [ $i -lt "$1" ]; do
		if [ $((i % 2)) = 0 ]; then CTL pool stop b; else CTL pool start b; fi >/dev/null 2>>"$T/poke.err"
		cat "$T/ctl.rc" >>"$T/pokes"
		i=$((i + 1))
	done
}

# ---------------------------------------------------------------- stalled, then back
start_idgated "$T/idgate.conf" || finish
check_eq "serves" 200 "$(code "$B/b")"
stall
check_eq "the supervisor restarts workers while the front end does not read" ok "$(cat "$T/fill")"
check_grep "and says the front end does not read" \
	"supervisor: warning: the front end \(pid $FE\) is not reading its control channel: its messages wait \(30 s at most\)" \
	"$IDG_LOG"
poke 4
check_eq "pool stop/start with a stalled front end: refused within 3 s each" "1 0
1 0
1 0
1 0" "$(sed 's/ [0-3]$/ 0/' "$T/pokes")"
check_eq "and why" "idgatectl: the front end (pid $FE) is not reading its control channel; try again later" \
	"$(sort -u "$T/poke.err")"
CTL --json status >"$T/st.json"
check_eq "status answers at once while the front end is stalled" "0 quick" "$(quick)"
check_eq "without the front end's counts" "None None" \
	"$(json "$T/st.json" '"%s %s" % (j["pools"][0]["requests"], j["pools"][1]["requests"])')"
check_eq "the supervisor did not kill it meanwhile" yes "$(kill -0 "$FE" 2>/dev/null && echo yes || echo no)"

kill -CONT "$FE"
wait_log "the front end (pid $FE) reads its control channel again"
check_grep "the supervisor sees it read again" \
	"supervisor: the front end \(pid $FE\) reads its control channel again" "$IDG_LOG"
CTL pool recycle b >"$T/recycle.out" 2>&1
check_eq "back: a recycle of pool b works" "0" "$(cut -d' ' -f1 "$T/ctl.rc")"
check_eq "the queued messages reached it: pool b serves" 200 "$(code "$B/b")"
check_eq "and pool a" 200 "$(code "$B/a")"
CTL --json status >"$T/st.json"
check_eq "status has the counts again" "True" "$(json "$T/st.json" 'j["pools"][0]["requests"] is not None')"
check_eq "the same front end" "$FE" "$(json "$T/st.json" 'j["frontend_pid"]')"

# ---------------------------------------------------------------- SIGTERM while stalled
stall
check_eq "stalled again" ok "$(cat "$T/fill")"
t0=$(date +%s)
kill -TERM "$IDG_PID"
i=0
while kill -0 "$IDG_PID" 2>/dev/null && [ $i -lt 120 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "SIGTERM with a stalled front end: idgated stops within shutdown_timeout + 5 s" yes \
	"$(kill -0 "$IDG_PID" 2>/dev/null && echo "no: still running after $(($(date +%s) - t0)) s" || echo yes)"
if kill -0 "$IDG_PID" 2>/dev/null; then hard_stop; else wait "$IDG_PID"; IDG_PID=; fi
check_grep "it had to kill the children" "children did not stop in time; killing them" "$IDG_LOG"

# ---------------------------------------------------------------- stalled for good
start_idgated "$T/idgate.conf" || finish
stall
check_eq "stalled once more" ok "$(cat "$T/fill")"
i=0
while kill -0 "$FE" 2>/dev/null && [ $i -lt 450 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "a front end stalled for good is killed" no "$(kill -0 "$FE" 2>/dev/null && echo yes || echo no)"
check_grep "and why" \
	"supervisor: error: the front end \(pid $FE\) has not read its control channel for 30 s; killing it" \
	"$IDG_LOG"
check_grep "a new one starts, as for any front end that dies" \
	"supervisor: error: front end \(pid $FE\) killed by signal 9 \(Killed\); restarting it" "$IDG_LOG"
wait_log "serves again (restart 1)"
check_eq "idgated goes on" yes "$(kill -0 "$IDG_PID" 2>/dev/null && echo yes || echo no)"
check_eq "and serves with the new front end" "200 200" "$(code "$B/a") $(code "$B/b")"
check_eq "the new front end" yes "$(N=$(child_pid idgate-front); [ -n "$N" ] && [ "$N" != "$FE" ] && echo yes)"
finish
