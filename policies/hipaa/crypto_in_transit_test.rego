# Tests for crypto.in-transit: the floor on both families, each service, DH parameters and sshd algorithms.
package phipolicy.hipaa.crypto_in_transit_test

import data.phipolicy.testing

cnf := "/etc/ssl/openssl.cnf"

sshd_config := "/etc/ssh/sshd_config"

at(value, path, line) := {"value": value, "path": path, "line": line}

debian_openssl := {
	"path": cnf, "found": true, "files": [cnf], "unreadable": [], "issues": [],
	"system_default": {
		"openssl_conf": at("openssl_init", cnf, 17), "ssl_conf": null, "system_default": null,
		"min_protocol": null, "max_protocol": null, "cipher_string": null, "missing_section": null,
	},
}

# An Ubuntu-style chain down to a system_default section with the given MinProtocol.
chain(min) := object.union(debian_openssl, {"system_default": {
	"openssl_conf": at("openssl_init", cnf, 17), "ssl_conf": at("ssl_sect", cnf, 55),
	"system_default": at("system_default_sect", cnf, 395), "min_protocol": at(min, cnf, 398),
	"max_protocol": null, "cipher_string": at("DEFAULT:@SECLEVEL=2", cnf, 399), "missing_section": null,
}})

no_policy := {"path": "/etc/crypto-policies/config", "found": false, "error": null, "policy": null}

policy(value, base, subs) := {"path": "/etc/crypto-policies/config", "found": true, "error": null, "policy": {
	"value": value, "base": base, "subpolicies": subs, "path": "/etc/crypto-policies/config", "line": 2,
}}

nginx_absent := {
	"installed": false, "binary": null, "tls_servers": [], "ssl_protocols": [],
	"config": {"path": "/etc/nginx/nginx.conf", "found": false, "files": [], "unreadable": [], "issues": []},
}

apache_absent := {
	"installed": false,
	"binary": null,
	"config": null,
	"ssl_module": null,
	"ssl_engine_on": [],
	"ssl_protocols": [],
}

postfix_absent := {
	"installed": false,
	"binary": null,
	"main_cf": {"path": "/etc/postfix/main.cf", "found": false, "error": null, "issues": []},
	"settings": {},
}

algo_default(effective) := {"configured": null, "path": sshd_config, "line": 0, "effective": effective}

default_ciphers := ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-gcm@openssh.com"]

default_macs := ["hmac-sha2-256-etm@openssh.com", "hmac-sha1-etm@openssh.com", "hmac-sha1"]

default_kex := ["curve25519-sha256", "diffie-hellman-group14-sha256"]

sshd_default := {
	"installed": true, "binary": "/usr/sbin/sshd", "config_found": true, "files": [sshd_config],
	"unreadable": [], "issues": [],
	"algorithms": {
		"ciphers": algo_default(default_ciphers),
		"macs": algo_default(default_macs),
		"kexalgorithms": algo_default(default_kex),
	},
}

base_facts := {
	"os": null, "openssl": debian_openssl, "crypto_policy": no_policy, "nginx": nginx_absent,
	"apache": apache_absent, "postfix": postfix_absent, "dh_params": [], "sshd": sshd_default,
}

debian12 := {"id": "debian", "version_id": "12", "family": "debian"}

rocky9 := {"id": "rocky", "version_id": "9.3", "family": "rhel"}

rocky8 := {"id": "rocky", "version_id": "8.9", "family": "rhel"}

default_params := {"tls_min_version": "1.2", "dh_min_bits": 2048}

run_with(extra, os, params) := r if {
	r := data.phipolicy.hipaa.crypto_in_transit.result with input as {
		"facts": object.union(base_facts, extra),
		"params": params,
		"target": {"kind": "rootfs", "root": "/scan", "os": os},
	}
}

run(extra) := run_with(extra, debian12, default_params)

run_rhel(extra, os) := run_with(
	object.union({"openssl": object.union(debian_openssl, {"found": false})}, extra),
	os,
	default_params
)

test_metadata if {
	m := data.phipolicy.hipaa.crypto_in_transit.metadata
	m.id == "crypto.in-transit"
	m.parameters == ["tls_min_version", "dh_min_bits"]
	contains(m.description, "LEGACY")
	m.remediation != ""
}

# --- the Debian floor

test_debian_default_passes_and_names_the_default if {
	r := run({})
	r.status == "pass"
	testing.any_reason(r, "distribution default")
	testing.any_reason(r, "Debian 12")
	testing.any_reason(
		r,
		"(openssl_conf = openssl_init at /etc/ssl/openssl.cnf:17; no ssl_conf/system_default section is reached)"
	)
	testing.any_reason(r, "not installed, so not applicable to this check: Apache httpd, Postfix, nginx")
	testing.any_reason(r, "Ciphers not set (OpenSSH's default)")
	testing.any_evidence(r, "openssl_conf = openssl_init")
}

test_ubuntu_2204_default_passes if {
	r := run_with({}, {"id": "ubuntu", "version_id": "22.04", "family": "debian"}, default_params)
	r.status == "pass"
	testing.any_reason(r, "Ubuntu 22.04")
}

test_ubuntu_2004_default_is_not_known if {
	r := run_with({}, {"id": "ubuntu", "version_id": "20.04", "family": "debian"}, default_params)
	r.status == "fail"
	testing.any_reason(r, "not known to be TLS 1.2")
}

test_default_below_a_tls13_requirement_fails if {
	r := run_with({}, debian12, {"tls_min_version": "1.3", "dh_min_bits": 2048})
	r.status == "fail"
	testing.any_reason(r, "below tls_min_version 1.3")
}

test_min_protocol_tlsv1_fails if {
	r := run({"openssl": chain("TLSv1")})
	r.status == "fail"
	testing.any_reason(r, "MinProtocol TLSv1 (/etc/ssl/openssl.cnf:398)")
	contains(r.remediation, "MinProtocol = TLSv1.2")
}

test_min_protocol_tlsv12_passes if {
	r := run({"openssl": chain("TLSv1.2")})
	r.status == "pass"
	testing.any_reason(r, "the system TLS floor is TLSv1.2")
	testing.any_evidence(r, "min_protocol = TLSv1.2")
}

test_unknown_min_protocol_fails if {
	r := run({"openssl": chain("TLS1.2")})
	r.status == "fail"
	testing.any_reason(r, "not a protocol version OpenSSL knows")
}

test_system_default_without_min_protocol_uses_default if {
	c := chain("TLSv1.2")
	r := run({"openssl": object.union(c, {"system_default": object.union(c.system_default, {"min_protocol": null})})})
	r.status == "pass"
	testing.any_reason(r, "system_default = system_default_sect at /etc/ssl/openssl.cnf:395 sets no MinProtocol")
}

test_missing_openssl_cnf_uses_default if {
	r := run({"openssl": object.union(debian_openssl, {"found": false, "system_default": {"openssl_conf": null}})})
	r.status == "pass"
	testing.any_reason(r, "OpenSSL uses its built-in defaults")
}

test_seclevel_zero_fails if {
	c := chain("TLSv1.2")
	sd := object.union(c.system_default, {"min_protocol": null, "cipher_string": at("DEFAULT:@SECLEVEL=0", cnf, 399)})
	r := run({"openssl": object.union(c, {"system_default": sd})})
	r.status == "fail"
	testing.any_reason(r, "@SECLEVEL=0")
}

test_missing_section_fails if {
	sd := object.union(debian_openssl.system_default, {"missing_section": "nowhere"})
	r := run({"openssl": object.union(debian_openssl, {"system_default": sd})})
	r.status == "fail"
	testing.any_reason(r, "names section [nowhere]")
}

test_unreadable_openssl_cnf_is_error if {
	r := run({"openssl": object.union(debian_openssl, {"unreadable": [{"path": cnf, "error": "permission denied"}]})})
	r.status == "error"
	testing.any_reason(r, "could not be read (permission denied)")
}

# --- the RHEL floor

test_rocky9_default_passes if {
	r := run_rhel({"crypto_policy": policy("DEFAULT", "DEFAULT", [])}, rocky9)
	r.status == "pass"
	testing.any_reason(r, "DEFAULT allows TLS 1.2 and later")
}

test_subpolicy_keeps_floor if {
	r := run_rhel({"crypto_policy": policy("DEFAULT:SHA1", "DEFAULT", ["SHA1"])}, rocky9)
	r.status == "pass"
	testing.any_reason(r, "subpolicies SHA1 keep the base policy's protocol floor")
}

test_rocky8_legacy_fails if {
	r := run_rhel({"crypto_policy": policy("LEGACY", "LEGACY", [])}, rocky8)
	r.status == "fail"
	testing.any_reason(r, "LEGACY enables TLS 1.0 and 1.1")
	contains(r.remediation, "update-crypto-policies --set DEFAULT")
}

test_rocky9_legacy_passes if {
	r := run_rhel({"crypto_policy": policy("LEGACY", "LEGACY", [])}, rocky9)
	r.status == "pass"
	testing.any_reason(r, "LEGACY enables TLS 1.2 and 1.3 only")
}

test_future_and_fips_pass if {
	run_rhel({"crypto_policy": policy("FUTURE", "FUTURE", [])}, rocky8).status == "pass"
	run_rhel({"crypto_policy": policy("FIPS", "FIPS", [])}, rocky9).status == "pass"
}

test_custom_policy_fails if {
	r := run_rhel({"crypto_policy": policy("MYORG", "MYORG", [])}, rocky9)
	r.status == "fail"
	testing.any_reason(r, "custom policy")
}

test_custom_subpolicy_fails if {
	r := run_rhel({"crypto_policy": policy("DEFAULT:MYMOD", "DEFAULT", ["MYMOD"])}, rocky9)
	r.status == "fail"
	testing.any_reason(r, "not shipped with crypto-policies")
}

test_missing_crypto_policy_config_fails if {
	r := run_rhel({}, rocky9)
	r.status == "fail"
	testing.any_reason(r, "does not exist")
}

test_empty_crypto_policy_config_fails if {
	r := run_rhel({"crypto_policy": object.union(no_policy, {"found": true})}, rocky9)
	r.status == "fail"
	testing.any_reason(r, "sets no policy")
}

test_unreadable_crypto_policy_is_error if {
	r := run_rhel({"crypto_policy": object.union(no_policy, {"error": "permission denied"})}, rocky9)
	r.status == "error"
}

# --- nginx

nginx(protocols, servers) := object.union(nginx_absent, {
	"installed": true, "binary": "/usr/sbin/nginx", "ssl_protocols": protocols, "tls_servers": servers,
	"config": {
		"path": "/etc/nginx/nginx.conf",
		"found": true,
		"files": ["/etc/nginx/nginx.conf"],
		"unreadable": [],
		"issues": [],
	},
})

protocols(args, enabled, unknown, path, line, context) := {
	"args": args,
	"enabled": enabled,
	"unknown": unknown,
	"path": path,
	"line": line,
	"context": context,
}

tls_server := {
	"detail": "listen 443 ssl",
	"path": "/etc/nginx/sites-enabled/phi",
	"line": 3,
	"context": "http > server",
}

test_nginx_tlsv1_fails if {
	p := protocols(
		["TLSv1", "TLSv1.1", "TLSv1.2"],
		["TLSv1", "TLSv1.1", "TLSv1.2"],
		[],
		"/etc/nginx/nginx.conf",
		33,
		"http"
	)
	r := run({"nginx": nginx([p], [])})
	r.status == "fail"
	testing.any_reason(
		r,
		"nginx ssl_protocols TLSv1 TLSv1.1 TLSv1.2 (/etc/nginx/nginx.conf:33, in http) enables TLSv1, TLSv1.1"
	)
	contains(r.remediation, "ssl_protocols TLSv1.2 TLSv1.3;")
}

test_nginx_hardened_passes if {
	p := protocols(["TLSv1.2", "TLSv1.3"], ["TLSv1.2", "TLSv1.3"], [], "/etc/nginx/nginx.conf", 33, "http")
	r := run({"nginx": nginx([p], [tls_server])})
	r.status == "pass"
	testing.any_reason(r, "nginx: every ssl_protocols (/etc/nginx/nginx.conf:33)")
	testing.any_evidence(r, "nginx TLS server: listen 443 ssl")
}

test_nginx_unset_with_tls_server_fails if {
	r := run({"nginx": nginx([], [tls_server])})
	r.status == "fail"
	testing.any_reason(r, "no ssl_protocols is set")
}

test_nginx_without_tls_passes if {
	r := run({"nginx": nginx([], [])})
	r.status == "pass"
	testing.any_reason(r, "no server serves TLS")
}

test_nginx_unknown_protocol_fails if {
	p := protocols(["TLSv1.2", "TLS13"], ["TLSv1.2"], ["TLS13"], "/etc/nginx/nginx.conf", 33, "http")
	r := run({"nginx": nginx([p], [])})
	r.status == "fail"
	testing.any_reason(r, "values nginx does not know (TLS13)")
}

test_nginx_config_missing_is_error if {
	n := object.union(nginx([], []), {"config": object.union(nginx_absent.config, {"found": false})})
	r := run({"nginx": n})
	r.status == "error"
	testing.any_reason(r, "does not exist")
}

test_nginx_config_unreadable_is_error if {
	n := object.union(
		nginx([], []),
		{"config": object.union(
			nginx_absent.config,
			{"unreadable": [{"path": "/etc/nginx/conf.d/x.conf", "error": "permission denied"}]}
		)}
	)
	r := run({"nginx": n})
	r.status == "error"
}

# --- Apache

ssl_module := {
	"detail": "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so",
	"path": "/etc/apache2/mods-enabled/ssl.load",
	"line": 2,
	"context": "",
}

apache(module, protos) := {
	"installed": true, "binary": "/usr/sbin/apache2", "ssl_module": module, "ssl_engine_on": [],
	"ssl_protocols": protos,
	"config": {"path": "/etc/apache2/apache2.conf", "found": true, "files": [], "unreadable": [], "issues": []},
}

test_apache_sslv3_fails if {
	p := protocols(
		["+SSLv3", "+TLSv1.2"],
		["SSLv3", "TLSv1.2"],
		[],
		"/etc/apache2/sites-enabled/phi-ssl.conf",
		9,
		"IfModule mod_ssl.c > VirtualHost _default_:443"
	)
	r := run({"apache": apache(ssl_module, [p])})
	r.status == "fail"
	testing.any_reason(r, "Apache SSLProtocol +SSLv3 +TLSv1.2")
	testing.any_reason(r, "enables SSLv3")
	contains(r.remediation, "SSLProtocol -all +TLSv1.2 +TLSv1.3")
}

test_apache_hardened_passes if {
	p := protocols(
		["-all", "+TLSv1.2", "+TLSv1.3"],
		["TLSv1.2", "TLSv1.3"],
		[],
		"/etc/apache2/mods-enabled/ssl.conf",
		71,
		""
	)
	r := run({"apache": apache(ssl_module, [p])})
	r.status == "pass"
	testing.any_reason(r, "Apache: every SSLProtocol")
}

test_apache_unset_on_debian_fails if {
	r := run({"apache": apache(ssl_module, [])})
	r.status == "fail"
	testing.any_reason(r, "no SSLProtocol is set")
}

test_apache_unset_on_rocky_follows_policy if {
	a := object.union(apache(ssl_module, []), {"binary": "/usr/sbin/httpd"})
	r := run_rhel({"apache": a, "crypto_policy": policy("DEFAULT", "DEFAULT", [])}, rocky9)
	r.status == "pass"
	testing.any_reason(r, "follows the system crypto policy")
}

test_apache_without_mod_ssl_passes if {
	p := protocols(
		["all"],
		["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
		[],
		"/etc/apache2/apache2.conf",
		1,
		""
	)
	r := run({"apache": apache(null, [p])})
	r.status == "pass"
	testing.any_reason(r, "mod_ssl is not loaded")
}

test_apache_unknown_protocol_fails if {
	p := protocols(["+TLSv1.2", "+bogus"], ["TLSv1.2"], ["+bogus"], "/etc/apache2/mods-enabled/ssl.conf", 71, "")
	r := run({"apache": apache(ssl_module, [p])})
	r.status == "fail"
	testing.any_reason(r, "mod_ssl does not know (+bogus)")
}

test_apache_config_missing_is_error if {
	a := object.union(
		apache(ssl_module, []),
		{"config": {"path": "/etc/apache2/apache2.conf", "found": false, "files": [], "unreadable": [], "issues": []}}
	)
	r := run({"apache": a})
	r.status == "error"
}

test_apache_config_unreadable_is_error if {
	a := object.union(
		apache(ssl_module, []),
		{"config": {
			"path": "/etc/apache2/apache2.conf",
			"found": true,
			"files": [],
			"unreadable": [{"path": "/etc/apache2/ports.conf", "error": "permission denied"}],
			"issues": [],
		}}
	)
	r := run({"apache": a})
	r.status == "error"
}

# --- Postfix

main_cf := "/etc/postfix/main.cf"

postfix(settings) := {
	"installed": true, "binary": "/usr/sbin/postfix", "settings": settings,
	"main_cf": {"path": main_cf, "found": true, "error": null, "issues": []},
}

pf(value, enabled, line) := {"value": value, "path": main_cf, "line": line, "enabled": enabled, "unknown": []}

test_postfix_exclusion_syntax_fails if {
	weak := ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
	r := run({"postfix": postfix({
		"smtpd_tls_protocols": pf("!SSLv2, !SSLv3", weak, 40),
		"smtpd_tls_mandatory_protocols": pf("!SSLv2, !SSLv3", weak, 41),
	})})
	r.status == "fail"
	testing.any_reason(
		r,
		"Postfix smtpd_tls_protocols = !SSLv2, !SSLv3 (/etc/postfix/main.cf:40) enables TLSv1, TLSv1.1"
	)
	testing.any_reason(r, "smtpd_tls_mandatory_protocols = !SSLv2, !SSLv3")
	contains(r.remediation, "smtpd_tls_protocols = >=TLSv1.2")
}

test_postfix_min_syntax_passes if {
	ok := ["TLSv1.2", "TLSv1.3"]
	r := run({"postfix": postfix({
		"smtpd_tls_protocols": pf(">=TLSv1.2", ok, 40),
		"smtpd_tls_mandatory_protocols": pf(">=TLSv1.2", ok, 41),
	})})
	r.status == "pass"
	testing.any_reason(r, "Postfix: smtpd_tls_protocols = >=TLSv1.2")
	testing.any_evidence(r, "smtpd_tls_mandatory_protocols = >=TLSv1.2")
}

test_postfix_unset_fails_per_postconf_default if {
	r := run({"postfix": postfix({"smtpd_tls_protocols": pf(">=TLSv1.2", ["TLSv1.2", "TLSv1.3"], 40)})})
	r.status == "fail"
	testing.any_reason(r, "smtpd_tls_mandatory_protocols is not set")
	testing.any_reason(r, ">=TLSv1 since Postfix 3.6")
}

test_postfix_unknown_value_fails if {
	s := object.union(pf("TLSv2", [], 40), {"unknown": ["TLSv2"]})
	r := run({"postfix": postfix({
		"smtpd_tls_protocols": s,
		"smtpd_tls_mandatory_protocols": pf(">=TLSv1.2", ["TLSv1.2", "TLSv1.3"], 41),
	})})
	r.status == "fail"
	testing.any_reason(r, "values Postfix does not know (TLSv2)")
}

test_postfix_main_cf_unreadable_is_error if {
	p := object.union(
		postfix({}),
		{"main_cf": {"path": main_cf, "found": false, "error": "permission denied", "issues": []}}
	)
	r := run({"postfix": p})
	r.status == "error"
}

test_postfix_main_cf_missing_is_error if {
	p := object.union(postfix({}), {"main_cf": {"path": main_cf, "found": false, "error": null, "issues": []}})
	r := run({"postfix": p})
	r.status == "error"
}

# --- DH parameters

dh(path, bits, by) := {
	"path": path,
	"referenced_by": by,
	"exists": true,
	"error": null,
	"prime_bits": bits,
	"generator": 2,
}

ref := {"directive": "ssl_dhparam", "path": "/etc/nginx/sites-enabled/phi", "line": 9}

test_dh_1024_fails if {
	r := run({"dh_params": [dh("/etc/ssl/dhparam.pem", 1024, null)]})
	r.status == "fail"
	testing.any_reason(r, "/etc/ssl/dhparam.pem have a 1024-bit prime, fewer than dh_min_bits (2048)")
	contains(r.remediation, "openssl dhparam -out FILE 2048")
}

test_dh_2048_passes if {
	r := run({"dh_params": [dh("/etc/nginx/dhparam.pem", 2048, ref)]})
	r.status == "pass"
	testing.any_reason(r, "DH parameters /etc/nginx/dhparam.pem: 2048-bit prime")
	testing.any_evidence(r, "ssl_dhparam /etc/nginx/dhparam.pem")
	testing.any_evidence(r, "named by ssl_dhparam at /etc/nginx/sites-enabled/phi:9")
}

test_dh_referenced_missing_fails if {
	d := object.union(dh("/etc/nginx/dh.pem", null, ref), {"exists": false, "error": "does not exist"})
	r := run({"dh_params": [d]})
	r.status == "fail"
	testing.any_reason(r, "does not exist: the server fails to load it")
}

test_dh_garbage_fails if {
	bad := object.union(dh("/etc/ssl/dhparam.pem", null, null), {"error": "not DH parameters: no block"})
	r1 := run({"dh_params": [bad]})
	r1.status == "fail"
	testing.any_reason(r1, "not DH parameters")
	r2 := run({"dh_params": [object.union(bad, {"referenced_by": ref})]})
	r2.status == "fail"
	testing.any_reason(r2, "(named by ssl_dhparam at /etc/nginx/sites-enabled/phi:9) is not DH parameters")
}

test_dh_unreadable_is_error if {
	d := object.union(
		dh("/srv/dh.pem", null, ref),
		{"exists": false, "error": "not declared in the plugin manifest: /srv/dh.pem"}
	)
	r := run({"dh_params": [d]})
	r.status == "error"
	testing.any_reason(r, "not declared")
}

# --- sshd

configured(value, effective, line) := {
	"configured": value,
	"path": "/etc/ssh/sshd_config.d/50-legacy.conf",
	"line": line,
	"effective": effective,
}

with_algorithms(extra) := {"sshd": object.union(
	sshd_default,
	{"algorithms": object.union(sshd_default.algorithms, extra)}
)}

test_sshd_cbc_fails if {
	r := run(with_algorithms({"ciphers": configured("+aes256-cbc", array.concat(default_ciphers, ["aes256-cbc"]), 2)}))
	r.status == "fail"
	testing.any_reason(r, "sshd Ciphers +aes256-cbc (/etc/ssh/sshd_config.d/50-legacy.conf:2) allows aes256-cbc")
	testing.any_evidence(r, "Ciphers +aes256-cbc -> ")
	contains(r.remediation, "sshd -t")
}

test_sshd_mac_modifier_keeps_default_sha1 if {
	r := run(with_algorithms({"macs": configured("+hmac-sha2-512", array.concat(default_macs, ["hmac-sha2-512"]), 3)}))
	r.status == "fail"
	testing.any_reason(r, "allows hmac-sha1-etm@openssh.com, hmac-sha1")
}

test_sshd_md5_arcfour_group1_fail if {
	r := run(with_algorithms({
		"macs": configured("hmac-md5", ["hmac-md5"], 3),
		"ciphers": configured("arcfour256", ["arcfour256"], 2),
		"kexalgorithms": configured("diffie-hellman-group1-sha1", ["diffie-hellman-group1-sha1"], 4),
	}))
	r.status == "fail"
	testing.any_reason(r, "allows hmac-md5")
	testing.any_reason(r, "allows arcfour256")
	testing.any_reason(r, "allows diffie-hellman-group1-sha1")
}

test_sshd_strong_lists_pass if {
	r := run(with_algorithms({
		"macs": configured("-hmac-sha1*", ["hmac-sha2-256-etm@openssh.com"], 3),
		"ciphers": configured("aes256-gcm@openssh.com,aes256-ctr", ["aes256-gcm@openssh.com", "aes256-ctr"], 2),
	}))
	r.status == "pass"
	testing.any_reason(r, "MACs -hmac-sha1* (/etc/ssh/sshd_config.d/50-legacy.conf:3) has no weak algorithm")
}

test_sshd_unreadable_is_error if {
	r := run({"sshd": object.union(
		sshd_default,
		{"unreadable": [{"path": "/etc/ssh/sshd_config.d/x.conf", "error": "permission denied"}]}
	)})
	r.status == "error"
	contains(r.remediation, "readable")
}

test_sshd_not_installed_is_not_applicable if {
	r := run({"sshd": object.union(sshd_default, {"installed": false, "binary": null})})
	r.status == "pass"
	testing.any_reason(r, "not applicable to this check: Apache httpd, Postfix, nginx, sshd")
}

test_everything_failing_orders_remediation if {
	r := run({
		"openssl": chain("TLSv1"),
		"postfix": postfix({}),
		"dh_params": [dh("/etc/ssl/dhparam.pem", 1024, null)],
	})
	r.status == "fail"
	startswith(r.remediation, "Debian/Ubuntu")
	contains(r.remediation, "postconf -e")
}

# --- edges

test_unknown_family_with_crypto_policy_uses_it if {
	r := run_rhel(
		{"crypto_policy": policy("LEGACY", "LEGACY", [])},
		{"id": "almalinux-like", "version_id": "", "family": "unknown"}
	)
	r.status == "fail"
	testing.any_reason(r, "the release is unknown")
}

test_malformed_crypto_policy_facts_fail_closed if {
	r := run_rhel({"crypto_policy": {"found": true, "policy": "garbage"}}, rocky9)
	r.status == "fail"
	testing.any_reason(r, "could not be determined")
}

test_parse_issues_are_evidence if {
	o := object.union(debian_openssl, {"issues": [{"path": cnf, "line": 9, "message": "section header without `]`"}]})
	n := object.union(
		nginx([protocols(["TLSv1.2"], ["TLSv1.2"], [], "/etc/nginx/nginx.conf", 3, "")], []),
		{"config": object.union(
			nginx_absent.config,
			{"found": true, "issues": [{"path": "/etc/nginx/nginx.conf", "line": 4, "message": "unexpected `}`"}]}
		)}
	)
	r := run({"openssl": o, "nginx": n})
	r.status == "pass"
	testing.any_evidence(r, "section header without")
	testing.any_evidence(r, "unexpected `}`")
}

test_nginx_main_context_named if {
	r := run({"nginx": nginx([protocols(["TLSv1"], ["TLSv1"], [], "/etc/nginx/nginx.conf", 3, "")], [])})
	testing.any_reason(r, "(/etc/nginx/nginx.conf:3, main context)")
}

backend := "/etc/crypto-policies/back-ends/opensshserver.config"

rhel9_default_macs := ["hmac-sha2-256-etm@openssh.com", "hmac-sha1-etm@openssh.com", "hmac-sha2-256", "hmac-sha1"]

sshd_from_policy(macs) := object.union(sshd_default, {"algorithms": {
	"ciphers": algo_default(default_ciphers),
	"macs": {
		"configured": concat(",", macs),
		"path": backend,
		"line": 2,
		"effective": macs,
		"crypto_policy_backend": true,
	},
	"kexalgorithms": algo_default(default_kex),
}})

test_rhel9_default_policy_offers_hmac_sha1_and_the_fix_is_a_subpolicy if {
	r := run_rhel(
		{"crypto_policy": policy("DEFAULT", "DEFAULT", []), "sshd": sshd_from_policy(rhel9_default_macs)},
		rocky9
	)
	r.status == "fail"
	testing.any_reason(r, "set by the system crypto policy")
	contains(r.remediation, "update-crypto-policies --set DEFAULT:NO-WEAK-SSH")
	contains(r.remediation, "`DEFAULT:NO-SHA1` alone is not enough")
	not contains(r.remediation, "remove CBC ciphers, arcfour")
}

local_module(name, protocol_lines) := {
	"name": name,
	"path": sprintf("/etc/crypto-policies/policies/modules/%s.pmod", [name]),
	"found": true,
	"protocol_lines": protocol_lines,
}

test_a_local_subpolicy_without_protocol_lines_keeps_the_floor if {
	p := object.union(
		policy("DEFAULT:NO-WEAK-SSH", "DEFAULT", ["NO-WEAK-SSH"]),
		{"subpolicy_modules": [local_module("NO-WEAK-SSH", [])]}
	)
	r := run_rhel(
		{"crypto_policy": p, "sshd": sshd_from_policy(["hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"])},
		rocky9
	)
	r.status == "pass"
	testing.any_reason(r, "subpolicies NO-WEAK-SSH keep the base policy's protocol floor")
}

test_a_local_subpolicy_that_sets_protocols_is_not_vouched_for if {
	lines := [{
		"path": "/etc/crypto-policies/policies/modules/OLD-TLS.pmod",
		"line": 1,
		"text": "protocol@TLS = +TLS1.1",
	}]
	p := object.union(
		policy("DEFAULT:OLD-TLS", "DEFAULT", ["OLD-TLS"]),
		{"subpolicy_modules": [local_module("OLD-TLS", lines)]}
	)
	r := run_rhel({"crypto_policy": p}, rocky9)
	r.status == "fail"
	testing.any_reason(r, "not shipped with crypto-policies")
}
