#!/bin/sh
# idgatectl talks only to root: whoever listens on the control socket path
# must be uid 0 (SO_PEERCRED), or idgatectl refuses before it sends a
# byte.  A fake listener run by another user records what it receives.
. "$(dirname "$0")/lib.sh"
need_root

mkdir -p "$T/fake"
chown nobody "$T/fake"
FAKE="$T/fake/control"

# fake_listener OUT -- as nobody: accept one connection on $FAKE, write
# the number of bytes received within 3 s to OUT ("ready" first to OUT.ready)
fake_listener() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups $PY - "$FAKE" "$1" <<'EOF' &
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path)
s.listen(1)
print("ready", file=open(os.path.dirname(path) + "/ready", "w"))
c, _ = s.accept()
c.settimeout(3)
got = 0
try:
    while True:
        b = c.recv(65536)
        if not b:
            break
        got += len(b)
except socket.timeout:
    pass
print(got, file=open(out, "w"))
EOF
	FAKE_PID=$!
	i=0
	while [ ! -e "$T/fake/ready" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

fake_listener "$T/fake/got1"
check_eq "the fake listener is nobody's" "$(id -u nobody)" "$(stat -c %u "$FAKE")"
timeout 20 "$IDGATECTL" -s "$FAKE" status >"$T/out" 2>"$T/err"
check_eq "a listener that is not root: exit 3" 3 $?
check_eq "and why, naming the uid" \
	"idgatectl: $FAKE is served by uid $(id -u nobody) (pid $FAKE_PID), not by root: refusing to talk to it" \
	"$(cat "$T/err")"
check_eq "nothing on stdout" "" "$(cat "$T/out")"
wait "$FAKE_PID"
check_eq "the fake listener received nothing" 0 "$(cat "$T/fake/got1")"

# the same for a request that would carry a pool's name
rm -f "$FAKE" "$T/fake/ready"
fake_listener "$T/fake/got2"
timeout 20 "$IDGATECTL" -s "$FAKE" pool stop default >/dev/null 2>"$T/err2"
check_eq "pool stop to a listener that is not root: exit 3" 3 $?
wait "$FAKE_PID"
check_eq "the fake listener received nothing (pool stop)" 0 "$(cat "$T/fake/got2")"

finish
