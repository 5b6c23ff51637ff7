# crypto.in-transit: the system TLS floor, TLS services (nginx, Apache, Postfix), DH parameters and sshd algorithms.
package phipolicy.hipaa.crypto_in_transit

import data.phipolicy.lib

metadata := {
	"id": "crypto.in-transit",
	"safeguard": "transmission-security",
	"cfr": ["164.312(e)(1)", "164.312(e)(2)(ii)"],
	"title": "Network services only offer TLS 1.2 or later, strong DH parameters and strong SSH algorithms",
	"severity": "high",
	"description": concat(" ", [
		"Checks the system TLS floor against tls_min_version: on Debian/Ubuntu the MinProtocol of the section",
		"/etc/ssl/openssl.cnf reaches through",
		"openssl_conf -> ssl_conf -> system_default (with .include expanded); when nothing sets it, OpenSSL 3's",
		"default applies",
		"(Debian 12/13 and Ubuntu 22.04+: TLS 1.0 and 1.1 only work at @SECLEVEL=0, so the floor is TLS 1.2),",
		"and the result says so.",
		"On Rocky/RHEL the policy in /etc/crypto-policies/config: DEFAULT, FUTURE and FIPS keep TLS >= 1.2;",
		"LEGACY allows TLS 1.0 and 1.1 on Rocky 8",
		"but not on Rocky 9 (crypto-policies(7) of RHEL 9: LEGACY.pol enables TLS1.2 and TLS1.3 only); shipped",
		"subpolicies (SHA1, AD-SUPPORT, ...) keep the base's floor.",
		"Installed services are checked too (a service that is not installed is not applicable to this check,",
		"not a pass):",
		"nginx ssl_protocols (every occurrence, includes expanded), Apache SSLProtocol (+/-/all arithmetic),",
		"Postfix smtpd_tls_protocols",
		"and smtpd_tls_mandatory_protocols (both the !SSLv3 exclusion and the >=TLSv1.2 syntax) must not enable",
		"a protocol older than tls_min_version.",
		"An unset setting takes the program's default: nginx before 1.23.4 and Postfix (postconf(5): >=TLSv1",
		"since 3.6) enable TLS 1.0 and 1.1, so unset fails",
		"where the service serves TLS; Apache's default SSLProtocol is `all -SSLv3` except on RHEL, whose",
		"mod_ssl follows the crypto policy.",
		"DH parameter files (/etc/ssl/dhparam.pem and any named by ssl_dhparam or SSLOpenSSLConfCmd",
		"DHParameters) are parsed from PEM and",
		"their prime must have at least dh_min_bits bits. sshd Ciphers, MACs and KexAlgorithms, when set (with",
		"+, - and ^ applied to OpenSSH's",
		"default lists), must not include CBC ciphers, arcfour, hmac-md5*, hmac-sha1* or diffie-hellman-group1-sha1.",
	]),
	"parameters": ["tls_min_version", "dh_min_bits"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {
		"apache": ["object"],
		"crypto_policy": ["object"],
		"dh_params": ["array"],
		"nginx": ["object"],
		"openssl": ["object"],
		"postfix": ["object"],
		"sshd": ["object"],
	},
	"remediation": concat("\n", [
		concat(" ", [
			"Debian/Ubuntu: keep /etc/ssl/openssl.cnf's system_default section at `MinProtocol = TLSv1.2` (or remove",
			"a lower MinProtocol). Rocky/RHEL: `update-crypto-policies --set DEFAULT`.",
		]),
		concat(" ", [
			"nginx: `ssl_protocols TLSv1.2 TLSv1.3;` in the http block and every server block that sets it. Apache:",
			"`SSLProtocol -all +TLSv1.2 +TLSv1.3`.",
		]),
		"Postfix: `postconf -e 'smtpd_tls_protocols = >=TLSv1.2' 'smtpd_tls_mandatory_protocols = >=TLSv1.2'`.",
		concat(" ", [
			"DH parameters: `openssl dhparam -out /etc/ssl/dhparam.pem 2048` (or 3072/4096). sshd: remove CBC,",
			"arcfour, hmac-md5/hmac-sha1 and diffie-hellman-group1-sha1 from Ciphers/MACs/KexAlgorithms.",
		]),
	]),
}

facts := input.facts

params := input.params

family := object.get(input, ["target", "os", "family"], "unknown")

os_id := object.get(input, ["target", "os", "id"], "")

version_id := object.get(input, ["target", "os", "version_id"], "")

major := to_number(regex.find_n(`^[0-9]+`, version_id, 1)[0]) if regex.match(`^[0-9]+`, version_id)

# --- protocol versions

protocol_version := {"SSLv2": 0.2, "SSLv3": 0.3, "TLSv1": 1.0, "TLSv1.1": 1.1, "TLSv1.2": 1.2, "TLSv1.3": 1.3}

min_version := to_number(trim_prefix(trim_prefix(sprintf("%v", [params.tls_min_version]), "TLSv"), "v"))

min_label := sprintf("TLS %v", [params.tls_min_version])

too_old(p) if protocol_version[p] < min_version

weak_list(enabled) := [p | some p in enabled; too_old(p)]

# OpenSSL's MinProtocol values (SSL_CONF_cmd(3)).
openssl_min_version := {"SSLv3": 0.3, "TLSv1": 1.0, "TLSv1.0": 1.0, "TLSv1.1": 1.1, "TLSv1.2": 1.2, "TLSv1.3": 1.3}

# --- the system floor

default floor_kind := "debian"
floor_kind := "rhel" if {
	family == "rhel"
} else := "rhel" if {
	family != "debian"
	facts.crypto_policy.found == true
}

openssl := facts.openssl

sd := openssl.system_default

at(x) := sprintf("%s:%v", [x.path, x.line])

# Debian 12/13 and Ubuntu 22.04+ ship OpenSSL 3, whose default refuses TLS 1.0/1.1 (they need @SECLEVEL=0).
distribution_default := {"name": sprintf("Debian %s", [version_id]), "version": 1.2} if {
	os_id == "debian"
	major >= 12
} else := {"name": sprintf("Ubuntu %s", [version_id]), "version": 1.2} if {
	os_id == "ubuntu"
	major >= 22
}

floor_errors contains sprintf(
	"%s could not be read (%s): the system TLS floor cannot be decided",
	[u.path, u.error]
) if {
	floor_kind == "debian"
	some u in openssl.unreadable
}

floor_errors contains sprintf(
	"%s could not be read (%s): the system crypto policy cannot be decided",
	[facts.crypto_policy.path, facts.crypto_policy.error]
) if {
	floor_kind == "rhel"
	is_string(facts.crypto_policy.error)
}

cipher_seclevel0 if {
	regex.match(`@SECLEVEL=0`, sd.cipher_string.value)
}

# The floor: {"ok": bool, "reason": text, "evidence": [...]}
floor := {"ok": false, "reason": sprintf(concat(" ", [
	"the system_default chain of %s names section [%s], which is not defined: OpenSSL fails to load the",
	"configuration, so the TLS floor is unknown",
]), [openssl.path, sd.missing_section])} if {
	floor_kind == "debian"
	is_string(sd.missing_section)
} else := {"ok": ok, "reason": reason} if {
	floor_kind == "debian"
	mp := sd.min_protocol
	is_object(mp)
	v := object.get(openssl_min_version, mp.value, -1)
	ok := v >= min_version
	reason := floor_min_reason(mp, v, ok)
} else := {
	"ok": false,
	"reason": sprintf(
		"CipherString %s (%s) sets @SECLEVEL=0, which lets OpenSSL 3 negotiate TLS 1.0 and 1.1; the floor is below %s",
		[sd.cipher_string.value, at(sd.cipher_string), min_label]
	),
} if {
	floor_kind == "debian"
	cipher_seclevel0
} else := {"ok": ok, "reason": reason} if {
	floor_kind == "debian"
	d := distribution_default
	ok := d.version >= min_version
	reason := sprintf(concat(" ", [
		"no MinProtocol is set in %s (%s), so the distribution default applies: %s ships OpenSSL 3, whose default",
		"security level refuses TLS 1.0 and 1.1 (floor TLS 1.2)%s",
	]), [openssl.path, chain_note, d.name, below_note(d.version)])
} else := {
	"ok": false,
	"reason": sprintf(
		concat(" ", [
			"no MinProtocol is set in %s (%s) and the distribution default floor of %s %s is not known to be TLS 1.2",
			"or later",
		]),
		[openssl.path, chain_note, os_id, version_id]
	),
} if {
	floor_kind == "debian"
} else := {
	"ok": false,
	"reason": sprintf(
		"%s does not exist: the system-wide crypto policy (and so the TLS floor) is unknown",
		[facts.crypto_policy.path]
	),
} if {
	floor_kind == "rhel"
	not facts.crypto_policy.found
} else := {
	"ok": false,
	"reason": sprintf(
		"%s sets no policy: the TLS floor is unknown; set one with update-crypto-policies --set DEFAULT",
		[facts.crypto_policy.path]
	),
} if {
	floor_kind == "rhel"
	facts.crypto_policy.policy == null
} else := {"ok": ok, "reason": reason} if {
	floor_kind == "rhel"
	p := facts.crypto_policy.policy
	f := policy_floor(p.base)
	unknown_subs := [s | some s in p.subpolicies; not upper(s) in shipped_subpolicies; not floor_keeping_module(s)]
	count(unknown_subs) == 0
	ok := f.version >= min_version
	reason := sprintf("crypto policy %s (%s:%v): %s%s", [p.value, p.path, p.line, f.why, subpolicy_note(p)])
} else := {"ok": false, "reason": sprintf(concat(" ", [
	"crypto policy %s (%s:%v) uses subpolicies %s that are not shipped with crypto-policies; they may change the",
	"protocol set, so the TLS floor cannot be vouched for",
]), [p.value, p.path, p.line, concat(", ", unknown_subs)])} if {
	floor_kind == "rhel"
	p := facts.crypto_policy.policy
	policy_floor(p.base)
	unknown_subs := [s | some s in p.subpolicies; not upper(s) in shipped_subpolicies; not floor_keeping_module(s)]
} else := {"ok": false, "reason": sprintf(concat(" ", [
	"crypto policy %s (%s:%v) is not one of DEFAULT, FUTURE, FIPS or LEGACY: a custom policy's TLS floor cannot be",
	"vouched for from its name",
]), [p.value, p.path, p.line])} if {
	floor_kind == "rhel"
	p := facts.crypto_policy.policy
}

floor_min_reason(mp, v, true) := sprintf(
	"MinProtocol %s (%s) in the system_default section: the system TLS floor is %s",
	[mp.value, at(mp), mp.value]
)

floor_min_reason(mp, v, false) := sprintf(
	"MinProtocol %s (%s) in the system_default section: OpenSSL accepts protocols older than %s system-wide",
	[mp.value, at(mp), min_label]
) if v >= 0

floor_min_reason(mp, v, false) := sprintf(
	"MinProtocol %s (%s) is not a protocol version OpenSSL knows, so the floor is not what was meant",
	[mp.value, at(mp)]
) if v < 0

default chain_note := "the file does not exist; OpenSSL uses its built-in defaults"
chain_note := sprintf(
	"system_default = %s at %s sets no MinProtocol",
	[sd.system_default.value, at(sd.system_default)]
) if {
	is_object(sd.system_default)
} else := sprintf(
	"openssl_conf = %s at %s; no ssl_conf/system_default section is reached",
	[sd.openssl_conf.value, at(sd.openssl_conf)]
) if {
	is_object(sd.openssl_conf)
} else := "no openssl_conf line" if {
	openssl.found
}

below_note(v) := "" if v >= min_version

below_note(v) := sprintf(", which is below tls_min_version %v", [params.tls_min_version]) if v < min_version

shipped_subpolicies := {
	"SHA1",
	"NO-SHA1",
	"AD-SUPPORT",
	"AD-SUPPORT-LEGACY",
	"ECDHE-ONLY",
	"NO-CAMELLIA",
	"NO-ENFORCE-EMS",
	"OSPP",
	"TEST-FEDORA39",
	"TEST-PQ",
	"NO-CBC",
	"NO-SHA1-LEGACY",
	"GOST",
	"PQ",
}

# A local subpolicy module that sets no protocol version (no `protocol`, `min_tls_version` or
# `min_dtls_version` line) cannot lower the base policy's TLS floor.
floor_keeping_module(name) if {
	some m in object.get(facts.crypto_policy, "subpolicy_modules", [])
	m.name == name
	m.found == true
	count(m.protocol_lines) == 0
}

subpolicy_note(p) := "" if count(p.subpolicies) == 0

subpolicy_note(p) := sprintf(
	"; subpolicies %s keep the base policy's protocol floor",
	[concat(", ", p.subpolicies)]
) if count(p.subpolicies) > 0

policy_floor("DEFAULT") := {"version": 1.2, "why": "DEFAULT allows TLS 1.2 and later"}

policy_floor("FUTURE") := {"version": 1.2, "why": "FUTURE allows TLS 1.2 and later"}

policy_floor("FIPS") := {"version": 1.2, "why": "FIPS allows TLS 1.2 and later"}

policy_floor("LEGACY") := {"version": 1.0, "why": "on Rocky/RHEL 8, LEGACY enables TLS 1.0 and 1.1 system-wide"} if {
	major < 9
}

policy_floor("LEGACY") := {"version": 1.2, "why": concat(" ", [
	"on Rocky/RHEL 9 and later, LEGACY enables TLS 1.2 and 1.3 only (crypto-policies(7); RHEL 9 disables TLS 1.1 and",
	"older in every policy)",
])} if {
	major >= 9
}

policy_floor("LEGACY") := {
	"version": 1.0,
	"why": "the release is unknown, and LEGACY enables TLS 1.0 and 1.1 on Rocky/RHEL 8",
} if {
	not major
}

floor_failures contains floor.reason if {
	count(floor_errors) == 0
	not floor.ok
}

floor_failures contains "the system TLS floor could not be determined from the facts" if {
	count(floor_errors) == 0
	not floor
}

floor_evidence contains {"path": x.path, "line": x.line, "detail": sprintf("%s = %s", [name, x.value])} if {
	floor_kind == "debian"
	some name in ["openssl_conf", "ssl_conf", "system_default", "min_protocol", "cipher_string"]
	x := sd[name]
	is_object(x)
}

floor_evidence contains {"path": openssl.path, "line": 0, "detail": floor.reason} if {
	floor_kind == "debian"
	floor
}

floor_evidence contains {"path": p.path, "line": p.line, "detail": floor.reason} if {
	floor_kind == "rhel"
	p := facts.crypto_policy.policy
	is_object(p)
	floor
}

floor_evidence contains {"path": facts.crypto_policy.path, "line": 0, "detail": floor.reason} if {
	floor_kind == "rhel"
	not is_object(facts.crypto_policy.policy)
	floor
}

floor_evidence contains {"path": i.path, "line": i.line, "detail": i.message} if {
	floor_kind == "debian"
	some i in openssl.issues
}

# --- nginx

nginx := facts.nginx

nginx_errors contains sprintf("nginx is installed but %s could not be read (%s)", [u.path, u.error]) if {
	nginx.installed
	some u in nginx.config.unreadable
}

nginx_errors contains sprintf(
	"nginx is installed (%s) but %s does not exist, so its TLS settings are unknown",
	[nginx.binary, nginx.config.path]
) if {
	nginx.installed
	not nginx.config.found
	count(nginx.config.unreadable) == 0
}

nginx_failures contains sprintf(
	"nginx ssl_protocols %s (%s, %s) enables %s, older than %s",
	[concat(" ", d.args), at(d), context_name(d.context), concat(", ", weak_list(d.enabled)), min_label]
) if {
	nginx.installed
	some d in nginx.ssl_protocols
	count(weak_list(d.enabled)) > 0
}

nginx_failures contains sprintf(
	"nginx ssl_protocols at %s has values nginx does not know (%s): nginx refuses the configuration",
	[at(d), concat(", ", d.unknown)]
) if {
	nginx.installed
	some d in nginx.ssl_protocols
	count(d.unknown) > 0
}

nginx_failures contains sprintf(concat(" ", [
	"nginx serves TLS (%s at %s) but no ssl_protocols is set: nginx's built-in default before 1.23.4 is TLSv1",
	"TLSv1.1 TLSv1.2 TLSv1.3",
]), [s.detail, at(s)]) if {
	nginx.installed
	count(nginx.ssl_protocols) == 0
	s := nginx.tls_servers[0]
}

default nginx_pass := "nginx: no server serves TLS and no ssl_protocols is set"
nginx_pass := sprintf(
	"nginx: every ssl_protocols (%s) enables only %s or later",
	[concat(", ", [at(d) | some d in nginx.ssl_protocols]), min_label]
) if {
	count(nginx.ssl_protocols) > 0
}

context_name("") := "main context"

context_name(c) := sprintf("in %s", [c]) if c != ""

# --- Apache httpd

apache := facts.apache

apache_errors contains sprintf("Apache httpd is installed but %s could not be read (%s)", [u.path, u.error]) if {
	apache.installed
	some u in apache.config.unreadable
}

apache_errors contains sprintf(
	"Apache httpd is installed (%s) but %s does not exist, so its TLS settings are unknown",
	[apache.binary, apache.config.path]
) if {
	apache.installed
	not apache.config.found
	count(apache.config.unreadable) == 0
}

apache_tls if {
	apache.installed
	is_object(apache.ssl_module)
}

apache_failures contains sprintf(
	"Apache SSLProtocol %s (%s, %s) enables %s, older than %s",
	[concat(" ", d.args), at(d), context_name(d.context), concat(", ", weak_list(d.enabled)), min_label]
) if {
	apache_tls
	some d in apache.ssl_protocols
	count(weak_list(d.enabled)) > 0
}

apache_failures contains sprintf(
	"Apache SSLProtocol at %s has values mod_ssl does not know (%s): httpd refuses the configuration",
	[at(d), concat(", ", d.unknown)]
) if {
	apache_tls
	some d in apache.ssl_protocols
	count(d.unknown) > 0
}

apache_failures contains sprintf(
	"mod_ssl is loaded (%s) but no SSLProtocol is set: mod_ssl's default `all -SSLv3` enables TLSv1 and TLSv1.1",
	[at(apache.ssl_module)]
) if {
	apache_tls
	count(apache.ssl_protocols) == 0
	floor_kind == "debian"
}

default apache_pass := "Apache: mod_ssl is not loaded, so httpd serves no TLS"
apache_pass := sprintf(
	"Apache: every SSLProtocol (%s) enables only %s or later",
	[concat(", ", [at(d) | some d in apache.ssl_protocols]), min_label]
) if {
	apache_tls
	count(apache.ssl_protocols) > 0
} else := sprintf(concat(" ", [
	"Apache: mod_ssl is loaded (%s) and no SSLProtocol is set, so RHEL's mod_ssl follows the system crypto policy",
	"(the floor above)",
]), [at(apache.ssl_module)]) if {
	apache_tls
}

# --- Postfix

postfix := facts.postfix

postfix_protocol_settings := ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols"]

postfix_errors contains sprintf(
	"Postfix is installed but %s could not be read (%s)",
	[postfix.main_cf.path, postfix.main_cf.error]
) if {
	postfix.installed
	is_string(postfix.main_cf.error)
}

postfix_errors contains sprintf(
	"Postfix is installed (%s) but %s does not exist, so its TLS settings are unknown",
	[postfix.binary, postfix.main_cf.path]
) if {
	postfix.installed
	not postfix.main_cf.found
	not is_string(postfix.main_cf.error)
}

postfix_failures contains sprintf(
	"Postfix %s = %s (%s) enables %s, older than %s",
	[name, s.value, at(s), concat(", ", weak_list(s.enabled)), min_label]
) if {
	postfix.installed
	some name in postfix_protocol_settings
	s := postfix.settings[name]
	count(weak_list(s.enabled)) > 0
}

postfix_failures contains sprintf(
	"Postfix %s at %s has values Postfix does not know (%s)",
	[name, at(s), concat(", ", s.unknown)]
) if {
	postfix.installed
	some name in postfix_protocol_settings
	s := postfix.settings[name]
	count(s.unknown) > 0
}

postfix_failures contains sprintf(concat(" ", [
	"Postfix %s is not set in %s: Postfix's default (postconf(5): >=TLSv1 since Postfix 3.6, !SSLv2, !SSLv3 before)",
	"enables TLSv1 and TLSv1.1",
]), [name, postfix.main_cf.path]) if {
	postfix.installed
	postfix.main_cf.found
	some name in postfix_protocol_settings
	not postfix.settings[name]
}

postfix_pass := sprintf(
	"Postfix: smtpd_tls_protocols = %s (%s) and smtpd_tls_mandatory_protocols = %s (%s) enable only %s or later",
	[p.value, at(p), m.value, at(m), min_label]
) if {
	p := postfix.settings.smtpd_tls_protocols
	m := postfix.settings.smtpd_tls_mandatory_protocols
}

# --- DH parameters

dh_errors contains sprintf("DH parameters %s could not be read (%s)", [d.path, d.error]) if {
	some d in facts.dh_params
	not d.exists
	d.error != "does not exist"
}

dh_failures contains sprintf(
	"DH parameters %s have a %v-bit prime, fewer than dh_min_bits (%v)",
	[d.path, d.prime_bits, params.dh_min_bits]
) if {
	some d in facts.dh_params
	is_number(d.prime_bits)
	d.prime_bits < params.dh_min_bits
}

dh_failures contains sprintf(
	"%s (named by %s at %s) is %s",
	[d.path, d.referenced_by.directive, at(d.referenced_by), d.error]
) if {
	some d in facts.dh_params
	is_string(d.error)
	is_object(d.referenced_by)
	d.exists
}

dh_failures contains sprintf(
	"%s (named by %s at %s) does not exist: the server fails to load it",
	[d.path, d.referenced_by.directive, at(d.referenced_by)]
) if {
	some d in facts.dh_params
	d.error == "does not exist"
	is_object(d.referenced_by)
}

dh_failures contains sprintf("%s is %s", [d.path, d.error]) if {
	some d in facts.dh_params
	d.exists
	is_string(d.error)
	not is_object(d.referenced_by)
}

dh_evidence contains {
	"path": d.path,
	"line": 0,
	"detail": sprintf("DH parameters: %v-bit prime, generator %v%s", [d.prime_bits, d.generator, ref_note(d)]),
} if {
	some d in facts.dh_params
	is_number(d.prime_bits)
}

dh_evidence contains {
	"path": d.referenced_by.path,
	"line": d.referenced_by.line,
	"detail": sprintf("%s %s", [d.referenced_by.directive, d.path]),
} if {
	some d in facts.dh_params
	is_object(d.referenced_by)
}

ref_note(d) := sprintf(
	" (named by %s at %s)",
	[d.referenced_by.directive, at(d.referenced_by)]
) if is_object(d.referenced_by)

ref_note(d) := "" if not is_object(d.referenced_by)

# --- sshd algorithms

sshd := facts.sshd

ssh_keyword := {"ciphers": "Ciphers", "macs": "MACs", "kexalgorithms": "KexAlgorithms"}

weak_algorithm(a) if contains(a, "-cbc")

weak_algorithm(a) if startswith(a, "arcfour")

weak_algorithm(a) if startswith(a, "hmac-md5")

weak_algorithm(a) if startswith(a, "hmac-sha1")

weak_algorithm(a) if a == "diffie-hellman-group1-sha1"

sshd_errors contains sprintf("sshd is installed but %s could not be read (%s)", [u.path, u.error]) if {
	sshd.installed
	some u in sshd.unreadable
}

sshd_failures contains sprintf(
	"sshd %s %s (%s) allows %s%s",
	[ssh_keyword[k], a.configured, at(a), concat(", ", weak), policy_note(a)]
) if {
	sshd.installed
	some k, a in sshd.algorithms
	is_string(a.configured)
	weak := [x | some x in a.effective; weak_algorithm(x)]
	count(weak) > 0
}

policy_note(a) := " (set by the system crypto policy: this back-end is generated by update-crypto-policies)" if {
	a.crypto_policy_backend == true
} else := ""

sshd_policy_weak if {
	sshd.installed
	some a in sshd.algorithms
	a.crypto_policy_backend == true
	count([x | some x in a.effective; weak_algorithm(x)]) > 0
}

sshd_config_weak if {
	sshd.installed
	some a in sshd.algorithms
	is_string(a.configured)
	not a.crypto_policy_backend == true
	count([x | some x in a.effective; weak_algorithm(x)]) > 0
}

sshd_pass := sprintf("sshd: %s", [concat("; ", [msg |
	some k in ["ciphers", "macs", "kexalgorithms"]
	a := sshd.algorithms[k]
	msg := ssh_algo_note(k, a)
])])

ssh_algo_note(k, a) := sprintf(
	"%s %s (%s) has no weak algorithm",
	[ssh_keyword[k], a.configured, at(a)]
) if is_string(a.configured)

ssh_algo_note(k, a) := sprintf("%s not set (OpenSSH's default)", [ssh_keyword[k]]) if not is_string(a.configured)

# --- service applicability

not_installed contains name if {
	some name, svc in {"nginx": nginx, "Apache httpd": apache, "Postfix": postfix, "sshd": sshd}
	svc.installed == false
}

# --- status

read_errors := ((((floor_errors | nginx_errors) | apache_errors) | postfix_errors) | dh_errors) | sshd_errors

service_failures := ((nginx_failures | apache_failures) | postfix_failures) | dh_failures

all_failures := (floor_failures | service_failures) | sshd_failures

default status := "fail"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(all_failures) > 0
} else := "pass" if {
	floor.ok
}

service_notes contains nginx_pass if {
	nginx.installed
	count(nginx_failures) == 0
}

service_notes contains apache_pass if {
	apache.installed
	count(apache_failures) == 0
}

service_notes contains postfix_pass if {
	postfix.installed
	count(postfix_failures) == 0
}

service_notes contains sshd_pass if {
	sshd.installed
	count(sshd_failures) == 0
}

service_notes contains sprintf(
	"DH parameters %s: %v-bit prime (>= %v)",
	[d.path, d.prime_bits, params.dh_min_bits]
) if {
	some d in facts.dh_params
	is_number(d.prime_bits)
	d.prime_bits >= params.dh_min_bits
}

na_note := sprintf("not installed, so not applicable to this check: %s", [concat(", ", sort(not_installed))]) if {
	count(not_installed) > 0
}

na_notes := [na_note] if na_note

na_notes := [] if not na_note

floor_note := [sprintf("System TLS floor: %s", [floor.reason])] if floor.ok

floor_note := [] if not floor.ok

reasons := sort(read_errors) if {
	status == "error"
} else := array.concat(sort(all_failures), na_notes) if {
	status == "fail"
} else := array.concat(array.concat(floor_note, sort(service_notes)), na_notes)

# --- evidence

directive_evidence(d, label) := {
	"path": d.path,
	"line": d.line,
	"detail": sprintf("%s %s", [label, concat(" ", d.args)]),
}

evidence_items contains e if some e in floor_evidence

evidence_items contains e if some e in dh_evidence

evidence_items contains directive_evidence(d, "ssl_protocols") if {
	nginx.installed
	some d in nginx.ssl_protocols
}

evidence_items contains {"path": s.path, "line": s.line, "detail": sprintf("nginx TLS server: %s", [s.detail])} if {
	nginx.installed
	some s in nginx.tls_servers
}

evidence_items contains directive_evidence(d, "SSLProtocol") if {
	apache.installed
	some d in apache.ssl_protocols
}

evidence_items contains {
	"path": apache.ssl_module.path,
	"line": apache.ssl_module.line,
	"detail": apache.ssl_module.detail,
} if {
	apache_tls
}

evidence_items contains {"path": s.path, "line": s.line, "detail": sprintf("%s = %s", [name, s.value])} if {
	postfix.installed
	some name, s in postfix.settings
}

evidence_items contains {
	"path": a.path,
	"line": a.line,
	"detail": sprintf("%s %s -> %s", [ssh_keyword[k], a.configured, concat(",", a.effective)]),
} if {
	sshd.installed
	some k, a in sshd.algorithms
	is_string(a.configured)
}

evidence_items contains {"path": i.path, "line": i.line, "detail": i.message} if {
	some svc in [nginx, apache]
	svc.installed
	some i in svc.config.issues
}

evidence_items contains {"path": svc.binary, "line": 0, "detail": sprintf("%s binary", [name])} if {
	some name, svc in {"nginx": nginx, "Apache httpd": apache, "Postfix": postfix, "sshd": sshd}
	svc.installed
	is_string(svc.binary)
}

evidence := sort(evidence_items)

# --- remediation

steps contains {
	"order": 0,
	"text": "Make the files named in the reasons readable to the scan (and to the services), then rerun.",
} if {
	status == "error"
}

steps contains {"order": 1, "text": concat(" ", [
	"Debian/Ubuntu: in /etc/ssl/openssl.cnf make the system_default section say `MinProtocol = TLSv1.2` (remove a",
	"lower MinProtocol and any @SECLEVEL=0); check with `openssl s_client -tls1_1 -connect host:443` (must fail).",
])} if {
	count(floor_failures) > 0
	floor_kind == "debian"
}

steps contains {"order": 1, "text": concat(" ", [
	"Rocky/RHEL: `update-crypto-policies --set DEFAULT` (or FUTURE), then reboot or restart the TLS services; LEGACY",
	"on Rocky 8 re-enables TLS 1.0/1.1.",
])} if {
	count(floor_failures) > 0
	floor_kind == "rhel"
}

steps contains {"order": 2, "text": concat(" ", [
	"nginx: set `ssl_protocols TLSv1.2 TLSv1.3;` in /etc/nginx/nginx.conf's http block and fix every server block",
	"listed in the reasons; `nginx -t && systemctl reload nginx`.",
])} if {
	count(nginx_failures) > 0
}

steps contains {"order": 3, "text": concat(" ", [
	"Apache: set `SSLProtocol -all +TLSv1.2 +TLSv1.3` in the ssl configuration and every VirtualHost listed;",
	"`apachectl configtest && systemctl reload apache2` (httpd on Rocky).",
])} if {
	count(apache_failures) > 0
}

steps contains {"order": 4, "text": concat(" ", [
	"Postfix: `postconf -e 'smtpd_tls_protocols = >=TLSv1.2' 'smtpd_tls_mandatory_protocols = >=TLSv1.2'` (before",
	"Postfix 3.6: `!SSLv2, !SSLv3, !TLSv1, !TLSv1.1`), then `systemctl reload postfix`.",
])} if {
	count(postfix_failures) > 0
}

steps contains {"order": 5, "text": sprintf(concat(" ", [
	"DH parameters: regenerate with `openssl dhparam -out FILE %v` for each file listed, then reload the server that",
	"uses it.",
]), [params.dh_min_bits])} if {
	count(dh_failures) > 0
}

steps contains {"order": 6, "text": concat(" ", [
	"sshd on Rocky/RHEL: the weak algorithms come from the system crypto policy; do not edit its generated back-end.",
	"Create /etc/crypto-policies/policies/modules/NO-WEAK-SSH.pmod with `mac@SSH = -HMAC-SHA1` (and `cipher@SSH =",
	"-*-CBC` when CBC is listed), run `update-crypto-policies --set DEFAULT:NO-WEAK-SSH` and `systemctl restart",
	"sshd`; or `update-crypto-policies --set FUTURE`. `DEFAULT:NO-SHA1` alone is not enough: it drops SHA-1",
	"signatures and key exchange but keeps the hmac-sha1 MACs.",
])} if {
	sshd_policy_weak
}

steps contains {"order": 6, "text": concat(" ", [
	"sshd: remove CBC ciphers, arcfour, hmac-md5*/hmac-sha1* MACs and diffie-hellman-group1-sha1 from the",
	"Ciphers/MACs/KexAlgorithms lines listed (or delete the lines to use OpenSSH's defaults; `MACs -hmac-sha1*`",
	"drops SHA-1 from the defaults); `sshd -t && systemctl reload ssh` (sshd on Rocky).",
])} if {
	sshd_config_weak
}

remediation := lib.remediation(steps, metadata.remediation)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}
