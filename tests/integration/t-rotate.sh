#!/bin/sh
# Keytab rotation without a reload, against a real MIT KDC: the service's
# key changes (kadmin cpw -randkey -keepold, as adcli and SSSD renew a
# machine password, then ktadd -norandkey into the keytab the gateway
# uses), and within a second or two the authenticator holds the new key
# (the supervisor sees the file change and hands it over, keywatch.c) --
# while tickets for the old kvno keep working.  Before the keytab has the
# new key, a ticket for it is refused: the check can fail.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

G="$PY $top_srcdir/tests/integration/gssclient.py"
PORT=$(free_port)
B="http://localhost:$PORT"
U=idgr$$

realm_create "$T/kdc" || finish
realm_addprinc "${U}alice" pw-alice || finish
realm_addprinc "${U}bob" pw-bob || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
chmod 600 "$T/http.keytab" # root's: the authenticator cannot open it itself
for p in alice bob; do realm_kinit "$U$p" "pw-$p" "$T/$p.cc" || finish; done
SVC="HTTP/localhost@$REALM"
kvno_of() { KRB5CCNAME="$T/$1.cc" kvno "$SVC" 2>&1 | sed -n 's/.*kvno = \([0-9]*\).*/\1/p'; }
keytab_kvnos() { klist -k "$T/http.keytab" | awk 'NR > 3 { print $1 }' | sort -un | tr '\n' ' ' | sed 's/ $//'; }

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
keytab = $T/http.keytab
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
EOF
start_idgated "$T/idgate.conf" || finish
AUDIT="$T/audit.jsonl"
FE=$(child_pid idgate-front)
AN=$(child_pid idgate-authn)
as() { KRB5CCNAME="$T/$1.cc"; export KRB5CCNAME; }

# ---------------------------------------------------------------- before
OLD=$(kvno_of alice)
as alice
check_eq "alice, kvno $OLD: 200" 200 "$(fetch before "$B/who" --negotiate -u :)"
check_eq "the keytab holds kvno $OLD alone" "$OLD" "$(keytab_kvnos)"

# ---------------------------------------------------------------- the KDC's key changes
realm_admin "cpw -randkey -keepold $SVC" || finish
NEW=$(kvno_of bob) # bob's first service ticket: the new key's
check_eq "the KDC now issues kvno $((OLD + 1))" "$((OLD + 1))" "$NEW"
as bob
check_eq "bob's ticket for a key the keytab lacks yet: 401" 401 \
	"$(fetch lacking "$B/who" --negotiate -u :)"
check_grep "and the authenticator says why" "kvno|not found in keytab|key version" "$T/audit.jsonl"

# ---------------------------------------------------------------- the keytab gets it
realm_admin "ktadd -k $T/http.keytab -norandkey $SVC" || finish
check_eq "the keytab holds kvnos $OLD and $NEW" "$OLD $NEW" "$(keytab_kvnos)"
i=0
while ! grep -q "new acceptor key" "$IDG_LOG" && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_grep "the supervisor saw the keytab change" "keytab $T/http.keytab changed: the authenticator reads it again" "$IDG_LOG"
check_grep "the authenticator took the new key, and kept the old" \
	"authenticator: keytab: [0-9]+ new acceptor keys? of HTTP/localhost@$REALM kvno $NEW; every older key is kept" "$IDG_LOG"
as bob
check_eq "bob, kvno $NEW: 200 without a reload" 200 "$(fetch after "$B/who" --negotiate -u :)"
check_grep "bob, kvno $NEW: it is bob" "\"principal\": *\"${U}bob@$REALM\"" "$T/after.body"
as alice
check_eq "alice's ticket is still kvno $OLD" "$OLD" "$(kvno_of alice)"
check_eq "alice, kvno $OLD: still 200" 200 "$(fetch old "$B/who" --negotiate -u :)"

# ---------------------------------------------------------------- and no reload
check_eq "the same front end" "$FE" "$(child_pid idgate-front)"
check_eq "the same authenticator" "$AN" "$(child_pid idgate-authn)"
check_no_grep "no reload" "reload|generation 2" "$IDG_LOG"

# ---------------------------------------------------------------- a change that adds nothing
touch "$T/http.keytab"
sleep 1.5
check_eq "a keytab touched, not changed: one 'new acceptor key' line still" 1 \
	"$(grep -c "new acceptor key" "$IDG_LOG")"
check_eq "and it serves on" 200 "$(fetch last "$B/who" --negotiate -u :)"
finish
