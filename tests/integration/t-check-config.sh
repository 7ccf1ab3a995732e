#!/bin/sh
# idgated -t: "configuration OK" and exit 0, or every problem as
# FILE:LINE: message on stderr and exit 1.  Also -V.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/www"
echo hi >"$T/www/index.html"
# vdirs use Negotiate by default, which needs a keytab idgated can open:
# krb5's default one is this (empty) file
: >"$T/default.keytab"
KRB5_KTNAME="FILE:$T/default.keytab"
export KRB5_KTNAME

cat >"$T/good.conf" <<EOF
[server]
listen = 127.0.0.1:8080
user = idgate
pam_service =
audit_log =
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /]
handler = static
root = $T/www
auth = anonymous
[vdir /whoami]
handler = whoami
auth = anonymous
EOF
"$IDGATED" -t -c "$T/good.conf" >"$T/out" 2>"$T/err"
check_eq "good config exits 0" 0 $?
check_eq "good config prints configuration OK" "configuration OK" "$(cat "$T/out")"
check_eq "good config prints nothing on stderr" "" "$(cat "$T/err")"

awk 'NR == 3 { print "bogus = 1" } { print }' "$T/good.conf" >"$T/unknown.conf"
"$IDGATED" -t -c "$T/unknown.conf" >"$T/out" 2>"$T/err"
check_eq "unknown key exits 1" 1 $?
check_eq "unknown key: nothing on stdout" "" "$(cat "$T/out")"
check_eq "unknown key: FILE:LINE: message" "$T/unknown.conf:3: [server] unknown key 'bogus'" \
	"$(cat "$T/err")"

cat >"$T/many.conf" <<EOF
[server]
listen = 127.0.0.1
user = idgate
pam_service =
modules_dir = $MODULES_DIR
[pool default]
user = nobody
threads = many
[vdir /files]
handler = static
auth = anonymous
[vdir /who]
handler = whoami
auth = anonymous
colour = blue
[vdir /x]
handler = nosuch
[mystery]
EOF
"$IDGATED" -t -c "$T/many.conf" >"$T/out" 2>"$T/err"
check_eq "several problems exit 1" 1 $?
check_grep "listen problem" "^$T/many.conf:2: \[server\] listen: '127.0.0.1': expected ADDRESS:PORT$" "$T/err"
check_grep "pool threads problem" "^$T/many.conf:8: \[pool default\] threads: 'many': expected a number$" "$T/err"
check_grep "missing module key" "^$T/many.conf:9: \[vdir /files\] handler 'static' needs key 'root' \(directory whose files are served\)$" "$T/err"
check_grep "unknown module key" "^$T/many.conf:15: \[vdir /who\] unknown key 'colour' \(not a vdir key, nor one of handler 'whoami'\)$" "$T/err"
check_grep "missing module" "^$T/many.conf:17: \[vdir /x\] handler 'nosuch': cannot load $MODULES_DIR/nosuch.so: No such file or directory$" "$T/err"
check_grep "unknown section" "^$T/many.conf:18: unknown section \[mystery\]" "$T/err"
check_eq "six problems, one line each" 6 "$(wc -l <"$T/err")"

sed "s|root = $T/www|root = $T/none|" "$T/good.conf" >"$T/noroot.conf"
"$IDGATED" -t -c "$T/noroot.conf" >"$T/out" 2>"$T/err"
check_eq "module init failure exits 1" 1 $?
check_eq "module init failure names vdir, handler, key and line" \
	"$T/noroot.conf:12: [vdir /] handler 'static': root: $T/none: No such file or directory" \
	"$(cat "$T/err")"

"$IDGATED" -t -c "$T/absent.conf" >"$T/out" 2>"$T/err"
check_eq "missing file exits 1" 1 $?
check_eq "missing file message" "$T/absent.conf: cannot open: No such file or directory" "$(cat "$T/err")"

# WCF's rule, at load time: the vdir and its handler must agree
mkdir -p "$T/mods"
cp "$TESTMODS_DIR/tnotallowed.so" "$TESTMODS_DIR/trequired.so" "$T/mods/"
cat >"$T/imp.conf" <<EOF
[server]
user = idgate
pam_service =
modules_dir = $T/mods
[pool default]
user = nobody
[vdir /queue]
handler = tnotallowed
impersonate = true
[vdir /files]
handler = trequired
EOF
"$IDGATED" -t -c "$T/imp.conf" >"$T/out" 2>"$T/err"
check_eq "impersonation conflicts exit 1" 1 $?
check_grep "impersonate = true on a not_allowed handler" \
	"^$T/imp.conf:9: \[vdir /queue\] impersonate = true, but handler 'tnotallowed' is not_allowed to impersonate: set impersonate = false$" "$T/err"
check_grep "impersonate = false on a required handler" \
	"^$T/imp.conf:10: \[vdir /files\] impersonate = false, but handler 'trequired' requires impersonation: set impersonate = true$" "$T/err"
"$IDGATED" -c "$T/imp.conf" >"$T/out" 2>"$T/err"
check_eq "start-up refuses it too" 1 $?
check_grep "start-up says why" "\[vdir /queue\] impersonate = true, but handler 'tnotallowed'" "$T/err"

# a keytab idgated cannot open: an error with its owner and mode, at -t and
# at start (the front end would die on it later)
printf '[server]\nuser = idgate\npam_service =\naudit_log =\nmodules_dir = %s\nkeytab = %s\n[pool default]\nuser = nobody\ngroup = nogroup\n[vdir /]\nhandler = whoami\n' \
	"$MODULES_DIR" "$T/secret.keytab" >"$T/kt.conf"
printf 'addent -password -p HTTP/localhost@IDGATE.TEST -k 1 -e aes256-cts-hmac-sha1-96\nsecret\nwkt %s\nquit\n' \
	"$T/secret.keytab" | ktutil >/dev/null 2>&1
chmod 600 "$T/secret.keytab"
chmod 644 "$T/kt.conf"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$IDGATED" -t -c "$T/kt.conf" >"$T/out" 2>"$T/err"
check_eq "an unreadable keytab: -t exits 1" 1 "$?"
check_eq "and names the file, the error, its owner and mode" \
	"$T/kt.conf:6: [server] keytab $T/secret.keytab: Permission denied (owner root:root, mode 0600; idgated reads it as the user it runs as)" \
	"$(grep keytab "$T/err")"
"$IDGATED" -t -c "$T/kt.conf" >"$T/out" 2>"$T/err"
check_eq "as root it can: its key, then configuration OK" \
	"0 keytab FILE:$T/secret.keytab: HTTP/localhost@IDGATE.TEST kvno 1 aes256-cts-hmac-sha1-96|configuration OK" \
	"$? $(paste -sd'|' "$T/out")"
rm "$T/secret.keytab"
"$IDGATED" -c "$T/kt.conf" >"$T/out" 2>"$T/err"
check_eq "a missing keytab: start-up exits 1" 1 "$?"
check_grep "and says so before starting anything" \
	"^$T/kt.conf:6: \[server\] keytab $T/secret.keytab: No such file or directory$" "$T/err"

# found by tests/fuzz/fuzz_confvalues: after [v6] comes :PORT, /PATH or nothing
sed 's|^handler = whoami$|handler = proxy\nbackend = http://[::1];8080/app|' "$T/good.conf" \
	>"$T/backend.conf"
"$IDGATED" -t -c "$T/backend.conf" >"$T/out" 2>"$T/err"
check_eq "a backend with ';' after its address: -t exits 1" 1 "$?"
check_grep "and says what follows the address" \
	"backend.conf:16: \[vdir /whoami\] handler .proxy.: backend: .http://\[::1\];8080/app.: after the host come a port" "$T/err"

# found by tests/fuzz/fuzz_confvalues: a prefix length is digits only
sed 's|^listen = 127.0.0.1:8080$|&\ntrusted_proxies = 10.0.0.0/8, 192.0.2.0/-0|' "$T/good.conf" \
	>"$T/proxies.conf"
"$IDGATED" -t -c "$T/proxies.conf" >"$T/out" 2>"$T/err"
check_eq "a prefix length with a sign (/-0): -t exits 1" 1 "$?"
check_grep "and names the item" "proxies.conf:3: .*trusted_proxies.*192.0.2.0/-0" "$T/err"

check_eq "-V prints the version" "idgated 0.1.0" "$("$IDGATED" -V)"
"$IDGATED" -x >/dev/null 2>&1
check_eq "unknown option exits 2" 2 $?

finish
