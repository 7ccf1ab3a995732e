#!/bin/sh
# Where modules come from: modules_dir and every directory above it must
# be root's and writable by nobody else (a sticky directory such as /tmp
# may be on the way), and the module must be root's and not writable by
# others; idgated -t names the offending directory as FILE:LINE.  The
# running supervisor has the checked files mapped (loaded through their
# descriptors, /proc/self/fd/N) and keeps each one's descriptor.
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
mkdir -p "$T/a/b/mods"
cp "$MODULES_DIR/whoami.so" "$T/a/b/mods/"

write_conf() { # write_conf MODULES_DIR
	cat >"$T/idgate.conf" <<EOF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
pam_service =
audit_log =
modules_dir = $1
control_socket =
[pool default]
user = nobody
[vdir /]
handler = whoami
auth = anonymous
EOF
}
write_conf "$T/a/b/mods"
LINE=$(grep -n '^handler = whoami' "$T/idgate.conf" | cut -d: -f1)

check_eq "root's directories all the way: OK" "configuration OK" "$("$IDGATED" -t -c "$T/idgate.conf" 2>&1)"

chmod 777 "$T/a"
"$IDGATED" -t -c "$T/idgate.conf" >"$T/out" 2>"$T/err"
check_eq "a directory above modules_dir writable by others: exit 1" 1 $?
check_eq "named, with FILE:LINE" \
	"$T/idgate.conf:$LINE: [vdir /] handler 'whoami': modules_dir $T/a/b/mods: directory $T/a is writable by group or others" \
	"$(cat "$T/err")"
chmod 775 "$T/a"
"$IDGATED" -t -c "$T/idgate.conf" 2>"$T/err"
check_eq "group-writable: refused too" \
	"$T/idgate.conf:$LINE: [vdir /] handler 'whoami': modules_dir $T/a/b/mods: directory $T/a is writable by group or others" \
	"$(cat "$T/err")"
chmod 755 "$T/a"

chown nobody "$T/a/b"
"$IDGATED" -t -c "$T/idgate.conf" 2>"$T/err"
check_eq "a directory above modules_dir owned by another user: refused" \
	"$T/idgate.conf:$LINE: [vdir /] handler 'whoami': modules_dir $T/a/b/mods: directory $T/a/b is owned by uid $(id -u nobody), not root" \
	"$(cat "$T/err")"
chown root "$T/a/b"

# a link on the way is followed; the checks apply to where it leads
ln -s "$T/a/b" "$T/link"
write_conf "$T/link/mods"
check_eq "through a symbolic link to root's directories: OK" "configuration OK" "$("$IDGATED" -t -c "$T/idgate.conf" 2>&1)"
chmod 757 "$T/a/b"
"$IDGATED" -t -c "$T/idgate.conf" 2>"$T/err"
check_eq "through a link to a directory others may write: refused, naming it" \
	"$T/idgate.conf:$LINE: [vdir /] handler 'whoami': modules_dir $T/link/mods: directory $T/a/b is writable by group or others" \
	"$(cat "$T/err")"
chmod 755 "$T/a/b"

# the running supervisor: the module is mapped from the checked file, and
# the descriptor it was loaded through stays open
write_conf "$T/a/b/mods"
start_idgated "$T/idgate.conf" || finish
check_grep "the supervisor maps the module from its file" " $T/a/b/mods/whoami.so\$" "/proc/$IDG_PID/maps"
check_eq "and holds that file open (its /proc/self/fd name must stay unique)" yes \
	"$(ls -l "/proc/$IDG_PID/fd" | grep -q -- "-> $T/a/b/mods/whoami.so\$" && echo yes || echo no)"
check_eq "it serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")"
stop_idgated
check_eq "SIGTERM: exit 0" 0 "$STOP_RC"
finish
