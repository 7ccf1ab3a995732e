# scripts/realm.sh -- a throwaway MIT Kerberos realm in a directory.
# Sourced by the integration tests, scripts/demo and bench/ (POSIX sh).
#
#   realm_create DIR [REALM]      KDC database, config, krb5kdc on a free
#                                 loopback port; exports KRB5_CONFIG and
#                                 KRB5_KDC_PROFILE for everything after it
#   realm_addprinc NAME PASSWORD  a user principal
#   realm_addservice PRINC KEYTAB a service principal with a random key,
#                                 written to KEYTAB
#   realm_kinit PRINC PASSWORD CCACHE [kinit options...]
#   realm_kinit_anonymous CCACHE  an anonymous ticket (kinit -n)
#   realm_stop                    stop the KDC (and slapd) by their PIDs
#   realm_allow_protocol_transition SERVICE
#                                 +ok_to_auth_as_delegate: SERVICE may ask
#                                 for forwardable S4U2Self tickets
#   realm_allow_delegation SERVICE TARGET        (REALM_LDAP=1 only)
#                                 constrained delegation: SERVICE may use
#                                 S4U2Proxy to get tickets to TARGET
#
# With REALM_PKINIT=1 before realm_create, the KDC gets a certificate from
# a throwaway CA (openssl) and anonymous PKINIT is enabled: the principal
# WELLKNOWN/ANONYMOUS exists and clients trust the CA.
#
# With REALM_LDAP=1 before realm_create, the database is not DB2 but a
# throwaway OpenLDAP server (slapd on its own cn=config directory in
# DIR/slapd.d, an mdb database in DIR/ldap, a free port on 127.0.0.1) read
# through MIT's kldap module -- the only MIT backend that can say which
# services may delegate to which (krbAllowedToDelegateTo, S4U2Proxy); DB2
# refuses every S4U2Proxy request that is not resource-based.  Needs the
# packages slapd, ldap-utils and krb5-kdc-ldap (scripts/deps).  Setting it
# up takes 0.3-0.5 s where DB2 takes 0.1 s (measured on a busy test VM:
# slapadd, slapd start-up, kdb5_ldap_util create and stashsrvpw), stopping
# slapd 10-20 ms; kadmin.local and the helpers above work as they do with
# DB2.  A system slapd, if the package started one, is neither used
# nor touched: ours has its own configuration, database, port and PID, and
# the LDAP tools are run with LDAPNOINIT so that /etc/ldap/ldap.conf and
# ~/.ldaprc cannot point them elsewhere.
#
# Nothing outside DIR is touched; the KDC and slapd listen on 127.0.0.1.

REALM_SBIN=/usr/sbin
# The Kerberos schema in OpenLDAP's cn=config form, as krb5-kdc-ldap ships
# it (only as documentation, gzipped); core, cosine and nis from slapd.
REALM_LDAP_SCHEMA=/usr/share/doc/krb5-kdc-ldap/kerberos.openldap.ldif.gz
REALM_LDAP_SCHEMA_DIR=/etc/ldap/schema
REALM_LDAP_SUFFIX=dc=idgate,dc=test
REALM_LDAP_ADMIN=cn=admin,$REALM_LDAP_SUFFIX
REALM_LDAP_CONTAINER=cn=krbContainer,$REALM_LDAP_SUFFIX

realm_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The KDC's certificate for PKINIT: extended key usage id-pkinit-KPKdc and
# the KDC's principal, krbtgt/REALM@REALM, as an id-pkinit-san otherName.
realm_pkinit_certs() {
	d=$REALM_DIR
	cat >"$d/pkinit.ext" <<EOF
[kdc_cert]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment, keyAgreement
extendedKeyUsage = 1.3.6.1.5.2.3.5
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = otherName:1.3.6.1.5.2.2;SEQUENCE:kdc_princ
[kdc_princ]
realm = EXP:0, GeneralString:$REALM
principal_name = EXP:1, SEQUENCE:kdc_pname
[kdc_pname]
name_type = EXP:0, INTEGER:2
name_string = EXP:1, SEQUENCE:kdc_names
[kdc_names]
n1 = GeneralString:krbtgt
n2 = GeneralString:$REALM
EOF
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
		-subj "/CN=idgate throwaway CA" >"$d/openssl.log" 2>&1 &&
		openssl req -newkey rsa:2048 -nodes -keyout "$d/kdc.key" -out "$d/kdc.csr" \
			-subj "/CN=kdc" >>"$d/openssl.log" 2>&1 &&
		openssl x509 -req -in "$d/kdc.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -out "$d/kdc.crt" -days 2 -extfile "$d/pkinit.ext" \
			-extensions kdc_cert >>"$d/openssl.log" 2>&1 ||
		{ cat "$d/openssl.log"; return 1; }
	chmod 644 "$d/ca.crt"
	REALM_PKINIT_KDC="pkinit_identity = FILE:$d/kdc.crt,$d/kdc.key
		pkinit_anchors = FILE:$d/ca.crt"
	REALM_PKINIT_CLIENT="pkinit_anchors = FILE:$d/ca.crt"
}

# The LDAP tools, talking to our slapd as its administrator (the rootdn,
# which no ACL restricts).  LDAPNOINIT: no ldap.conf, no ~/.ldaprc, no
# LDAP* variables -- only what is on the command line.
realm_ldap() {
	tool=$1
	shift
	LDAPNOINIT=1 "$tool" -x -H "$REALM_LDAP_URI" -D "$REALM_LDAP_ADMIN" \
		-w "$REALM_LDAP_PW" "$@"
}

# realm_slapd_config DIR [LDIF...] -- the start of a cn=config LDIF for a
# throwaway slapd (realm_ldap_start; t-scale's accounts): its pid and args
# files in DIR, back_mdb, the core, cosine and nis schemas and the schema
# files named, a cn=config that nobody can reach; the database's entry,
# {1}mdb, follows.
realm_slapd_config() {
	cat <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $1/slapd.pid
olcArgsFile: $1/slapd.args

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$REALM_LDAP_SCHEMA_DIR/core.ldif

include: file://$REALM_LDAP_SCHEMA_DIR/cosine.ldif

include: file://$REALM_LDAP_SCHEMA_DIR/nis.ldif

EOF
	shift
	for f in "$@"; do printf 'include: file://%s\n\n' "$f"; done
	cat <<EOF
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: to * by * none

EOF
}

# slapd for realm_create with REALM_LDAP=1: cn=config and the base entries
# are written offline with slapadd (faster and simpler than ldapadd to a
# running server), then slapd runs in the foreground (-d 0: no debug
# output, no fork) so that $! is its PID.  Sets REALM_LDAP_URI and the
# [dbmodules] text for kdc.conf.
realm_ldap_start() {
	d=$REALM_DIR
	for f in "$REALM_LDAP_SCHEMA" "$REALM_SBIN/slapd" "$REALM_SBIN/kdb5_ldap_util" /usr/bin/ldapmodify; do
		if [ ! -e "$f" ]; then
			echo "realm: $f is missing (slapd, ldap-utils, krb5-kdc-ldap: scripts/deps)"
			return 1
		fi
	done
	# (the KDC's port is free but not yet taken: don't pick it again)
	REALM_LDAP_PORT=$REALM_PORT
	while [ "$REALM_LDAP_PORT" = "$REALM_PORT" ]; do
		REALM_LDAP_PORT=$(realm_free_port)
	done
	REALM_LDAP_URI=ldap://127.0.0.1:$REALM_LDAP_PORT
	REALM_LDAP_PW=ldap-admin-$$-pw
	# The KDC and kadmin.local bind as their own entries (simple bind with
	# the password stashed by kdb5_ldap_util), like a real deployment; both
	# need write access: the KDC records lockout and last-success data.
	kdc_dn=cn=kdc,$REALM_LDAP_SUFFIX
	kadmind_dn=cn=kadmind,$REALM_LDAP_SUFFIX
	kdc_pw=ldap-kdc-$$-pw
	kadmind_pw=ldap-kadmind-$$-pw
	rm -rf "$d/slapd.d" "$d/ldap"
	mkdir -p "$d/slapd.d" "$d/ldap"
	gzip -dc "$REALM_LDAP_SCHEMA" >"$d/kerberos.ldif" || return 1
	# olcAccess: anybody may authenticate against a userPassword and nobody
	# may read one; the KDC's and kadmind's entries may read and write all
	# the rest; anonymous clients see nothing.  cn=config is not reachable
	# over the network at all (no rootdn, no access).
	{
		realm_slapd_config "$d" "$d/kerberos.ldif"
		cat <<EOF
dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $REALM_LDAP_SUFFIX
olcRootDN: $REALM_LDAP_ADMIN
olcRootPW: $REALM_LDAP_PW
olcDbDirectory: $d/ldap
olcDbMaxSize: 67108864
olcDbIndex: objectClass eq
olcDbIndex: krbPrincipalName eq,pres,sub
olcAccess: to attrs=userPassword by anonymous auth by * none
olcAccess: to * by dn.exact="$kdc_dn" write by dn.exact="$kadmind_dn" write by * none
EOF
	} >"$d/slapd-config.ldif"
	cat >"$d/slapd-base.ldif" <<EOF
dn: $REALM_LDAP_SUFFIX
objectClass: dcObject
objectClass: organization
dc: idgate
o: idgate throwaway realm

dn: $kdc_dn
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: kdc
userPassword: $kdc_pw

dn: $kadmind_dn
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: kadmind
userPassword: $kadmind_pw
EOF
	{ "$REALM_SBIN/slapadd" -n0 -F "$d/slapd.d" -l "$d/slapd-config.ldif" &&
		"$REALM_SBIN/slapadd" -n1 -F "$d/slapd.d" -l "$d/slapd-base.ldif"; } >"$d/slapadd.log" 2>&1 ||
		{ cat "$d/slapadd.log"; return 1; }
	"$REALM_SBIN/slapd" -d 0 -h "$REALM_LDAP_URI/" -F "$d/slapd.d" >"$d/slapd.log" 2>&1 &
	REALM_SLAPD_PID=$!
	i=0
	until realm_ldap ldapsearch -b "$REALM_LDAP_SUFFIX" -s base -LLL dn >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$REALM_SLAPD_PID" 2>/dev/null; then
			echo "realm: slapd did not start"; cat "$d/slapd.log"; return 1
		fi
		sleep 0.05
	done
	# kdc.conf's [dbmodules] section for the realm (its default name).
	REALM_DBMODULES="[dbmodules]
	$REALM = {
		db_library = kldap
		ldap_servers = $REALM_LDAP_URI
		ldap_kerberos_container_dn = $REALM_LDAP_CONTAINER
		ldap_kdc_dn = $kdc_dn
		ldap_kadmind_dn = $kadmind_dn
		ldap_service_password_file = $d/ldap-service.pw
		ldap_conns_per_server = 2
	}"
}

# The realm in the directory (after kdc.conf exists): the container and
# realm entries, the master key (stashed in DIR/stash, like DB2's), and the
# KDC's and kadmind's LDAP passwords in the service password file.
# kdb5_ldap_util reads passwords from the terminal or, failing one, from
# stdin: each twice.
realm_ldap_create() {
	d=$REALM_DIR
	{ LDAPNOINIT=1 "$REALM_SBIN/kdb5_ldap_util" -D "$REALM_LDAP_ADMIN" -w "$REALM_LDAP_PW" \
		-H "$REALM_LDAP_URI" -r "$REALM" create -subtrees "$REALM_LDAP_SUFFIX" -sscope sub \
		-s -P "master-$$-pw" &&
		printf '%s\n%s\n' "$kdc_pw" "$kdc_pw" |
		LDAPNOINIT=1 "$REALM_SBIN/kdb5_ldap_util" stashsrvpw -f "$d/ldap-service.pw" "$kdc_dn" &&
		printf '%s\n%s\n' "$kadmind_pw" "$kadmind_pw" |
		LDAPNOINIT=1 "$REALM_SBIN/kdb5_ldap_util" stashsrvpw -f "$d/ldap-service.pw" "$kadmind_dn"
	} >"$d/kdb5_ldap_util.log" 2>&1 || { cat "$d/kdb5_ldap_util.log"; return 1; }
}

realm_create() {
	REALM_DIR=$1
	REALM=${2:-IDGATE.TEST}
	REALM_PORT=$(realm_free_port)
	mkdir -p "$REALM_DIR"
	chmod 755 "$REALM_DIR"
	REALM_PKINIT_KDC=
	REALM_PKINIT_CLIENT=
	if [ -n "${REALM_PKINIT:-}" ]; then
		realm_pkinit_certs || return 1
	fi
	REALM_DBMODULES=
	REALM_SLAPD_PID=
	if [ -n "${REALM_LDAP:-}" ]; then
		realm_ldap_start || return 1
	fi
	cat >"$REALM_DIR/krb5.conf" <<EOF
[libdefaults]
	default_realm = $REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	forwardable = true
	udp_preference_limit = 1
	default_ccache_name = FILE:$REALM_DIR/ccache-%{uid}
	clockskew = ${REALM_CLOCKSKEW:-300}
[realms]
	$REALM = {
		kdc = 127.0.0.1:$REALM_PORT
		$REALM_PKINIT_CLIENT
	}
[domain_realm]
	localhost = $REALM
	.localhost = $REALM
EOF
	cat >"$REALM_DIR/kdc.conf" <<EOF
[kdcdefaults]
	kdc_ports = $REALM_PORT
	kdc_tcp_ports = $REALM_PORT
	kdc_listen = 127.0.0.1:$REALM_PORT
	kdc_tcp_listen = 127.0.0.1:$REALM_PORT
[realms]
	$REALM = {
		database_name = $REALM_DIR/principal
		key_stash_file = $REALM_DIR/stash
		acl_file = $REALM_DIR/kadm5.acl
		max_life = 10h
		max_renewable_life = 1d
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
		$REALM_PKINIT_KDC
	}
[logging]
	kdc = FILE:$REALM_DIR/kdc.log
EOF
	if [ -n "$REALM_DBMODULES" ]; then
		printf '%s\n' "$REALM_DBMODULES" >>"$REALM_DIR/kdc.conf"
	fi
	chmod 644 "$REALM_DIR/krb5.conf" "$REALM_DIR/kdc.conf"
	: >"$REALM_DIR/kadm5.acl"
	KRB5_CONFIG=$REALM_DIR/krb5.conf
	KRB5_KDC_PROFILE=$REALM_DIR/kdc.conf
	export KRB5_CONFIG KRB5_KDC_PROFILE
	if [ -n "${REALM_LDAP:-}" ]; then
		realm_ldap_create || return 1
	else
		"$REALM_SBIN/kdb5_util" -r "$REALM" create -s -P "master-$$-pw" >"$REALM_DIR/kdb5_util.log" 2>&1 ||
			{ cat "$REALM_DIR/kdb5_util.log"; return 1; }
	fi
	if [ -n "${REALM_PKINIT:-}" ]; then
		realm_admin "addprinc -randkey WELLKNOWN/ANONYMOUS@$REALM" ||
			{ cat "$REALM_DIR/kadmin.log"; return 1; }
	fi
	"$REALM_SBIN/krb5kdc" -n -P "$REALM_DIR/kdc.pid" >>"$REALM_DIR/kdc.log" 2>&1 &
	REALM_KDC_PID=$!
	i=0
	until /usr/bin/python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$REALM_PORT" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$REALM_KDC_PID" 2>/dev/null; then
			echo "realm: krb5kdc did not start"; cat "$REALM_DIR/kdc.log"; return 1
		fi
		sleep 0.05
	done
}

realm_admin() {
	"$REALM_SBIN/kadmin.local" -r "$REALM" -q "$1" >>"$REALM_DIR/kadmin.log" 2>&1
}

realm_addprinc() {
	realm_admin "addprinc -pw $2 $1@$REALM" || { cat "$REALM_DIR/kadmin.log"; return 1; }
}

realm_addservice() {
	realm_admin "addprinc -randkey $1@$REALM" &&
		realm_admin "ktadd -k $2 $1@$REALM" || { cat "$REALM_DIR/kadmin.log"; return 1; }
}

realm_kinit() {
	princ=$1
	pw=$2
	cc=$3
	shift 3
	echo "$pw" | KRB5CCNAME="$cc" kinit "$@" "$princ@$REALM" >/dev/null
}

realm_kinit_anonymous() {
	KRB5CCNAME="$1" kinit -n "@$REALM" >"$REALM_DIR/kinit-anonymous.log" 2>&1 ||
		{ cat "$REALM_DIR/kinit-anonymous.log"; return 1; }
}

# realm_allow_protocol_transition SERVICE -- S4U2Self tickets SERVICE asks
# for are forwardable, so they can be S4U2Proxy evidence (MIT's
# ok_to_auth_as_delegate; not needed when the evidence is a ticket the
# user really sent, which is forwardable when her TGT is).
realm_allow_protocol_transition() {
	realm_admin "modprinc +ok_to_auth_as_delegate $1@$REALM" ||
		{ cat "$REALM_DIR/kadmin.log"; return 1; }
}

# realm_allow_delegation SERVICE TARGET -- with REALM_LDAP=1: SERVICE may
# get tickets to TARGET in a user's name with S4U2Proxy (one more value of
# krbAllowedToDelegateTo on SERVICE's entry; kadmin has no command for it).
# The entry is found by its principal name, not built from kldap's naming.
# With MIT's tools, as SERVICE (kinit -k): `kvno -U user -P TARGET` (S4U2Self
# then S4U2Proxy; also needs realm_allow_protocol_transition SERVICE);
# without the attribute the KDC answers "KDC can't fulfill requested
# option" (tests/integration/t-realm-ldap.sh).
realm_allow_delegation() {
	if [ -z "${REALM_SLAPD_PID:-}" ]; then
		echo "realm_allow_delegation: needs REALM_LDAP=1 (DB2 has no delegation lists)"
		return 1
	fi
	# -o ldif-wrap=no: a long DN would otherwise be folded over two lines
	dn=$(realm_ldap ldapsearch -LLL -o ldif-wrap=no -b "$REALM_LDAP_CONTAINER" \
		"(krbPrincipalName=$1@$REALM)" dn | sed -n 's/^dn: //p')
	if [ -z "$dn" ]; then
		echo "realm_allow_delegation: no LDAP entry for $1@$REALM"
		return 1
	fi
	printf 'dn: %s\nchangetype: modify\nadd: krbAllowedToDelegateTo\nkrbAllowedToDelegateTo: %s\n' \
		"$dn" "$2@$REALM" | realm_ldap ldapmodify >>"$REALM_DIR/ldapmodify.log" 2>&1 ||
		{ cat "$REALM_DIR/ldapmodify.log"; return 1; }
}

realm_stop() {
	if [ -n "${REALM_KDC_PID:-}" ]; then
		kill "$REALM_KDC_PID" 2>/dev/null
		wait "$REALM_KDC_PID" 2>/dev/null
		REALM_KDC_PID=
	fi
	if [ -n "${REALM_SLAPD_PID:-}" ]; then
		kill "$REALM_SLAPD_PID" 2>/dev/null
		wait "$REALM_SLAPD_PID" 2>/dev/null
		REALM_SLAPD_PID=
	fi
}
