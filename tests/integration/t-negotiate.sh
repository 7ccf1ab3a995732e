#!/bin/sh
# Negotiate against a real MIT KDC with real accounts and real clients
# (curl --negotiate, python3-gssapi): the challenge, success with the
# mutual-authentication token, a two-leg SPNEGO exchange, every bad token
# (garbage, oversized, replayed, expired, wrong service) refused with 401
# and a reason, mapping (with and without a local account), PAM account
# checks with their cache, require user/group, the audit log, and the
# privilege of each process.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

G="$PY $top_srcdir/tests/integration/gssclient.py"
PORT=$(free_port)
B="http://localhost:$PORT"
SVC=idgate-test-$$
U=idgt$$ # a prefix for this run's accounts and principals

# ---------------------------------------------------------------- realm and accounts
REALM_CLOCKSKEW=1 realm_create "$T/kdc" || finish
for p in alice bob old ghost; do realm_addprinc "$U$p" "pw-$p" || finish; done
realm_addservice HTTP/localhost "$T/http.keytab" || finish
# the system keytab of a real host has more than HTTP/ keys: only those of
# the acceptor ("" : HTTP/) may reach the front end's memory
realm_addservice host/localhost "$T/http.keytab" || finish
realm_addservice HTTP/otherhost "$T/other.keytab" || finish
chmod 600 "$T/http.keytab" # root only: the front end must read it before dropping
add_group "${U}staff"
add_user "${U}alice" -G "${U}staff"
add_user "${U}bob"
add_user "${U}old" -e 1970-01-02 # an expired account
add_pam_service "$SVC" "account required pam_unix.so"
for p in alice bob old ghost; do realm_kinit "$U$p" "pw-$p" "$T/$p.cc" || finish; done

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/state/rcache
listen = 127.0.0.1:$PORT
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
account_cache = 2s
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
[vdir /staff]
handler = whoami
require = group ${U}staff
[vdir /alice]
handler = whoami
require = user ${U}alice
[vdir /anon]
handler = whoami
auth = anonymous
EOF
start_idgated "$T/idgate.conf" || finish

as() { KRB5CCNAME="$T/$1.cc"; export KRB5CCNAME; }
neg() { # neg NAME USER URL -- curl --negotiate as USER
	n=$1
	as "$2"
	fetch "$n" "$3" --negotiate -u :
}

# ---------------------------------------------------------------- challenge
check_eq "no credentials: 401" 401 "$(fetch chal "$B/who")"
check_eq "no credentials: challenge" Negotiate "$(header chal WWW-Authenticate)"
check_eq "no credentials: audit reason" "no credentials" "$(audit chal 'j["reason"]')"
curl -sv -o /dev/null -o /dev/null "$B/who" "$B/who" 2>"$T/ka.err"
check_grep "a 401 keeps the connection open" "Re-using existing connection|Reusing existing" "$T/ka.err"
check_eq "anonymous vdir needs nothing" 200 "$(fetch anon "$B/anon")"
check_eq "anonymous vdir level" anonymous "$(json "$T/anon.body" 'j["level"]')"

# ---------------------------------------------------------------- success
check_eq "alice: 200" 200 "$(neg ok alice "$B/who")"
check_eq "alice: principal" "${U}alice@IDGATE.TEST" "$(json "$T/ok.body" 'j["principal"]')"
check_eq "alice: mapped user" "${U}alice" "$(json "$T/ok.body" 'j["user"]')"
check_eq "alice: uid" "$(id -u "${U}alice")" "$(json "$T/ok.body" 'j["uid"]')"
check_eq "alice: gid" "$(id -g "${U}alice")" "$(json "$T/ok.body" 'j["gid"]')"
check_eq "alice: level" impersonation "$(json "$T/ok.body" 'j["level"]')"
check_eq "alice: trusted subsystem, not impersonated" False "$(json "$T/ok.body" 'j["impersonated"]')"
check_eq "alice: runs as the pool user" "$(id -u nobody)" "$(json "$T/ok.body" 'j["euid"]')"
case "$(header ok WWW-Authenticate)" in
"Negotiate "?*) ok "alice: mutual-authentication token returned" ;;
*) not_ok "alice: no mutual token: '$(header ok WWW-Authenticate)'" ;;
esac
as alice
$G get "$B/who" >"$T/mutual.out" 2>&1
check_eq "the client accepts the server's token" "200 mutual ok" "$(head -2 "$T/mutual.out" | tr '\n' ' ' | sed 's/ $//')"
check_eq "audit: principal, user, level" "${U}alice@IDGATE.TEST ${U}alice impersonation 200" \
	"$(audit ok 'j["principal"] + " " + j["user"] + " " + j["level"] + " " + str(j["status"])')"
check_eq "audit: request id is the response's" "$(json "$T/ok.body" 'j["request_id"]')" "$(header ok X-Request-Id)"

# each request suspends its connection for the authenticator's answer,
# then for its worker's: the connection stays open through both
as alice
curl -s -o /dev/null --negotiate -u : -w '%{http_code} %{num_connects}\n' "$B/who?[1-4]" >"$T/ka-neg.out"
check_eq "Negotiate on every request, four on one connection" "200 1 200 0 200 0 200 0" \
	"$(paste -sd' ' "$T/ka-neg.out")"
check_eq "two-leg SPNEGO: continue, then 200" "401 200" "$(as alice; $G twoleg "$B/who" | head -2 | tr '\n' ' ' | sed 's/ $//')"

check_eq "no local account: 200 on a trusted vdir" 200 "$(neg ghost ghost "$B/who")"
check_eq "no local account: principal" "${U}ghost@IDGATE.TEST" "$(json "$T/ghost.body" 'j["principal"]')"
check_eq "no local account: user and uid null" "None None" "$(json "$T/ghost.body" 'str(j["user"]) + " " + str(j["uid"])')"

# ---------------------------------------------------------------- require
check_eq "require user: alice 200" 200 "$(neg ru1 alice "$B/alice")"
check_eq "require user: bob 403" 403 "$(neg ru2 bob "$B/alice")"
check_eq "require user: reason" "require user: ${U}bob@IDGATE.TEST is not listed" "$(audit ru2 'j["reason"]')"
check_eq "require group: alice (supplementary) 200" 200 "$(neg rg1 alice "$B/staff")"
check_eq "require group: bob 403" 403 "$(neg rg2 bob "$B/staff")"
check_eq "require group: reason" "require group: ${U}bob is in none of the groups" "$(audit rg2 'j["reason"]')"
check_eq "require group: no local account 403" 403 "$(neg rg3 ghost "$B/staff")"
check_eq "require group: no local account reason" "require group: ${U}ghost@IDGATE.TEST has no local account" "$(audit rg3 'j["reason"]')"

# ---------------------------------------------------------------- PAM
check_eq "expired account: 403" 403 "$(neg old old "$B/who")"
check_eq "expired account: reason" "pam: account ${U}old refused: User account has expired" "$(audit old 'j["reason"]')"
check_eq "bob, before his account expires" 200 "$(neg pc1 bob "$B/who")"
chage -E 1970-01-02 "${U}bob"
check_eq "bob, expired, still cached (account_cache = 2s)" 200 "$(neg pc2 bob "$B/who")"
sleep 2.5
check_eq "bob, expired, after the cache" 403 "$(neg pc3 bob "$B/who")"

# ---------------------------------------------------------------- bad tokens
bad() { # bad NAME 'Authorization value' REASON-REGEX
	code=$(fetch "$1" "$B/who" -H "Authorization: $2")
	check_eq "$1: 401" 401 "$code"
	reason=$(audit "$1" 'j["reason"]')
	if printf '%s' "$reason" | grep -Eq -- "$3"; then ok "$1: reason"; else not_ok "$1: reason '$reason'"; fi
}
bad garbage64 "Negotiate !!!notbase64" "^negotiate: token is not valid base64$"
bad garbage "Negotiate YIIBAAAAAAAA" "^gss_accept_sec_context: .*(Invalid token|Defective token)"
bad empty "Negotiate " "^negotiate: token is not valid base64$"
bad huge "Negotiate $(head -c 20000 /dev/zero | tr '\0' A)" "^negotiate: token larger than max_header_size \(16384 bytes\)$"
bad scheme "Bearer abc" "^authentication scheme not offered here$"
as alice
TOK=$($G token)
check_eq "a fresh token: 200" 200 "$(fetch once "$B/who" -H "Authorization: Negotiate $TOK")"
bad replay "Negotiate $TOK" "Request is a replay"
# the replay cache is where replay_cache_dir says, the authenticator's
# alone (the front end never sees a key, nor this), and it outlives a
# restart (/var/tmp would not, under PrivateTmp=)
check_eq "the replay cache: a directory of the authenticator's user, 0700" "idgate-auth 700" \
	"$(stat -c '%U %a' "$T/state/rcache")"
check_eq "with idgate's table in it, and not MIT's file" "idgate.rcache" "$(ls "$T/state/rcache")"
check_eq "MIT's replay cache is not written anywhere else either" "" \
	"$(find /var/tmp /tmp -maxdepth 1 -name "krb5_$(id -u idgate-auth)*.rcache2" -newer "$T/idgate.conf" 2>/dev/null)"
stop_idgated
start_idgated "$T/idgate.conf" || finish
bad replay2 "Negotiate $TOK" "Request is a replay"
# The replay cache keys on the Kerberos authenticator, not on the token's
# bytes: the same AP-REQ in another framing that MIT accepts (a raw krb5
# token, a non-minimal DER length) is taken once, and then in any framing
# it is a replay (Microsoft's OID and a bare AP-REQ, which this MIT would
# refuse anyway, too: the replay cache answers first).
for form in krb5 longlen; do
	as alice
	T1=$($G token)
	check_eq "the AP-REQ as $form: taken the first time" 200 \
		"$(fetch "wrap-$form" "$B/who" -H "Authorization: Negotiate $($G rewrap "$T1" --form $form)")"
	bad "wrap-$form-then-spnego" "Negotiate $T1" "Request is a replay"
done
as alice
T1=$($G token)
check_eq "a fresh token, then its AP-REQ in other framings" 200 \
	"$(fetch wrap-orig "$B/who" -H "Authorization: Negotiate $T1")"
for form in krb5 ms longlen apreq; do
	bad "spnego-then-$form" "Negotiate $($G rewrap "$T1" --form $form)" "Request is a replay"
done
as alice
bad wrongsvc "Negotiate $($G token --target HTTP@otherhost)" "Request ticket server HTTP/otherhost@IDGATE.TEST not found in keytab"
as alice
bad hostkey "Negotiate $($G token --target host@localhost)" "Request ticket server host/localhost@IDGATE.TEST not found in keytab"
check_grep "the log says which keys were loaded and which left out" \
	"loaded [0-9]+ acceptor keys of HTTP/localhost@IDGATE.TEST from FILE:$T/http.keytab; left out the keys of host/localhost@IDGATE.TEST$" \
	"$IDG_LOG"
realm_kinit "${U}alice" pw-alice "$T/short.cc" -l 3s
as short
EXPTOK=$($G token)
sleep 5
bad expired "Negotiate $EXPTOK" "; Ticket expired$"
check_eq "still serving after the bad tokens" 200 "$(neg after alice "$B/who")"

# ---------------------------------------------------------------- connection_auth
as alice
check_eq "by default each request authenticates" "200 401 -" "$($G persist "$B/who")"
sed -i 's/^account_cache = 2s$/account_cache = 2s\nconnection_auth = true/' "$T/idgate.conf"
kill -HUP "$IDG_PID"
wait_log "configuration generation 1 has stopped"
as alice
check_eq "connection_auth: the connection keeps the identity" "200 200 ${U}alice@IDGATE.TEST" "$($G persist "$B/who")"
check_eq "connection_auth: a new connection does not" 401 "$(fetch newconn "$B/who")"

# ---------------------------------------------------------------- privilege and secrecy
FE=$(child_pid idgate-front)
AH=$(child_pid idgate-pam)
check_eq "front end: no capabilities" 0000000000000000 "$(status_field "$FE" CapEff)"
check_eq "front end: runs as [server] user" "$(id -u idgate)" "$(status_field "$FE" Uid)"
check_eq "front end cannot read the keytab" no \
	"$(setpriv --reuid=nobody --regid=nogroup --clear-groups cat "$T/http.keytab" >/dev/null 2>&1 && echo yes || echo no)"
AN=$(child_pid idgate-authn)
check_eq "authenticator: runs as [server] authenticator_user" "$(id -u idgate-auth)" \
	"$(status_field "$AN" Uid)"
check_eq "authenticator: no capabilities" 0000000000000000 "$(status_field "$AN" CapEff)"
check_eq "authenticator: no_new_privs" 1 "$(status_field "$AN" NoNewPrivs)"
check_eq "authenticator: under a seccomp filter" 2 "$(status_field "$AN" Seccomp)"
check_eq "authenticator: not dumpable (/proc/PID/environ is root's)" root \
	"$(stat -c %U "/proc/$AN/environ")"
check_eq "PAM helper: uid 0" 0 "$(status_field "$AH" Uid)"
check_eq "PAM helper: only CAP_AUDIT_WRITE" 0000000020000000 "$(status_field "$AH" CapEff)"
check_eq "PAM helper: bounding set too" 0000000020000000 "$(status_field "$AH" CapBnd)"
check_eq "PAM helper: no_new_privs" 1 "$(status_field "$AH" NoNewPrivs)"
check_no_grep "no token in the audit log" "$(printf %.40s "$TOK")" "$T/audit.jsonl"
check_no_grep "no token in the log" "$(printf %.40s "$TOK")" "$IDG_LOG"

finish
