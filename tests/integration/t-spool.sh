#!/bin/sh
# The spool module with a real KDC, real accounts and curl --negotiate:
# POST and PUT bodies land under root as ID.body (the exact bytes) and
# ID.meta (the caller as data: principal, user, level, request id), 0640
# and the pool's, ordered by arrival, answered 202; a body over max_size
# is 413 (announced or chunked), a full disk 507, a queue the pool may not
# write 500 with the reason, a client that leaves mid-upload nothing, and
# none of them leave a file (not even an unnamed one); GET is 405; paths
# cannot leave root; the anonymous level records no one; and idgated
# refuses to impersonate on a spool vdir, or to start on a root the pool
# cannot write.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

PORT=$(free_port)
B="http://localhost:$PORT"
U=idgt$$
REALM_NAME=IDGATE.TEST

realm_create "$T/kdc" || finish
realm_addprinc "${U}alice" pw-alice || finish
realm_addprinc "${U}svc" pw-svc || finish # a principal without a local account
realm_addservice HTTP/localhost "$T/http.keytab" || finish
add_user "${U}alice"
add_user "${U}pool"
realm_kinit "${U}alice" pw-alice "$T/alice.cc" || finish
realm_kinit "${U}svc" pw-svc "$T/svc.cc" || finish
ALICE=$(id -u "${U}alice")
ALICE_GID=$(id -g "${U}alice")
POOL="${U}pool"
POOL_GROUP=$(id -gn "$POOL")

mkdir -p "$T/modules"
cp "$MODULES_DIR/spool.so" "$T/modules/"

# root and its queues; "ro" is root's: the pool may not write it; "full" is
# a tiny file system; "link" leads out of root
S="$T/spool"
mkdir -p "$S/orders" "$S/ro" "$S/full" "$S/.work" "$S/drop" "$T/outside"
chown "$POOL:$POOL_GROUP" "$S" "$S/orders" "$S/.work" "$S/drop" "$T/outside"
chmod 750 "$S" "$S/orders"
add_group "${U}readers" # a setgid queue: its messages are its group's
chgrp "${U}readers" "$S/drop"
chmod 2750 "$S/drop"
chmod 755 "$S/ro"
ln -s "$T/outside" "$S/link"
mount -t tmpfs -o "size=64k,mode=0750,uid=$(id -u "$POOL"),gid=$(id -g "$POOL")" idgt-full "$S/full" ||
	{ not_ok "cannot mount a tmpfs"; finish; }
at_exit "umount '$S/full'"

head -c 40000 /dev/urandom >"$T/40k.bin"
head -c 65536 /dev/urandom >"$T/64k.bin"
head -c 65537 /dev/urandom >"$T/64k1.bin"
head -c 100000 /dev/urandom >"$T/100k.bin"
head -c 500000 /dev/urandom >"$T/500k.bin"

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
user = $POOL
group = $POOL_GROUP
[vdir /spool]
handler = spool
root = $S
max_size = 64k
[vdir /nosync]
handler = spool
root = $S/orders
fsync = false
[vdir /full]
handler = spool
root = $S/full
max_size = 1m
[vdir /drop]
handler = spool
root = $S/drop
auth = anonymous
EOF
start_idgated "$T/idgate.conf" || finish
# neg NAME WHO URL [curl args] -- the arguments after URL go to curl
neg() {
	n=$1
	who=$2
	url=$3
	shift 3
	KRB5CCNAME="$T/$who.cc" fetch "$n" "$url" --negotiate -u : "$@"
}
# id_of NAME -- the id the 202 answer of NAME gave
id_of() { json "$T/$1.body" 'j["id"]'; }
# meta NAME EXPR -- a field of the .meta file of the message NAME queued in DIR
meta() { json "$S/$1" "$2"; }
# files DIR -- its entries (hidden ones too), sorted, on one line
files() { ls -A "$1" | LC_ALL=C sort | paste -sd' '; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- accepted
check_eq "POST: 202" 202 "$(neg p1 alice "$B/spool" -H 'Content-Type: text/plain' --data-binary 'hello, queue')"
P1=$(id_of p1)
check_eq "POST: the answer is the id and the queue" "{\"id\":\"$P1\",\"queue\":\"/\"}" "$(cat "$T/p1.body")"
check_eq "POST: a JSON answer" application/json "$(header p1 Content-Type)"
check_eq "POST: no Location (nothing to GET there)" "" "$(header p1 Location)"
check_eq "POST: the id ends with the request id" "$(header p1 X-Request-Id)" "${P1#*Z-}"
check_eq "POST: the id starts with the time, to the nanosecond" 1 \
	"$(echo "$P1" | grep -cE '^[0-9]{8}T[0-9]{6}\.[0-9]{9}Z-[0-9a-f]{32}$')"
check_eq "POST: exactly two files" ".work $P1.body $P1.meta drop full link orders ro" "$(files "$S")"
check_eq "POST: the body's bytes" "hello, queue" "$(cat "$S/$P1.body")"
check_eq "POST: body mode and owner" "640 $POOL $POOL_GROUP" "$(stat -c '%a %U %G' "$S/$P1.body")"
check_eq "POST: meta mode and owner" "640 $POOL $POOL_GROUP" "$(stat -c '%a %U %G' "$S/$P1.meta")"
check_eq "meta: id and queue" "$P1 /" "$(meta "$P1.meta" 'j["id"] + " " + j["queue"]')"
check_eq "meta: principal" "${U}alice@$REALM_NAME" "$(meta "$P1.meta" 'j["principal"]')"
check_eq "meta: user, uid, gid" "${U}alice $ALICE $ALICE_GID" \
	"$(meta "$P1.meta" '"%s %s %s" % (j["user"], j["uid"], j["gid"])')"
check_eq "meta: level and auth type" "impersonation Negotiate" \
	"$(meta "$P1.meta" 'j["level"] + " " + j["auth_type"]')"
check_eq "meta: request_id is the answer's X-Request-Id" "$(header p1 X-Request-Id)" \
	"$(meta "$P1.meta" 'j["request_id"]')"
check_eq "meta: request_id is the audit line's" "$(audit p1 'j["request_id"]')" \
	"$(meta "$P1.meta" 'j["request_id"]')"
check_eq "meta: method, path, vdir" "POST /spool /spool" \
	"$(meta "$P1.meta" 'j["method"] + " " + j["path"] + " " + j["vdir"]')"
check_eq "meta: client" "127.0.0.1 True" \
	"$(meta "$P1.meta" 'j["client"] + " " + str(0 < j["client_port"] < 65536)')"
check_eq "meta: content type, length, sha256" "text/plain 12 $(printf 'hello, queue' | sha256sum | cut -d' ' -f1)" \
	"$(meta "$P1.meta" '"%s %d %s" % (j["content_type"], j["length"], j["sha256"])')"
check_eq "meta: time is RFC 3339 UTC, the id's, and now" True \
	"$(meta "$P1.meta" '(lambda t, d: t[19] == "." and t[29:] == "Z" and t[20:29] == j["id"][16:25] and d.strftime("%Y%m%dT%H%M%S") == j["id"][:15] and abs(d.timestamp() - __import__("time").time()) < 60)(j["time"], __import__("datetime").datetime.strptime(j["time"][:19] + "+0000", "%Y-%m-%dT%H:%M:%S%z"))')"
check_eq "meta: exactly these fields" \
	"auth_type client client_port content_type gid id length level method path principal queue request_id sha256 time uid user vdir" \
	"$(meta "$P1.meta" '" ".join(sorted(j))')"
check_eq "audit: 202, not impersonated" "202 False" "$(audit p1 '"%d %s" % (j["status"], j["impersonated"])')"

check_eq "PUT of 40 kB to a sub-queue: 202" 202 \
	"$(neg p2 alice "$B/spool/orders" -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$T/40k.bin")"
P2=$(id_of p2)
check_eq "PUT: the queue" "/orders" "$(json "$T/p2.body" 'j["queue"]')"
check_eq "PUT: the exact bytes on disk" "$(sha "$T/40k.bin")" "$(sha "$S/orders/$P2.body")"
check_eq "PUT: the meta's sha256 and length" "$(sha "$T/40k.bin") 40000 PUT /orders" \
	"$(meta "orders/$P2.meta" '"%s %d %s %s" % (j["sha256"], j["length"], j["method"], j["queue"])')"
check_eq "exactly max_size: 202" 202 "$(neg p3 alice "$B/spool/orders/" --data-binary "@$T/64k.bin")"
P3=$(id_of p3)
check_eq "exactly max_size: the bytes" "$(sha "$T/64k.bin")" "$(sha "$S/orders/$P3.body")"
check_eq "chunked upload: 202" 202 \
	"$(neg p4 alice "$B/spool/orders" -H 'Transfer-Encoding: chunked' --data-binary "@$T/40k.bin")"
check_eq "chunked upload: the bytes" "$(sha "$T/40k.bin")" "$(sha "$S/orders/$(id_of p4).body")"
check_eq "an empty body: 202, an empty file" "202 0" \
	"$(neg p5 alice "$B/spool/orders" --data-binary '') $(stat -c %s "$S/orders/$(id_of p5).body")"
check_eq "fsync = false: 202 too" 202 "$(neg p6 alice "$B/nosync" --data-binary 'no sync')"
check_eq "fsync = false: the message" "no sync" "$(cat "$S/orders/$(id_of p6).body")"

# arrival order is name order
IDS="$P2 $P3 $(id_of p4) $(id_of p5) $(id_of p6)"
check_eq "five messages in orders, sorted by arrival" \
	"$(for i in $IDS; do printf '%s.body %s.meta ' "$i" "$i"; done | sed 's/ $//')" "$(files "$S/orders")"
check_eq "ids are distinct" 5 "$(echo "$IDS" | tr ' ' '\n' | sort -u | wc -l)"

# concurrent posts: each a whole message of its own
CURLS=
for i in 1 2 3 4 5 6 7 8; do
	KRB5CCNAME="$T/alice.cc" curl -s -o "$T/c$i.body" --negotiate -u : \
		--data-binary "message $i" "$B/spool/orders" &
	CURLS="$CURLS $!"
done
for p in $CURLS; do wait "$p"; done
check_eq "eight concurrent posts: eight more messages" 26 "$(ls "$S/orders" | wc -l)"
OK=0
for i in 1 2 3 4 5 6 7 8; do
	ci=$(id_of "c$i")
	[ "$(cat "$S/orders/$ci.body")" = "message $i" ] &&
		[ "$(meta "orders/$ci.meta" '"%d %s" % (j["length"], j["sha256"])')" = \
			"9 $(printf 'message %s' "$i" | sha256sum | cut -d' ' -f1)" ] &&
		OK=$((OK + 1))
done
check_eq "eight concurrent posts: each body and meta its own" 8 "$OK"

# ---------------------------------------------------------------- who is recorded
check_eq "a principal without an account: 202" 202 "$(neg s1 svc "$B/spool/orders" --data-binary svc)"
check_eq "... recorded without user or ids" "${U}svc@$REALM_NAME None None None impersonation" \
	"$(meta "orders/$(id_of s1).meta" '"%s %s %s %s %s" % (j["principal"], j["user"], j["uid"], j["gid"], j["level"])')"
check_eq "the anonymous level: 202" 202 \
	"$(neg an alice "$B/spool/orders" -H 'Allowed-Impersonation-Level: anonymous' --data-binary anon)"
check_eq "the anonymous level: nobody in the meta" "None None None None anonymous" \
	"$(meta "orders/$(id_of an).meta" '"%s %s %s %s %s" % (j["principal"], j["user"], j["uid"], j["gid"], j["level"])')"
check_eq "the anonymous level: null in the JSON text" 1 \
	"$(grep -c '"principal":null,"user":null,"uid":null,"gid":null,"level":"anonymous"' "$S/orders/$(id_of an).meta")"
check_eq "the identification level: recorded as such" "${U}alice identification" \
	"$(neg il alice "$B/spool/orders" -H 'Allowed-Impersonation-Level: identification' --data-binary i >/dev/null
	   meta "orders/$(id_of il).meta" 'j["user"] + " " + j["level"]')"
check_eq "an anonymous vdir: 202" 202 "$(fetch d1 "$B/drop" --data-binary dropped)"
check_eq "an anonymous vdir: no auth type, no one" "None None anonymous" \
	"$(meta "drop/$(id_of d1).meta" '"%s %s %s" % (j["auth_type"], j["principal"], j["level"])')"
check_eq "a setgid queue: the files are its group's" "640 $POOL ${U}readers 640 $POOL ${U}readers" \
	"$(stat -c '%a %U %G' "$S/drop/$(id_of d1).body" "$S/drop/$(id_of d1).meta" | paste -sd' ')"

# ---------------------------------------------------------------- refusals that leave nothing
before=$(files "$S/orders")
check_eq "over max_size, announced: 413" 413 "$(neg big alice "$B/spool/orders" --data-binary "@$T/64k1.bin")"
check_eq "over max_size: the reason" "spool: the body is over max_size (65536 bytes)" "$(audit big 'j["reason"]')"
check_eq "over max_size, chunked: 413" 413 \
	"$(neg bigc alice "$B/spool/orders" -H 'Transfer-Encoding: chunked' --data-binary "@$T/100k.bin")"
check_eq "over max_size, chunked: the reason" "spool: the body is over max_size (65536 bytes)" "$(audit bigc 'j["reason"]')"
check_eq "over max_size, much larger: 413" 413 "$(neg bigger alice "$B/spool/orders" --data-binary "@$T/500k.bin")"
check_eq "over max_size: nothing left" "$before" "$(files "$S/orders")"

check_eq "GET: 405" 405 "$(neg get alice "$B/spool/orders")"
check_eq "GET: Allow" "POST, PUT" "$(header get Allow)"
check_eq "DELETE: 405" 405 "$(neg del alice "$B/spool/orders/$P2.body" -X DELETE)"
check_eq "DELETE: the message stays" "$(sha "$T/40k.bin")" "$(sha "$S/orders/$P2.body")"

check_eq "a queue the pool may not write: 500" 500 "$(neg ro alice "$B/spool/ro" --data-binary x)"
check_eq "... the audit reason" "spool: $S/ro: permission denied" "$(audit ro 'j["reason"]')"
check_grep "... and idgated's log says it" "request $(header ro X-Request-Id): spool: $S/ro: permission denied\$" "$IDG_LOG"
check_eq "... nothing left" "" "$(files "$S/ro")"

FREE=$(stat -f -c %b "$S/full")
check_eq "a full disk, announced: 507" 507 "$(neg full1 alice "$B/full" --data-binary "@$T/100k.bin" -H 'Content-Type: x/y')"
check_eq "... the audit reason" "spool: $S/full: no space left on device" "$(audit full1 'j["reason"]')"
check_eq "a full disk, chunked: 507" 507 \
	"$(neg full2 alice "$B/full" -H 'Transfer-Encoding: chunked' --data-binary "@$T/100k.bin")"
check_eq "... the audit reason" "spool: $S/full: no space left on device" "$(audit full2 'j["reason"]')"
check_eq "a full disk: nothing left, not even unnamed" "/$FREE" "$(files "$S/full")/$(stat -f -c %f "$S/full")"
check_eq "a small message still fits there" 202 "$(neg full3 alice "$B/full" --data-binary small)"
check_eq "... and is whole" small "$(cat "$S/full/$(id_of full3).body")"
rm -f "$S/full/"*

# a client that goes away in the middle of its upload
W=$(child_pid idgate-pool)
KRB5CCNAME="$T/alice.cc" curl -s -o /dev/null --negotiate -u : --limit-rate 10k -m 2 \
	--data-binary "@$T/40k.bin" "$B/full" &
CURL=$!
sleep 1
check_eq "client abort: while it uploads, its unnamed file takes space" "/yes" \
	"$(files "$S/full")/$([ "$(stat -f -c %f "$S/full")" -lt "$FREE" ] && echo yes)"
wait "$CURL"
check_eq "client abort: curl gave up" 28 "$?"
i=0
while [ "$(stat -f -c %f "$S/full")" != "$FREE" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "client abort: nothing left, not even unnamed" "/$FREE" "$(files "$S/full")/$(stat -f -c %f "$S/full")"
check_eq "client abort: no file of it open in the worker" 0 \
	"$(ls -l "/proc/$W/fd" | grep -F "$S/" | grep -c deleted)"
i=0
while [ "$(grep -c '"path":"/full"' "$AUDIT")" -lt 4 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check_eq "client abort: the audit line" "499 client closed the connection before the response" \
	"$(grep '"method":"POST","path":"/full"' "$AUDIT" | tail -1 | $PY -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j["reason"])')"

# ---------------------------------------------------------------- confinement
before_root=$(files "$S")
before_orders=$(files "$S/orders")
check_eq "a symlinked queue: 403" 403 "$(neg l1 alice "$B/spool/link" --data-binary x)"
check_eq "... the reason" "spool: $S/link: a symbolic link on the way" "$(audit l1 'j["reason"]')"
check_eq "a hidden queue: 404" 404 "$(neg h1 alice "$B/spool/.work" --data-binary x)"
check_eq "... the reason" "spool: /.work: not a queue (hidden or too long)" "$(audit h1 'j["reason"]')"
check_eq "a missing queue: 404" 404 "$(neg m1 alice "$B/spool/nosuch" --data-binary x)"
check_eq "... the reason" "spool: $S/nosuch: no such queue" "$(audit m1 'j["reason"]')"
check_eq "a message file as a queue: 404" 404 "$(neg m2 alice "$B/spool/orders/$P2.body" --data-binary x)"
check_eq "... the reason" "spool: $S/orders/$P2.body: not a queue (not a directory)" "$(audit m2 'j["reason"]')"
check_eq "dot segments leave the vdir: no vdir there" 404 \
	"$(neg t1 alice "$B/spool/orders/../../outside" --path-as-is --data-binary x)"
check_eq "encoded dot segments too" 404 "$(neg t2 alice "$B/spool/%2e%2e/outside" --path-as-is --data-binary x)"
check_eq "climbing above /: 400" 400 "$(neg t3 alice "$B/spool/../../../outside" --path-as-is --data-binary x)"
check_eq "an encoded slash: 400" 400 "$(neg t4 alice "$B/spool/%2e%2e%2foutside" --data-binary x)"
check_eq "dot segments inside root end at a queue" 202 \
	"$(neg t5 alice "$B/spool/nosuch/../orders" --path-as-is --data-binary inside)"
check_eq "... that one" "/orders inside" "$(json "$T/t5.body" 'j["queue"]') $(cat "$S/orders/$(id_of t5).body")"
check_eq "nothing outside root" "" "$(files "$T/outside")"
check_eq "nothing new in root" "$before_root" "$(files "$S")"
check_eq "nothing in the hidden directory" "" "$(files "$S/.work")"

# ---------------------------------------------------------------- configuration
cat >"$T/imp.conf" <<EOF
[server]
runtime_dir = $T/run2
replay_cache_dir = $T/run2/rcache
user = idgate
pam_service =
modules_dir = $T/modules
keytab = $T/http.keytab
audit_log =
[pool default]
user = $POOL
[vdir /queue]
handler = spool
root = $S
impersonate = true
EOF
"$IDGATED" -t -c "$T/imp.conf" >"$T/out" 2>"$T/err"
check_eq "idgated -t: impersonate = true on spool exits 1" 1 $?
check_eq "idgated -t: the exact message" \
	"$T/imp.conf:14: [vdir /queue] impersonate = true, but handler 'spool' is not_allowed to impersonate: set impersonate = false" \
	"$(cat "$T/err")"
check_eq "idgated -t: nothing on stdout" "" "$(cat "$T/out")"
sed 's/^impersonate = true$/impersonate = allowed/' "$T/imp.conf" >"$T/allowed.conf"
"$IDGATED" -t -c "$T/allowed.conf" >"$T/out" 2>"$T/err"
check_eq "idgated -t: impersonate = allowed exits 1 too" 1 $?
check_eq "idgated -t: its message" \
	"$T/allowed.conf:14: [vdir /queue] impersonate = allowed, but handler 'spool' is not_allowed to impersonate: set impersonate = false" \
	"$(cat "$T/err")"
sed '/^impersonate = true$/d' "$T/imp.conf" >"$T/ok.conf"
"$IDGATED" -t -c "$T/ok.conf" >"$T/out" 2>"$T/err"
check_eq "idgated -t: impersonate = false exits 0" "0 configuration OK " \
	"$? $(grep -v '^keytab ' "$T/out") $(cat "$T/err")"
printf '[vdir /q2]\nhandler = spool\nroot = %s\nmax_size = lots\n' "$S" >>"$T/ok.conf"
"$IDGATED" -t -c "$T/ok.conf" >"$T/out" 2>"$T/err"
check_eq "idgated -t: a bad max_size" "1 $T/ok.conf:17: [vdir /q2] handler 'spool': max_size: 'lots': expected a number" \
	"$? $(cat "$T/err")"
sed "s|^root = $S\$|root = $T/none|" "$T/imp.conf" | sed '/^impersonate/d' >"$T/noroot.conf"
"$IDGATED" -t -c "$T/noroot.conf" >"$T/out" 2>"$T/err"
check_eq "idgated -t: a missing root" \
	"1 $T/noroot.conf:13: [vdir /queue] handler 'spool': root: $T/none: No such file or directory" \
	"$? $(cat "$T/err")"

# the pool's user must be able to write root: checked as it, at start-up
sed -e "s|^root = $S\$|root = $S/ro|" -e '/^impersonate/d' "$T/imp.conf" >"$T/rostart.conf"
printf 'listen = 127.0.0.1:%s\n' "$(free_port)" >"$T/listen.tmp"
sed -i "/^\[server\]/r $T/listen.tmp" "$T/rostart.conf"
"$IDGATED" -c "$T/rostart.conf" >"$T/rostart.log" 2>&1 &
RPID=$!
i=0
while kill -0 "$RPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$RPID"
check_eq "a root the pool cannot write: idgated does not start" 1 "$?"
check_grep "... and says why" \
	"$T/rostart.conf:14: \[vdir /queue\] handler 'spool': root: $S/ro: uid $(id -u "$POOL") cannot create files in it \(the pool's user\)" \
	"$T/rostart.log"

# a read-only file system (what systemd's ProtectSystem=strict makes of a
# directory missing from ReadWritePaths=): the message says what to do
mkdir -p "$T/rofs"
mount --bind "$S" "$T/rofs" && mount -o remount,bind,ro "$T/rofs" ||
	not_ok "a read-only bind mount"
at_exit "umount '$T/rofs'"
sed -e "s|^root = $S\$|root = $T/rofs|" -e '/^impersonate/d' "$T/imp.conf" >"$T/rofs.conf"
"$IDGATED" -t -c "$T/rofs.conf" >"$T/out" 2>"$T/err"
check_eq "a read-only root: idgated -t exits 1" 1 "$?"
check_eq "... and says where the unit must let it write" \
	"$T/rofs.conf:13: [vdir /queue] handler 'spool': root: $T/rofs: read-only file system (under systemd, add the directory to the unit's ReadWritePaths=: systemctl edit idgate)" \
	"$(cat "$T/err")"

finish
