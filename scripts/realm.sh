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
#   realm_stop                    stop the KDC (by its PID)
#
# Nothing outside DIR is touched; the KDC listens on 127.0.0.1 only.

REALM_SBIN=/usr/sbin

realm_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

realm_create() {
	REALM_DIR=$1
	REALM=${2:-IDGATE.TEST}
	REALM_PORT=$(realm_free_port)
	mkdir -p "$REALM_DIR"
	chmod 755 "$REALM_DIR"
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

realm_stop() {
	if [ -n "${REALM_KDC_PID:-}" ]; then
		kill "$REALM_KDC_PID" 2>/dev/null
		wait "$REALM_KDC_PID" 2>/dev/null
		REALM_KDC_PID=
	fi
}
