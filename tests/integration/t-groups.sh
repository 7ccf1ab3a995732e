#!/bin/sh
# Groups and the id ceiling, end to end (issue "ready for a real site",
# item 1; security finding 5): callers whose primary group is `users`
# (gid 100, below min_gid) are impersonated because impersonate_groups
# names it -- whoami, a file readable through group users, a CGI program
# as the caller with delegated credentials -- while a primary group below
# the floor and not listed is refused, supplementary groups below the
# floor are left out and named in the audit line, an account above
# max_uid is refused, the worker's maps hold exactly the policy, and a
# reload without `users` in impersonate_groups refuses those callers.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
B="http://localhost:$PORT"
U=idgt$$
USERS=$(getent group users | cut -d: -f3)
[ "$USERS" = 100 ] || { not_ok "this test expects group users as gid 100"; finish; }

realm_create "$T/kdc" || finish
for p in carol dave erin frank high; do realm_addprinc "$U$p" "pw-$p" || finish; done
realm_addservice HTTP/localhost "$T/http.keytab" || finish
shadow_tool groupdel "${U}sys" >/dev/null 2>&1
shadow_tool groupadd -r "${U}sys" || { not_ok "groupadd -r"; finish; }
SYSG=$(getent group "${U}sys" | cut -d: -f3)
add_user "${U}carol" -g users          # primary group users
add_user "${U}dave" -g "${U}sys"       # primary group a system group
add_user "${U}erin" -G "${U}sys,users" # own group; system group and users beside it
add_user "${U}frank"                   # not in users
add_user "${U}high" -u 60500           # above max_uid
at_exit "shadow_tool groupdel ${U}sys >/dev/null 2>&1" # after the users whose group it is
for p in carol dave erin frank high; do realm_kinit "$U$p" "pw-$p" "$T/$p.cc" || finish; done
CAROL=$(id -u "${U}carol")
ERIN=$(id -u "${U}erin")

mkdir -p "$T/modules" "$T/files" "$T/cgi"
cp "$MODULES_DIR/whoami.so" "$MODULES_DIR/static.so" "$MODULES_DIR/cgi.so" "$T/modules/"
printf 'for users' >"$T/files/users.txt"
chgrp users "$T/files/users.txt"
chmod 640 "$T/files/users.txt"
cat >"$T/cgi/me.cgi" <<EOF
#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
echo "id=\$(id -un) \$(id -gn) \$(id -g)"
f=\${KRB5CCNAME#FILE:}
echo "file=\$(stat -c '%U %G %a' "\$f")"
echo "principal=\$(klist | sed -n 's/^Default principal: //p')"
EOF
chmod 755 "$T/cgi" "$T/cgi/me.cgi"

write_conf() { # write_conf IMPERSONATE_GROUPS_LINE
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
$1
[pool default]
user = nobody
group = nogroup
[pool imp]
user = idgate-pool
threads = 4
[vdir /who]
pool = imp
handler = whoami
impersonate = true
[vdir /files]
pool = imp
handler = static
root = $T/files
impersonate = true
[vdir /trusted-files]
handler = static
root = $T/files
[vdir /cgi]
pool = imp
handler = cgi
root = $T/cgi
impersonate = true
delegation = store
EOF
}
write_conf ""
start_idgated "$T/idgate.conf" || finish
neg() { KRB5CCNAME="$T/$2.cc" fetch "$1" "$3" --negotiate -u : ${4:+--delegation "$4"}; }

# ---------------------------------------------------------------- primary group users
check_eq "carol (primary group users): whoami impersonated" 200 "$(neg c1 carol "$B/who")"
check_eq "carol: her uid, gid 100, users among her groups, impersonated" \
	"$CAROL 100 100 True True" \
	"$(json "$T/c1.body" '" ".join(str(x) for x in (j["euid"], j["gid"], j["egid"], 100 in j["groups"], j["impersonated"]))')"
check_eq "carol: nothing left out, no groups_left_out in the audit" "None" \
	"$(audit c1 'j.get("groups_left_out")')"
check_eq "carol reads a file through group users" "200 for users" \
	"$(st=$(neg c2 carol "$B/files/users.txt"); echo "$st $(cat "$T/c2.body")")"
check_eq "frank, not in users, does not" 403 "$(neg f1 frank "$B/files/users.txt")"
check_eq "frank's reason" "static: users.txt: permission denied" "$(audit f1 'j["reason"]')"
check_eq "as the pool (trusted), the file is not readable" 403 \
	"$(neg t1 carol "$B/trusted-files/users.txt")"

# ---------------------------------------------------------------- cgi with delegated credentials
check_eq "cgi as carol with delegated credentials: 200" 200 "$(neg g1 carol "$B/cgi/me.cgi" always)"
line() { sed -n "s/^$2=//p" "$T/$1.body"; }
check_eq "the program runs as carol, group users" "${U}carol users 100" "$(line g1 id)"
check_eq "her cache: hers, group users, 0600" "${U}carol users 600" "$(line g1 file)"
check_eq "klist shows carol" "${U}carol@$REALM" "$(line g1 principal)"

# ---------------------------------------------------------------- refused and left out
DAVE_WHY="primary group of ${U}dave (gid $SYSG) is outside min_gid 1000 .. max_gid 60000 and not in impersonate_groups: never impersonated"
check_eq "dave (primary group a system group): 403" 403 "$(neg d1 dave "$B/who")"
check_eq "dave: the reason names the group and the policy" "$DAVE_WHY" "$(audit d1 'j["reason"]')"
check_grep "dave: the body says why" "outside min_gid 1000" "$T/d1.body"
check_eq "erin: impersonated, her system group left out, users kept" \
	"200 $ERIN False True" \
	"$(st=$(neg e1 erin "$B/who"); echo "$st $(json "$T/e1.body" '" ".join(str(x) for x in (j["euid"], '"$SYSG"' in j["groups"], 100 in j["groups"]))')")"
check_eq "erin: the audit line names the group left out" "${U}sys($SYSG)" \
	"$(audit e1 'j["groups_left_out"]')"
check_eq "an account above max_uid (60500): 403" 403 "$(neg h1 high "$B/who")"
check_eq "its reason" "account ${U}high (uid 60500) is above max_uid 60000: never impersonated" \
	"$(audit h1 'j["reason"]')"

# ---------------------------------------------------------------- the walls hold the policy
IMP=
for p in $(pgrep -P "$IDG_PID" -x idgate-pool); do
	[ "$(status_field "$p" Uid)" = "$(id -u idgate-pool)" ] && IMP=$p
done
check_eq "the worker's gid map: users, the pool's gid, 1000 .. 60000" \
	"100 100 1|$(id -g idgate-pool) $(id -g idgate-pool) 1|1000 1000 59001" \
	"$(awk '{print $1, $2, $3}' /proc/$IMP/gid_map | paste -sd'|')"
check_eq "the worker's uid map: the pool's uid, 1000 .. 60000" \
	"$(id -u idgate-pool) $(id -u idgate-pool) 1|1000 1000 59001" \
	"$(awk '{print $1, $2, $3}' /proc/$IMP/uid_map | paste -sd'|')"

# ---------------------------------------------------------------- without users
write_conf "impersonate_groups ="
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 2 serves"
check_eq "after a reload with impersonate_groups empty: carol is refused" 403 \
	"$(neg c3 carol "$B/who")"
check_eq "with the reason" \
	"primary group of ${U}carol (gid 100) is outside min_gid 1000 .. max_gid 60000 and not in impersonate_groups: never impersonated" \
	"$(audit c3 'j["reason"]')"
imp_workers() {
	for p in $(pgrep -P "$IDG_PID" -x idgate-pool); do
		[ "$(status_field "$p" Uid)" = "$(id -u idgate-pool)" ] && echo "$p"
	done
}
i=0
while [ $i -lt 100 ] && [ "$(imp_workers | wc -l)" != 1 ]; do sleep 0.1; i=$((i + 1)); done
IMP2=$(imp_workers)
check_eq "the old worker drained and left" yes "$([ "$IMP2" != "$IMP" ] && [ -n "$IMP2" ] && echo yes)"
check_eq "and its new worker does not map gid 100" "" "$(awk '$1 == 100' /proc/$IMP2/gid_map)"
finish
