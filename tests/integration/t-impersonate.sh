#!/bin/sh
# Impersonation with real accounts, a real KDC and curl: the kernel checks
# the caller's rights on files (alice reads her 0600 file, bob gets 403; a
# group-readable file by group membership), whoami shows the caller's ids
# when impersonated and the pool's when not, root and accounts below
# min_uid are never impersonated, an identification-level client is refused
# where impersonation is required, and a compromised handler cannot become
# root, a system account or a system group.  Each process's walls are
# checked in /proc.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

G="$PY $top_srcdir/tests/integration/gssclient.py"
PORT=$(free_port)
B="http://localhost:$PORT"
U=idgt$$

realm_create "$T/kdc" || finish
for p in alice bob; do realm_addprinc "$U$p" "pw-$p" || finish; done
realm_addprinc root pw-root || finish
realm_addprinc daemon pw-daemon || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
add_group "${U}team"
add_user "${U}alice" -G "${U}team"
add_user "${U}bob"
for p in "${U}alice" "${U}bob" root daemon; do realm_kinit "$p" "pw-${p#$U}" "$T/$p.cc" || finish; done
ALICE=$(id -u "${U}alice")
TEAM=$(getent group "${U}team" | cut -d: -f3)

# modules_dir is one directory: the built modules and the hostile one
mkdir -p "$T/modules" "$T/files"
cp "$MODULES_DIR/static.so" "$MODULES_DIR/whoami.so" "$TESTMODS_DIR/tevil.so" \
	"$TESTMODS_DIR/tspawn.so" "$T/modules/"
mkdir -p "$T/bin"
cp "$HELPERS_DIR/showcreds" "$T/bin/"
chmod 755 "$T/bin/showcreds"
printf 'alice only' >"$T/files/alice.txt"
chown "${U}alice" "$T/files/alice.txt"
chmod 600 "$T/files/alice.txt"
printf 'the team' >"$T/files/team.txt"
chgrp "${U}team" "$T/files/team.txt"
chmod 640 "$T/files/team.txt"
printf 'everybody' >"$T/files/public.txt"
chmod 644 "$T/files/public.txt"

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
keytab = $T/http.keytab
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $T/modules
[pool default]
user = nobody
group = nogroup
[pool imp]
user = idgate-pool
threads = 4
[vdir /files]
pool = imp
handler = static
root = $T/files
impersonate = true
[vdir /trusted-files]
handler = static
root = $T/files
[vdir /who]
handler = whoami
[vdir /who-imp]
pool = imp
handler = whoami
impersonate = true
[vdir /who-allowed]
pool = imp
handler = whoami
impersonate = allowed
[vdir /evil]
pool = imp
handler = tevil
impersonate = true
[vdir /spawn-imp]
pool = imp
handler = tspawn
program = $T/bin/showcreds
impersonate = true
[vdir /spawn]
handler = tspawn
program = $T/bin/showcreds
EOF
start_idgated "$T/idgate.conf" || finish
neg() { n=$1; KRB5CCNAME="$T/$2.cc" fetch "$n" "$3" --negotiate -u :; }

# ---------------------------------------------------------------- files
check_eq "alice reads her 0600 file" 200 "$(neg a1 "${U}alice" "$B/files/alice.txt")"
check_eq "alice's file content" "alice only" "$(cat "$T/a1.body")"
check_eq "bob is refused alice's file" 403 "$(neg b1 "${U}bob" "$B/files/alice.txt")"
check_eq "bob's refusal reason" "static: alice.txt: permission denied" "$(audit b1 'j["reason"]')"
check_eq "audit: alice impersonated" True "$(audit a1 'j["impersonated"]')"
check_eq "audit: bob impersonated too" True "$(audit b1 'j["impersonated"]')"
check_eq "a team member reads the group file" 200 "$(neg a2 "${U}alice" "$B/files/team.txt")"
check_eq "a non-member does not" 403 "$(neg b2 "${U}bob" "$B/files/team.txt")"
check_eq "both read the public file" "200 200" \
	"$(neg a3 "${U}alice" "$B/files/public.txt") $(neg b3 "${U}bob" "$B/files/public.txt")"
check_eq "as the pool (trusted), alice's file is not readable" 403 \
	"$(neg t1 "${U}alice" "$B/trusted-files/alice.txt")"

# ---------------------------------------------------------------- whoami
check_eq "whoami impersonated: 200" 200 "$(neg w1 "${U}alice" "$B/who-imp")"
check_eq "whoami impersonated: euid egid" "$ALICE $(id -g "${U}alice")" \
	"$(json "$T/w1.body" 'str(j["euid"]) + " " + str(j["egid"])')"
check_eq "whoami impersonated: groups are alice's" True \
	"$(json "$T/w1.body" "sorted(j['groups']) == sorted([$(id -g "${U}alice"), $TEAM])")"
check_eq "whoami impersonated: flag" True "$(json "$T/w1.body" 'j["impersonated"]')"
check_eq "whoami trusted: the pool's ids" "$(id -u nobody) False" \
	"$(neg w2 "${U}alice" "$B/who" >/dev/null; json "$T/w2.body" 'str(j["euid"]) + " " + str(j["impersonated"])')"
check_eq "allowed + impersonation level: as the caller" "$ALICE True" \
	"$(neg w3 "${U}alice" "$B/who-allowed" >/dev/null; json "$T/w3.body" 'str(j["euid"]) + " " + str(j["impersonated"])')"
KRB5CCNAME="$T/${U}alice.cc" $G get "$B/who-allowed" --flags identify >"$T/id1.out"
check_eq "allowed + identification level: as the pool" "200 $(id -u idgate-pool) False identification" \
	"$(head -1 "$T/id1.out") $(sed -n 3p "$T/id1.out" | $PY -c 'import json,sys; j=json.load(sys.stdin); print(j["euid"], j["impersonated"], j["level"])')"
KRB5CCNAME="$T/${U}alice.cc" $G get "$B/who-imp" --flags identify >"$T/id2.out"
check_eq "true + identification level: 403" 403 "$(head -1 "$T/id2.out")"
check_grep "true + identification level: the body says why" \
	"impersonate = true needs the impersonation level, but the client allowed only identification" "$T/id2.out"

# ---------------------------------------------------------------- never root, never below min_uid
check_eq "root principal: 403 where impersonation is required" 403 "$(neg r1 root "$B/who-imp")"
check_eq "root principal: reason" "account root (uid 0) is below min_uid 1000: never impersonated" \
	"$(audit r1 'j["reason"]')"
check_eq "root principal: 403 where it is allowed" 403 "$(neg r2 root "$B/who-allowed")"
check_eq "root principal: a trusted vdir serves it, as the pool" "200 $(id -u nobody)" \
	"$(neg r3 root "$B/who") $(json "$T/r3.body" 'j["euid"]')"
check_eq "daemon (uid 1): 403" 403 "$(neg d1 daemon "$B/who-imp")"
check_eq "daemon: reason" "account daemon (uid 1) is below min_uid 1000: never impersonated" \
	"$(audit d1 'j["reason"]')"

# ---------------------------------------------------------------- a compromised handler
check_eq "hostile handler runs as alice" 200 "$(neg evil "${U}alice" "$B/evil")"
for k in setresuid_root setresuid_euid_root setresuid_wrapped_root setresuid_daemon setuid_root \
	setreuid_root setfsuid_root setresgid_root setgid_shadow setresuid_nobody \
	setresuid_dynamic setresuid_subordinate setfsuid_nobody setresgid_nogroup \
	setresgid_subordinate; do
	check_eq "hostile: $k refused by seccomp" EPERM "$(json "$T/evil.body" "j['$k']")"
done
check_eq "hostile: setgroups [0] refused by the namespace" EINVAL "$(json "$T/evil.body" 'j["setgroups_root"]')"
check_eq "hostile: setgroups [shadow] refused" EINVAL "$(json "$T/evil.body" 'j["setgroups_shadow"]')"
check_eq "hostile: setgroups [nogroup] refused: above max_gid, not mapped" EINVAL \
	"$(json "$T/evil.body" 'j["setgroups_nogroup"]')"
check_eq "hostile: new user namespace refused" EPERM "$(json "$T/evil.body" 'j["unshare_user"]')"
check_eq "hostile: new mount namespace refused" EPERM "$(json "$T/evil.body" 'j["unshare_mount"]')"
check_eq "hostile: its own groups are fine" ok "$(json "$T/evil.body" 'j["setgroups_own"]')"
check_eq "hostile: reading memory (even its own) with process_vm_readv refused" EPERM \
	"$(json "$T/evil.body" 'j["process_vm_readv_self"]')"
check_eq "hostile: ptrace refused" EPERM "$(json "$T/evil.body" 'j["ptrace_peek_parent"]')"
check_eq "hostile: io_uring (unseen by seccomp) unavailable" ENOSYS \
	"$(json "$T/evil.body" 'j["io_uring_setup"]')"
check_eq "hostile: the caller's user keyring out of reach" EPERM \
	"$(json "$T/evil.body" 'j["keyctl_user_keyring"]')"
check_eq "hostile: add_key refused" EPERM "$(json "$T/evil.body" 'j["add_key"]')"
# NO_SETUID_FIXUP, NOROOT and NO_CAP_AMBIENT_RAISE, each with its lock
check_eq "hostile: securebits locked, ambient capabilities included" 0xcf \
	"$(json "$T/evil.body" 'hex(j["securebits"])')"
check_eq "hostile: still alice afterwards" "$ALICE True" "$(json "$T/evil.body" 'str(j["euid"]) + " " + str(j["still_me"])')"
check_eq "the worker is whole after it" "$ALICE $(id -g "${U}alice")" \
	"$(neg w4 "${U}alice" "$B/who-imp" >/dev/null; json "$T/w4.body" 'str(j["euid"]) + " " + str(j["egid"])')"
check_eq "and serves bob as bob" "$(id -u "${U}bob")" \
	"$(neg w5 "${U}bob" "$B/who-imp" >/dev/null; json "$T/w5.body" 'j["euid"]')"

# ---------------------------------------------------------------- programs: a permanent drop
ALICE_GID=$(id -g "${U}alice")
check_eq "spawned as alice: 200" 200 "$(neg s1 "${U}alice" "$B/spawn-imp")"
head -1 "$T/s1.body" >"$T/s1.json"
check_eq "spawned: real, effective, saved uid are alice's" "[$ALICE, $ALICE, $ALICE]" "$(json "$T/s1.json" 'j["uid"]')"
check_eq "spawned: and the gids" "[$ALICE_GID, $ALICE_GID, $ALICE_GID]" "$(json "$T/s1.json" 'j["gid"]')"
check_eq "spawned: alice's groups" True "$(json "$T/s1.json" "sorted(map(int, j['Groups'].split())) == sorted([$ALICE_GID, $TEAM])")"
check_eq "spawned: no capability at all" \
	"0000000000000000 0000000000000000 0000000000000000 0000000000000000" \
	"$(json "$T/s1.json" 'j["CapEff"] + " " + j["CapPrm"] + " " + j["CapInh"] + " " + j["CapAmb"]')"
check_eq "spawned: no_new_privs" 1 "$(json "$T/s1.json" 'j["NoNewPrivs"]')"
check_eq "spawned: only the environment it was given" "['PATH=/usr/bin:/bin', 'IDGATE_TEST=1']" \
	"$(json "$T/s1.json" 'j["env"]')"
check_eq "spawned: only fds 0, 1, 2" "[0, 1, 2]" "$(json "$T/s1.json" 'sorted(j["fds"])')"
check_eq "spawned: the pool's identity cannot be regained" EPERM "$(json "$T/s1.json" 'j["regain_pool"]')"
check_eq "spawned: root cannot be had" EPERM "$(json "$T/s1.json" 'j["regain_root"]')"
check_eq "spawned: a process group of its own" True "$(json "$T/s1.json" 'j["pgrp_is_self"]')"
check_eq "spawned as the caller: no keyring operation (seccomp)" EPERM \
	"$(json "$T/s1.json" 'j["session_keyring"]')"
check_eq "spawned: exit status" exit=0 "$(sed -n 2p "$T/s1.body")"
check_eq "spawned by a trusted vdir: the pool's ids" "[$(id -u nobody), $(id -u nobody), $(id -u nobody)]" \
	"$(neg s2 "${U}alice" "$B/spawn" >/dev/null; head -1 "$T/s2.body" | $PY -c 'import json,sys; print(json.load(sys.stdin)["uid"])')"
# each program gets a session keyring of its own, not the service's (the
# supervisor's is this shell's: idgated inherited it)
MY_KEYRING=$($PY -c 'import ctypes; print(ctypes.CDLL(None).syscall(250, 0, -3, 0))')
neg s5 "${U}alice" "$B/spawn" >/dev/null
KR2=$(head -1 "$T/s2.body" | $PY -c 'import json,sys; print(json.load(sys.stdin)["session_keyring"])')
KR5=$(head -1 "$T/s5.body" | $PY -c 'import json,sys; print(json.load(sys.stdin)["session_keyring"])')
check_eq "spawned: a fresh session keyring, not the service's, one per program" yes \
	"$([ "$KR2" -gt 0 ] && [ "$KR2" != "$MY_KEYRING" ] && [ "$KR5" -gt 0 ] && [ "$KR5" != "$KR2" ] && [ "$KR5" != "$MY_KEYRING" ] && echo yes)"
check_eq "spawn of a missing program: 502" 502 "$(neg s3 "${U}alice" "$B/spawn-imp?fail")"
check_eq "spawn of a missing program: reason" \
	"spawn /nonexistent/program: execve: No such file or directory" "$(audit s3 'j["reason"]')"
check_eq "a child can be killed" "exit=signal 9" "$(neg s4 "${U}alice" "$B/spawn-imp?sleep" >/dev/null; tail -1 "$T/s4.body")"
check_eq "no child left behind" "" "$(pgrep -f '^/bin/sleep 30$')"

# ---------------------------------------------------------------- the walls
FE=$(child_pid idgate-front)
for p in $(pgrep -P "$IDG_PID"); do
	[ "$(cat /proc/$p/comm)" = idgate-pool ] || continue
	if [ "$(status_field "$p" Uid)" = "$(id -u idgate-pool)" ]; then IMP=$p; else TRU=$p; fi
done
check_eq "front end: no capabilities" 0000000000000000 "$(status_field "$FE" CapEff)"
check_eq "trusted pool worker: no capabilities" 0000000000000000 "$(status_field "$TRU" CapEff)"
check_eq "trusted pool worker: the host's user namespace" "$(readlink /proc/$$/ns/user)" "$(readlink /proc/$TRU/ns/user)"
check_eq "impersonating worker: CAP_SETUID and CAP_SETGID only" 00000000000000c0 "$(status_field "$IMP" CapEff)"
check_eq "impersonating worker: bounding set too" 00000000000000c0 "$(status_field "$IMP" CapBnd)"
check_eq "impersonating worker: seccomp filter" 2 "$(status_field "$IMP" Seccomp)"
check_eq "impersonating worker: no_new_privs" 1 "$(status_field "$IMP" NoNewPrivs)"
check_eq "impersonating worker: its own user namespace" different \
	"$([ "$(readlink /proc/$$/ns/user)" != "$(readlink /proc/$IMP/ns/user)" ] && echo different)"
check_eq "impersonating worker: uid map is idgate and 1000 .. 60000 (max_uid)" \
	"$(id -u idgate-pool) $(id -u idgate-pool) 1|1000 1000 59001" \
	"$(awk '{print $1, $2, $3}' /proc/$IMP/uid_map | paste -sd'|')"
check_eq "impersonating worker: gid map has no root" "" "$(awk '$1 == 0' /proc/$IMP/gid_map)"
SPW=$(pgrep -P "$IMP" -x idgate-spawn)
check_eq "its spawner: a child of the worker" true "$([ -n "$SPW" ] && echo true)"
check_eq "its spawner: the same namespace" "$(readlink /proc/$IMP/ns/user)" "$(readlink /proc/$SPW/ns/user)"
check_eq "its spawner: the same capabilities and filter" "00000000000000c0 2" \
	"$(status_field "$SPW" CapEff) $(status_field "$SPW" Seccomp)"
check_eq "its spawner: small (under 16 MiB resident)" small \
	"$([ "$(status_field "$SPW" VmRSS)" -lt 16384 ] && echo small)"
# ---------------------------------------------------------------- the caller's own processes
# While a thread of the worker acts as alice, alice's own processes (a
# shell of hers) must not reach it: a signal to the thread's id goes to the
# whole worker (a SIGKILL ends every request on it, and rapid_fail then
# stops the pool for everyone), and prlimit on it sets the worker's limits.
# The kernel lets a process do both to a thread whose real or saved uid is
# its own: the thread takes the caller's effective ids only.
neg h1 "${U}alice" "$B/evil?hold" >"$T/h1.code" &
HOLD=$!
HELD=
for i in $(seq 1 50); do
	for t in /proc/$IMP/task/*; do
		[ "$(awk '$1 == "Uid:" { print $3 }' "$t/status" 2>/dev/null)" = "$ALICE" ] && HELD=${t##*/}
	done
	[ -n "$HELD" ] && break
	sleep 0.1
done
POOL_UID=$(id -u idgate-pool)
POOL_GID=$(id -g idgate-pool)
check_eq "a thread acting as alice: real, effective, saved, file-system uid" \
	"$POOL_UID $ALICE $POOL_UID $ALICE" \
	"$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$IMP/task/$HELD/status")"
check_eq "and gid" "$POOL_GID $ALICE_GID $POOL_GID $ALICE_GID" \
	"$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$IMP/task/$HELD/status")"
check_eq "and alice's groups" True "$(awk '$1 == "Groups:"' "/proc/$IMP/task/$HELD/status" |
	$PY -c "import sys; print(sorted(map(int, sys.stdin.read().split()[1:])) == sorted([$ALICE_GID, $TEAM]))")"
check_eq "alice's own process cannot signal it, nor read or set the worker's limits" "EPERM EPERM" \
	"$($PY -c "
import os, resource
os.setgroups([]); os.setgid($ALICE_GID); os.setuid($ALICE)
def try_(f):
    try:
        f()
        return 'ok'
    except PermissionError:
        return 'EPERM'
print(try_(lambda: os.kill($HELD, 0)), try_(lambda: resource.prlimit($HELD, resource.RLIMIT_NOFILE)))
")"
wait "$HOLD"
check_eq "the held request ends: 200, held" "200 held" "$(cat "$T/h1.code") $(cat "$T/h1.body")"
check_eq "on the same worker" "$IMP" "$(for p in $(pgrep -P "$IDG_PID" -x idgate-pool); do
	[ "$(status_field "$p" Uid)" = "$POOL_UID" ] && echo "$p"; done)"
finish
