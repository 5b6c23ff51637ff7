# Tests for crypto.at-rest: live LUKS/fscrypt/plain mounts, image scans, missing paths and key files.
package phipolicy.hipaa.crypto_at_rest_test

import data.phipolicy.testing

mi := "/proc/self/mountinfo"

mount(source, mp, dev, line) := {
	"mount_point": mp,
	"root": "/",
	"fs_type": "ext4",
	"source": source,
	"device": dev,
	"line": line,
}

luks1 := {"kernel_name": "dm-1", "name": "phi_crypt", "uuid": "CRYPT-LUKS2-0b5e-phi_crypt"}

ct_entry(key, stat) := {
	"name": "phi_crypt",
	"device": "UUID=0b5e",
	"key_file": key,
	"options": ["luks"],
	"path": "/etc/crypttab",
	"line": 3,
	"key_stat": stat,
}

phi_entry(extra) := object.union({
	"path": "/var/data/phi", "exists": true, "kind": "directory", "error": null,
	"mount": null, "dm": null, "luks": null, "fscrypt": null, "fstab": null, "crypttab": null,
}, extra)

table(entries) := {"path": "/etc/crypttab", "found": true, "error": null, "issues": [], "entries": entries}

fstab_table := {"path": "/etc/fstab", "found": true, "error": null, "issues": [], "entries": []}

live_mountinfo := {"path": mi, "found": true, "error": null, "issues": []}

image_mountinfo := {"path": mi, "found": false, "error": null, "issues": []}

mountinfo_for(true) := live_mountinfo

mountinfo_for(false) := image_mountinfo

facts(is_live, paths, crypttab) := {
	"os": null, "live": is_live, "mountinfo": mountinfo_for(is_live),
	"dm_devices": [], "crypttab": table(crypttab), "fstab": fstab_table, "phi_paths": paths,
}

run(f) := r if {
	r := data.phipolicy.hipaa.crypto_at_rest.result with input as {
		"facts": f,
		"params": {"phi_paths": ["/var/data/phi"]},
		"target": {"kind": "rootfs", "root": "/scan", "os": {"id": "debian", "version_id": "12", "family": "debian"}},
	}
}

luks_phi := phi_entry({
	"mount": mount("/dev/mapper/phi_crypt", "/var/data", "254:1", 7),
	"dm": luks1, "luks": luks1, "crypttab": ct_entry(null, null),
})

test_metadata if {
	m := data.phipolicy.hipaa.crypto_at_rest.metadata
	m.id == "crypto.at-rest"
	m.parameters == ["phi_paths"]
	contains(m.description, "configured, not verified")
}

test_live_luks_passes if {
	r := run(facts(true, [luks_phi], [ct_entry(null, null)]))
	r.status == "pass"
	testing.any_reason(r, concat(" ", [
		"/var/data/phi is on /dev/mapper/phi_crypt mounted at /var/data (/proc/self/mountinfo:7) from dm-1, a",
		"dm-crypt device",
	]))
	testing.any_reason(r, "opened by /etc/crypttab entry phi_crypt (/etc/crypttab:3)")
	testing.any_evidence(r, "dm-1 (phi_crypt): uuid CRYPT-LUKS2")
	testing.any_evidence(r, "key asked for at boot")
}

test_live_lvm_on_luks_passes if {
	lv := {"kernel_name": "dm-2", "name": "vg0-data", "uuid": "LVM-abc"}
	p := phi_entry({"mount": mount("/dev/mapper/vg0-data", "/var/data", "254:2", 7), "dm": lv, "luks": luks1})
	r := run(facts(true, [p], []))
	r.status == "pass"
	testing.any_reason(r, "via dm-2 (vg0-data) on LUKS device dm-1")
	testing.any_reason(r, "no /etc/crypttab entry opens it")
}

test_live_fscrypt_passes if {
	p := phi_entry({
		"mount": mount("/dev/sdb1", "/var/data", "8:17", 7),
		"fscrypt": {"path": "/var/data/.fscrypt", "policies": ["4f1e"], "protectors": ["a1b2"]},
	})
	r := run(facts(true, [p], []))
	r.status == "pass"
	testing.any_reason(r, "fscrypt metadata at /var/data/.fscrypt")
	testing.any_reason(r, "fscrypt status /var/data/phi")
	testing.any_evidence(r, "fscrypt metadata: policies 4f1e")
}

test_fscrypt_without_protectors_fails if {
	p := phi_entry({
		"mount": mount("/dev/sdb1", "/var/data", "8:17", 7),
		"fscrypt": {"path": "/var/data/.fscrypt", "policies": [], "protectors": []},
	})
	r := run(facts(true, [p], []))
	r.status == "fail"
}

test_live_unencrypted_fails if {
	p := phi_entry({"mount": mount("/dev/sdb1", "/var/data", "8:17", 7)})
	r := run(facts(true, [p], []))
	r.status == "fail"
	testing.any_reason(r, concat(" ", [
		"/var/data/phi is on /dev/sdb1 mounted at /var/data (/proc/self/mountinfo:7), which is not a dm-crypt",
		"device, and the filesystem has no fscrypt metadata",
	]))
	contains(r.remediation, "cryptsetup luksFormat")
}

test_live_plain_dm_fails_and_names_it if {
	lv := {"kernel_name": "dm-0", "name": "rl-root", "uuid": "LVM-xyz"}
	p := phi_entry({"mount": mount("/dev/mapper/rl-root", "/", "253:1", 5), "dm": lv})
	r := run(facts(true, [p], []))
	r.status == "fail"
	testing.any_reason(r, "(/dev/mapper/rl-root is dm-0, uuid LVM-xyz)")
}

test_live_without_mount_fails if {
	r := run(facts(true, [phi_entry({})], []))
	r.status == "fail"
	testing.any_reason(r, "no mount in /proc/self/mountinfo holds /var/data/phi")
}

test_missing_phi_path_fails_live_and_image if {
	p := phi_entry({"exists": false, "kind": null})
	r1 := run(facts(true, [p], []))
	r1.status == "fail"
	testing.any_reason(r1, "PHI path /var/data/phi does not exist")
	contains(r1.remediation, "Set phi_paths")
	r2 := run(facts(false, [p], []))
	r2.status == "fail"
}

test_image_is_manual if {
	r := run(facts(false, [phi_entry({})], []))
	r.status == "manual"
	testing.any_reason(r, "property of the host's disk")
	testing.any_reason(r, "run phipolicy on the live host")
	contains(r.remediation, "attestation")
}

test_image_configured_is_manual_configured if {
	f := {
		"source": "/dev/mapper/phi_crypt",
		"mount_point": "/var/data",
		"fs_type": "ext4",
		"options": ["defaults"],
		"path": "/etc/fstab",
		"line": 13,
	}
	p := phi_entry({"fstab": f, "crypttab": ct_entry(null, null)})
	r := run(facts(false, [p], [ct_entry(null, null)]))
	r.status == "manual"
	testing.any_reason(r, concat(" ", [
		"configured, not verified: /var/data/phi: /etc/fstab mounts /var/data from /dev/mapper/phi_crypt",
		"(/etc/fstab:13)",
	]))
	testing.any_evidence(r, "fstab: /dev/mapper/phi_crypt on /var/data")
}

test_image_plain_crypttab_mapping_is_not_luks if {
	f := {
		"source": "/dev/mapper/phi_crypt",
		"mount_point": "/var/data",
		"fs_type": "ext4",
		"options": ["defaults"],
		"path": "/etc/fstab",
		"line": 13,
	}
	c := object.union(ct_entry(null, null), {"options": ["plain"]})
	r := run(facts(false, [phi_entry({"fstab": f, "crypttab": c})], [c]))
	r.status == "manual"
	testing.any_reason(r, "property of the host's disk")
}

key_ok := {"exists": true, "kind": "regular", "uid": 0, "gid": 0, "mode": "0400", "error": null}

test_key_file_0400_root_passes if {
	c := ct_entry("/etc/luks-keys/phi.key", key_ok)
	r := run(facts(true, [luks_phi], [c]))
	r.status == "pass"
	testing.any_evidence(r, "key file /etc/luks-keys/phi.key (mode 0400, uid 0)")
}

test_key_file_0644_fails if {
	c := ct_entry("/etc/luks-keys/phi.key", object.union(key_ok, {"mode": "0644"}))
	r := run(facts(true, [luks_phi], [c]))
	r.status == "fail"
	testing.any_reason(r, "names key file /etc/luks-keys/phi.key with mode 0644; it must be 0400 or 0600")
	contains(r.remediation, "chmod 0400")
}

test_key_file_not_root_fails_even_in_image_mode if {
	c := ct_entry("/etc/luks-keys/phi.key", object.union(key_ok, {"uid": 1000}))
	r := run(facts(false, [phi_entry({})], [c]))
	r.status == "fail"
	testing.any_reason(r, "owned by uid 1000, not root")
}

test_key_file_missing_fails if {
	c := ct_entry(
		"/etc/luks-keys/phi.key",
		{"exists": false, "kind": null, "uid": null, "gid": null, "mode": null, "error": "does not exist"}
	)
	r := run(facts(true, [luks_phi], [c]))
	r.status == "fail"
	testing.any_reason(r, "which does not exist")
	testing.any_evidence(r, "key file /etc/luks-keys/phi.key (does not exist)")
}

test_key_device_is_not_judged if {
	c := ct_entry(
		"/dev/urandom",
		{"exists": true, "kind": "char-device", "uid": 0, "gid": 0, "mode": "0666", "error": null}
	)
	r := run(facts(true, [luks_phi], [c]))
	r.status == "pass"
}

test_key_file_undeclared_is_error if {
	c := ct_entry(
		"/srv/k.key",
		{
			"exists": false,
			"kind": null,
			"uid": null,
			"gid": null,
			"mode": null,
			"error": "not declared in the plugin manifest: /srv/k.key",
		}
	)
	r := run(facts(true, [luks_phi], [c]))
	r.status == "error"
	testing.any_reason(r, "could not be inspected")
	contains(r.remediation, "readable")
}

test_unreadable_mountinfo_is_error if {
	f := object.union(
		facts(true, [luks_phi], []),
		{"mountinfo": {"path": mi, "found": true, "error": "permission denied", "issues": []}}
	)
	r := run(f)
	r.status == "error"
}

test_unreadable_crypttab_is_error if {
	f := object.union(
		facts(true, [luks_phi], []),
		{"crypttab": {
			"path": "/etc/crypttab",
			"found": false,
			"error": "permission denied",
			"issues": [],
			"entries": [],
		}}
	)
	run(f).status == "error"
}

test_uninspectable_phi_path_is_error if {
	r := run(facts(true, [phi_entry({"exists": false, "error": "permission denied"})], []))
	r.status == "error"
}

test_empty_phi_paths_is_error if {
	r := run(facts(true, [], []))
	r.status == "error"
	testing.any_reason(r, "phi_paths is empty")
}

test_parse_issues_are_evidence if {
	f := object.union(
		facts(true, [luks_phi], []),
		{"mountinfo": {
			"path": mi,
			"found": true,
			"error": null,
			"issues": [{"path": mi, "line": 2, "message": "not a mountinfo line"}],
		}}
	)
	testing.any_evidence(run(f), "not a mountinfo line")
}

test_one_unencrypted_path_of_two_fails if {
	other := phi_entry({"path": "/srv/phi", "mount": mount("/dev/sda2", "/", "8:2", 5)})
	r := run(facts(true, [luks_phi, other], []))
	r.status == "fail"
	count(r.reasons) == 1
	testing.any_reason(r, "/srv/phi is on /dev/sda2")
}
