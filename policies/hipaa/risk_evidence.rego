# risk.evidence: a recent risk-assessment evidence file exists (newest match's modification time).
package phipolicy.hipaa.risk_evidence

metadata := {
	"id": "risk.evidence",
	"safeguard": "risk-analysis",
	"cfr": ["164.308(a)(1)(ii)(A)"],
	"title": "Risk-assessment evidence is recent",
	"severity": "medium",
	"description": concat(" ", [
		"Looks for regular files matching risk_evidence_glob. The newest one's modification time must be at most",
		"risk_evidence_max_age_days before the evaluation time. No matching file: manual (a person must show",
		"where the risk",
		"analysis is kept). Only older files: fail. A file modified after the evaluation time counts as recent",
		"and is reported as such.",
		"`phipolicy evidence` writes such a file with the hashes and results of every control, which is better",
		"evidence than a hand-written note.",
	]),
	"parameters": ["risk_evidence_glob", "risk_evidence_max_age_days"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {"errors": ["array"], "glob": ["string"], "matches": ["array"]},
	"remediation": concat("\n", [
		"Run and record a risk assessment at least once per risk_evidence_max_age_days, for example:",
		"  phipolicy evidence --root / > /var/log/hipaa-risk-assessment-$(date +%F).txt",
		"and keep the signed assessment report with it.",
	]),
}

facts := input.facts

max_age_days := input.params.risk_evidence_max_age_days

now := input.now_unix

files := [m | some m in facts.matches; m.kind == "regular"]

others := [m | some m in facts.matches; m.kind != "regular"]

age_s(f) := now - f.mtime

fresh(f) if age_s(f) <= max_age_days * 86400

fresh_files := [f | some f in files; fresh(f)]

newest_mtime := max({f.mtime | some f in files})

newest := [f | some f in files; f.mtime == newest_mtime][0]

when(f) := sprintf("modified after the evaluation time (%s); counted as recent", [input.now]) if {
	f.mtime > now
} else := sprintf(
	"modified %s, %v days before the evaluation time",
	[time.format(f.mtime * 1000000000), floor(age_s(f) / 86400)]
)

read_errors contains sprintf("%s %s", [e.path, e.error]) if {
	count(fresh_files) == 0
	some e in facts.errors
}

default status := "fail"
status := "error" if {
	count(read_errors) > 0
} else := "manual" if {
	count(files) == 0
} else := "pass" if {
	count(fresh_files) > 0
}

reasons := sort(read_errors) if {
	status == "error"
} else := [sprintf(
	"no regular file matches %s: a person must show where the current risk analysis is documented, or record it there",
	[facts.glob]
)] if {
	status == "manual"
} else := [sprintf(
	"the newest risk-assessment evidence %s was %s (limit %v days)",
	[newest.path, when(newest), max_age_days]
)] if {
	status == "pass"
} else := [sprintf(
	"all risk-assessment evidence is older than risk_evidence_max_age_days (%v): the newest, %s, was %s",
	[max_age_days, newest.path, when(newest)]
)]

evidence_items contains {"path": f.path, "line": 0, "detail": sprintf("risk-assessment evidence, %s", [when(f)])} if {
	some f in files
}

evidence_items contains {
	"path": m.path,
	"line": 0,
	"detail": sprintf("matches the glob but is a %s, not a file", [m.kind]),
} if {
	some m in others
}

evidence_items contains {"path": e.path, "line": 0, "detail": e.error} if {
	some e in facts.errors
}

evidence := sort(evidence_items)

remediation := concat("\n", ["Make the evidence files readable to the scan, then rerun.", metadata.remediation]) if {
	status == "error"
} else := metadata.remediation

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}
