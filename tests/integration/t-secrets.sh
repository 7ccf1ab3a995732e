#!/bin/sh
# Secrets live only where they are used.  idgated serves TLS and Negotiate
# (plain and TLS, a Basic login through the PAM helper, an impersonated
# request); then the memory of every idgated process -- the supervisor,
# the front end, each pool worker, each spawner, the PAM helper -- is
# scanned (tests/helpers/memscan, through /proc/PID/mem) for
#   - the TLS private key: its first prime, big- and little-endian (DER,
#     and the limbs of a bignum in GnuTLS), and a line of its PEM text;
#   - the acceptor's keys (klist -k -K: the raw key bytes of each enctype);
#   - the keys of another service of the same keytab (host/), which no
#     process may hold: the front end copies only the acceptor's.
# Each has an exact set of processes allowed to hold it.  A control shows
# that the scan finds the PEM text in a process that read the key file.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

# Who may hold each secret, as labels of processes (label() below).
TLS_HOLDERS="frontend"
ACCEPTOR_HOLDERS="authenticator" # the process the network cannot reach
HOST_KEY_HOLDERS=""
# every process of the daemon, sorted: two pools, each a worker and a spawner
ALL_PROCS="authenticator frontend pamhelper spawner spawner supervisor worker worker"

MEMSCAN="$HELPERS_DIR/memscan"
PORT=$(free_port)
TPORT=$(free_port)
SVC=idgate-test-$$
U=idgt$$
PASSWORD="Horse-Battery-$$"

realm_create "$T/kdc" || finish
realm_addprinc "${U}alice" "pw-alice" || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_addservice host/localhost "$T/http.keytab" || finish
chmod 600 "$T/http.keytab"
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
add_user "${U}alice"
echo "${U}alice:$PASSWORD" | chpasswd
add_pam_service "$SVC" "auth required pam_unix.so
account required pam_unix.so"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	-keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 || { not_ok "openssl"; finish; }
chmod 600 "$T/tls.key"

# ---------------------------------------------------------------- the secrets' bytes
# the first RSA prime, as openssl prints it (hex pairs over lines), big-endian
# without the sign byte, and little-endian; a line of the PEM text as hex
openssl rsa -in "$T/tls.key" -noout -text 2>/dev/null |
	awk '/^prime1:/ { on = 1; next } /^[a-z]/ { on = 0 } on' | tr -d ' :\n' |
	sed 's/^00//' >"$T/prime.be"
TLS_BE=$(cat "$T/prime.be")
TLS_LE=$(printf '%s' "$TLS_BE" | fold -w2 | tac | tr -d '\n')
TLS_PEM=$(sed -n 10p "$T/tls.key" | tr -d '\n' | od -An -tx1 | tr -d ' \n')
check_eq "the TLS key's prime has 1024 bits" 256 "${#TLS_BE}"
check_eq "a PEM line of 64 characters" 128 "${#TLS_PEM}"
# klist -K: "KVNO PRINCIPAL (ENCTYPE)  (0xKEY)", one line per key
keys_of() { klist -k -K -e "$T/http.keytab" | awk -v p="$1" '$2 ~ "^" p {
	k = $NF; gsub(/[()]/, "", k); sub(/^0x/, "", k); print k }' | paste -sd' '; }
ACC_KEYS=$(keys_of HTTP/localhost@)
HOST_KEYS=$(keys_of host/localhost@)
check_eq "the acceptor has two keys (aes256, aes128)" 2 "$(echo "$ACC_KEYS" | wc -w)"
check_eq "host/ has two keys" 2 "$(echo "$HOST_KEYS" | wc -w)"

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = 127.0.0.1:$TPORT tls
tls_cert = $T/tls.crt
tls_key = $T/tls.key
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[pool imp]
user = idgate-pool
threads = 2
[vdir /who]
handler = whoami
auth = negotiate basic
[vdir /anon]
handler = whoami
auth = anonymous
[vdir /imp]
pool = imp
handler = whoami
impersonate = true
EOF
start_idgated "$T/idgate.conf" || finish
H="http://localhost:$PORT"
S="https://localhost:$TPORT"
neg() { KRB5CCNAME="$T/alice.cc" fetch "$1" "$2" --negotiate -u : -k; }

# ---------------------------------------------------------------- use every secret
check_eq "anonymous, plain HTTP" 200 "$(fetch a1 "$H/anon")"
check_eq "anonymous, TLS" 200 "$(fetch a2 "$S/anon" -k)"
check_eq "Negotiate, plain HTTP" 200 "$(neg n1 "$H/who")"
check_eq "Negotiate, TLS" 200 "$(neg n2 "$S/who")"
check_eq "Basic over TLS (the PAM helper checks the password)" 200 \
	"$(fetch b1 "$S/who" -k -u "${U}alice:$PASSWORD")"
check_eq "impersonated, as alice" "200 $(id -u "${U}alice")" \
	"$(neg i1 "$H/imp") $(json "$T/i1.body" 'j["euid"]')"

# ---------------------------------------------------------------- every process
# label PID -- what the process is, from its name (prctl) and parent
label() {
	if [ "$1" = "$IDG_PID" ]; then echo supervisor; return; fi
	case "$(cat "/proc/$1/comm")" in
	idgate-front) echo frontend ;;
	idgate-pool) echo worker ;;
	idgate-spawn) echo spawner ;;
	idgate-pam) echo pamhelper ;;
	idgate-authn) echo authenticator ;;
	*) cat "/proc/$1/comm" | sed 's/^idgate-//' ;;
	esac
}
# descendants PID -- PID and every process below it
descendants() {
	echo "$1"
	for c in $(pgrep -P "$1"); do descendants "$c"; done
}
descendants "$IDG_PID" >"$T/pids"
: >"$T/labels"
for p in $(cat "$T/pids"); do echo "$p $(label "$p")" >>"$T/labels"; done
check_eq "the processes scanned" "$ALL_PROCS" "$(cut -d' ' -f2 "$T/labels" | sort | paste -sd' ')"

# holders NAME HEX... -- the sorted labels of the processes that hold any
# of the strings; a scan that fails is a failed check (and a holder "?")
holders() {
	name=$1
	shift
	while read -r p l; do
		r=$("$MEMSCAN" -v "$p" "$@" 2>>"$T/scan-$name.log")
		case "$r" in
		held) echo "$l" ;;
		clean) ;;
		*) echo "?$l"; not_ok "memscan of $l ($p) for $name: $(tail -1 "$T/scan-$name.log")" ;;
		esac
	done <"$T/labels" | sort | paste -sd' '
}
# shellcheck disable=SC2086 # word splitting: one argument per key
check_eq "the TLS private key: only in the process that speaks TLS" "$TLS_HOLDERS" \
	"$(holders tls "$TLS_BE" "$TLS_LE" "$TLS_PEM")"
# shellcheck disable=SC2086
check_eq "the acceptor keys: only in $ACCEPTOR_HOLDERS" "$ACCEPTOR_HOLDERS" \
	"$(holders acceptor $ACC_KEYS)"
# shellcheck disable=SC2086
check_eq "host/ keys of the same keytab: nowhere" "$HOST_KEY_HOLDERS" "$(holders host $HOST_KEYS)"

# ---------------------------------------------------------------- the scan can find
# a process that read the key file holds its text; one that did not, not
$PY -c 'import sys, time; k = open(sys.argv[1]).read(); time.sleep(30)' "$T/tls.key" &
CTRL=$!
at_exit "kill $CTRL 2>/dev/null"
sleep 0.5
check_eq "control: the scan finds the PEM text in a process that read it" held \
	"$("$MEMSCAN" "$CTRL" "$TLS_PEM" 2>&1)"
check_eq "control: and not a string it never had" clean \
	"$("$MEMSCAN" "$CTRL" "$(echo "$TLS_PEM" | tr 0123456789abcdef fedcba9876543210)" 2>&1)"
kill "$CTRL"
finish
