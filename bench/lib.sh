# bench/lib.sh -- what bench/run and bench/peers share (POSIX sh, sourced
# after scripts/realm.sh, from the top of the tree, with T a temporary
# directory readable by all).

# bench_realm DIR: a throwaway realm in DIR/kdc, the service HTTP/localhost
# in DIR/http.keytab, the user idgbench (principal and local account, whose
# ticket is in KRB5CCNAME afterwards), and the 1 KiB file DIR/www/1k.bin.
bench_realm() {
	realm_create "$1/kdc" >/dev/null
	realm_addprinc idgbench bench-pw
	realm_addservice HTTP/localhost "$1/http.keytab"
	userdel idgbench >/dev/null 2>&1 || true
	useradd -M -d /nonexistent -s /usr/sbin/nologin idgbench
	realm_kinit idgbench bench-pw "$1/bench.cc"
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
modules_dir = $TOP/modules/.libs
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
