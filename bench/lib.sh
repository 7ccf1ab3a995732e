# bench/lib.sh -- what bench/run, bench/peers and bench/profile share
# (POSIX sh, sourced after scripts/realm.sh, from the top of the tree TOP,
# with T a temporary directory readable by all).
#
# IDGATE_BUILD (default: TOP) is the built tree whose src/idgated and
# modules/.libs bench/peers measures: another branch's build, beside this
# harness.
IDGATE_BUILD=${IDGATE_BUILD:-$TOP}

# bench_realm DIR: a throwaway realm in DIR/kdc, the service HTTP/localhost
# in DIR/http.keytab, the user BENCH_USER (principal and local account,
# whose ticket is in KRB5CCNAME afterwards; named after this shell's PID, so
# that two harnesses running at once do not delete each other's), and the
# 1 KiB file DIR/www/1k.bin.
BENCH_USER=idgb$$
bench_realm() {
	realm_create "$1/kdc" >/dev/null
	realm_addprinc "$BENCH_USER" bench-pw
	realm_addservice HTTP/localhost "$1/http.keytab"
	useradd -M -d /nonexistent -s /usr/sbin/nologin "$BENCH_USER"
	realm_kinit "$BENCH_USER" bench-pw "$1/bench.cc"
	KRB5CCNAME=$1/bench.cc
	export KRB5CCNAME
	mkdir -p "$1/www"
	head -c 1024 /dev/urandom >"$1/www/1k.bin"
	chmod -R a+rX "$1/www"
}

# idgate_conf FILE PORT [SERVER-LINES]: idgated on 127.0.0.1:PORT with one
# pool (default, 8 threads) serving $T/www at /anon (anonymous) and /files
# (Negotiate), no PAM, the audit log and runtime directory beside FILE.
idgate_conf() {
	cat >"$1" <<EOF
[server]
listen = 127.0.0.1:$2
user = idgate
keytab = $T/http.keytab
pam_service =
audit_log = $(dirname "$1")/audit.jsonl
runtime_dir = $(dirname "$1")/run
replay_cache_dir = $(dirname "$1")/rcache
modules_dir = $IDGATE_BUILD/modules/.libs
max_connections = 16384
connection_auth = true
${3:-}
[pool default]
user = idgate-pool
group = idgate-pool
threads = 8
[vdir /anon]
handler = static
root = $T/www
auth = anonymous
[vdir /files]
handler = static
root = $T/www
EOF
}

# idgate_conf_imp FILE: and a second pool, imp, whose /imp impersonates.
idgate_conf_imp() {
	cat >>"$1" <<EOF
[pool imp]
user = idgate-pool
group = idgate-pool
threads = 8
[vdir /imp]
pool = imp
handler = static
root = $T/www
impersonate = true
EOF
}

# idgate_sessions: whether this idgated has session cookies (vdir
# session = cookie with [server] session_key_file, the session branch's
# keys): the answer of idgated -t to a configuration with them.  Makes the
# key file $T/session.key.
idgate_sessions() {
	[ -z "${IDG_SESSION:-}" ] || return "$IDG_SESSION"
	(umask 077 && openssl rand -hex 32 >"$T/session.key")
	idgate_conf "$T/session-check.conf" 1 "session_key_file = $T/session.key"
	idgate_conf_imp "$T/session-check.conf"
	idgate_conf_sessions "$T/session-check.conf"
	IDG_SESSION=1
	"$IDGATE_BUILD/src/idgated" -t -c "$T/session-check.conf" >"$T/session-check.log" 2>&1 && IDG_SESSION=0
	return "$IDG_SESSION"
}

# idgate_conf_sessions FILE: /files-s and /imp-s, /files and /imp with
# session cookies (after idgate_conf_imp; [server] needs session_key_file).
idgate_conf_sessions() {
	cat >>"$1" <<EOF
[vdir /files-s]
handler = static
root = $T/www
session = cookie
[vdir /imp-s]
pool = imp
handler = static
root = $T/www
impersonate = true
session = cookie
EOF
}

# tree_memory PID: "NAME RSS_KiB PSS_KiB" for PID and each of its descendants.
tree_memory() {
	comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 0
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status")
	pss=$(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null)
	echo "$comm ${rss:-0} ${pss:-0}"
	for c in $(pgrep -P "$1"); do tree_memory "$c"; done
}

# descendants PID: PID and all its descendants
descendants() {
	echo "$1"
	for c in $(pgrep -P "$1"); do descendants "$c"; done
}
