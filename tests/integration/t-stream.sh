#!/bin/sh
# Bodies are streamed, never buffered whole: a 300 MB upload reaches the
# handler in chunks (it answers the length and CRC-32 it read), a 300 MB
# download leaves it in chunks, chunked uploads work, a handler that
# answers before reading gets its body dropped, and the front end's peak
# memory stays far below the body sizes.
. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
B="http://127.0.0.1:$PORT"
SIZE=300000000
mkdir -p "$T/modules"
cp "$TESTMODS_DIR/tstream.so" "$T/modules/"
cat >"$T/idgate.conf" <<CONF
[server]
runtime_dir = $T/run
replay_cache_dir = $T/run/rcache
listen = 127.0.0.1:$PORT
user = idgate
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $T/modules
[pool default]
user = nobody
threads = 2
[vdir /s]
handler = tstream
auth = anonymous
CONF
# ASan keeps freed memory in quarantine (256 MB): shrink it, or the peak
# measured below would be ASan's, not ours
ASAN_EXTRA=quarantine_size_mb=1
start_idgated "$T/idgate.conf" || finish
FE=$(child_pid idgate-front)
WK=$(child_pid idgate-pool)

# the expected answer for SIZE bytes of the i mod 256 pattern
EXPECT=$($PY -c '
import sys, zlib
n = int(sys.argv[1]); block = bytes(range(256)) * 4096; crc = 0; left = n
while left:
    k = min(left, len(block)); crc = zlib.crc32(block[:k], crc); left -= k
print(n, crc)' "$SIZE")

check_eq "a 300 MB download" 200 "$(curl -s -o "$T/down.bin" -w '%{http_code}' "$B/s?bytes=$SIZE")"
check_eq "the download is whole" "$EXPECT" \
	"$($PY -c 'import sys, zlib; d = open(sys.argv[1], "rb").read(); print(len(d), zlib.crc32(d))' "$T/down.bin")"
check_eq "a 300 MB upload" 200 "$(curl -s -o "$T/up.out" -w '%{http_code}' -H 'Content-Type: application/octet-stream' --data-binary "@$T/down.bin" "$B/s")"
check_eq "the handler read all of it, in order" "$EXPECT" "$(cat "$T/up.out")"
rm -f "$T/down.bin"
$PY -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4000)' >"$T/small.bin"
check_eq "a chunked upload" "1024000 $($PY -c 'import zlib,sys; print(zlib.crc32(open(sys.argv[1],"rb").read()))' "$T/small.bin")" \
	"$(curl -s -H 'Transfer-Encoding: chunked' --data-binary "@$T/small.bin" "$B/s")"
check_eq "an answer before the body: 413" 413 \
	"$(curl -s -o /dev/null -w '%{http_code}' --data-binary "@$T/small.bin" "$B/s?early")"
check_eq "the same connection goes on after it" "413 200" \
	"$(curl -s -o /dev/null -o /dev/null -w '%{http_code} ' --data-binary "@$T/small.bin" "$B/s?early" "$B/s?bytes=10" | sed 's/ $//')"
FE_PEAK=$(status_field "$FE" VmHWM)
WK_PEAK=$(status_field "$WK" VmHWM)
check_eq "the front end never held a body (peak $FE_PEAK kB < 64 MB)" yes "$([ "$FE_PEAK" -lt 65536 ] && echo yes)"
check_eq "nor the worker (peak $WK_PEAK kB < 64 MB)" yes "$([ "$WK_PEAK" -lt 65536 ] && echo yes)"
finish
