#!/bin/sh
# idgated -t and the keytab (issue 13, item 5): against a real MIT KDC,
# -t lists every key of the keytab (principal, kvno, enctype; never a key's
# bytes), two kvnos after a rotation (kadmin cpw -randkey -keepold, then
# ktadd -norandkey), and refuses, as FILE:LINE at the keytab or acceptor
# line with exit 1: a keytab that is missing, unreadable, not a keytab or
# empty; an acceptor without a key; with acceptor empty, a listener whose
# name (this host's canonical name, or localhost on a loopback address)
# has no HTTP/ key.  Keys with only weak enctypes are a warning; vdirs
# without Negotiate do not read the keytab at all.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

realm_create "$T/kdc" || finish
PORT=$(free_port)
# realm.sh's krb5.conf: dns_canonicalize_hostname = false, so MIT's name
# for this host is gethostname()'s, in lower case
H=$(hostname | tr 'A-Z' 'a-z')
[ "$H" != localhost ] || { not_ok "this host has a name other than localhost"; finish; }
R=$REALM

# the first key, kvno 2 (addprinc -randkey is kvno 1, ktadd makes 2)
realm_addservice HTTP/localhost "$T/first.keytab" || finish
# a rotation as adcli or an administrator does it: a new key, the KDC
# keeping the old one; the keytab exported now holds both
realm_admin "cpw -randkey -keepold HTTP/localhost@$R" &&
	realm_admin "ktadd -k $T/http.keytab -norandkey HTTP/localhost@$R" || finish
chmod 600 "$T/first.keytab" "$T/http.keytab"

# mkconf NAME KEYTAB [LISTEN [ACCEPTOR [AUTH]]] -- the keytab is line 7, the
# acceptor (when given) line 8
mkconf() {
	{
		printf '[server]\nlisten = %s\nuser = idgate\npam_service =\naudit_log =\n' \
			"${3:-127.0.0.1:$PORT}"
		printf 'modules_dir = %s\nkeytab = %s\n' "$MODULES_DIR" "$2"
		[ -z "${4:-}" ] || printf 'acceptor = %s\n' "$4"
		# (after them: the runtime paths of this test's instance, never
		# the installed default's)
		printf 'runtime_dir = %s\nreplay_cache_dir = %s\n' "$T/run" "$T/run/rcache"
		printf '[pool default]\nuser = nobody\ngroup = nogroup\n[vdir /]\nhandler = whoami\n'
		[ -z "${5:-}" ] || printf 'auth = %s\n' "$5"
	} >"$T/$1.conf"
	chmod 644 "$T/$1.conf"
}

# check NAME -- idgated -t on NAME.conf: prints the exit status; stdout in
# NAME.out, stderr in NAME.err
check() {
	"$IDGATED" -t -c "$T/$1.conf" >"$T/$1.out" 2>"$T/$1.err"
	echo $?
}

# lines ENTRY... -- the listing of KEYTAB's entries, "PRINCIPAL kvno N ENCTYPE"
lines() {
	kt=$1
	shift
	for e in "$@"; do printf 'keytab FILE:%s: %s\n' "$kt" "$e"; done
}

# refused WHAT NAME MESSAGE -- -t on NAME.conf exits 1 with exactly MESSAGE
# on stderr, and prints no "configuration OK"
refused() {
	check_eq "$1: exit 1 and FILE:LINE: why" "1 $3" "$(check "$2") $(cat "$T/$2.err")"
	check_eq "$1: no configuration OK" "" "$(grep -v '^keytab ' "$T/$2.out")"
}

# accepted WHAT NAME -- -t on NAME.conf exits 0: configuration OK after the
# listing, nothing on stderr
accepted() {
	check_eq "$1: exit 0, configuration OK, nothing on stderr" "0 configuration OK " \
		"$(check "$2") $(grep -v '^keytab ' "$T/$2.out") $(cat "$T/$2.err")"
}

A256=aes256-cts-hmac-sha1-96
A128=aes128-cts-hmac-sha1-96

# ---------------------------------------------------------------- the listing
mkconf one "$T/first.keytab"
check_eq "one kvno: exit 0, each entry, then configuration OK" \
	"0 $(lines "$T/first.keytab" "HTTP/localhost@$R kvno 2 $A256" "HTTP/localhost@$R kvno 2 $A128")
configuration OK" "$(check one) $(cat "$T/one.out")"
check_eq "one kvno: nothing on stderr" "" "$(cat "$T/one.err")"

mkconf rotated "$T/http.keytab"
check_eq "after cpw -keepold and ktadd: kvno 3 and kvno 2, in the keytab's order" \
	"0 $(lines "$T/http.keytab" "HTTP/localhost@$R kvno 3 $A256" "HTTP/localhost@$R kvno 3 $A128" \
		"HTTP/localhost@$R kvno 2 $A256" "HTTP/localhost@$R kvno 2 $A128")
configuration OK" "$(check rotated) $(cat "$T/rotated.out")"
check_eq "after cpw -keepold and ktadd: nothing on stderr" "" "$(cat "$T/rotated.err")"

# the keys themselves, as klist -K shows them, appear nowhere
klist -kK "$T/http.keytab" | sed -n 's/.*(0x\([0-9a-f]*\)).*/\1/p' >"$T/keys.hex"
check_eq "klist -K shows the keytab's four keys" 4 "$(wc -l <"$T/keys.hex")"
check_eq "no key's bytes in -t's output (hex)" 0 \
	"$(cat "$T/rotated.out" "$T/rotated.err" | grep -ciFf "$T/keys.hex")"
check_eq "no key's bytes in -t's output (raw)" 0 "$($PY - "$T/keys.hex" "$T/rotated.out" <<'EOF'
import sys
keys = [bytes.fromhex(l) for l in open(sys.argv[1]).read().split()]
out = open(sys.argv[2], "rb").read()
print(sum(1 for k in keys if k in out))
EOF
)"

# ---------------------------------------------------------------- cannot read it
mkconf missing "$T/none.keytab"
refused "a missing keytab" missing \
	"$T/missing.conf:7: [server] keytab $T/none.keytab: No such file or directory"

setpriv --reuid=nobody --regid=nogroup --clear-groups "$IDGATED" -t -c "$T/rotated.conf" \
	>"$T/perm.out" 2>"$T/perm.err"
check_eq "a keytab -t may not read: exit 1, why, with its owner and mode" \
	"1 $T/rotated.conf:7: [server] keytab $T/http.keytab: Permission denied (owner root:root, mode 0600; idgated reads it as the user it runs as)" \
	"$? $(cat "$T/perm.err")"

printf 'HTTP/localhost@%s secret\n' "$R" >"$T/text.keytab"
mkconf text "$T/text.keytab"
refused "a text file" text \
	"$T/text.conf:7: [server] keytab FILE:$T/text.keytab: not a keytab (Unsupported key table format version number)"

mkdir "$T/dir.keytab"
mkconf dir "$T/dir.keytab"
refused "a directory" dir "$T/dir.conf:7: [server] keytab FILE:$T/dir.keytab: cannot read it: Is a directory"

mkconf bogus "BOGUS:$T/http.keytab"
refused "a keytab type krb5 does not know" bogus \
	"$T/bogus.conf:7: [server] keytab BOGUS:$T/http.keytab: Unknown Key table type"

# ---------------------------------------------------------------- empty
: >"$T/zero.keytab"
mkconf zero "$T/zero.keytab"
refused "an empty file" zero \
	"$T/zero.conf:7: [server] keytab FILE:$T/zero.keytab: it holds no key (an empty file)"

# a keytab whose every entry was removed (MIT leaves holes where they were)
cp "$T/first.keytab" "$T/emptied.keytab"
realm_admin "ktremove -k $T/emptied.keytab HTTP/localhost@$R all"
check_eq "after ktremove all, klist -k lists no entry" 0 \
	"$(klist -k "$T/emptied.keytab" | grep -c HTTP/)"
mkconf emptied "$T/emptied.keytab"
refused "a keytab without entries" emptied \
	"$T/emptied.conf:7: [server] keytab FILE:$T/emptied.keytab: it holds no key"
check_eq "a keytab without entries: nothing on stdout" "" "$(cat "$T/emptied.out")"

# ---------------------------------------------------------------- acceptor set
HAS="in keytab FILE:$T/http.keytab; it has HTTP/localhost@$R"
mkconf princ "$T/http.keytab" "" "HTTP/www.example.org@$R"
refused "an acceptor principal without a key, at the acceptor line" princ \
	"$T/princ.conf:8: [server] acceptor HTTP/www.example.org@$R: no key for HTTP/www.example.org@$R $HAS"
check_eq "the listing is printed all the same" 4 "$(grep -c '^keytab ' "$T/princ.out")"

mkconf otherrealm "$T/http.keytab" "" "HTTP/localhost@OTHER.TEST"
refused "the right name in another realm" otherrealm \
	"$T/otherrealm.conf:8: [server] acceptor HTTP/localhost@OTHER.TEST: no key for HTTP/localhost@OTHER.TEST $HAS"

mkconf hostbased "$T/http.keytab" "" "HTTP@www.example.org"
refused "a host-based acceptor without a key: the name looked for, any realm" hostbased \
	"$T/hostbased.conf:8: [server] acceptor HTTP@www.example.org: no key for HTTP/www.example.org (any realm) $HAS"

mkconf nohttp "$T/http.keytab" "" "host@"
refused "a service without any key: any host" nohttp \
	"$T/nohttp.conf:8: [server] acceptor host@: no key for host/<any host> (any realm) $HAS"

# with a module's problem too: every problem of the file, in one run
mkconf modtoo "$T/http.keytab" "" "HTTP@www.example.org"
sed -i "s|^handler = whoami\$|handler = static\nroot = $T/none|" "$T/modtoo.conf"
check_eq "a module's init() fails and the acceptor has no key: both said, exit 1" \
	"1 $T/modtoo.conf:16: [vdir /] handler 'static': root: $T/none: No such file or directory|$T/modtoo.conf:8: [server] acceptor HTTP@www.example.org: no key for HTTP/www.example.org (any realm) $HAS" \
	"$(check modtoo) $(paste -sd'|' "$T/modtoo.err")"

for a in "HTTP/localhost@$R" "HTTP/localhost" "HTTP@localhost" "HTTP@" "HTTP"; do
	mkconf ok "$T/http.keytab" "0.0.0.0:$PORT" "$a"
	accepted "acceptor = $a, a wildcard listener" ok
done

# ---------------------------------------------------------------- acceptor empty
WHY="(set acceptor if clients use another name)"
CANON="the name clients use for listen"
mkconf wild "$T/http.keytab" "0.0.0.0:$PORT"
refused "a wildcard listener without HTTP/<canonical name>: at the keytab line" wild \
	"$T/wild.conf:7: [server] keytab FILE:$T/http.keytab: no key for HTTP/$H (any realm), $CANON 0.0.0.0:$PORT (this host's canonical name); it has HTTP/localhost@$R $WHY"

mkconf both "$T/http.keytab" "[::]:$PORT tls"
printf 'tls_cert = %s\ntls_key = %s\n' "$T/tls.crt" "$T/tls.key" >"$T/tls.txt"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout "$T/tls.key" \
	-out "$T/tls.crt" >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; not_ok "a TLS certificate"; }
sed -i "/^listen/r $T/tls.txt" "$T/both.conf"
printf 'listen = 127.0.0.1:%s\n' "$PORT" >"$T/lo.txt"
sed -i "/^listen/r $T/lo.txt" "$T/both.conf"
refused "[::] and 127.0.0.1: only the wildcard one has no key (keytab now line 10)" both \
	"$T/both.conf:10: [server] keytab FILE:$T/http.keytab: no key for HTTP/$H (any realm), $CANON [::]:$PORT tls (this host's canonical name); it has HTTP/localhost@$R $WHY"

realm_addservice "HTTP/$H" "$T/host.keytab" || finish
mkconf wildok "$T/host.keytab" "0.0.0.0:$PORT"
check_eq "HTTP/<canonical name> in the keytab: the wildcard listener is fine" \
	"0 $(lines "$T/host.keytab" "HTTP/$H@$R kvno 2 $A256" "HTTP/$H@$R kvno 2 $A128")
configuration OK " "$(check wildok) $(cat "$T/wildok.out") $(cat "$T/wildok.err")"
mkconf loname "$T/host.keytab"
accepted "HTTP/<canonical name> in the keytab: a loopback listener" loname

realm_addservice HTTP/www.example.org "$T/www.keytab" || finish
LOOP="(this host's canonical name, and localhost for a loopback address); it has HTTP/www.example.org@$R $WHY"
mkconf lo "$T/www.keytab"
refused "a loopback listener, neither name's key: both names looked for" lo \
	"$T/lo.conf:7: [server] keytab FILE:$T/www.keytab: no key for HTTP/$H or HTTP/localhost (any realm), the names clients use for listen 127.0.0.1:$PORT $LOOP"
mkconf lo6 "$T/www.keytab" "[::1]:$PORT"
refused "[::1] is a loopback address too" lo6 \
	"$T/lo6.conf:7: [server] keytab FILE:$T/www.keytab: no key for HTTP/$H or HTTP/localhost (any realm), the names clients use for listen [::1]:$PORT $LOOP"
mkconf loacc "$T/www.keytab" "" "HTTP@www.example.org"
accepted "the same keytab with acceptor = HTTP@www.example.org" loacc

# ---------------------------------------------------------------- weak keys
cp "$T/http.keytab" "$T/weak.keytab"
realm_admin "addprinc -randkey HTTP/weak.example.org@$R" &&
	realm_admin "ktadd -k $T/weak.keytab -e arcfour-hmac:normal HTTP/weak.example.org@$R" &&
	realm_admin "addprinc -randkey HTTP/mixed.example.org@$R" &&
	realm_admin "ktadd -k $T/weak.keytab -e aes256-cts-hmac-sha1-96:normal,arcfour-hmac:normal HTTP/mixed.example.org@$R" ||
	{ cat "$T/kdc/kadmin.log"; not_ok "weak keys exported"; }
mkconf weak "$T/weak.keytab"
check_eq "a key with only a weak enctype: exit 0, a warning, once, for that principal and kvno" \
	"0 $T/weak.conf:7: warning: [server] keytab FILE:$T/weak.keytab: HTTP/weak.example.org@$R kvno 2 has only weak keys (arcfour-hmac): DES, 3DES and RC4 are deprecated; add AES keys" \
	"$(check weak) $(cat "$T/weak.err")"
check_eq "the listing names every enctype" \
	"$(lines "$T/weak.keytab" "HTTP/localhost@$R kvno 3 $A256" "HTTP/localhost@$R kvno 3 $A128" \
		"HTTP/localhost@$R kvno 2 $A256" "HTTP/localhost@$R kvno 2 $A128" \
		"HTTP/weak.example.org@$R kvno 2 arcfour-hmac" \
		"HTTP/mixed.example.org@$R kvno 2 $A256" "HTTP/mixed.example.org@$R kvno 2 arcfour-hmac")
configuration OK" "$(cat "$T/weak.out")"

# ---------------------------------------------------------------- not used
mkconf anon "$T/text.keytab" "" "" anonymous
check_eq "no vdir uses Negotiate: the keytab is not read, nothing listed" "0 configuration OK " \
	"$(check anon) $(cat "$T/anon.out") $(cat "$T/anon.err")"
mkconf basic "$T/text.keytab" "127.0.0.1:$PORT tls" "" basic
sed -i "/^listen/r $T/tls.txt" "$T/basic.conf"
check_eq "Basic alone does not need it either" "0 configuration OK " \
	"$(check basic) $(cat "$T/basic.out") $(cat "$T/basic.err")"

# ---------------------------------------------------------------- only -t
start_idgated "$T/rotated.conf" || finish
check_no_grep "start-up does not list the keytab" "^keytab " "$IDG_LOG"
stop_idgated
check_eq "and stops cleanly" 0 "$STOP_RC"

finish
