#!/bin/sh
# Account names and the PAM account check, against a real MIT KDC, real
# accounts and a real PAM stack (pam_access + pam_unix):
# - a principal that maps (auth_to_local) to an existing account whose
#   name is not a valid user name (a space, a backslash, non-ASCII) is
#   refused with 403 and a reason, and the PAM helper keeps serving
#   everybody else -- even the account check in flight at that moment;
# - an SSSD-style fully qualified name (user@domain) maps and passes PAM;
# - PAM account results are cached per account AND client address, so
#   pam_access rules by address hold within account_cache.
# (A leading '-' cannot be tested here: glibc's files backend skips
# passwd lines that start with '-' or '+', the old NIS compat syntax.  The
# unit tests cover it: test_authhelper.)
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
SVC=idgate-test-$$
U=idgt$$
SPACE="${U} space"       # a space
BSLASH="${U}\\bs"        # a backslash (one)
UTF="${U}été"            # non-ASCII (UTF-8)
FQ="${U}fq@example.test" # SSSD with use_fully_qualified_names

# raw_account add|del NAME -- an account useradd would refuse, written to
# (or removed from) /etc/passwd, /etc/group and /etc/shadow directly,
# under the lock that useradd and userdel take (lckpwdf: /etc/.pwd.lock).
raw_account() {
	$PY - "$1" "$2" <<'EOF'
import fcntl, os, sys
op, name = sys.argv[1], sys.argv[2]
files = ("/etc/passwd", "/etc/group", "/etc/shadow")
lock = os.open("/etc/.pwd.lock", os.O_WRONLY | os.O_CREAT, 0o600)
fcntl.lockf(lock, fcntl.LOCK_EX)
def rewrite(path, lines):
    st = os.stat(path)
    tmp = path + ".idgate-test"
    with open(tmp, "w") as f:
        f.writelines(lines)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o7777)
    os.rename(tmp, path)
def ids(path):
    return {int(l.split(":")[2]) for l in open(path) if l.count(":") >= 3 and l.split(":")[2].isdigit()}
mine = lambda l: l.split(":", 1)[0] == name
if op == "add":
    taken = ids("/etc/passwd") | ids("/etc/group")
    n = next(i for i in range(30000, 40000) if i not in taken)
    add = {"/etc/passwd": "%s:x:%d:%d::/nonexistent:/usr/sbin/nologin\n" % (name, n, n),
           "/etc/group": "%s:x:%d:\n" % (name, n),
           "/etc/shadow": "%s:!:19000:0:99999:7:::\n" % name}
    for p in files:
        lines = [l for l in open(p) if not mine(l)]
        rewrite(p, lines + [add[p]])
else:
    for p in files:
        lines = open(p).readlines()
        keep = [l for l in lines if not mine(l)]
        if keep != lines:
            rewrite(p, keep)
EOF
}
add_raw_account() {
	raw_account add "$1" || return 1
	at_exit "raw_account del '$1'"
}

# ---------------------------------------------------------------- realm and accounts
realm_create "$T/kdc" || finish
for p in dana erin slow space bslash utf fq; do realm_addprinc "$U$p" "pw-$p" || finish; done
realm_addservice HTTP/localhost "$T/http.keytab" || finish
# auth_to_local: four principals map to the odd names, the rest as usual
$PY - "$KRB5_CONFIG" "$REALM" "$U" "$SPACE" "$BSLASH" "$UTF" <<'PYEOF'
import sys
path, realm, u, space, bslash, utf = sys.argv[1:]
rule = "\t\tauth_to_local = RULE:[1:$1@$0](^%s%s@IDGATE\\.TEST$)s/^.*$/%s/\n"
add = "".join(rule % (u, p, n) for p, n in (("space", space), ("bslash", bslash), ("utf", utf)))
add += "\t\tauth_to_local = RULE:[1:$1@$0](^%sfq@IDGATE\\.TEST$)s/@IDGATE\\.TEST$/@example.test/\n" % u
add += "\t\tauth_to_local = DEFAULT\n"
text = open(path).read().replace("\t%s = {\n" % realm, "\t%s = {\n%s" % (realm, add), 1)
open(path, "w").write(text)
PYEOF
add_user "${U}dana"
add_user "${U}erin"
add_user "${U}slow"
for n in "$SPACE" "$BSLASH" "$UTF" "$FQ"; do
	add_raw_account "$n" || { not_ok "cannot add the account '$n'"; finish; }
done
# pam_access: dana only from 127.0.0.1, erin from anywhere but ::1
cat >"$T/access.conf" <<EOF
+:${U}dana:127.0.0.1
-:${U}dana:ALL
-:${U}erin:::1
+:ALL:ALL
EOF
# slow's account check takes 2 s: it is in flight when an odd name arrives
printf '#!/bin/sh\n[ "$PAM_USER" = "%s" ] && sleep 2\nexit 0\n' "${U}slow" >"$T/slow.sh"
chmod 755 "$T/slow.sh"
add_pam_service "$SVC" "account required pam_access.so accessfile=$T/access.conf
account required pam_exec.so quiet $T/slow.sh
account required pam_unix.so"
for p in dana erin slow space bslash utf fq; do realm_kinit "$U$p" "pw-$p" "$T/$p.cc" || finish; done

cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
listen = [::1]:$PORT
user = idgate
keytab = $T/http.keytab
pam_service = $SVC
account_cache = 1h
audit_log = $T/audit.jsonl
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
EOF
start_idgated "$T/idgate.conf" || finish

B="http://localhost:$PORT"
# neg NAME WHO [v4|v6] -- curl --negotiate as WHO to /who, over IPv4 or IPv6
# (the service is HTTP/localhost either way)
neg() {
	to=127.0.0.1
	[ "${3:-v4}" = v6 ] && to="[::1]"
	KRB5CCNAME="$T/$2.cc" fetch "$1" "$B/who" --negotiate -u : \
		--connect-to "localhost:$PORT:$to:$PORT"
}
# odd NAME WHO SHOWN -- WHO maps to an account whose name is not valid,
# SHOWN as the reason quotes it: 403, the reason, no user
odd() {
	check_eq "$1: 403" 403 "$(neg "$1" "$2")"
	check_eq "$1: reason" "mapping: account name '$3' is not a valid user name" \
		"$(audit "$1" 'j["reason"]')"
	check_eq "$1: no user in the audit line" None "$(audit "$1" 'str(j["user"])')"
}

# ---------------------------------------------------------------- odd account names
AH=$(child_pid idgate-pam)
neg slow1 slow >"$T/slow1.status" &
SLOW=$!
sleep 0.5
odd space space "$SPACE"
check_grep "space: the body says why" "is not a valid user name" "$T/space.body"
wait "$SLOW"
check_eq "the account check in flight meanwhile: 200" 200 "$(cat "$T/slow1.status")"
check_eq "right after: a normal account's PAM check" 200 "$(neg dana1 dana)"
odd backslash bslash "${U}\\\\bs"
odd non-ASCII utf "${U}\\xc3\\xa9t\\xc3\\xa9"
check_eq "right after: another normal account's PAM check" 200 "$(neg erin1 erin)"
check_eq "the PAM helper is the same process" "$AH" "$(child_pid idgate-pam)"
check_no_grep "the PAM helper never died" "PAM helper \(pid" "$IDG_LOG"
check_eq "user@domain (SSSD): 200" 200 "$(neg fq fq)"
check_eq "user@domain: the account" "$FQ $(id -u "$FQ")" \
	"$(json "$T/fq.body" 'str(j["user"]) + " " + str(j["uid"])')"

# ---------------------------------------------------------------- the cache and the address
check_eq "dana from 127.0.0.1: 200" 200 "$(neg d4 dana v4)"
check_eq "dana from 127.0.0.1: the audit's client" 127.0.0.1 "$(audit d4 'j["client"]')"
check_eq "dana from ::1, within account_cache: 403" 403 "$(neg d6 dana v6)"
check_eq "dana from ::1: the audit's client" ::1 "$(audit d6 'j["client"]')"
check_eq "dana from ::1: pam_access's refusal" \
	"pam: account ${U}dana refused: Permission denied" "$(audit d6 'j["reason"]')"
check_eq "erin from ::1 first: 403" 403 "$(neg e6 erin v6)"
check_eq "erin from 127.0.0.1 then: 200, the denial is not hers everywhere" 200 "$(neg e4 erin v4)"
# results are still cached, per address: a rule that changes now is not
# seen until account_cache (1h) ends
printf '%s\n' "-:${U}dana:ALL" "+:ALL:ALL" >"$T/access.conf"
check_eq "dana from 127.0.0.1 again: 200, cached" 200 "$(neg d4b dana v4)"
check_eq "dana from ::1 again: 403, cached" 403 "$(neg d6b dana v6)"

finish
