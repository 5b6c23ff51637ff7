# passwords.aging: password ageing defaults in login.defs, and the ageing of accounts that exist.
package phipolicy.hipaa.passwords_aging

import data.phipolicy.lib

metadata := {
	"id": "passwords.aging",
	"safeguard": "password-management",
	"cfr": ["164.308(a)(5)(ii)(D)"],
	"title": "Passwords must expire, and existing accounts must carry the expiry too",
	"severity": "medium",
	"description": concat(" ", [
		"Checks /etc/login.defs: PASS_MAX_DAYS <= password_max_age_days, PASS_MIN_DAYS >= password_min_age_days",
		"and PASS_WARN_AGE >= password_warn_age_days; a missing setting, or one shadow cannot read as a number,",
		"fails (shadow then falls back to no limit). login.defs only applies to accounts created later, so",
		"every existing login account (UID >= UID_MIN from login.defs, default 1000; a login shell; a usable",
		"password hash) must also have /etc/shadow's maximum-age field (field 5) set and <= password_max_age_days.",
		"Offending accounts are counted and the worst 20 named. If /etc/passwd, /etc/shadow or /etc/login.defs",
		"cannot be read the result is error.",
	]),
	"parameters": ["password_max_age_days", "password_min_age_days", "password_warn_age_days"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"accounts": ["object", "null"], "login_defs": ["object"], "unreadable": ["array"]},
	"remediation": concat("\n", [
		"In /etc/login.defs set:",
		"  PASS_MAX_DAYS 90",
		"  PASS_MIN_DAYS 7",
		"  PASS_WARN_AGE 14",
		concat(" ", [
			"This affects accounts created from now on. For every existing login account run `chage --maxdays 90",
			"--mindays 7 --warndays 14 USER` (check with `chage -l USER`).",
		]),
	]),
}

facts := input.facts

params := input.params

defs := facts.login_defs

required_files := {"/etc/passwd", "/etc/shadow", "/etc/login.defs"}

read_errors contains msg if {
	some u in facts.unreadable
	u.path in required_files
	msg := sprintf("%s could not be read (%s), so password ageing cannot be judged", [u.path, u.error])
}

# A login.defs setting: the fact, or undefined when login.defs lacks it.
setting(name) := s if {
	s := object.get(defs, name, null)
	s != null
}

# The plugin applies login.defs' UID_MIN (shadow's default 1000 when unset or not a number).
default uid_min := 1000
uid_min := facts.accounts.uid_min

failures contains concat(" ", [
	"/etc/login.defs does not exist, so PASS_MAX_DAYS, PASS_MIN_DAYS and PASS_WARN_AGE use shadow's defaults (no",
	"ageing)",
]) if {
	defs.exists == false
}

# name, the comparison, the parameter, and whether larger values are better.
checks := [
	{"name": "PASS_MAX_DAYS", "param": "password_max_age_days", "limit": params.password_max_age_days, "max": true},
	{"name": "PASS_MIN_DAYS", "param": "password_min_age_days", "limit": params.password_min_age_days, "max": false},
	{"name": "PASS_WARN_AGE", "param": "password_warn_age_days", "limit": params.password_warn_age_days, "max": false},
]

failures contains msg if {
	defs.exists == true
	object.get(defs, "readable", true) == true
	some c in checks
	not setting(c.name)
	msg := sprintf(
		"%s is not set in /etc/login.defs (shadow's default applies: no ageing); %s requires %s %v",
		[c.name, c.param, bound(c), c.limit]
	)
}

failures contains msg if {
	some c in checks
	s := setting(c.name)
	not is_number(s.value)
	msg := sprintf(
		"%s \"%s\" at %s:%v is not a number shadow can read, so shadow falls back to no ageing; %s requires %s %v",
		[c.name, s.raw, s.path, s.line, c.param, bound(c), c.limit]
	)
}

failures contains msg if {
	some c in checks
	c.max
	s := setting(c.name)
	is_number(s.value)
	s.value < 0
	msg := sprintf(
		"%s is %v at %s:%v, which means no maximum age; %s requires at most %v",
		[c.name, s.value, s.path, s.line, c.param, c.limit]
	)
}

failures contains msg if {
	some c in checks
	c.max
	s := setting(c.name)
	is_number(s.value)
	s.value > c.limit
	msg := sprintf("%s is %v at %s:%v; %s requires at most %v", [c.name, s.value, s.path, s.line, c.param, c.limit])
}

failures contains msg if {
	some c in checks
	not c.max
	s := setting(c.name)
	is_number(s.value)
	s.value < c.limit
	msg := sprintf("%s is %v at %s:%v; %s requires at least %v", [c.name, s.value, s.path, s.line, c.param, c.limit])
}

bound(c) := "at most" if {
	c.max
}

bound(c) := "at least" if {
	not c.max
}

# Existing accounts that can log in with a password and are subject to the policy (uid >=
# UID_MIN, a login shell, a usable hash): the plugin lists all of them, or the worst 20 of many.
login_accounts contains a if {
	some a in facts.accounts.login
}

default login_count := 0
login_count := facts.accounts.login_count

# A maximum password age that never expires or expires too late.
stale(max_days) if not is_number(max_days)

stale(max_days) if {
	is_number(max_days)
	max_days < 0
}

stale(max_days) if {
	is_number(max_days)
	max_days > params.password_max_age_days
}

stale_accounts contains a if {
	some a in login_accounts
	stale(a.max_days)
}

# Every login account with a stale maximum age, listed or not.
stale_count := sum([c.count | some c in facts.accounts.max_days_counts; stale(c.max_days)])

# Stale accounts the plugin did not list (it lists the worst first, so these come after the named ones).
unlisted_stale := stale_count - count(stale_accounts)

account_where(a) := sprintf("%s:%v", [a.shadow_path, a.shadow_line]) if {
	is_number(a.shadow_line)
} else := sprintf("%s:%v (no /etc/shadow entry)", [a.passwd_path, a.passwd_line])

failures contains msg if {
	some a in stale_accounts
	is_number(a.max_days)
	msg := sprintf(concat(" ", [
		"account %s (uid %v, %s) has a maximum password age of %v days at %s; password_max_age_days requires at most",
		"%v",
	]), [a.name, a.uid, a.shell, a.max_days, account_where(a), params.password_max_age_days])
}

failures contains msg if {
	some a in stale_accounts
	not is_number(a.max_days)
	msg := sprintf(concat(" ", [
		"account %s (uid %v, %s) has no maximum password age (empty max-days field at %s); password_max_age_days",
		"requires at most %v",
	]), [a.name, a.uid, a.shell, account_where(a), params.password_max_age_days])
}

pass_reasons contains msg if {
	some c in checks
	s := setting(c.name)
	msg := sprintf("%s is %v at %s:%v", [c.name, s.value, s.path, s.line])
}

pass_reasons contains msg if {
	some a in login_accounts
	msg := sprintf(
		"account %s (uid %v) has a maximum password age of %v days at %s",
		[a.name, a.uid, a.max_days, account_where(a)]
	)
}

failures contains msg if {
	unlisted_stale > 0
	msg := sprintf(concat(" ", [
		"%v more of the %v login accounts (uid >= %v, a login shell, a usable password) have no maximum password",
		"age or one above %v days; the %v above are the worst",
	]), [unlisted_stale, login_count, uid_min, params.password_max_age_days, count(stale_accounts)])
}

pass_reasons contains msg if {
	login_count == 0
	msg := sprintf("no existing account with uid >= %v, a login shell and a usable password", [uid_min])
}

pass_reasons contains msg if {
	login_count > count(login_accounts)
	largest := max([c.max_days | some c in facts.accounts.max_days_counts])
	msg := sprintf(concat(" ", [
		"all %v login accounts (uid >= %v, a login shell, a usable password) have a maximum password age of at most",
		"%v days; the %v with the largest are named",
	]), [login_count, uid_min, largest, count(login_accounts)])
}

default status := "pass"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(failures) > 0
}

reasons := array.concat(sort(read_errors), sort(failures)) if {
	status != "pass"
} else := sort(pass_reasons)

evidence_items contains {"path": s.path, "line": s.line, "detail": sprintf("%s %s", [c.name, s.raw])} if {
	some c in checks
	s := setting(c.name)
}

evidence_items contains {"path": s.path, "line": s.line, "detail": sprintf("UID_MIN %s", [s.raw])} if {
	s := setting("UID_MIN")
}

evidence_items contains {"path": "/etc/login.defs", "line": 0, "detail": "file does not exist"} if {
	defs.exists == false
}

evidence_items contains {"path": a.shadow_path, "line": a.shadow_line, "detail": detail} if {
	some a in login_accounts
	is_number(a.shadow_line)
	detail := sprintf("%s: max-days field \"%s\"", [a.name, a.max_days_field])
}

evidence := sort(evidence_items)

login_defs_step := concat("\n", [
	"In /etc/login.defs set (for accounts created from now on):",
	sprintf("  PASS_MAX_DAYS %v", [params.password_max_age_days]),
	sprintf("  PASS_MIN_DAYS %v", [params.password_min_age_days]),
	sprintf("  PASS_WARN_AGE %v", [params.password_warn_age_days]),
])

steps contains {"order": 1, "text": login_defs_step} if {
	some msg in failures
	regex.match(`PASS_|login\.defs`, msg)
}

steps contains {"order": 2, "text": text} if {
	count(stale_accounts) > 0
	commands := sort({sprintf(
		"  chage --maxdays %v %s",
		[params.password_max_age_days, a.name]
	) | some a in stale_accounts})
	text := concat("\n", array.concat(["Existing accounts keep their old ageing; for each one run:"], commands))
}

steps contains {"order": 3, "text": text} if {
	unlisted_stale > 0
	text := sprintf(concat(" ", [
		"The other %v accounts are not named here; find them with `chage -l USER` for each login account, or set",
		"all at once: awk -F: '$3 >= %v {print $1}' /etc/passwd | xargs -n1 chage --maxdays %v",
	]), [unlisted_stale, uid_min, params.password_max_age_days])
}

# Steps in a fixed order, each a line starting with "- ".
remediation := concat("\n", [sprintf("- %s", [text]) | some text in lib.step_texts(steps)]) if {
	count(steps) > 0
} else := metadata.remediation

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}
