# crypto.at-rest: every PHI path lives on a dm-crypt (LUKS) device or under an fscrypt policy; crypttab key
# files are private.
package phipolicy.hipaa.crypto_at_rest

import data.phipolicy.lib

metadata := {
	"id": "crypto.at-rest",
	"safeguard": "encryption-at-rest",
	"cfr": ["164.312(a)(2)(iv)"],
	"title": "PHI is stored on encrypted storage (LUKS/dm-crypt or fscrypt)",
	"severity": "high",
	"description": concat(" ", [
		"For each path in phi_paths: on a live host (the target has /proc/self/mountinfo) the mount holding it",
		"(longest mount-point prefix)",
		"must come from a dm-crypt device (/sys/block/dm-N/dm/uuid starts with CRYPT-LUKS, directly or below an",
		"LVM volume via slaves/),",
		"or the filesystem must carry fscrypt metadata (.fscrypt/ with policies and protectors at the mount root);",
		"matching /etc/crypttab entries are shown as evidence. Whether the directory itself carries an fscrypt",
		"policy is an inode flag",
		"no file shows, so the result says to confirm it with `fscrypt status`.",
		"An image or root filesystem scan (no /proc/self/mountinfo) cannot see the host's disks: the result is",
		"manual with that reason,",
		"or manual \"configured, not verified\" when /etc/fstab mounts the PHI path from a /dev/mapper device",
		"that /etc/crypttab opens.",
		"In either mode a PHI path that does not exist fails (the data must live somewhere known), and every key",
		"file named in",
		"/etc/crypttab must be owned by root with mode 0400 or 0600.",
	]),
	"parameters": ["phi_paths"],
	# The facts this policy reads, with their JSON types: the engine checks them before judging.
	"facts": {
		"crypttab": ["object"],
		"fstab": ["object"],
		"live": ["boolean"],
		"mountinfo": ["object"],
		"phi_paths": ["array"],
	},
	"remediation": concat("\n", [
		concat(" ", [
			"Put PHI on a LUKS volume: `cryptsetup luksFormat --type luks2 /dev/sdX`, `cryptsetup open /dev/sdX",
			"phi_crypt`, `mkfs.ext4 /dev/mapper/phi_crypt`,",
		]),
		concat(" ", [
			"add `phi_crypt UUID=<luks uuid> none luks` to /etc/crypttab and `/dev/mapper/phi_crypt /var/data ext4",
			"defaults 0 2` to /etc/fstab, then move the data.",
		]),
		"Or, on ext4/f2fs, `fscrypt setup` and `fscrypt encrypt <phi dir>` on an empty directory.",
		"Key files named in /etc/crypttab: `chown root:root FILE && chmod 0400 FILE`.",
	]),
}

facts := input.facts

live := facts.live == true

mountinfo := facts.mountinfo

phi := facts.phi_paths

at(x) := sprintf("%s:%v", [x.path, x.line])

# --- key files

key_entries contains e if {
	some e in facts.crypttab.entries
	is_string(e.key_file)
	is_object(e.key_stat)
}

key_regular(e) if e.key_stat.kind == "regular"

key_failures contains sprintf(
	"crypttab %s (%s) names key file %s, which is owned by uid %v, not root",
	[e.name, at(e), e.key_file, e.key_stat.uid]
) if {
	some e in key_entries
	key_regular(e)
	e.key_stat.uid != 0
}

key_failures contains sprintf(
	"crypttab %s (%s) names key file %s with mode %s; it must be 0400 or 0600",
	[e.name, at(e), e.key_file, e.key_stat.mode]
) if {
	some e in key_entries
	key_regular(e)
	not e.key_stat.mode in {"0400", "0600"}
}

key_failures contains sprintf(
	"crypttab %s (%s) names key file %s, which does not exist: the volume cannot be unlocked at boot as configured",
	[e.name, at(e), e.key_file]
) if {
	some e in key_entries
	e.key_stat.error == "does not exist"
}

key_errors contains sprintf(
	"crypttab %s (%s) names key file %s, which could not be inspected (%s)",
	[e.name, at(e), e.key_file, e.key_stat.error]
) if {
	some e in key_entries
	is_string(e.key_stat.error)
	e.key_stat.error != "does not exist"
}

# --- read errors

read_errors contains sprintf(
	"%s could not be read (%s): the mounts of the host are unknown",
	[mountinfo.path, mountinfo.error]
) if {
	is_string(mountinfo.error)
}

read_errors contains sprintf("%s could not be read (%s)", [t.path, t.error]) if {
	some t in [facts.crypttab, facts.fstab]
	is_string(t.error)
}

read_errors contains sprintf("PHI path %s could not be inspected (%s)", [p.path, p.error]) if {
	some p in phi
	is_string(p.error)
}

read_errors contains msg if some msg in key_errors

read_errors contains "phi_paths is empty: there is no PHI location to check" if count(phi) == 0

# --- per PHI path

missing contains sprintf(
	"PHI path %s does not exist in the target: the data must live somewhere known (set phi_paths to where it is)",
	[p.path]
) if {
	some p in phi
	p.exists == false
	not is_string(p.error)
}

encrypted_note(p) := sprintf(
	"%s is on %s mounted at %s (%s) from %s, a dm-crypt device%s (uuid %s)%s",
	[
		p.path,
		p.mount.source,
		p.mount.mount_point,
		at_mountinfo(p.mount),
		p.dm.kernel_name,
		via(p),
		p.luks.uuid,
		crypttab_note(p),
	]
) if {
	is_object(p.luks)
}

encrypted_note(p) := sprintf(concat(" ", [
	"%s is on %s (%s), whose filesystem has fscrypt metadata at %s (policies: %v, protectors: %v); confirm the",
	"directory's own policy with `fscrypt status %s`",
]), [
	p.path,
	p.mount.mount_point,
	at_mountinfo(p.mount),
	p.fscrypt.path,
	count(p.fscrypt.policies),
	count(p.fscrypt.protectors),
	p.path,
]) if {
	not is_object(p.luks)
	is_object(p.fscrypt)
	count(p.fscrypt.policies) > 0
	count(p.fscrypt.protectors) > 0
}

at_mountinfo(m) := sprintf("%s:%v", [mountinfo.path, m.line])

via(p) := "" if p.dm.kernel_name == p.luks.kernel_name

via(p) := sprintf(
	" via %s (%s) on LUKS device %s",
	[p.dm.kernel_name, p.dm.name, p.luks.kernel_name]
) if p.dm.kernel_name != p.luks.kernel_name

crypttab_note(p) := sprintf(
	"; opened by /etc/crypttab entry %s (%s)",
	[p.crypttab.name, at(p.crypttab)]
) if is_object(p.crypttab)

crypttab_note(p) := "; no /etc/crypttab entry opens it (unlocked by hand or by another tool)" if {
	not is_object(p.crypttab)
}

live_failures contains sprintf(concat(" ", [
	"%s is on %s mounted at %s (%s), which is not a dm-crypt device%s, and the filesystem has no fscrypt metadata:",
	"PHI is stored unencrypted",
]), [p.path, p.mount.source, p.mount.mount_point, at_mountinfo(p.mount), dm_note(p)]) if {
	live
	some p in phi
	p.exists
	is_object(p.mount)
	not encrypted_note(p)
}

live_failures contains sprintf("no mount in %s holds %s", [mountinfo.path, p.path]) if {
	live
	some p in phi
	p.exists
	not is_object(p.mount)
}

dm_note(p) := sprintf(" (%s is %s, uuid %s)", [p.mount.source, p.dm.kernel_name, p.dm.uuid]) if is_object(p.dm)

dm_note(p) := "" if not is_object(p.dm)

# Image mode: fstab mounts the path from a /dev/mapper device that crypttab opens with LUKS.
image_configured(p) if {
	is_object(p.fstab)
	is_object(p.crypttab)
	startswith(p.fstab.source, "/dev/mapper/")
	not "plain" in p.crypttab.options
	not "tcrypt" in p.crypttab.options
}

configured_note(p) := sprintf(
	"%s: /etc/fstab mounts %s from %s (%s), which /etc/crypttab opens as a LUKS volume (%s: %s %s)",
	[p.path, p.fstab.mount_point, p.fstab.source, at(p.fstab), at(p.crypttab), p.crypttab.name, p.crypttab.device]
) if image_configured(p)

image_reason := concat(" ", [
	"this is an image/root filesystem scan (no /proc/self/mountinfo): encryption at rest is a property of the host's",
	"disk, which a file scan cannot see",
])

# --- status

all_failures := (missing | live_failures) | key_failures

all_configured if {
	every p in phi {
		image_configured(p)
	}
}

default status := "fail"
status := "error" if {
	count(read_errors) > 0
} else := "fail" if {
	count(all_failures) > 0
} else := "pass" if {
	live
	every p in phi {
		encrypted_note(p)
	}
} else := "manual" if {
	not live
}

pass_notes := [encrypted_note(p) | some p in phi]

key_desc(e) := "asked for at boot" if not is_string(e.key_file)

key_desc(e) := sprintf("file %s (mode %s, uid %v)", [e.key_file, e.key_stat.mode, e.key_stat.uid]) if {
	is_string(e.key_file)
	e.key_stat.exists
}

key_desc(e) := sprintf("file %s (%s)", [e.key_file, e.key_stat.error]) if {
	is_string(e.key_file)
	not e.key_stat.exists
}

manual_reasons := array.concat([sprintf(
	"configured, not verified: %s",
	[concat("; ", [configured_note(p) | some p in phi])]
)], [concat(" ", [
	"Verify on the running host: `lsblk -o NAME,TYPE,FSTYPE,MOUNTPOINT` shows the PHI mount under a crypt device, or",
	"rerun phipolicy on the live host.",
])]) if {
	all_configured
} else := array.concat([image_reason], [sprintf(concat(" ", [
	"What would settle it: run phipolicy on the live host, or attest that the disk holding %s is encrypted (LUKS,",
	"self-encrypting drive, or the cloud provider's volume encryption).",
]), [concat(", ", [p.path | some p in phi])])])

reasons := sort(read_errors) if {
	status == "error"
} else := sort(all_failures) if {
	status == "fail"
} else := pass_notes if {
	status == "pass"
} else := manual_reasons

# --- evidence

evidence_items contains {
	"path": mountinfo.path,
	"line": p.mount.line,
	"detail": sprintf(
		"%s on %s type %s (device %s) holds %s",
		[p.mount.source, p.mount.mount_point, p.mount.fs_type, p.mount.device, p.path]
	),
} if {
	some p in phi
	is_object(p.mount)
}

evidence_items contains {
	"path": sprintf("/sys/block/%s/dm/uuid", [d.kernel_name]),
	"line": 0,
	"detail": sprintf("%s (%s): uuid %s", [d.kernel_name, d.name, d.uuid]),
} if {
	some p in phi
	some d in [p.dm, p.luks]
	is_object(d)
}

evidence_items contains {
	"path": p.fscrypt.path,
	"line": 0,
	"detail": sprintf(
		"fscrypt metadata: policies %s; %v protectors",
		[concat(", ", p.fscrypt.policies), count(p.fscrypt.protectors)]
	),
} if {
	some p in phi
	is_object(p.fscrypt)
}

evidence_items contains {
	"path": e.path,
	"line": e.line,
	"detail": sprintf("crypttab %s %s, key %s", [e.name, e.device, key_desc(e)]),
} if {
	some e in facts.crypttab.entries
}

evidence_items contains {
	"path": p.fstab.path,
	"line": p.fstab.line,
	"detail": sprintf(
		"fstab: %s on %s type %s (holds %s)",
		[p.fstab.source, p.fstab.mount_point, p.fstab.fs_type, p.path]
	),
} if {
	some p in phi
	is_object(p.fstab)
}

evidence_items contains {"path": p.path, "line": 0, "detail": sprintf("PHI path (%s)", [p.kind])} if {
	some p in phi
	p.exists
}

evidence_items contains {"path": i.path, "line": i.line, "detail": i.message} if {
	some t in [mountinfo, facts.crypttab, facts.fstab]
	some i in t.issues
}

evidence := sort(evidence_items)

# --- remediation

steps contains {
	"order": 0,
	"text": "Make the files named in the reasons readable to the scan, then rerun.",
} if status == "error"

steps contains {
	"order": 1,
	"text": "Set phi_paths to the directories that really hold PHI, or create them on encrypted storage.",
} if count(missing) > 0

steps contains {"order": 2, "text": concat("\n", [
	concat(" ", [
		"Move PHI onto a LUKS volume: `cryptsetup luksFormat --type luks2 /dev/sdX && cryptsetup open /dev/sdX",
		"phi_crypt && mkfs.ext4 /dev/mapper/phi_crypt`,",
	]),
	concat(" ", [
		"add `phi_crypt UUID=<luks uuid> none luks` to /etc/crypttab and `/dev/mapper/phi_crypt <mount point> ext4",
		"defaults 0 2` to /etc/fstab, copy the data, wipe the old copy.",
	]),
	"Alternatively on ext4/f2fs: `fscrypt setup`, then `fscrypt encrypt <empty dir>` and move the data in.",
])} if count(live_failures) > 0

steps contains {
	"order": 3,
	"text": concat(" ", [
		"For each key file listed: `chown root:root FILE && chmod 0400 FILE`",
		"(or keep the key in the initramfs only).",
	]),
} if count(key_failures) > 0

steps contains {"order": 4, "text": concat(" ", [
	"Run phipolicy on the live host (it reads /proc/self/mountinfo and /sys/block), or record an attestation of the",
	"disk encryption (LUKS, SED, cloud volume encryption) for the auditor.",
])} if status == "manual"

remediation := lib.remediation(steps, metadata.remediation)

result := {
	"status": status,
	"reasons": reasons,
	"evidence": evidence,
	"remediation": remediation,
}
