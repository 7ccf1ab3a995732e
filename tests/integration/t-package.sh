#!/bin/sh
# The Debian package: dpkg-buildpackage -us -uc -b in a clean copy of the
# tree, lintian without errors, the files where the unit and the manual
# pages say they are, then (CI machines are throwaway; a machine that
# already has idgate installed is left alone) install it: the idgate user,
# the runtime and log directories, the unit verified by systemd-analyze;
# the installed daemon run with exactly the unit's capability bounding set
# and no_new_privs, with an impersonating pool and the PAM helper, answered
# by the installed idgatectl; the unit's ExecReload run as the unit would
# run it: done for a good file, exit 1 with the file's problems for a bad
# one; the logrotate configuration, and a forced rotation that the
# running daemon follows; an upgrade keeps the administrator's
# configuration; purge removes what the package created.
#
# Under the sanitizers (make distcheck) it is skipped: the package builds
# its own binaries, and the plain make check has run it.
. "$(dirname "$0")/lib.sh"
need_root
if [ -n "${IDGATE_SANITIZERS:-}" ]; then
	echo "skipped under the sanitizers: the plain make check builds the package"
	exit 77
fi

P="$T/pkg"
SRC="$P/idgate"
mkdir -p "$SRC"

# ---------------------------------------------------------------- a clean copy
# A git checkout: its tracked files; a release tarball (distcheck): all of it.
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top_srcdir" && git ls-files -z | tar --null -cf - -T -) | tar -xf - -C "$SRC"
else
	(cd "$top_srcdir" && tar -cf - .) | tar -xf - -C "$SRC"
fi
check_eq "the copy has debian/rules" yes "$([ -x "$SRC/debian/rules" ] && echo yes)"

# ---------------------------------------------------------------- build
# not the make of this test run: its variables (TESTS=...) would leak in
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
(cd "$SRC" && dpkg-buildpackage -us -uc -b) >"$P/build.log" 2>&1
check_eq "dpkg-buildpackage -us -uc -b" 0 $?
tail -5 "$P/build.log"
DEB=$(ls "$P"/idgate_*_*.deb 2>/dev/null | head -1)
DEV=$(ls "$P"/idgate-dev_*_all.deb 2>/dev/null | head -1)
check_eq "idgate_*.deb and idgate-dev_*.deb" yes "$([ -f "$DEB" ] && [ -f "$DEV" ] && echo yes)"
[ -f "$DEB" ] || finish

# ---------------------------------------------------------------- lintian
lintian --fail-on error --tag-display-limit 0 "$P"/idgate_*.changes >"$P/lintian.out" 2>&1
check_eq "lintian: no error" 0 $?
echo "lintian: $(grep -c '^E:' "$P/lintian.out") errors, $(grep -c '^W:' "$P/lintian.out") warnings"
cat "$P/lintian.out"
check_no_grep "lintian: no E: tag" "^E:" "$P/lintian.out"

# ---------------------------------------------------------------- contents
dpkg -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$P/files"
dpkg -c "$DEV" | awk '{ print $6 }' | sed 's|^\./|/|' >"$P/devfiles"
for f in /usr/sbin/idgated /usr/sbin/idgatectl /usr/lib/idgate/modules/static.so \
	/usr/lib/idgate/modules/whoami.so /usr/lib/idgate/modules/cgi.so /etc/idgate/idgate.conf \
	/etc/pam.d/idgate /lib/systemd/system/idgate.service /usr/lib/sysusers.d/idgate.conf \
	/usr/lib/tmpfiles.d/idgate.conf /usr/share/man/man8/idgated.8.gz \
	/usr/share/man/man8/idgatectl.8.gz /usr/share/man/man5/idgate.conf.5.gz \
	/usr/share/idgate/www/index.html /etc/logrotate.d/idgate; do
	check_grep "package holds $f" "^$f\$" "$P/files"
done
check_grep "idgate-dev holds the module header" "^/usr/include/idgate/module.h$" "$P/devfiles"
check_grep "idgate-dev holds idgate-modules(7)" "^/usr/share/man/man7/idgate-modules.7.gz$" "$P/devfiles"
check_grep "idgate-dev holds its pkg-config file" "^/usr/share/pkgconfig/idgate.pc$" "$P/devfiles"
check_grep "idgate-dev holds the example module" "^/usr/share/doc/idgate-dev/examples/whoami.c" "$P/devfiles"
check_no_grep "no libtool archive" "\.la$" "$P/files"
dpkg-deb -I "$DEB" conffiles >"$P/conffiles"
check_grep "the package has conf.d for drop-ins" "^/etc/idgate/conf.d/$" "$P/files"
check_eq "conffiles" "/etc/idgate/idgate.conf /etc/logrotate.d/idgate /etc/pam.d/idgate" "$(sort "$P/conffiles" | tr '\n' ' ' | sed 's/ $//')"

mkdir -p "$P/x"
dpkg-deb -x "$DEB" "$P/x"
UNIT="$P/x/lib/systemd/system/idgate.service"
check_grep "unit: Type=notify" "^Type=notify$" "$UNIT"
check_grep "unit: ExecStart is the packaged idgated" "^ExecStart=/usr/sbin/idgated -c /etc/idgate/idgate.conf$" "$UNIT"
check_grep "unit: reload waits for the reload (idgatectl), and fails when it is refused" \
	'^ExecReload=/usr/sbin/idgatectl reload$' "$UNIT"
check_grep "unit: Restart=on-failure" "^Restart=on-failure$" "$UNIT"
check_grep "unit: user and mount namespaces allowed" "^RestrictNamespaces=user mnt$" "$UNIT"
check_no_grep "unit: no PrivateUsers" "^PrivateUsers=" "$UNIT"
check_eq "the sample's modules_dir is where the modules are" "/usr/lib/idgate/modules" "$(awk -F' *= *' '$1 == "modules_dir" { print $2 }' "$P/x/etc/idgate/idgate.conf")"
check_eq "the sample's welcome page is where the package puts it" yes "$(root=$(awk -F' *= *' '$1 == "root" { print $2; exit }' "$P/x/etc/idgate/idgate.conf"); [ -f "$P/x$root/index.html" ] && echo yes)"
check_grep "and the sample reads it" "^include = conf.d/\*\.conf$" "$P/x/etc/idgate/idgate.conf"
check_no_grep "the sample impersonates nobody" "^impersonate *= *(true|allowed)" "$P/x/etc/idgate/idgate.conf"

# ---------------------------------------------------------------- install
if dpkg-query -W -f='${Status}' idgate 2>/dev/null | grep -q installed || [ -e /usr/sbin/idgated ] ||
	[ -e /etc/idgate ]; then
	echo "idgate is already installed here: the install, upgrade and purge checks are skipped"
	finish
fi
at_exit "dpkg --purge idgate-dev idgate >/dev/null 2>&1"
DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" "$DEV" >"$P/install.log" 2>&1
check_eq "dpkg -i" 0 $?
check_eq "the idgate system user" "/nonexistent /usr/sbin/nologin" "$(getent passwd idgate | awk -F: '{ print $6, $7 }')"
check_grep "sysusers.d: the application pools' own user" "^u idgate-pool - " /usr/lib/sysusers.d/idgate.conf
check_grep "sysusers.d: the authenticator's own user" "^u idgate-auth - " /usr/lib/sysusers.d/idgate.conf
check_eq "/run/idgate: root's, 0755" "755 root root" "$(stat -c '%a %U %G' /run/idgate)"
check_eq "/var/log/idgate: root:adm, 2750 (new logs get group adm)" "2750 root adm" \
	"$(stat -c '%a %U %G' /var/log/idgate)"
logrotate -d /etc/logrotate.d/idgate >"$P/logrotate-d.out" 2>&1
check_eq "logrotate -d accepts /etc/logrotate.d/idgate" 0 $?
check_no_grep "and finds nothing wrong in it" "^error" "$P/logrotate-d.out"
check_eq "the replay cache: the authenticator's alone, outside PrivateTmp's /var/tmp" "700 idgate-auth idgate-auth" \
	"$(stat -c '%a %U %G' /var/lib/idgate/rcache)"
check_eq "the sample's spool root: the default pool's" "750 idgate-pool idgate-pool" \
	"$(stat -c '%a %U %G' /var/spool/idgate)"
check_grep "the unit lets idgated write its state and the spool" \
	"^ReadWritePaths=/var/log/idgate /run/idgate -/var/lib/idgate -/var/spool/idgate$" \
	/lib/systemd/system/idgate.service
check_eq "the installed sample is valid" "configuration OK" "$(/usr/sbin/idgated -t 2>&1)"
check_eq "man finds idgatectl(8)" yes "$(man -w idgatectl >/dev/null 2>&1 && echo yes)"
# a module built outside the tree, from the installed header and the
# example, with pkg-config alone; the installed idgated loads it
EX=/usr/share/doc/idgate-dev/examples/whoami.c
[ -f "$EX" ] || { gzip -dc "$EX.gz" >"$P/whoami.c" && EX="$P/whoami.c"; }
mkdir -p "$P/mods"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror $(pkg-config --cflags idgate) -shared -fPIC -o "$P/mods/whoami.so" "$EX" \
	>"$P/cc.out" 2>&1
check_eq "the example builds with pkg-config --cflags idgate alone" 0 "$?"
cat "$P/cc.out"
check_eq "pkg-config names the module directory" /usr/lib/idgate/modules \
	"$(pkg-config --variable=moduledir idgate)"
printf '[server]\nuser = idgate\npam_service =\naudit_log =\nmodules_dir = %s\n[pool default]\nuser = nobody\ngroup = nogroup\n[vdir /w]\nhandler = whoami\nauth = anonymous\n' \
	"$P/mods" >"$P/ext.conf"
check_eq "the installed idgated loads it" "configuration OK" "$(/usr/sbin/idgated -t -c "$P/ext.conf" 2>&1)"
systemd-analyze verify /lib/systemd/system/idgate.service >"$P/verify.out" 2>&1
check_eq "systemd-analyze verify: the unit parses" 0 $?
check_no_grep "systemd-analyze: no complaint about idgate.service" "idgate.service" "$P/verify.out"

# ---------------------------------------------------------------- run it as the unit would
# systemd is not PID 1 on CI machines: run the installed daemon with the
# unit's capability bounding set and no_new_privs (setpriv), with a pool
# that impersonates (its own user and mount namespaces, uid maps written by
# the supervisor, a tmpfs mounted inside) and the PAM helper.
CAPS=$(awk -F= '$1 == "CapabilityBoundingSet" { print $2 }' "$UNIT" |
	tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ //g')
check_eq "the unit's capabilities" "+setuid+setgid+setpcap+kill+net_bind_service+audit_write" "$CAPS"
PORT=$(free_port)
APORT=$(free_port)
printf 'addent -password -p HTTP/localhost@PKG.TEST -k 1 -e aes256-cts-hmac-sha1-96\nsecret\nwkt %s\nquit\n' \
	"$P/http.keytab" | ktutil >/dev/null 2>&1
chmod 600 "$P/http.keytab"
sed -e "s/^listen = .*/listen = 127.0.0.1:$PORT/" /etc/idgate/idgate.conf >"$P/idgate.conf"
cat >>"$P/idgate.conf" <<EOF
[pool imp]
user = idgate-pool
[vdir /me]
pool = imp
handler = whoami
impersonate = allowed
EOF
sed -i "/^\[server\]/a keytab = $P/http.keytab\nadmin_listen = 127.0.0.1:$APORT\naccess_log = /var/log/idgate/access.log" "$P/idgate.conf"
# a drop-in, as a package or a configuration-management tool adds one: the
# sample's include line reads conf.d/*.conf beside the file
mkdir -p "$P/conf.d"
printf '[vdir /dropin]\nhandler = whoami\nauth = anonymous\n' >"$P/conf.d/50-dropin.conf"
IDGATED="setpriv --bounding-set=-all,$(echo "$CAPS" | sed 's/+/,+/g; s/^,//') --no-new-privs /usr/sbin/idgated"
# shellcheck disable=SC2086
: >"$IDG_LOG"
$IDGATED -c "$P/idgate.conf" >>"$IDG_LOG" 2>&1 &
IDG_PID=$!
wait_log "ready:"
check_grep "the daemon starts under the unit's limits" "ready: 2 pools, 4 vdirs" "$IDG_LOG"
check_eq "its bounding set is the unit's" "00000000200005e0" "$(status_field "$IDG_PID" CapBnd)"
check_eq "no_new_privs" 1 "$(status_field "$IDG_PID" NoNewPrivs)"
check_eq "the welcome page" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")"
check_eq "a vdir of conf.d" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/dropin")"
check_eq "whoami" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/whoami")"
/usr/sbin/idgatectl --json status >"$P/status.json" 2>&1
check_eq "the installed idgatectl on the default socket" "serving serving" "$(json "$P/status.json" '" ".join(p["state"] for p in j["pools"])')"
IMP=$(json "$P/status.json" '[p["pid"] for p in j["pools"] if p["name"] == "imp"][0]')
check_eq "the impersonating worker has its own user namespace" yes "$([ "$(readlink "/proc/$IMP/ns/user")" != "$(readlink "/proc/$IDG_PID/ns/user")" ] && echo yes)"
check_eq "and its uid map (the pool's own ids and those >= min_uid)" "$(id -u idgate-pool) $(id -u idgate-pool) 1" "$(awk 'NR == 1 { print $1, $2, $3 }' "/proc/$IMP/uid_map")"
AUTH=$(child_pid idgate-pam)
check_eq "the PAM helper runs, with CAP_AUDIT_WRITE alone" "0000000020000000" "$([ -n "$AUTH" ] && status_field "$AUTH" CapEff)"
AN=$(child_pid idgate-authn)
check_eq "the authenticator runs as idgate-auth, with no capability, under seccomp" \
	"$(id -u idgate-auth) 0000000000000000 2" \
	"$([ -n "$AN" ] && echo "$(status_field "$AN" Uid) $(status_field "$AN" CapEff) $(status_field "$AN" Seccomp)")"
check_eq "metrics" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/metrics")"
check_eq "the audit log in /var/log/idgate" yes "$([ -s /var/log/idgate/audit.jsonl ] && echo yes)"
check_eq "the audit and access logs: created 0640 root:adm" "640 root adm 640 root adm" \
	"$(stat -c '%a %U %G' /var/log/idgate/audit.jsonl /var/log/idgate/access.log | tr '\n' ' ' | sed 's/ $//')"

# the unit's ExecReload, as systemd runs it (root, the unit's bounding set,
# no_new_privs); its stderr goes to the journal
RELOAD=$(sed -n 's/^ExecReload=//p' "$UNIT")
MAINPID=$IDG_PID
export MAINPID
sh -c "setpriv --bounding-set=-all,$(echo "$CAPS" | sed 's/+/,+/g; s/^,//') --no-new-privs $RELOAD" \
	>"$P/reload.out" 2>"$P/reload.err"
check_eq "ExecReload of a good file: exit 0, once reloaded" "0 reloaded" "$? $(cat "$P/reload.out")"
printf '[vdir /broken]\nhandler = whoami\nbogus = 1\n' >"$P/conf.d/60-broken.conf"
sh -c "setpriv --bounding-set=-all,$(echo "$CAPS" | sed 's/+/,+/g; s/^,//') --no-new-privs $RELOAD" \
	>"$P/reload.out" 2>"$P/reload.err"
check_eq "ExecReload of a refused file: exit 1 (systemctl reload fails)" 1 $?
check_grep "with the drop-in's FILE:LINE on stderr (the journal)" \
	"^$P/conf.d/60-broken.conf:3: \[vdir /broken\] unknown key 'bogus'" "$P/reload.err"
rm "$P/conf.d/60-broken.conf"
check_eq "the running configuration still serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/dropin")"

# logrotate, forced, against the running daemon: it follows to the new files
logrotate -f -s "$P/logrotate.state" /etc/logrotate.d/idgate >"$P/logrotate.out" 2>&1
check_eq "logrotate -f: exit 0" 0 $?
cat "$P/logrotate.out"
check_eq "the old logs were renamed" "yes yes" \
	"$([ -s /var/log/idgate/audit.jsonl.1 ] && echo yes) $([ -s /var/log/idgate/access.log.1 ] && echo yes)"
OLD=$(cat /var/log/idgate/audit.jsonl.1 /var/log/idgate/access.log.1 | wc -c)
check_eq "a request after the rotation" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/whoami?rotated")"
sleep 0.3
check_grep "its access line is in the new access log" '"GET /whoami\?rotated HTTP/1.1" 200' /var/log/idgate/access.log
check_grep "its audit line is in the new audit log" '"path":"/whoami"' /var/log/idgate/audit.jsonl
check_eq "the new files: 0640 root:adm" "640 root adm 640 root adm" \
	"$(stat -c '%a %U %G' /var/log/idgate/audit.jsonl /var/log/idgate/access.log | tr '\n' ' ' | sed 's/ $//')"
check_eq "the rotated ones stopped growing" "$OLD" "$(cat /var/log/idgate/audit.jsonl.1 /var/log/idgate/access.log.1 | wc -c)"
stop_idgated
check_eq "SIGTERM: exit 0" 0 "$STOP_RC"

# ---------------------------------------------------------------- upgrade
echo "# changed by the administrator" >>/etc/idgate/idgate.conf
sed -i '1s/(\([^)]*\))/(\1+upgrade1)/' "$SRC/debian/changelog"
(cd "$SRC" && dpkg-buildpackage -us -uc -b -nc) >"$P/build2.log" 2>&1
check_eq "a newer package builds" 0 $?
DEB2=$(ls "$P"/idgate_*+upgrade1_*.deb 2>/dev/null | head -1)
DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB2" >"$P/upgrade.log" 2>&1
check_eq "the upgrade installs" 0 $?
check_eq "the version" "$(dpkg-deb -f "$DEB2" Version)" "$(dpkg-query -W -f='${Version}' idgate)"
check_eq "the upgrade keeps the administrator's configuration" "# changed by the administrator" "$(tail -1 /etc/idgate/idgate.conf)"

# ---------------------------------------------------------------- purge
dpkg --purge idgate-dev idgate >"$P/purge.log" 2>&1
check_eq "dpkg --purge" 0 $?
for f in /usr/sbin/idgated /usr/sbin/idgatectl /usr/lib/idgate /etc/idgate /etc/pam.d/idgate \
	/lib/systemd/system/idgate.service /var/log/idgate /run/idgate /usr/include/idgate \
	/var/lib/idgate /var/spool/idgate; do
	check_eq "purge removed $f" no "$([ -e "$f" ] && echo yes || echo no)"
done
check_eq "the system user stays (Debian policy: files it owns may remain)" yes "$(getent passwd idgate >/dev/null && echo yes)"
finish
