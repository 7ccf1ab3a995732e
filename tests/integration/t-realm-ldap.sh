#!/bin/sh
# Constrained delegation (S4U2Proxy) in a throwaway MIT realm whose
# database is a throwaway OpenLDAP server (scripts/realm.sh, REALM_LDAP=1),
# proved with MIT's own tools and library, no idgated involved:
#
# - the principals really live in LDAP (kldap), not in a DB2 file;
# - HTTP/localhost, holding alice's ticket to itself, asks the KDC for a
#   ticket to HTTP/backend in alice's name: refused while its entry has no
#   krbAllowedToDelegateTo, granted once it names HTTP/backend, and still
#   refused for a target the list does not name;
# - both kinds of evidence ticket: one obtained by protocol transition
#   (kvno -U alice -P: S4U2Self then S4U2Proxy), which must be forwardable
#   and so needs ok_to_auth_as_delegate once the service has a delegation
#   list, and one alice really sent (GSSAPI, as a gateway receives it),
#   forwardable because her TGT is, which needs no such flag;
# - the backend accepts the delegated ticket and sees alice.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/scripts/realm.sh"
need_root

START=$(date +%s)
REALM_LDAP=1 realm_create "$T/kdc" || finish
realm_addprinc alice pw-alice || finish
realm_addservice HTTP/localhost "$T/http.keytab" || finish
realm_addservice HTTP/backend "$T/backend.keytab" || finish
realm_addservice HTTP/other "$T/other.keytab" || finish
realm_kinit alice pw-alice "$T/alice.cc" || finish
SVC_CC=$T/svc.cc
KDC_LOG=$T/kdc/kdc.log
REFUSED="kvno: KDC can't fulfill requested option HTTP/backend@$REALM: constrained delegation failed"

# -- the database is the directory
check_eq "alice's entry is in LDAP" "dn: krbPrincipalName=alice@$REALM,cn=$REALM,$REALM_LDAP_CONTAINER" \
	"$(realm_ldap ldapsearch -LLL -o ldif-wrap=no -b "$REALM_LDAP_CONTAINER" \
		"(krbPrincipalName=alice@$REALM)" dn | grep '^dn:')"
check_eq "no DB2 database was created" "absent" \
	"$([ -e "$T/kdc/principal" ] && echo present || echo absent)"
if KRB5CCNAME=$T/alice.cc klist -s; then ok "alice's password works through the LDAP KDC"; else not_ok "alice has no TGT"; fi

# ticket NAME CCACHE SERVICE -- klist -f's continuation lines for the
# ticket to SERVICE in CCACHE (client, renew-until, flags), into $T/NAME.tkt
ticket() {
	KRB5CCNAME=$2 klist -f 2>/dev/null | awk -v s="$3" '
		/^[^ \t]/ { inblk = ($NF == s); next }
		inblk { printf "%s ", $0 }' >"$T/$1.tkt"
}
# tkt_client NAME / tkt_flags NAME -- the ticket's client ("" when it is the
# cache's own principal or there is no such ticket) and its flags
tkt_client() { sed -n 's/.*for client \([^,]*\),.*/\1/p' "$T/$1.tkt"; }
tkt_flags() { sed -n 's/.*Flags: \([A-Za-z]*\).*/\1/p' "$T/$1.tkt"; }

# s4u NAME FOR_USER TARGET -- as the service, in a fresh ccache: S4U2Self
# for FOR_USER, then S4U2Proxy to TARGET; kvno's exit status in $T/NAME.rc,
# its stderr in $T/NAME.err.  (kvno prints "TARGET: kvno = N" for the
# S4U2Self ticket before it tries S4U2Proxy: only the status says.)
s4u() {
	rm -f "$SVC_CC"
	KRB5CCNAME=$SVC_CC kinit -k -t "$T/http.keytab" "HTTP/localhost@$REALM" || not_ok "$1: kinit -k"
	: >"$KDC_LOG"
	KRB5CCNAME=$SVC_CC kvno -U "$2" -P "$3" >"$T/$1.out" 2>"$T/$1.err"
	echo $? >"$T/$1.rc"
	ticket "$1.self" "$SVC_CC" "HTTP/localhost@$REALM"
	ticket "$1.proxy" "$SVC_CC" "$3@$REALM"
}

# The other kind of evidence: alice's own AP-REQ to HTTP/localhost (GSSAPI,
# no delegation flag), accepted with credentials good for both directions
# (keytab and the service's ccache): MIT then hands back a credential that
# can only be used for S4U2Proxy.  Its context to TARGET is accepted with
# TARGET's keytab.  Prints "backend sees PRINCIPAL" or "refused: MINOR".
cat >"$T/s4u-gss.py" <<'EOF'
import sys
import gssapi

realm, svc_keytab, svc_cc, target, target_keytab = sys.argv[1:6]
KRB5 = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")


def name(s):
    return gssapi.Name(s + "@" + realm, gssapi.NameType.kerberos_principal)


alice = gssapi.SecurityContext(name=name("HTTP/localhost"), usage="initiate", mech=KRB5)
token = alice.step()
svc = gssapi.Credentials(name=name("HTTP/localhost"), usage="both",
                         store={"keytab": svc_keytab, "ccache": svc_cc})
accepted = gssapi.SecurityContext(creds=svc, usage="accept")
accepted.step(token)
if accepted.delegated_creds is None:
    print("no S4U2Proxy credential")
    sys.exit(1)
try:
    onward = gssapi.SecurityContext(name=name(target), creds=accepted.delegated_creds,
                                    usage="initiate", mech=KRB5)
    token = onward.step()
except gssapi.exceptions.GSSError as e:
    print("refused: " + e.gen_message().split("Minor (", 1)[-1].split("): ", 1)[-1])
    sys.exit(1)
backend = gssapi.SecurityContext(usage="accept", creds=gssapi.Credentials(
    usage="accept", store={"keytab": target_keytab}))
backend.step(token)
print("backend sees %s" % backend.initiator_name)
EOF
# s4u_gss TARGET TARGET_KEYTAB
s4u_gss() {
	rm -f "$SVC_CC"
	KRB5CCNAME=$SVC_CC kinit -k -t "$T/http.keytab" "HTTP/localhost@$REALM" || not_ok "gss: kinit -k"
	: >"$KDC_LOG"
	KRB5CCNAME=$T/alice.cc $PY "$T/s4u-gss.py" "$REALM" "$T/http.keytab" "$SVC_CC" "$1" "$2" 2>&1
}

# -- no krbAllowedToDelegateTo: every S4U2Proxy request is refused
check_eq "real evidence, no delegation list: refused" \
	"refused: KDC can't fulfill requested option" \
	"$(s4u_gss HTTP/backend "$T/backend.keytab")"
realm_allow_protocol_transition HTTP/localhost || finish
s4u nolist alice HTTP/backend
check_eq "S4U2Self works without a list" "alice@$REALM" "$(tkt_client nolist.self)"
check_eq "no delegation list: kvno fails" 1 "$(cat "$T/nolist.rc")"
check_eq "no delegation list: the KDC's refusal" "$REFUSED" "$(cat "$T/nolist.err")"
check_eq "no delegation list: no ticket to HTTP/backend" "" "$(cat "$T/nolist.proxy.tkt")"
check_grep "no delegation list: the KDC says why" \
	"UNSUPPORTED_S4U2PROXY_REQUEST: .* HTTP/localhost@$REALM for HTTP/backend@$REALM, KDC can't fulfill requested option" \
	"$KDC_LOG"

# -- HTTP/localhost may delegate to HTTP/backend
realm_allow_delegation HTTP/localhost HTTP/backend || finish
check_eq "the list is on the service's entry" "krbAllowedToDelegateTo: HTTP/backend@$REALM" \
	"$(realm_ldap ldapsearch -LLL -o ldif-wrap=no -b "$REALM_LDAP_CONTAINER" \
		"(krbPrincipalName=HTTP/localhost@$REALM)" krbAllowedToDelegateTo | grep '^krbAllowedToDelegateTo:')"
s4u allowed alice HTTP/backend
check_eq "S4U2Self then S4U2Proxy: kvno succeeds" 0 "$(cat "$T/allowed.rc")"
check_eq "S4U2Self then S4U2Proxy: no error" "" "$(cat "$T/allowed.err")"
check_eq "the evidence ticket is forwardable (ok_to_auth_as_delegate)" FRT "$(tkt_flags allowed.self)"
check_eq "the ticket to HTTP/backend is alice's" "alice@$REALM" "$(tkt_client allowed.proxy)"
check_grep "the KDC logs constrained delegation for alice" \
	"CONSTRAINED-DELEGATION s4u-client=alice@$REALM" "$KDC_LOG"

# -- without ok_to_auth_as_delegate, a service that has a delegation list
# gets non-forwardable S4U2Self tickets ([MS-SFU] 3.2.5.1.2): protocol
# transition no longer leads to delegation
realm_admin "modprinc -ok_to_auth_as_delegate HTTP/localhost@$REALM" || finish
s4u noflag alice HTTP/backend
check_eq "no ok_to_auth_as_delegate: kvno fails" 1 "$(cat "$T/noflag.rc")"
check_eq "no ok_to_auth_as_delegate: the KDC's refusal" "$REFUSED" "$(cat "$T/noflag.err")"
check_eq "no ok_to_auth_as_delegate: the evidence is not forwardable" RT "$(tkt_flags noflag.self)"
check_grep "no ok_to_auth_as_delegate: the KDC says why" \
	"EVIDENCE_TKT_NOT_FORWARDABLE: .* HTTP/localhost@$REALM for HTTP/backend@$REALM" "$KDC_LOG"

# -- ...but a ticket alice really sent is evidence enough
check_eq "real evidence, no ok_to_auth_as_delegate: the backend sees alice" \
	"backend sees alice@$REALM" "$(s4u_gss HTTP/backend "$T/backend.keytab")"
check_no_grep "real evidence: no protocol transition" "PROTOCOL-TRANSITION" "$KDC_LOG"
check_grep "real evidence: constrained delegation for alice" \
	"CONSTRAINED-DELEGATION s4u-client=alice@$REALM" "$KDC_LOG"

# -- only to the targets on the list
check_eq "a target not on the list: refused" \
	"refused: KDC can't fulfill requested option" \
	"$(s4u_gss HTTP/other "$T/other.keytab")"

pids="$REALM_KDC_PID $REALM_SLAPD_PID"
realm_stop
check_eq "realm_stop stops the KDC and slapd" "" "$(ps -o pid= -p "$pids" 2>/dev/null)"
ELAPSED=$(($(date +%s) - START))
if [ "$ELAPSED" -lt 30 ]; then ok "done in ${ELAPSED}s"; else not_ok "took ${ELAPSED}s"; fi
finish
