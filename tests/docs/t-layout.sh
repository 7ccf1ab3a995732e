#!/bin/sh
# The source tree shows the processes (docs/ARCHITECTURE.md, "Source
# layout"): src/common, src/identity, src/config and src/proto are shared;
# src/supervisor, src/frontend, src/authenticator, src/worker, src/spawner,
# src/pamhelper and src/ctl each belong to one process.  A process folder may include a
# shared header, its own, and of another process only that process's entry
# header (what starts it: frontend.h, worker.h, spawner.h, authhelper.h,
# supervisor.h); a shared folder includes no process's header at all.
# And src/identity is the one owner of identity changes: no other file of
# src/ or modules/ calls a set*id system call.
. "$top_srcdir/tests/integration/lib.sh"

SRC="$top_srcdir/src"
PROCS="supervisor frontend authenticator worker spawner pamhelper ctl"
SHARED="common identity config proto"
ENTRY=" supervisor/supervisor.h frontend/frontend.h authenticator/authenticator.h worker/worker.h spawner/spawner.h pamhelper/authhelper.h "

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
		"^(/\\*| \\*) Peers:" "$SRC/$d/$(ls "$SRC/$d" | grep -m1 -E '^(supervisor|frontend|authenticator|worker|spawner|authhelper|idgatectl)\.c$')"
done
# made-up violations are found (the check can fail): a worker file with
# the front end's private header, a shared one with any process's; a
# process's entry header is fine
mkdir -p "$T/src/worker" "$T/src/frontend" "$T/src/common"
printf '#include "auth.h"\n#include "frontend.h"\n' >"$T/src/worker/x.c"
printf '#include <stdio.h>\n#include "frontend.h"\n' >"$T/src/common/y.c"
: >"$T/src/frontend/auth.h"
: >"$T/src/frontend/frontend.h"
check_eq "made-up include violations are reported" \
	"src/common/y.c:2 includes src/frontend/frontend.h|src/worker/x.c:1 includes src/frontend/auth.h" \
	"$(scan "$T/src" | sort | paste -sd'|')"
# setid_calls TOP -- "file:line" of each set*id call in TOP's src/ and
# modules/ outside src/identity/ (glibc's wrappers, or the system call by
# number); comments and string literals do not count
SETID='(setuid|seteuid|setreuid|setresuid|setgid|setegid|setregid|setresgid|setgroups|initgroups|setfsuid|setfsgid)'
setid_calls() {
	find "$1/src" "$1/modules" -name '*.[ch]' ! -path "$1/src/identity/*" | sort |
	while IFS= read -r f; do
		sed -e 's|/\*.*\*/||g' -e 's#"\([^"\\]\|\\.\)*"#""#g' -e 's|//.*||' \
		    -e 's|^[[:space:]]*\*.*||' -e 's|/\*.*||' "$f" |
		grep -nE "(^|[^A-Za-z0-9_])$SETID[[:space:]]*\(|(SYS|__NR)_$SETID([^A-Za-z0-9_]|\$)" |
		sed "s|^\([0-9]*\):.*|${f#"$1"/}:\1|"
	done
}
check_eq "no file outside src/identity calls a set*id system call" "" "$(setid_calls "$top_srcdir")"
# made-up calls are found: a wrapper, a raw system call, and one in a
# module; one in src/identity, in a comment or a string, or a longer name
# are not
mkdir -p "$T/src/identity" "$T/modules"
cat >"$T/src/worker/z.c" <<'EOF_C'
/* setresuid(0, 0, 0) in a comment */
static int f(void) { return setresuid(1, 1, 1); }
static void g(void) { syscall(SYS_setgroups, 0, NULL); }
static void l(void) { log("setgid(%u) \"setuid(0)\"", 1); }
static int h(void) { return my_setuid(1) + idswitch_setgid (2); }
 * setuid(0) in a comment's second line
EOF_C
printf 'int m(void)\n{\n\treturn initgroups ("u", 1);\n}\n' >"$T/modules/m.c"
printf 'int i(void) { return setuid(0); }\n' >"$T/src/identity/i.c"
check_eq "made-up set*id calls are reported" \
	"modules/m.c:3|src/worker/z.c:2|src/worker/z.c:3" \
	"$(setid_calls "$T" | sort | paste -sd'|')"
finish
