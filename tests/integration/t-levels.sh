#!/bin/sh
# Impersonation levels and delegated credentials, end to end: every cell
# of SPEC's table (impersonate = false | allowed | true, at the anonymous,
# identification, impersonation and delegation levels), reached with curl
# (--delegation, the Allowed-Impersonation-Level header), python-gssapi
# (the identify flag) and an anonymous PKINIT ticket (kinit -n); the
# header only lowers; delegated credentials reach the handler only at the
# delegation level of a vdir that stores them, in a cache of the caller's
# that is gone when the request ends, and never exist anywhere else.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

G="$PY $top_srcdir/tests/integration/gssclient.py"
PORT=$(free_port)
B="http://localhost:$PORT"
U=idgt$$

REALM_PKINIT=1 realm_create "$T/kdc" || finish
for p in alice nolocal; do realm_addprinc "$U$p" "pw-$p" || finish; done
realm_addservice HTTP/localhost "$T/http.keytab" || finish
add_group "${U}team"
add_user "${U}alice" -G "${U}team"
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
realm_kinit "${U}alice" pw-alice "$T/alice-nf.cc" -F || finish # not forwardable
realm_kinit "${U}nolocal" pw-nolocal "$T/nolocal.cc" || finish
realm_kinit_anonymous "$T/anon.cc" || finish
ALICE=$(id -u "${U}alice")
NOBODY=$(id -u nobody)
PRINC="${U}alice@$REALM"

mkdir -p "$T/modules" "$T/cgi"
cp "$MODULES_DIR/whoami.so" "$MODULES_DIR/cgi.so" "$TESTMODS_DIR/tcrash.so" "$T/modules/"
# what a program sees of delegated credentials, and proof that they work:
# it authenticates to this very gateway with them (a double hop)
cat >"$T/cgi/creds.cgi" <<EOF
#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
echo "id=\$(id -un)"
echo "ccname=\$KRB5CCNAME"
f=\${KRB5CCNAME#FILE:}
if [ -n "\$KRB5CCNAME" ]; then
	echo "file=\$(stat -c '%U %a' "\$f")"
	echo "dir=\$(stat -c '%U %a' "\$(dirname "\$f")")"
	echo "principal=\$(klist | sed -n 's/^Default principal: //p')"
	echo "hop=\$(KRB5_CONFIG=$KRB5_CONFIG curl -s --negotiate -u : http://localhost:$PORT/f |
		sed -n 's/.*"principal":"\\([^"]*\\)".*/\\1/p')"
fi
[ "\$QUERY_STRING" = sleep ] && exec sleep 30
exit 0
EOF
chmod 755 "$T/cgi" "$T/cgi/creds.cgi"
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
[vdir /f]
handler = whoami
[vdir /a]
pool = imp
handler = whoami
impersonate = allowed
delegation = store
[vdir /t]
pool = imp
handler = whoami
impersonate = true
delegation = store
[vdir /crash]
pool = imp
handler = tcrash
impersonate = true
delegation = store
[vdir /anon]
handler = whoami
auth = anonymous
[vdir /cgi]
pool = imp
handler = cgi
root = $T/cgi
impersonate = true
delegation = store
[vdir /t-nostore]
pool = imp
handler = whoami
impersonate = true
# the anonymous principal too (require valid-user refuses it)
[vdir /f-anon]
handler = whoami
require = anonymous-ok
[vdir /a-anon]
pool = imp
handler = whoami
impersonate = allowed
require = anonymous-ok
[vdir /t-anon]
pool = imp
handler = whoami
impersonate = true
require = anonymous-ok
EOF
ASAN_EXTRA=handle_segv=0 # /crash?segv is meant to crash: no report
start_idgated "$T/idgate.conf" || finish
IMP=
for p in $(pgrep -P "$IDG_PID" -x idgate-pool); do
	[ "$(status_field "$p" Uid)" = "$(id -u idgate-pool)" ] && IMP=$p
done

# curl as alice: LEVEL is "-" (no header) or the header's value; DELEG is
# always or none.  Prints the status.
get() { # get NAME URL DELEG LEVEL [CCACHE]
	if [ "$4" = - ]; then
		KRB5CCNAME="${5:-$T/alice.cc}" fetch "$1" "$2" --negotiate -u : --delegation "$3"
	else
		KRB5CCNAME="${5:-$T/alice.cc}" fetch "$1" "$2" --negotiate -u : --delegation "$3" \
			-H "Allowed-Impersonation-Level: $4"
	fi
}
# What whoami saw: level, impersonated, euid, principal, delegated.
seen() {
	json "$T/$1.body" '" ".join(str(x) for x in (j["level"], j["impersonated"], j["euid"], j["principal"], j["delegated"]))'
}
cell() { # cell NAME URL DELEG LEVEL -> "STATUS level impersonated euid principal delegated"
	st=$(get "$1" "$2" "$3" "$4")
	if [ "$st" = 200 ]; then echo "$st $(seen "$1")"; else echo "$st"; fi
}

# ---------------------------------------------------------------- impersonate = false
check_eq "false x delegation: the pool, credentials not kept" \
	"200 delegation False $NOBODY $PRINC False" "$(cell f1 "$B/f" always -)"
check_eq "false x impersonation: the pool" \
	"200 impersonation False $NOBODY $PRINC False" "$(cell f2 "$B/f" none -)"
check_eq "false x identification (header): the pool, the caller is known" \
	"200 identification False $NOBODY $PRINC False" "$(cell f3 "$B/f" always identification)"
check_eq "false x anonymous (header): the handler is not told who" \
	"200 anonymous False $NOBODY None False" "$(cell f4 "$B/f" always anonymous)"
check_eq "anonymous: no user either" "None None" "$(json "$T/f4.body" 'str(j["user"]) + " " + str(j["uid"] if j["uid"] != -1 else None)')"
check_eq "anonymous: the audit keeps the principal and the level" "$PRINC anonymous" \
	"$(audit f4 'j["principal"] + " " + j["level"]')"

# ---------------------------------------------------------------- impersonate = allowed
check_eq "allowed x delegation: the caller, with credentials" \
	"200 delegation True $ALICE $PRINC True" "$(cell a1 "$B/a" always -)"
CC=$(json "$T/a1.body" 'j["ccache"]')
case "$CC" in
"FILE:$T/run/ccache/cc-"*/ccache) ok "the cache is a private per-request file: $CC" ;;
*) not_ok "unexpected KRB5CCNAME: $CC" ;;
esac
check_eq "allowed x impersonation: the caller, no credentials" \
	"200 impersonation True $ALICE $PRINC False" "$(cell a2 "$B/a" none -)"
POOL=$(id -u idgate-pool)
check_eq "allowed x identification (header): the pool" \
	"200 identification False $POOL $PRINC False" "$(cell a3 "$B/a" always identification)"
check_eq "allowed x anonymous (header): the pool, not told who" \
	"200 anonymous False $POOL None False" "$(cell a4 "$B/a" always anonymous)"
check_eq "allowed, header impersonation over delegation: no credentials" \
	"200 impersonation True $ALICE $PRINC False" "$(cell a5 "$B/a" always impersonation)"
check_eq "allowed, no local account: the pool" \
	"200 impersonation False $POOL ${U}nolocal@$REALM False" \
	"$(st=$(get a6 "$B/a" none - "$T/nolocal.cc"); echo "$st $(seen a6)")"

# ---------------------------------------------------------------- impersonate = true
check_eq "true x delegation: the caller, with credentials" \
	"200 delegation True $ALICE $PRINC True" "$(cell t1 "$B/t" always -)"
check_eq "true x impersonation: the caller" \
	"200 impersonation True $ALICE $PRINC False" "$(cell t2 "$B/t" none -)"
check_eq "true x identification (header): 403" 403 "$(cell t3 "$B/t" always identification)"
WHY_IDENT="impersonate = true needs the impersonation level, but the client allowed only identification"
check_eq "403 audit reason names both levels" "$WHY_IDENT" "$(audit t3 'j["reason"]')"
check_grep "403 body says why" "$WHY_IDENT" "$T/t3.body"
check_eq "audit level of the refusal" identification "$(audit t3 'j["level"]')"
check_eq "true x anonymous (header): 403" 403 "$(cell t4 "$B/t" always anonymous)"
check_eq "anonymous refusal reason" \
	"impersonate = true needs the impersonation level, but the client allowed only anonymous" \
	"$(audit t4 'j["reason"]')"
check_eq "true, delegation, vdir without delegation = store: no credentials" \
	"200 delegation True $ALICE $PRINC False" "$(cell t5 "$B/t-nostore" always -)"

# ---------------------------------------------------------------- the header
check_eq "an unknown level is 400" 400 "$(get h1 "$B/f" none root)"
check_eq "400 reason" \
	"Allowed-Impersonation-Level: not anonymous, identification, impersonation or delegation" \
	"$(audit h1 'j["reason"]')"
check_eq "an empty level is 400" 400 \
	"$(KRB5CCNAME="$T/alice.cc" fetch h2 "$B/f" --negotiate -u : -H 'Allowed-Impersonation-Level;')"
check_eq "400 even before the vdir would refuse" 400 "$(get h3 "$B/t" always delegate)"
check_eq "the header cannot raise: impersonation + 'delegation' stays impersonation" \
	"200 impersonation True $ALICE $PRINC False" "$(cell h4 "$B/t" none delegation)"
check_eq "case and blanks do not matter" "200 identification" \
	"$(st=$(get h5 "$B/a" always ' IdentificatioN '); echo "$st $(json "$T/h5.body" 'j["level"]')")"
check_eq "a list counts as its lowest" "200 anonymous" \
	"$(st=$(get h6 "$B/a" always 'delegation, anonymous'); echo "$st $(json "$T/h6.body" 'j["level"]')")"
check_eq "repeated headers: the lowest" "200 identification" \
	"$(KRB5CCNAME="$T/alice.cc" fetch h7 "$B/a" --negotiate -u : --delegation always \
		-H "Allowed-Impersonation-Level: delegation" \
		-H "Allowed-Impersonation-Level: identification" >/dev/null
	   echo "200 $(json "$T/h7.body" 'j["level"]')")"
check_eq "the header on an anonymous vdir is checked too" 400 \
	"$(fetch h8 "$B/anon" -H 'Allowed-Impersonation-Level: x')"
check_eq "and cannot raise there" "200 anonymous None" \
	"$(st=$(fetch h9 "$B/anon" -H 'Allowed-Impersonation-Level: delegation')
	   echo "$st $(json "$T/h9.body" 'j["level"] + " " + str(j["principal"])')")"

# ---------------------------------------------------------------- flags (python-gssapi)
pyget() { # pyget NAME URL FLAGS -> status, body in $T/NAME.body
	KRB5CCNAME="$T/alice.cc" $G get "$2" --flags "$3" >"$T/$1.out"
	head -1 "$T/$1.out"
	tail -n +3 "$T/$1.out" >"$T/$1.body"
}
check_eq "identify flag on allowed: the pool at identification" \
	"200 identification False $POOL $PRINC False" "$(st=$(pyget p1 "$B/a" identify); echo "$st $(seen p1)")"
check_eq "identify flag on true: 403" 403 "$(pyget p2 "$B/t" identify)"
check_eq "identify + deleg: identification, the credentials are discarded" \
	"200 identification False $POOL $PRINC False" \
	"$(st=$(pyget p3 "$B/a" identify,deleg); echo "$st $(seen p3)")"
check_eq "deleg flag: delegation, as the caller, with credentials" \
	"200 delegation True $ALICE $PRINC True" "$(st=$(pyget p4 "$B/a" deleg); echo "$st $(seen p4)")"
check_eq "identify flag on false: the pool, identification" \
	"200 identification False $NOBODY $PRINC False" "$(st=$(pyget p5 "$B/f" identify); echo "$st $(seen p5)")"
check_eq "a ticket that is not forwardable delegates nothing: impersonation" \
	"200 impersonation True $ALICE $PRINC False" \
	"$(st=$(get n1 "$B/a" always - "$T/alice-nf.cc"); echo "$st $(seen n1)")"

# ---------------------------------------------------------------- anonymous PKINIT
# require valid-user (the default) means an identified principal
WHY_ANON="require valid-user: the anonymous principal is not a valid user"
check_eq "anonymous ticket, require valid-user (false): 403" 403 "$(get v1 "$B/f" always - "$T/anon.cc")"
check_eq "anonymous ticket, require valid-user: reason" "$WHY_ANON" "$(audit v1 'j["reason"]')"
check_grep "anonymous ticket, require valid-user: the body says why" "$WHY_ANON" "$T/v1.body"
check_eq "anonymous ticket, require valid-user (allowed): 403" 403 "$(get v2 "$B/a" always - "$T/anon.cc")"
check_eq "anonymous ticket, require valid-user (true): 403, for require" "403 $WHY_ANON" \
	"$(get v3 "$B/t" always - "$T/anon.cc") $(audit v3 'j["reason"]')"
# require anonymous-ok lets it in, and SPEC's table applies
check_eq "anonymous ticket on false: the anonymous level, nobody named" \
	"200 anonymous False $NOBODY None False" \
	"$(st=$(get k1 "$B/f-anon" always - "$T/anon.cc"); echo "$st $(seen k1)")"
check_eq "anonymous ticket on allowed: the pool" \
	"200 anonymous False $POOL None False" \
	"$(st=$(get k2 "$B/a-anon" always - "$T/anon.cc"); echo "$st $(seen k2)")"
check_eq "anonymous ticket on true: 403, for the level" \
	"403 impersonate = true needs the impersonation level, but the client allowed only anonymous" \
	"$(get k3 "$B/t-anon" always - "$T/anon.cc") $(audit k3 'j["reason"]')"
check_eq "anonymous-ok admits identified callers too" \
	"200 impersonation True $ALICE $PRINC False" "$(cell k4 "$B/a-anon" none -)"
check_eq "anonymous ticket audit: level anonymous, no principal" "anonymous None" \
	"$(audit k1 'j["level"] + " " + str(j["principal"])')"

# ---------------------------------------------------------------- where credentials live
DIR=$T/run/ccache # the mount point: [server] runtime_dir/ccache
check_eq "nothing is left in the worker's credential directory" "entries: 0" \
	"$(nsenter -t "$IMP" -m sh -c "cd '$DIR' && echo entries: \$(ls -A | wc -l)")"
check_eq "outside the worker the directory is an empty mount point of root's" \
	"entries: 0 root 755" "$(cd "$DIR" && echo "entries: $(ls -A | wc -l) $(stat -c '%U %a' .)")"
check_eq "the worker's private tmpfs: sticky, not listable, the pool's" "1733 idgate-pool tmpfs" \
	"$(nsenter -t "$IMP" -m stat -f -c '%T' "$DIR" >/dev/null; nsenter -t "$IMP" -m sh -c "stat -c '%a %U' '$DIR'; stat -f -c '%T' '$DIR'" | tr '\n' ' ' | sed 's/ $//')"
# ---------------------------------------------------------------- a program with them
line() { sed -n "s/^$2=//p" "$T/$1.body"; }
check_eq "cgi with delegated credentials: 200, as alice" "200 ${U}alice" \
	"$(get g1 "$B/cgi/creds.cgi" always -) $(line g1 id)"
check_eq "KRB5CCNAME is the request's own cache" yes \
	"$(line g1 ccname | grep -Eq "^FILE:$T/run/ccache/cc-[0-9a-f]{32}/ccache\$" && echo yes)"
check_eq "the cache: alice's, 0600" "${U}alice 600" "$(line g1 file)"
check_eq "its directory: alice's, 0700" "${U}alice 700" "$(line g1 dir)"
check_eq "klist shows the caller" "$PRINC" "$(line g1 principal)"
check_eq "the credentials work: a second hop arrives as alice" "$PRINC" "$(line g1 hop)"
check_eq "the cache is gone after the request" "entries: 0" \
	"$(nsenter -t "$IMP" -m sh -c "cd '$DIR' && echo entries: \$(ls -A | wc -l)")"
check_eq "two requests, two caches" yes \
	"$(get g2 "$B/cgi/creds.cgi" always - >/dev/null; [ "$(line g2 ccname)" != "$(line g1 ccname)" ] && echo yes)"
check_eq "--delegation none: no KRB5CCNAME" "200 " "$(get g3 "$B/cgi/creds.cgi" none -) $(line g3 ccname)"
check_eq "header impersonation: no KRB5CCNAME" "200 " \
	"$(get g4 "$B/cgi/creds.cgi" always impersonation) $(line g4 ccname)"
KRB5CCNAME="$T/alice.cc" curl -s -o /dev/null --negotiate -u : --delegation always -m 1 \
	"$B/cgi/creds.cgi?sleep"
check_eq "a client that leaves: curl gave up" 28 "$?"
wait_log "cgi: /cgi/creds.cgi: the client went away"
i=0
while [ $i -lt 30 ] && [ "$(nsenter -t "$IMP" -m sh -c "ls -A '$DIR' | wc -l")" != 0 ]; do
	sleep 0.1; i=$((i + 1))
done
check_eq "a client that leaves: its cache is gone at once" "entries: 0" \
	"$(nsenter -t "$IMP" -m sh -c "cd '$DIR' && echo entries: \$(ls -A | wc -l)")"

# a handler that crashes with credentials stored takes its worker down;
# the tmpfs lives as long as a process of the worker's mount namespace:
# the worker and its spawner (no program runs here).  Both must go.
SPAWNER=$(pgrep -P "$IMP")
check_eq "the worker's spawner shares its mount namespace" "$(readlink "/proc/$IMP/ns/mnt")" \
	"$(readlink "/proc/$SPAWNER/ns/mnt")"
check_eq "a crash with delegated credentials: 502" 502 "$(get c1 "$B/crash?segv" always -)"
wait_log "(pid $IMP) "
i=0
while [ $i -lt 100 ] && { kill -0 "$IMP" || kill -0 "$SPAWNER"; } 2>/dev/null; do
	sleep 0.1; i=$((i + 1))
done
check_eq "the crashed worker and its spawner are gone, and the tmpfs with them" "gone" \
	"$({ kill -0 "$IMP" || kill -0 "$SPAWNER"; } 2>/dev/null && echo alive || echo gone)"
i=0
while [ $i -lt 50 ] && [ "$(pgrep -P "$IDG_PID" -x idgate-pool | wc -l)" != 2 ]; do
	sleep 0.1; i=$((i + 1))
done
check_eq "the restarted worker stores credentials again" "200 delegation True $ALICE $PRINC True" \
	"$(cell c2 "$B/a" always -)"

check_no_grep "no ticket or token in the log" "Negotiate [A-Za-z0-9+/]{20}|krbtgt" "$IDG_LOG"

finish
