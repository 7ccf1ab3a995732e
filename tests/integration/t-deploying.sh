#!/bin/sh
# docs/DEPLOYING.md, run (issue "ready for a real site", item 8): the
# guide's commands for a plain MIT realm, taken from the guide itself --
# every fenced block whose first line is "# t-deploying: NAME", or that
# follows a line "<!-- t-deploying: NAME -->" (JSON has no comments) --
# so that the guide and this test cannot drift apart.  A throwaway MIT
# KDC (realm EXAMPLE.COM, scripts/realm.sh) stands in for the site's; the
# guide's names become this machine's:
#   https://gw.example.com  -> https://localhost:PORT   (a free port)
#   gw.example.com          -> localhost
#   /etc/idgate/            -> $T/etc/idgate/
#   *:443                   -> 127.0.0.1:PORT
#   alice                   -> a test account and principal, idgtPIDalice
#   /usr/share/idgate/www   -> $T/www (a copy of the package's www)
#   app.example.com         -> localhost (a backend name idgated -t resolves)
#   pam_service = idgate    -> a PAM service of this test, a copy of
#                              etc/pam.d/idgate
# and [server] gets three lines a test needs and a package install does
# not (runtime_dir, replay_cache_dir, modules_dir, audit_log under $T).  Commands run from a
# PATH whose idgated is the build's and whose chromium-headless-shell and
# chromium add what running as root in a test needs (--no-sandbox, a
# profile and HOME under $T, --ignore-certificate-errors for the test's
# self-signed certificate); curl and requests trust that certificate
# through CURL_CA_BUNDLE and REQUESTS_CA_BUNDLE.  Chromium reads the
# guide's policy file from /etc/chromium/policies/managed, which it sees
# in a mount namespace of its own (unshare -m): the machine's /etc is
# not touched.  CHROMIUM_EXTRA adds switches to both (to see why Chromium
# did not authenticate: "--enable-logging=stderr --v=1").
#
# Run: the service principal and keytab (kadmin.local addprinc -randkey,
# ktadd, chmod), a user principal, the MIT idgate.conf with the site's
# conf.d file, `idgated -t` (its listing of the keytab), curl --negotiate, kvno,
# KRB5_TRACE, python requests-kerberos, Chromium's headless shell with
# --auth-server-allowlist (and without this host in it), Chromium with
# the guide's Chrome policy file (authentication and delegation), a new
# key without and with a reload; the Active Directory and FreeIPA
# idgate.conf files through `idgated -t`, and the AD one served to an
# account whose ids lie in SSSD's id-mapping range.  Not run (no AD or
# IPA server, no Windows, no Firefox here): adcli, msktutil, realm, ipa,
# ipa-getkeytab, ipa-getcert; the Firefox policy file is only parsed.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

DOC="$top_srcdir/docs/DEPLOYING.md"
PORT=$(free_port)
U=idgt$$
ETC="$T/etc/idgate"
mkdir -p "$ETC/conf.d" "$T/bin" "$T/modules" "$T/home" "$T/etc-chromium/policies/managed"
for c in chromium-headless-shell chromium; do
	[ -x "/usr/bin/$c" ] || { not_ok "$c is installed (scripts/deps)"; finish; }
done
$PY -c 'import requests_kerberos' 2>/dev/null ||
	{ not_ok "python3-requests-kerberos is installed (scripts/deps)"; finish; }

# doc_block NAME -- the guide's block NAME with this machine's names
doc_block() {
	awk -v want="# t-deploying: $1" -v html="<!-- t-deploying: $1 -->" '
		/^```/ {
			if (inb) { inb = 0; if (got) exit } else { inb = 1; first = 1; got = prev == html }
			next
		}
		inb && first { first = 0; if ($0 == want) got = 1 }
		inb && got { print }
		{ prev = $0 }' "$DOC" |
		sed -e "s|https://gw\.example\.com|https://localhost:$PORT|g" \
			-e "s|gw\.example\.com|localhost|g" \
			-e "s|/etc/idgate/|$ETC/|g" \
			-e "s|^listen = \*:443|listen = 127.0.0.1:$PORT|" \
			-e "s|\<alice\>|${U}alice|g" \
			-e "s|/usr/share/idgate/www|$T/www|g" \
			-e "s|app\.example\.com|localhost|g" \
			-e "s|^pam_service = idgate\>|pam_service = $U|"
}

# block NAME FILE -- write the block to FILE; a missing block fails.
block() {
	doc_block "$1" >"$2"
	[ -s "$2" ] || not_ok "docs/DEPLOYING.md has a block '# t-deploying: $1'"
}

# run_block NAME [STDIN] -- run a shell block with sh -e; output in
# $T/NAME.out and $T/NAME.err (NAME's slashes and blanks made dashes);
# prints the exit status (run in $(...): a missing block is said instead).
run_block() {
	f=$(echo "$1" | tr '/ ' '--')
	doc_block "$1" >"$T/$f.sh"
	if [ ! -s "$T/$f.sh" ]; then
		echo "no block '# t-deploying: $1' in docs/DEPLOYING.md"
		return
	fi
	sh -e "$T/$f.sh" <"${2:-/dev/null}" >"$T/$f.out" 2>"$T/$f.err"
	echo $?
}

# conf NAME FILE -- an idgate.conf block, plus the test's own [server] lines
conf() {
	block "$1" "$2"
	sed -i "/^\[server\]\$/a runtime_dir = $T/run\nreplay_cache_dir = $T/run/rcache\nmodules_dir = $T/modules\naudit_log = $AUDIT" "$2"
}

# fields FILE FIELD... -- those fields of the JSON object in FILE (also
# after kinit's password prompt, or inside the page Chromium dumps)
fields() {
	$PY - "$@" <<'EOF'
import html, json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"\{.*\}", html.unescape(text), re.S)
j = json.loads(m.group(0)) if m else {}
print(" ".join(str(j[k]) for k in sys.argv[2:]) if j else "no JSON in: " + text[:200])
EOF
}

# last_audit FIELD... -- those fields of the last audit line, once there
# is one after the mark (AUDIT_MARK=$(line_count "$AUDIT"), before the requests)
last_audit() {
	wait_lines "$AUDIT" "$AUDIT_MARK"
	tail -1 "$AUDIT" >"$T/last.audit"
	fields "$T/last.audit" "$@"
}

# ---------------------------------------------------------------- the realm
realm_create "$T/kdc" EXAMPLE.COM || finish
ln -s "$IDGATED" "$T/bin/idgated"
ln -s /usr/bin/python3 "$T/bin/python3"
for c in chromium-headless-shell chromium; do
	cat >"$T/bin/$c" <<EOF
#!/bin/sh
HOME=$T/home exec /usr/bin/$c --no-sandbox --ignore-certificate-errors \\
	--user-data-dir=$T/profile-$c ${CHROMIUM_EXTRA:-} "\$@"
EOF
	chmod 755 "$T/bin/$c"
done
PATH="$T/bin:$PATH"
KRB5CCNAME="$T/alice.cc"
CURL_CA_BUNDLE="$ETC/tls.crt"
REQUESTS_CA_BUNDLE="$ETC/tls.crt"
export PATH KRB5CCNAME CURL_CA_BUNDLE REQUESTS_CA_BUNDLE
printf 'pw-%s\n' "$U" >"$T/pw1"
printf 'pw-%s\npw-%s\n' "$U" "$U" >"$T/pw2"

check_eq "mit-service: kadmin.local addprinc -randkey, ktadd, chown, chmod" 0 \
	"$(run_block mit-service)"
check_eq "the keytab: root's, 0600" "root root 600" "$(stat -c '%U %G %a' "$ETC/http.keytab")"
check_eq "mit-user: kadmin.local addprinc, the password asked twice" 0 \
	"$(run_block mit-user "$T/pw2")"
add_user "${U}alice"
ALICE=$(id -u "${U}alice")
PRINC="${U}alice@EXAMPLE.COM"

# ---------------------------------------------------------------- the files
cp "$MODULES_DIR/whoami.so" "$MODULES_DIR/static.so" "$MODULES_DIR/proxy.so" "$T/modules/"
cp -r "$top_srcdir/www" "$T/www"
chmod -R a+rX "$T/www"
add_pam_service "$U" "$(cat "$top_srcdir/etc/pam.d/idgate")"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$ETC/tls.key" -out "$ETC/tls.crt" \
	>"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; not_ok "a TLS certificate"; finish; }
chmod 600 "$ETC/tls.key"
conf "/etc/idgate/idgate.conf (MIT)" "$ETC/idgate.conf"
block "/etc/idgate/conf.d/50-site.conf" "$ETC/conf.d/50-site.conf"

# ---------------------------------------------------------------- checking it
check_eq "check: idgated -t succeeds" 0 "$(run_block check)"
check_eq "check: idgated -t lists the service's two keys, kvno 2, then says the configuration is OK" \
	"keytab FILE:$ETC/http.keytab: HTTP/localhost@EXAMPLE.COM kvno 2 aes256-cts-hmac-sha1-96|keytab FILE:$ETC/http.keytab: HTTP/localhost@EXAMPLE.COM kvno 2 aes128-cts-hmac-sha1-96|configuration OK" \
	"$(paste -sd'|' "$T/check.out")"
check_eq "check: nothing on stderr" "" "$(cat "$T/check.err")"

start_idgated "$ETC/idgate.conf" || finish
check_grep "the log names the keys kept, as the guide shows" \
	"loaded 2 acceptor keys of HTTP/localhost@EXAMPLE.COM from FILE:$ETC/http.keytab\$" "$IDG_LOG"

B="https://localhost:$PORT"
check_eq "without a ticket: 401" 401 "$(fetch anon "$B/whoami")"
check_eq "with the challenge" Negotiate "$(header anon WWW-Authenticate)"
check_eq "audit reason: no credentials" "no credentials" "$(audit anon 'j["reason"]')"
check_eq "the welcome page, for everybody: 200" 200 "$(fetch welcome "$B/")"

# ---------------------------------------------------------------- curl
AUDIT_MARK=$(line_count "$AUDIT")
check_eq "curl: kinit alice, curl --negotiate" 0 "$(run_block curl "$T/pw1")"
check_eq "curl: principal, user, uid" "$PRINC ${U}alice $ALICE" \
	"$(fields "$T/curl.out" principal user uid)"
check_eq "curl: impersonated, the handler ran as alice, level impersonation" \
	"True $ALICE impersonation" \
	"$(fields "$T/curl.out" impersonated euid level)"
check_eq "curl: the vdir and pool of 50-site.conf" "/whoami site" \
	"$(fields "$T/curl.out" vdir pool)"
check_eq "the audit line: 200, alice, impersonated" "200 $PRINC ${U}alice True" \
	"$(last_audit status principal user impersonated)"

check_eq "curl --delegation always, as the guide says: level delegation" "200 delegation" \
	"$(st=$(fetch deleg "$B/whoami" --negotiate -u : --delegation always)
	echo "$st $(fields "$T/deleg.body" level)")"

check_eq "kvno: succeeds" 0 "$(run_block kvno)"
check_eq "kvno: the KDC's key version is the keytab's" "HTTP/localhost@EXAMPLE.COM: kvno = 2" \
	"$(cat "$T/kvno.out")"

check_eq "trace: KRB5_TRACE=/dev/stderr curl" 0 "$(run_block trace)"
check_grep "trace: names the service ticket asked for" \
	": Getting credentials $PRINC -> HTTP/localhost@EXAMPLE.COM using ccache" "$T/trace.err"
check_eq "trace: the same answer" "$PRINC" "$(fields "$T/trace.out" principal)"

# ---------------------------------------------------------------- python requests-kerberos
block requests "$T/whoami-requests.py" # not requests.py: it would shadow the module
check_eq "requests-kerberos, mutual authentication required: principal and level" \
	"$PRINC impersonation" "$(python3 "$T/whoami-requests.py" 2>"$T/requests.err")"

# ---------------------------------------------------------------- chromium
check_eq "chromium --auth-server-allowlist --dump-dom: succeeds" 0 "$(run_block chromium)"
check_eq "chromium: principal, user, impersonated, level" \
	"$PRINC ${U}alice True impersonation" \
	"$(fields "$T/chromium.out" principal user impersonated level)"
# The allowlist is what made it answer: a host it does not name gets no token.
AUDIT_MARK=$(line_count "$AUDIT")
doc_block chromium | sed "s|allowlist=localhost|allowlist=other.example.com|" \
	>"$T/chromium-other.sh"
sh -e "$T/chromium-other.sh" >"$T/chromium-other.out" 2>/dev/null
check_no_grep "chromium, localhost not on the allowlist: no whoami answer" '"principal"' \
	"$T/chromium-other.out"
check_eq "and the gateway's last answer was 401, no credentials" "401 no credentials" \
	"$(last_audit status reason)"

# Chromium with the guide's policy file: /etc/chromium, in Chromium's own
# mount namespace only, is a directory of this test holding it.
cp /etc/chromium/master_preferences "$T/etc-chromium/" 2>/dev/null
block chrome-policy "$T/etc-chromium/policies/managed/idgate.json"
block chromium-policy "$T/chromium-policy.sh"
# chromium_policy N -- run the guide's command there, output in
# $T/chromium-policy-N.out; prints its exit status
chromium_policy() {
	unshare -m --propagation private sh -ec \
		'mount --bind "$1/etc-chromium" /etc/chromium; sh -e "$1/chromium-policy.sh"' \
		sh "$T" >"$T/chromium-policy-$1.out" 2>"$T/chromium-policy-$1.err"
	echo $?
}
# On Linux, Chromium loads the Kerberos library only once a profile has
# seen a Negotiate challenge (then it restarts its network service outside
# its sandbox): a new profile's first visit gets the 401 page, as the
# guide says, and the next one logs in.
check_eq "chromium with the policy file, a new profile: succeeds" 0 "$(chromium_policy 1)"
check_grep "its first visit: the 401 page" "<h1>401 Unauthorized</h1>" "$T/chromium-policy-1.out"
check_eq "chromium with the policy file, again: succeeds" 0 "$(chromium_policy 2)"
check_eq "chromium with the policy file: authenticated and delegated" \
	"$PRINC ${U}alice True delegation" \
	"$(fields "$T/chromium-policy-2.out" principal user impersonated level)"
check_eq "the machine's /etc/chromium has no policies of this test" no \
	"$([ -e /etc/chromium/policies/managed/idgate.json ] && echo yes || echo no)"

# ---------------------------------------------------------------- a new key
doc_block mit-service | grep ktadd >"$T/ktadd.sh"
check_eq "the guide's ktadd line" 1 "$(wc -l <"$T/ktadd.sh")"
# the KDC's key changes and the keytab is not given it (the troubleshooting
# list's case): tickets for it get 401, with the reason the guide names
kadmin.local -q "cpw -randkey HTTP/localhost" >/dev/null 2>&1
kdestroy -q
check_eq "tickets for a key the keytab lacks (kvno 3): 401" 401 \
	"$(cat "$T/pw1" | kinit "$PRINC" >/dev/null && fetch rekey "$B/whoami" --negotiate -u :)"
audit_line rekey
check_grep "its reason, as the guide's troubleshooting names it" \
	"; Cannot find key for HTTP/localhost@EXAMPLE.COM kvno 3 in keytab\"" "$T/rekey.audit"
# the guide's ktadd (a new key, kvno 4, written to the keytab): idgated
# reads the changed keytab by itself, as the guide says, no reload
check_eq "a new key: the guide's ktadd again" 0 "$(sh -e "$T/ktadd.sh" >/dev/null 2>&1; echo $?)"
wait_log "new acceptor key"
check_grep "the authenticator loaded the kvno 4 keys by itself" \
	"authenticator: keytab: 2 new acceptor keys of HTTP/localhost@EXAMPLE.COM kvno 4; every older key is kept" \
	"$IDG_LOG"
kdestroy -q
check_eq "tickets for kvno 4, without a reload: 200" 200 \
	"$(cat "$T/pw1" | kinit "$PRINC" >/dev/null && fetch rekeyed "$B/whoami" --negotiate -u :)"
check_no_grep "no reload happened" "reloaded:" "$IDG_LOG"
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 2 serves"
check_eq "after systemctl reload (SIGHUP): 200" 200 "$(fetch reloaded "$B/whoami" --negotiate -u :)"
check_grep "the new authenticator loaded the kvno 2 and 4 keys" \
	"loaded 4 acceptor keys of HTTP/localhost@EXAMPLE.COM" "$IDG_LOG"

# ---------------------------------------------------------------- the other directories' files
for d in AD IPA; do
	mkdir -p "$T/$d/conf.d"
	conf "/etc/idgate/idgate.conf ($d)" "$T/$d/idgate.conf"
	cp "$ETC/conf.d/50-site.conf" "$T/$d/conf.d/"
done
block "/etc/idgate/conf.d/60-app.conf (IPA)" "$T/IPA/conf.d/60-app.conf"
# -t checks that the acceptor has a key in the keytab, which is this
# realm's: the AD file's realm renamed to the test's first
idgated -t -c "$T/AD/idgate.conf" >/dev/null 2>"$T/ad-realm.err"
RC=$?
check_eq "idgated -t on the AD file as written: exit 1, no key for its acceptor" \
	"1 $T/AD/idgate.conf:$(grep -n -m1 '^acceptor' "$T/AD/idgate.conf" | cut -d: -f1): [server] acceptor HTTP/localhost@AD.EXAMPLE.COM: no key for HTTP/localhost@AD.EXAMPLE.COM in keytab FILE:$ETC/http.keytab; it has HTTP/localhost@EXAMPLE.COM" \
	"$RC $(cat "$T/ad-realm.err")"
sed -i 's/AD\.EXAMPLE\.COM/EXAMPLE.COM/' "$T/AD/idgate.conf"
KEYS=
for v in 2 4; do
	for e in aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96; do
		KEYS="${KEYS}keytab FILE:$ETC/http.keytab: HTTP/localhost@EXAMPLE.COM kvno $v $e|"
	done
done
for d in AD IPA; do
	check_eq "idgated -t on the $d idgate.conf: the keys, configuration OK" \
		"${KEYS}configuration OK" "$(idgated -t -c "$T/$d/idgate.conf" 2>&1 | paste -sd'|')"
done

# The AD file served: an account with ids in SSSD's mapping range
# (200000 .. 2000200000; here a RID 1105 user and Domain Users, 513,
# above a base of 1234500000), the realm renamed to the test's above.
stop_idgated
shadow_tool groupdel "${U}du" >/dev/null 2>&1
shadow_tool groupadd -g 1234500513 "${U}du"
add_user "${U}adam" -u 1234501105 -g "${U}du" 2>/dev/null # (a warning: above UID_MAX)
at_exit "shadow_tool groupdel ${U}du >/dev/null 2>&1" # after adam's userdel: his primary group
printf 'pw-%s\npw-%s\n' "$U" "$U" | kadmin.local -q "addprinc ${U}adam" >/dev/null 2>&1
start_idgated "$T/AD/idgate.conf" || finish
check_eq "AD ids: adam (uid 1234501105) impersonated" "200 1234501105 1234500513 True" \
	"$(st=$(cat "$T/pw1" | KRB5CCNAME="$T/adam.cc" kinit "${U}adam@EXAMPLE.COM" >/dev/null &&
		KRB5CCNAME="$T/adam.cc" fetch adam "$B/whoami" --negotiate -u :)
	echo "$st $(fields "$T/adam.body" euid egid impersonated)")"
check_eq "AD ids: a local account below min_uid 200000 is not impersonated" \
	"403 account ${U}alice (uid $ALICE) is below min_uid 200000: never impersonated" \
	"$(st=$(fetch low "$B/whoami" --negotiate -u :); echo "$st $(audit low 'j["reason"]')")"

# ---------------------------------------------------------------- the Firefox policy file
block firefox-policy "$T/firefox-policies.json"
check_eq "the Firefox policy file parses, SPNEGO and Delegated name the gateway" \
	"['localhost'] ['localhost']" \
	"$(json "$T/firefox-policies.json" \
		'" ".join(str(j["policies"]["Authentication"][k]) for k in ("SPNEGO", "Delegated"))')"
finish
