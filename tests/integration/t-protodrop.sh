#!/bin/sh
# A process that receives a message type its peer never sends (one not in
# its table for that peer, src/proto/peers.h) logs it by name and drops
# the peer.  Each process kind is reached on one of its real channels: a
# copy of the peer's own end of it (inject.py, pidfd_getfd) sends what a
# compromised peer could.  (The module check child's parent: test_modinit;
# the control socket: t-ctlpeer and t-idgatectl.)
. "$(dirname "$0")/lib.sh"
need_root

SVC=idgate-protodrop-$$
add_pam_service "$SVC" "auth required pam_unix.so
account required pam_unix.so"
PORT=$(free_port)
B="http://127.0.0.1:$PORT"
# a keytab without a KDC: a Negotiate vdir (with pam_service: the PAM helper runs)
printf 'addent -password -p HTTP/localhost@X.TEST -k 1 -e aes256-cts-hmac-sha1-96\npw\nwkt %s\nq\n' \
	"$T/http.keytab" | ktutil >/dev/null 2>&1
cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
[pool a]
user = nobody
group = nogroup
threads = 2
[vdir /a]
pool = a
handler = whoami
auth = anonymous
[vdir /b]
pool = a
handler = whoami
auth = negotiate
EOF

INJECT="python3 $(dirname "$0")/inject.py"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
spawner_of() { # the spawner, a child of worker $1
	for p in $(pgrep -P "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = idgate-spawn ] && echo "$p"
	done
}
gone() { # the process has exited (reaped, or a zombie)
	[ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
new_child() { # idgated's child named $1 other than $2: the one started after it
	i=0
	while [ $i -lt 100 ]; do
		p=$(child_pid "$1")
		if [ -n "$p" ] && [ "$p" != "$2" ]; then
			echo "$p"
			return
		fi
		sleep 0.1
		i=$((i + 1))
	done
}
inject() { # FROM TO TYPE|find: "dropped", "kept", "no channel" (find: "fd N")
	$INJECT "$@" | sed 's/^fd [0-9]*: //'
}

start_idgated "$T/idgate.conf" || finish
SUP=$IDG_PID
FE=$(child_pid idgate-front)
W=$(child_pid idgate-pool)
AUTH=$(child_pid idgate-pam)
AN=$(child_pid idgate-authn)
check_eq "serves" 200 "$(code "$B/a")"
check_eq "the front end, the authenticator, the worker, its spawner and the PAM helper run" yes \
	"$([ -n "$FE" ] && [ -n "$AN" ] && [ -n "$W" ] && [ -n "$AUTH" ] && [ -n "$(spawner_of "$W")" ] && echo yes)"

# ---------------------------------------------------------------- a pool worker, from the front end
check_eq "worker: a RESP_HEAD on its channel drops the front end (the worker exits)" dropped \
	"$(inject "$FE" "$W" 16)"
wait_log "unexpected message RESP_HEAD"
check_grep "worker: the line names the message" \
	"front end broke the protocol \(unexpected message RESP_HEAD \(16\)\); worker exits" "$IDG_LOG"
check_eq "worker: it exited" yes "$(gone "$W" && echo yes)"
W2=$(new_child idgate-pool "$W")
wait_log "idgated[$W2]: pool a: serving"
check_eq "worker: a new one serves" 200 "$(code "$B/a")"

# ---------------------------------------------------------------- the front end, from a worker
check_eq "front end: a REQ_HEAD from a worker drops that channel" dropped \
	"$(inject "$W2" "$FE" 1)"
wait_log "unexpected message REQ_HEAD"
check_grep "front end: the line names the pool and the message" \
	"frontend: error: pool a: the worker broke the protocol: unexpected message REQ_HEAD \(1\); dropping its channel" \
	"$IDG_LOG"
check_eq "front end: the worker's other channel still serves" 200 "$(code "$B/a")"

# ---------------------------------------------------------------- the spawner, from its worker
SP=$(spawner_of "$W2")
check_eq "spawner: a SPAWN_KILL on its own socket drops the worker" dropped \
	"$(inject "$W2" "$SP" 52)"
wait_log "unexpected message SPAWN_KILL"
check_grep "spawner: the line names the message" \
	"spawner: error: the worker broke the protocol: unexpected message SPAWN_KILL \(52\); exiting" \
	"$IDG_LOG"
check_eq "spawner: it exited" yes "$(gone "$SP" && echo yes)"

check_grep "spawner: and its worker, which cannot start programs without it, restarts" \
	"pool a: error: the spawner died; the worker restarts" "$IDG_LOG"
W3=$(new_child idgate-pool "$W2")
wait_log "idgated[$W3]: pool a: serving"

# ---------------------------------------------------------------- the supervisor, from a worker
check_eq "supervisor: a CTL_STATS from a worker drops it" dropped "$(inject "$W3" "$SUP" 38)"
wait_log "unexpected message CTL_STATS"
check_grep "supervisor: the line names the worker and the message" \
	"supervisor: error: pool a worker \(pid $W3\) broke the control protocol: unexpected message CTL_STATS \(38\) from a pool worker; dropping it" \
	"$IDG_LOG"
check_eq "supervisor: the worker was killed" yes "$(gone "$W3" && echo yes)"
check_eq "supervisor: a new worker starts" yes "$([ -n "$(new_child idgate-pool "$W3")" ] && echo yes)"

# ---------------------------------------------------------------- the authenticator, from the PAM helper
check_eq "authenticator: an AUTH_ACCT from the PAM helper drops it" dropped \
	"$(inject "$AUTH" "$AN" 40)"
wait_log "unexpected message AUTH_ACCT"
check_grep "authenticator: the line names the message" \
	"authenticator: error: the PAM helper broke the protocol: unexpected message AUTH_ACCT \(40\); dropping it" \
	"$IDG_LOG"
AUTH2=$(new_child idgate-pam "$AUTH")
check_eq "authenticator: the helper it dropped exits, and a new one starts" yes \
	"$(gone "$AUTH" && [ -n "$AUTH2" ] && echo yes)"

# ---------------------------------------------------------------- the PAM helper, from the authenticator
i=0 # until the authenticator holds the new helper's socket (CTL_PAMSOCK)
while [ $i -lt 50 ] && [ "$(inject "$AN" "$AUTH2" find)" = "no channel" ]; do
	sleep 0.1
	i=$((i + 1))
done
check_eq "PAM helper: an AUTH_RESULT from the authenticator drops it (it exits)" dropped \
	"$(inject "$AN" "$AUTH2" 42)"
wait_log "unexpected message AUTH_RESULT"
check_grep "PAM helper: the line names the message" \
	"auth: error: the authenticator broke the protocol: unexpected message AUTH_RESULT \(42\); exiting" \
	"$IDG_LOG"
check_eq "PAM helper: it exited, and a new one starts" yes \
	"$(gone "$AUTH2" && [ -n "$(new_child idgate-pam "$AUTH2")" ] && echo yes)"

# ---------------------------------------------------------------- the front end, from the authenticator
check_eq "front end: an AUTHN_REQ from the authenticator drops it" dropped \
	"$(inject "$AN" "$FE" 88)"
wait_log "unexpected message AUTHN_REQ"
check_grep "front end: the line names the message" \
	"frontend: error: the authenticator broke the protocol: unexpected message AUTHN_REQ \(88\); dropping it" \
	"$IDG_LOG"
AN2=$(new_child idgate-authn "$AN")
check_eq "front end: the authenticator it dropped exits, and a new one starts" yes \
	"$(gone "$AN" && [ -n "$AN2" ] && echo yes)"
wait_log "idgated[$AN2]: authenticator: serving"
check_eq "front end: the new authenticator answers (a challenge)" 401 "$(code "$B/b")"

# ---------------------------------------------------------------- the authenticator, from the front end
check_eq "authenticator: an AUTHN_REPLY from the front end drops it (it exits)" dropped \
	"$(inject "$FE" "$AN2" 89)"
wait_log "front end sent AUTHN_REPLY"
check_grep "authenticator: the line names the message" \
	"authenticator: error: front end sent AUTHN_REPLY \(89\), which it never may" "$IDG_LOG"
AN3=$(new_child idgate-authn "$AN2")
check_eq "authenticator: it exited, and a new one starts" yes \
	"$(gone "$AN2" && [ -n "$AN3" ] && echo yes)"
wait_log "idgated[$AN3]: authenticator: serving"
check_eq "authenticator: the new one answers (a challenge)" 401 "$(code "$B/b")"

# ---------------------------------------------------------------- the front end, from the supervisor
check_eq "front end: a CTL_READY from the supervisor: it exits" dropped \
	"$(inject "$SUP" "$FE" 32)"
wait_log "unexpected message CTL_READY"
check_grep "front end: the line names the message" \
	"frontend: error: the supervisor broke the control protocol: unexpected message CTL_READY \(32\); exiting" \
	"$IDG_LOG"
check_eq "front end: it exited, and the supervisor starts a new one" yes \
	"$(gone "$FE" && [ -n "$(new_child idgate-front "$FE")" ] && echo yes)"
wait_log "serves again (restart 1)"
check_eq "which serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$B/a")"
finish
