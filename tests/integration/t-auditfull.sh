#!/bin/sh
# A full disk under the audit log (hostile-input issue, item 5): with the
# default audit_failure = refuse, once a line cannot be written every new
# request gets 503 + Retry-After until one can (the refusals' own lines
# are the probes), counted in the metrics; no half line is glued to the
# next; audit_failure = continue serves on.
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
APORT=$(free_port)
B="http://127.0.0.1:$PORT"
mkdir -p "$T/full"
mount -t tmpfs -o size=64k idgt-audit "$T/full" || { not_ok "cannot mount a tmpfs"; finish; }
at_exit "umount '$T/full'"
AUD="$T/full/audit.jsonl"

conf() { # conf POLICY
	cat >"$T/idgate.conf" <<CONF
[server]
runtime_dir = $T/run
listen = 127.0.0.1:$PORT
admin_listen = 127.0.0.1:$APORT
user = idgate
pam_service =
audit_log = $AUD
audit_failure = $1
modules_dir = $MODULES_DIR
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
auth = anonymous
CONF
}
conf refuse
start_idgated "$T/idgate.conf" || finish
code() { curl -s -o /dev/null -D "$T/h" -w '%{http_code}' "$B/who"; }
metric() { curl -s "http://127.0.0.1:$APORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

check_eq "a request with room on the disk: 200" 200 "$(code)"
check_eq "metrics: no failure yet" "0 0" \
	"$(metric idgate_audit_write_failures_total) $(metric idgate_audit_failing)"
# fill the file system: the log's last page may still take a few lines,
# so requests go on until one line does not fit
dd if=/dev/zero of="$T/full/pad" bs=1k >/dev/null 2>&1
i=0
while [ "$(code)" = 200 ] && [ $i -lt 40 ]; do i=$((i + 1)); done
check_eq "once a line cannot be written, new requests get 503" yes "$([ $i -lt 40 ] && echo yes)"
check_eq "with Retry-After" 5 "$(awk 'tolower($1) == "retry-after:" { sub(/\r$/, "", $2); print $2 }' "$T/h")"
check_eq "and again" "503 503" "$(code) $(code)"
check_grep "the log says why" \
	"audit log: write: No space left on device: refusing requests until it can be written \\(audit_failure = refuse\\)" \
	"$IDG_LOG"
check_eq "... once" 1 "$(grep -c 'audit log: write: ' "$IDG_LOG")"
# the line that failed, then the three refusals'
check_eq "metrics: the failed lines, and failing" "4 1" \
	"$(metric idgate_audit_write_failures_total) $(metric idgate_audit_failing)"
# room again: the next refusal's line is written, and serving resumes
rm "$T/full/pad"
check_eq "with room again, the first request is still refused" 503 "$(code)"
check_eq "but its line was written, so the next one is served" 200 "$(code)"
check_eq "metrics: no longer failing" 0 "$(metric idgate_audit_failing)"
check_grep "the log says so" "audit log: written again after 4 failed lines" "$IDG_LOG"
# the line cut by the full disk (if the disk took part of it) stands alone
# on its own line: every other line is whole JSON
check_eq "no half line glued to the next: at most one cut line, alone" ok \
	"$($PY -c 'import json,sys
cut = 0
for l in open(sys.argv[1]):
    if not l.strip():
        continue
    try:
        json.loads(l)
    except ValueError:
        cut += 1
        assert l.startswith("{\"ts\":"), l
print("ok" if cut <= 1 else "cut lines: %d" % cut)' "$AUD" 2>&1 | tail -1)"
check_eq "the refusal is in the log with its reason" \
	"503 the audit log cannot be written (No space left on device): refusing requests until it can (audit_failure = refuse)" \
	"$(grep '"status":503' "$AUD" | tail -1 | $PY -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j["reason"])')"

# ---------------------------------------------------------------- continue
conf continue
kill -HUP "$IDG_PID"
wait_log "reloaded: configuration generation 2 serves"
dd if=/dev/zero of="$T/full/pad" bs=1k >/dev/null 2>&1
check_eq "audit_failure = continue: served while the log is full" "200 200 200" "$(code) $(code) $(code)"
rm "$T/full/pad"
finish
