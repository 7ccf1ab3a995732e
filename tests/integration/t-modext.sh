#!/bin/sh
# The module template builds outside idgate's tree: modules/whoami.c with
# nothing but include/ (what idgate-dev installs) on the include path and
# the flags the pkg-config file gives; the module built so is loaded and
# serves the documented fields.
. "$(dirname "$0")/lib.sh"
need_root

PORT=$(free_port)
mkdir -p "$T/modules"
CFLAGS=$(PKG_CONFIG_PATH="$top_builddir/etc" \
	pkg-config --define-variable=includedir="$top_srcdir/include" --cflags idgate | sed 's/ *$//')
check_eq "pkg-config --cflags idgate: the header's directory" "-I$top_srcdir/include" "$CFLAGS"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror $CFLAGS -shared -fPIC -o "$T/modules/whoami.so" \
	"$top_srcdir/modules/whoami.c" >"$T/cc.out" 2>&1
check_eq "whoami.c builds with <idgate/module.h> alone" 0 "$?"
cat "$T/cc.out"
check_eq "and needs nothing but libc at run time (no idgate symbol)" "" \
	"$(nm -D --undefined-only "$T/modules/whoami.so" | awk '{ print $2 }' |
	   grep -v '@GLIBC_' | grep -Ev '^_' | tr '\n' ' ')"
cat >"$T/idgate.conf" <<CONF
[server]
runtime_dir = $T/run
listen = 127.0.0.1:$PORT
user = idgate
pam_service =
audit_log = $T/audit.jsonl
modules_dir = $T/modules
[pool default]
user = nobody
group = nogroup
[vdir /who]
handler = whoami
auth = anonymous
CONF
start_idgated "$T/idgate.conf" || finish
check_eq "it serves" 200 "$(fetch w "http://127.0.0.1:$PORT/who")"
check_eq "the documented fields, in order" \
	"principal user uid gid groups euid egid impersonated level pool vdir delegated ccache request_id" \
	"$(json "$T/w.body" '" ".join(j.keys())')"
check_eq "what the kernel says of the handler" "$(id -u nobody) anonymous None" \
	"$(json "$T/w.body" '" ".join(str(x) for x in (j["euid"], j["level"], j["principal"]))')"
check_eq "the request id is the answer's" "$(header w X-Request-Id)" "$(json "$T/w.body" 'j["request_id"]')"
finish
