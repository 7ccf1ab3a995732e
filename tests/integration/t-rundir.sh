#!/bin/sh
# [server] runtime_dir: each instance's runtime state (lock and pid, the
# mount point of impersonating workers' credential tmpfs, the default
# control socket) in one directory that no second instance can share; and
# an impersonating configuration whose runtime_dir lies below a directory
# the callers cannot search is refused (idgated -t and start), where it
# used to answer 500 to every request that stored delegated credentials
# (the t-levels failures of make distcheck in a clone under /root).
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
PORT2=$(free_port)
# a keytab without a KDC: a front end with a Negotiate vdir needs keys
printf 'addent -password -p HTTP/localhost@X.TEST -k 1 -e aes256-cts-hmac-sha1-96\npw\nwkt %s\nq\n' \
	"$T/http.keytab" | ktutil >/dev/null 2>&1
conf() { # conf FILE PORT RUNTIME_DIR [EXTRA]
	cat >"$1" <<EOF
[server]
listen = 127.0.0.1:$2
runtime_dir = $3
keytab = $T/http.keytab
replay_cache_dir = $3/rcache
user = idgate
pam_service =
audit_log =
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
auth = anonymous
${4:-}
EOF
}

# ---------------------------------------------------------------- one instance per directory
conf "$T/a.conf" "$PORT" "$T/rt"
start_idgated "$T/a.conf" || finish
check_eq "the lock file holds the supervisor's pid" "$IDG_PID" "$(cat "$T/rt/idgated.pid")"
check_eq "the default control socket is runtime_dir/control" socket \
	"$([ -S "$T/rt/control" ] && echo socket)"
check_eq "the credential mount point is there, root's, 0755" "root 755" \
	"$(stat -c '%U %a' "$T/rt/ccache")"
conf "$T/b.conf" "$PORT2" "$T/rt"
: >"$T/b.log"
"$IDGATED" -c "$T/b.conf" >>"$T/b.log" 2>&1 &
B_PID=$!
i=0
while kill -0 "$B_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
wait "$B_PID"
check_eq "a second instance on the same runtime_dir exits 1" 1 "$?"
check_grep "and says which instance holds it" \
	"runtime_dir $T/rt is in use by another idgated \\(pid $IDG_PID\\): give each instance its own runtime_dir" \
	"$T/b.log"
check_eq "the first one still serves" 200 "$(fetch a1 "http://127.0.0.1:$PORT/who")"
check_eq "its lock file is untouched" "$IDG_PID" "$(cat "$T/rt/idgated.pid")"
conf "$T/b.conf" "$PORT2" "$T/rt2"
: >"$T/b.log"
"$IDGATED" -c "$T/b.conf" >>"$T/b.log" 2>&1 &
B_PID=$!
at_exit "kill $B_PID 2>/dev/null"
i=0
until grep -q "ready:" "$T/b.log" || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "with its own runtime_dir, a second instance serves beside it" "200 200" \
	"$(fetch b1 "http://127.0.0.1:$PORT2/who") $(fetch a2 "http://127.0.0.1:$PORT/who")"
check_eq "its own lock and socket" "$B_PID socket" \
	"$(cat "$T/rt2/idgated.pid") $([ -S "$T/rt2/control" ] && echo socket)"
kill "$B_PID"

# ---------------------------------------------------------------- a reload cannot move it
conf "$T/a.conf" "$PORT" "$T/rt3"
kill -HUP "$IDG_PID"
wait_log "runtime_dir cannot change"
check_grep "a reload that moves runtime_dir is refused" \
	"runtime_dir cannot change on a reload \\(still $T/rt\\): restart" "$IDG_LOG"
check_eq "and the old configuration serves" 200 "$(fetch a3 "http://127.0.0.1:$PORT/who")"
stop_idgated
check_eq "SIGTERM: exit 0" 0 "$STOP_RC"

# ---------------------------------------------------------------- callers must reach it
mkdir -m 0700 "$T/private"
IMP="[pool imp]
user = idgate-pool
[vdir /me]
pool = imp
handler = whoami
impersonate = true"
conf "$T/imp.conf" "$PORT" "$T/private/rt" "$IMP"
"$IDGATED" -t -c "$T/imp.conf" >"$T/out" 2>"$T/err"
check_eq "idgated -t: impersonation below a private directory exits 1" 1 "$?"
check_eq "idgated -t: FILE:LINE and the directory that is not searchable" \
	"$T/imp.conf:3: [server] runtime_dir: $T/private (mode 0700) is not searchable by others: an impersonated handler could not reach its delegated credentials below it; choose a runtime_dir whose parents are" \
	"$(cat "$T/err")"
"$IDGATED" -c "$T/imp.conf" >"$T/imp.log" 2>&1
check_eq "start-up refuses it too" 1 "$?"
check_grep "with the same words" "$T/private \\(mode 0700\\) is not searchable by others" "$T/imp.log"
chmod 0711 "$T/private"
"$IDGATED" -t -c "$T/imp.conf" >"$T/out" 2>"$T/err"
check_eq "searchable (0711) is enough (besides the keytab's listing)" "0 configuration OK" \
	"$? $(grep -v '^keytab ' "$T/out")"

# ---------------------------------------------------------------- fs.suid_dumpable
# At 1 the kernel makes a process dumpable again at each identity switch,
# so a process of the caller could ptrace the worker: an impersonating
# pool refuses to start.  The sysctl is machine-wide (flipping it would
# refuse the pools of tests running beside this one), so idgated is shown
# another value: a file bound over it in a mount namespace of its own.
dumpable() { # dumpable VALUE -- start idgated seeing that value; its exit status
	printf '%s\n' "$1" >"$T/dumpable"
	unshare -m --propagation private sh -c \
		"mount --bind '$T/dumpable' /proc/sys/fs/suid_dumpable && exec '$IDGATED' -c '$T/imp.conf'" \
		>"$T/dump$1.log" 2>&1 &
	D_PID=$!
	i=0
	until grep -q "ready:" "$T/dump$1.log" || ! kill -0 "$D_PID" 2>/dev/null || [ $i -gt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill "$D_PID" 2>/dev/null
	wait "$D_PID"
}
dumpable 1
check_eq "fs.suid_dumpable = 1: an impersonating pool refuses to start" 1 "$?"
check_grep "and says why" \
	"pool imp: fs.suid_dumpable is 1: any process of an impersonated caller could ptrace the worker while it switches; set it to 0 \\(or 2\\)" \
	"$T/dump1.log"
dumpable 2
check_eq "fs.suid_dumpable = 2 (systemd-coredump's): it serves (and stops on SIGTERM)" 0 "$?"
check_grep "... it was ready" "ready:" "$T/dump2.log"
finish
