# Helpers for the policies' unit tests (no tests of its own): import it with
# `import data.phipolicy.testing` and write `testing.any_reason(r, "fragment")`.
package phipolicy.testing

# Some reason of the result `r` contains `fragment`.
any_reason(r, fragment) if {
	some msg in r.reasons
	contains(msg, fragment)
}

# Some evidence item of the result `r` has a detail that contains `fragment`.
any_evidence(r, fragment) if {
	some e in r.evidence
	contains(e.detail, fragment)
}
