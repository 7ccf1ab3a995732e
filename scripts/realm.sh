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
#   realm_stop                    stop the KDC (by its PID)
#
# With REALM_PKINIT=1 before realm_create, the KDC gets a certificate from
# a throwaway CA (openssl) and anonymous PKINIT is enabled: the principal
# WELLKNOWN/ANONYMOUS exists and clients trust the CA.
#
# Nothing outside DIR is touched; the KDC listens on 127.0.0.1 only.

REALM_SBIN=/usr/sbin

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
	chmod 644 "$REALM_DIR/krb5.conf" "$REALM_DIR/kdc.conf"
	: >"$REALM_DIR/kadm5.acl"
	KRB5_CONFIG=$REALM_DIR/krb5.conf
	KRB5_KDC_PROFILE=$REALM_DIR/kdc.conf
	export KRB5_CONFIG KRB5_KDC_PROFILE
	"$REALM_SBIN/kdb5_util" -r "$REALM" create -s -P "master-$$-pw" >"$REALM_DIR/kdb5_util.log" 2>&1 ||
		{ cat "$REALM_DIR/kdb5_util.log"; return 1; }
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

realm_stop() {
	if [ -n "${REALM_KDC_PID:-}" ]; then
		kill "$REALM_KDC_PID" 2>/dev/null
		wait "$REALM_KDC_PID" 2>/dev/null
		REALM_KDC_PID=
	fi
}
