#!/bin/sh
# The source tree shows the processes (docs/ARCHITECTURE.md, "Source
# layout"): src/common, src/identity, src/config and src/proto are shared;
# src/supervisor, src/frontend, src/worker, src/spawner, src/pamhelper and
# src/ctl each belong to one process.  A process folder may include a
# shared header, its own, and of another process only that process's entry
# header (what starts it: frontend.h, worker.h, spawner.h, authhelper.h,
# supervisor.h); a shared folder includes no process's header at all.
. "$top_srcdir/tests/integration/lib.sh"

SRC="$top_srcdir/src"
PROCS="supervisor frontend worker spawner pamhelper ctl"
SHARED="common identity config proto"
ENTRY=" supervisor/supervisor.h frontend/frontend.h worker/worker.h spawner/spawner.h pamhelper/authhelper.h "

# folder_of SRC HEADER -- the folder of SRC that has it (none: a system or
# public header)
folder_of() {
	for d in $SHARED $PROCS; do
		[ -f "$1/$d/$2" ] && { echo "$d"; return; }
	done
}

is_proc() { case " $PROCS " in *" $1 "*) return 0 ;; esac; return 1; }

# scan SRC -- every include of another process's private header, one line each
scan() {
	for d in $SHARED $PROCS; do
		for f in "$1/$d"/*.c "$1/$d"/*.h; do
			[ -f "$f" ] || continue
			grep -n '^#include "' "$f" | while IFS= read -r line; do
				h=$(printf '%s' "$line" | sed 's/^[0-9]*:#include "\([^"]*\)".*/\1/')
				where=$(folder_of "$1" "$h")
				[ -n "$where" ] && [ "$where" != "$d" ] && is_proc "$where" || continue
				if is_proc "$d" && case "$ENTRY" in *" $where/$h "*) true ;; *) false ;; esac
				then
					continue
				fi
				echo "src/$d/$(basename "$f"):${line%%:*} includes src/$where/$h"
			done
		done
	done
}
check_eq "no folder includes another process's private header" "" "$(scan "$SRC")"
check_eq "every source file is in a folder of its process or a shared one" "" \
	"$(find "$SRC" -maxdepth 1 -name '*.[ch]' | sed "s|^$top_srcdir/||")"
for d in $PROCS; do
	check_grep "src/$d opens with the peers it talks to and the messages it takes" \
		"^(/\\*| \\*) Peers:" "$SRC/$d/$(ls "$SRC/$d" | grep -m1 -E '^(supervisor|frontend|worker|spawner|authhelper|idgatectl)\.c$')"
done
# made-up violations are found (the check can fail): a worker file with
# the front end's private header, a shared one with any process's; a
# process's entry header is fine
mkdir -p "$T/src/worker" "$T/src/frontend" "$T/src/common"
printf '#include "auth.h"\n#include "frontend.h"\n' >"$T/src/worker/x.c"
printf '#include <stdio.h>\n#include "frontend.h"\n' >"$T/src/common/y.c"
: >"$T/src/frontend/auth.h"
: >"$T/src/frontend/frontend.h"
check_eq "made-up violations are reported" \
	"src/common/y.c:2 includes src/frontend/frontend.h|src/worker/x.c:1 includes src/frontend/auth.h" \
	"$(scan "$T/src" | sort | paste -sd'|')"
finish
