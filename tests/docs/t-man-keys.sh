#!/bin/sh
# Every configuration key that exists in the code is documented in
# idgate.conf(5), in its own section: the keys of [server], [pool] and
# [vdir] are those idgated prints with -k (its key tables, confkeys.c), a
# handler's keys are read from the built module itself (its exported
# idgate_module.keys), and each must appear as ".B key" in the man page's
# section for it.  Also: no key is documented that does not exist, and
# every man page of the package is valid roff.
. "$top_srcdir/tests/integration/lib.sh"

MAN="$top_srcdir/man/idgate.conf.5"

# SECTION<TAB>NAME<TAB>TYPE<TAB>DEFAULT<TAB>HELP, one key a line
"$IDGATED" -k >"$T/keys"
check_eq "idgated -k exits 0" 0 "$?"
check_eq "idgated -k prints 5 tab-separated fields a line" "" \
	"$(awk -F '\t' 'NF != 5 { print NR ": " $0 }' "$T/keys")"

# keys_of SECTION -- the keys idgated -k lists for [server], [pool] or [vdir]
keys_of() {
	awk -F '\t' -v s="$1" '$1 == s { print $2 }' "$T/keys" | sort -u
}

# documented SECTION-HEADER -- the keys written ".B key" right after ".TP"
# between that header line and the next .SH/.SS
documented() {
	awk -v h="$1" '
		$0 == h { on = 1; next }
		on && /^\.S[HS] / { on = 0 }
		on && prev == ".TP" && /^\.B [a-z0-9_]+$/ { print $2 }
		{ prev = $0 }' "$MAN" | sort -u
}

# compare NAME CODE-KEYS DOC-KEYS
compare() {
	# no empty line in a pattern file: "" would match everything
	printf '%s\n' "$3" | sed '/^$/d' >"$T/doc"
	printf '%s\n' "$2" | sed '/^$/d' >"$T/code"
	missing=$(grep -vxF -f "$T/doc" "$T/code" | tr '\n' ' ')
	extra=$(grep -vxF -f "$T/code" "$T/doc" | tr '\n' ' ')
	check_eq "$1: every key of the code is in idgate.conf(5)" "" "$missing"
	check_eq "$1: idgate.conf(5) documents no key that does not exist" "" "$extra"
}

SERVER=$(keys_of server)
POOL=$(keys_of pool)
VDIR=$(keys_of vdir)
check_eq "idgated -k lists the [server] keys" yes "$(printf '%s\n' "$SERVER" | grep -qx control_socket && printf '%s\n' "$SERVER" | grep -qx listen && echo yes)"
check_eq "idgated -k lists the [pool] keys" yes "$(printf '%s\n' "$POOL" | grep -qx rapid_fail && echo yes)"
check_eq "idgated -k lists the [vdir] keys" yes "$(printf '%s\n' "$VDIR" | grep -qx session_cookie && echo yes)"
check_eq "idgated -k lists no other section" "" "$(awk -F '\t' '$1 != "server" && $1 != "pool" && $1 != "vdir"' "$T/keys")"
compare "[server]" "$SERVER" "$(documented '.SH "[server]"')"
compare "[pool]" "$POOL" "$(documented '.SH "[pool NAME]"')"
compare "[vdir]" "$VDIR" "$(documented '.SH "[vdir PATH]"')"

# handler modules: those built here (a module's keys, from the module itself)
n=0
for so in "$MODULES_DIR"/*.so; do
	name=$(basename "$so" .so)
	keys=$("$HELPERS_DIR/modkeys" "$so") || { not_ok "modkeys $so"; continue; }
	compare "handler $name" "$keys" "$(documented ".SS \"handler $name\"")"
	check_grep "handler $name has a section" "^\.SS \"handler $name\"$" "$MAN"
	n=$((n + 1))
done
check_eq "the built modules were all checked (at least whoami, static, cgi)" yes "$([ $n -ge 3 ] && echo yes)"

# a key added to the code but not to the page is caught, and so is a key
# the page documents that the code does not have
documented '.SH "[server]"' >"$T/doc"
printf '%s\n' "$SERVER" "surely_undocumented" >"$T/fake"
check_eq "a made-up key would be reported" "surely_undocumented" "$(grep -vxF -f "$T/doc" "$T/fake")"
printf '%s\n' "$SERVER" | grep -vx listen >"$T/fake"
check_eq "a documented key the code lacks would be reported" "listen" "$(grep -vxF -f "$T/fake" "$T/doc")"

# every page formats without a warning
for page in "$top_srcdir"/man/*.[0-9]; do
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" >/dev/null 2>"$T/man.err"
	check_eq "$(basename "$page") formats cleanly" "" "$(cat "$T/man.err")"
done
finish
