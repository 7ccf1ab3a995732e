# lib.sh -- shared by the integration tests (sourced, POSIX sh).
#
# Each test gets a private directory $T, starts the real idgated on a
# free loopback port, talks to it with real clients, asserts exact
# statuses, headers and fields, and stops everything it started by PID.
# The summary line is "N passed, N failed"; any failure fails the test.

set -u
PY=/usr/bin/python3
T=$(mktemp -d /tmp/idgate-it.XXXXXX)
chmod 755 "$T"
PASSES=0
FAILS=0
IDG_PID=
IDG_LOG="$T/idgated.log"
AUDIT="$T/audit.jsonl"

CLEANUPS=""

cleanup() {
	if [ -n "$IDG_PID" ] && kill -0 "$IDG_PID" 2>/dev/null; then
		kill -TERM "$IDG_PID" 2>/dev/null
		wait "$IDG_PID" 2>/dev/null
	fi
	command -v realm_stop >/dev/null && realm_stop
	eval "$CLEANUPS"
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}

# at_exit CMD -- run CMD when the test ends (after idgated is stopped).
at_exit() { CLEANUPS="$CLEANUPS $1;"; }

# wait_log PATTERN -- wait up to 10 s for a line of idgated's log to
# contain PATTERN (a fixed string); the check that follows asserts it.
wait_log() {
	i=0
	while ! grep -qF -- "$1" "$IDG_LOG" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# need_root -- the tests that create accounts, PAM services and a KDC.
need_root() {
	if ! is_root; then
		not_ok "this test creates accounts and must run as root"
		finish
	fi
}

# add_user NAME [useradd options] -- a local account, removed at exit.
add_user() {
	name=$1
	shift
	shadow_tool userdel "$name" >/dev/null 2>&1
	shadow_tool useradd -M -d /nonexistent -s /usr/sbin/nologin "$@" "$name" || return 1
	at_exit "shadow_tool userdel $name >/dev/null 2>&1"
}

# add_group NAME -- a local group, removed at exit.
add_group() {
	shadow_tool groupdel "$1" >/dev/null 2>&1
	shadow_tool groupadd "$1" || return 1
	at_exit "shadow_tool groupdel $1 >/dev/null 2>&1"
}

# shadow_tool useradd|userdel|groupadd|groupdel ARGS -- the command, tried
# again while another test holds /etc/passwd's or /etc/group's lock (the
# tests run in parallel; useradd gives up at once on a held lock)
shadow_tool() {
	n=0
	while :; do
		out=$("$@" 2>&1)
		rc=$?
		case "$out" in
		*"lock"*) [ $n -lt 50 ] && { n=$((n + 1)); sleep 0.1; continue; } ;;
		esac
		[ -n "$out" ] && printf '%s\n' "$out" >&2
		return $rc
	done
}

# add_pam_service NAME TEXT -- /etc/pam.d/NAME for this test only.
add_pam_service() {
	printf '%s\n' "$2" >"/etc/pam.d/$1"
	at_exit "rm -f /etc/pam.d/$1"
}
trap cleanup EXIT

ok() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
not_ok() { FAILS=$((FAILS + 1)); echo "not ok - $1"; }

# check_eq NAME WANT GOT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: want '$2', got '$3'"; fi
}

# check_grep NAME PATTERN FILE -- an extended regex must match a line
check_grep() {
	if grep -Eq -- "$2" "$3"; then ok "$1"; else not_ok "$1: no line matches '$2' in $3"; fi
}

# check_no_grep NAME PATTERN FILE
check_no_grep() {
	if grep -Eq -- "$2" "$3"; then not_ok "$1: '$2' found in $3"; else ok "$1"; fi
}

finish() {
	if [ -f "$IDG_LOG" ]; then
		check_no_grep "no sanitizer report from idgated" \
			"AddressSanitizer|LeakSanitizer|runtime error:" "$IDG_LOG"
	fi
	echo "$PASSES passed, $FAILS failed"
	if [ "$FAILS" -ne 0 ] || [ "$PASSES" -eq 0 ]; then
		echo "--- idgated log"; cat "$IDG_LOG" 2>/dev/null | tail -50
		# a sanitizer report is often older than the last 50 lines
		grep -E -A40 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$IDG_LOG" \
			2>/dev/null | head -120
		exit 1
	fi
	exit 0
}

is_root() { [ "$(id -u)" = 0 ]; }

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_idgated CONF -- start and wait until the supervisor says ready
# (IDG_ARGS: more options, e.g. -d).
start_idgated() {
	# emptied here, not by the child's redirection: a restart must never
	# find the last instance's "ready:" before the new child has run
	: >"$IDG_LOG"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0${ASAN_EXTRA:+:$ASAN_EXTRA}" \
		"$IDGATED" -c "$1" ${IDG_ARGS:-} >>"$IDG_LOG" 2>&1 &
	IDG_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		if grep -q "ready:" "$IDG_LOG" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$IDG_PID" 2>/dev/null; then
			echo "idgated exited during start-up:"; cat "$IDG_LOG"
			not_ok "idgated starts with $1"
			IDG_PID=
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "idgated did not become ready:"; cat "$IDG_LOG"
	not_ok "idgated becomes ready with $1"
	return 1
}

# start_backend_idgated CONF LOG [ARGS...] -- a second idgated (a backend
# behind the one under test, another gateway), stopped at exit; waits
# until it is ready.
start_backend_idgated() {
	conf=$1
	log=$2
	shift 2
	: >"$log" # (as in start_idgated)
	"$IDGATED" -c "$conf" "$@" >>"$log" 2>&1 &
	at_exit "kill $! 2>/dev/null"
	i=0
	until grep -q "ready:" "$log"; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "the backend idgated did not become ready:"; cat "$log"
			not_ok "the backend idgated becomes ready with $conf"
			return 1
		fi
		sleep 0.1
	done
}

# stop_idgated -- SIGTERM and wait; the exit status lands in $STOP_RC.
# (Not in a $(...) subshell: only this shell can wait for idgated.)
stop_idgated() {
	kill -TERM "$IDG_PID"
	wait "$IDG_PID"
	STOP_RC=$?
	IDG_PID=
}

# child_pid NAME -- the supervisor's child whose comm is NAME.
child_pid() {
	for p in $(pgrep -P "$IDG_PID"); do
		if [ "$(cat /proc/$p/comm 2>/dev/null)" = "$1" ]; then
			echo "$p"
			return
		fi
	done
}

# status_field PID FIELD -- e.g. "Uid" gives the real uid, CapEff a mask.
status_field() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# fetch NAME URL [curl args...] -- body in $T/NAME.body, headers in
# $T/NAME.hdr; prints the status code.
fetch() {
	name=$1
	url=$2
	shift 2
	curl -s -g -D "$T/$name.hdr" -o "$T/$name.body" -w '%{http_code}' "$@" "$url"
}

# body_size NAME -- bytes of the body fetched as NAME (curl writes no file
# for an empty body).
body_size() {
	if [ -f "$T/$1.body" ]; then wc -c <"$T/$1.body"; else echo 0; fi
}

# header NAME FIELD -- a response header's value (first), without CR.
header() {
	awk -v f="$2" 'BEGIN { IGNORECASE = 1 } tolower($1) == tolower(f ":") {
		sub(/^[^:]*: */, ""); sub(/\r$/, ""); print; exit }' "$T/$1.hdr"
}

# line_count FILE -- how many lines FILE has (0 when it does not exist)
line_count() {
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# wait_lines FILE N -- wait (up to 10 s) until FILE has more than N lines:
# the audit line of a request is written after its answer is sent.
wait_lines() {
	i=0
	while [ "$(line_count "$1")" -le "$2" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

# audit_line NAME -- the audit line of the request fetched as NAME (by its
# X-Request-Id), into $T/NAME.audit; waits for it (up to 10 s, for a
# loaded machine): the line is written when the request is complete,
# which may be just after the client has its answer.
audit_line() {
	id=$(header "$1" X-Request-Id)
	i=0
	while ! grep -q "\"request_id\":\"$id\"" "$AUDIT" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	grep "\"request_id\":\"$id\"" "$AUDIT" >"$T/$1.audit"
}

# audit NAME EXPR -- a field of that audit line (Python expression on j).
audit() {
	audit_line "$1"
	json "$T/$1.audit" "$2"
}

# json FILE EXPR -- evaluate a Python expression on the parsed JSON `j`.
json() {
	$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# start_recorder -- the raw recording backend (recorder.py): one line per
# request it receives in $T/backend.log; its port in $BP; stopped at exit.
start_recorder() {
	$PY "$top_srcdir/tests/integration/recorder.py" "$T/backend.port" "$T/backend.log" \
		2>"$T/recorder.err" &
	at_exit "kill $! 2>/dev/null"
	i=0
	while [ ! -s "$T/backend.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	BP=$(cat "$T/backend.port")
}

# raw PORT REQUEST -- send bytes as they are (\r\n escapes allowed) and
# print the whole answer, until the server closes the connection.
raw() {
	$PY - "$1" "$2" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
s.settimeout(5)
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
EOF
}

# raw_status PORT REQUEST -- like raw, but print only the status code of
# the answer ("none" if the connection closed without one).
raw_status() {
	$PY - "$1" "$2" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
    if b"\r\n\r\n" in data:
        break
print(data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "none")
EOF
}

# haproxy_status SOCKET BACKEND SERVER [FIELD] -- UP, DOWN, ... as the stats
# socket of a HAProxy of the test says of SERVER in BACKEND (or FIELD of
# its "show stat" line: wredis, the connections redispatched from it)
haproxy_status() {
	$PY - "$1" "$2" "$3" "${4:-status}" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    data += c
lines = data.decode().splitlines()
head = lines[0].lstrip("# ").split(",")
for l in lines[1:]:
    f = dict(zip(head, l.split(",")))
    if f.get("pxname") == sys.argv[2] and f.get("svname") == sys.argv[3]:
        print(f[sys.argv[4]].split(" ")[0])
EOF
}

# haproxy_wait SOCKET BACKEND SERVER STATUS -- up to 10 s for SERVER to
# have STATUS; prints what it saw last
haproxy_wait() {
	i=0
	while [ "$(haproxy_status "$1" "$2" "$3")" != "$4" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	haproxy_status "$1" "$2" "$3"
}
