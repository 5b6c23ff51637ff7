#!/bin/sh
# Hardens a Debian-family system (Debian 12/13, Ubuntu 22.04/24.04) for every control of the
# built-in hipaa profile, following the hardening guide's steps the way they actually work: drop-ins
# that are read first, login.defs plus chage for accounts that already exist, faillock (not
# pam_tally2), rsyslog forwarding over TLS, restic with a password file. Run as root, once.
set -eu

PHI=/var/data/phi
PHI_GROUP=phi-access
# Fixed dates keep the evidence fresh against the harness's evaluation time (2026-11-28T12:00:00Z).
EVIDENCE_DATE=2026-11-01T09:00:00Z

# --- ids.unique, ids.phi-group: named accounts in the PHI group, with real password hashes -------
groupadd -f "$PHI_GROUP"
for user in alice bob; do
    id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
    usermod --append --groups "$PHI_GROUP" "$user"
    usermod --password "$(openssl passwd -6 "Harness-$user-Pa55phrase!")" "$user"
done

# --- emergency.procedure: the break-glass procedure, where auditors look for it ------------------
mkdir -p /etc/hipaa
cat > /etc/hipaa/emergency-access.md <<'EOF'
# Emergency (break-glass) access to PHI systems

1. The on-call security officer retrieves the sealed break-glass credentials from the safe.
2. Log in on the console as `breakglass`; every command is recorded by auditd.
3. Open an incident with /usr/local/bin/hipaa-incident-response.sh and note the reason.
4. Rotate the credentials and reseal them within 24 hours; the compliance officer reviews the logs.
EOF
chmod 0644 /etc/hipaa/emergency-access.md

# --- logoff.shell-timeout: profile.d is sourced only for *.sh; readonly so users cannot unset it --
cat > /etc/profile.d/99-hipaa-timeout.sh <<'EOF'
# HIPAA 164.312(a)(2)(iii): log off idle shells after 15 minutes.
TMOUT=900
readonly TMOUT
export TMOUT
EOF
chmod 0644 /etc/profile.d/99-hipaa-timeout.sh

# --- auth.ssh, auth.banner, logoff.ssh-idle, sshd part of crypto.in-transit ------------------------
# sshd takes the first value it reads and reads sshd_config.d/*.conf (Include at the top of
# sshd_config) in lexical order, so 00- wins over 50-cloud-init.conf and over sshd_config itself.
cat > /etc/issue.net <<'EOF'
Authorized users only. All activity on this system is monitored and recorded.
Access to protected health information is restricted to authorized personnel.
EOF
mkdir -p /etc/ssh/sshd_config.d
cat > /etc/ssh/sshd_config.d/00-hipaa.conf <<EOF
# HIPAA hardening: read before every other drop-in, so these values are the effective ones.
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PubkeyAuthentication yes
MaxAuthTries 3
AllowGroups $PHI_GROUP
# Client-alive probes drop dead peers only; the idle logoff is TMOUT (profile.d/99-hipaa-timeout.sh).
ClientAliveInterval 300
ClientAliveCountMax 3
Banner /etc/issue.net
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr
MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
EOF
chmod 0644 /etc/ssh/sshd_config.d/00-hipaa.conf
if ! grep -Eiq '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d/\*\.conf' /etc/ssh/sshd_config; then
    # Older layouts have no Include: put the drop-in directory first.
    sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' /etc/ssh/sshd_config
fi

# --- crypto.at-rest: the PHI filesystem on a LUKS mapping, key file readable by root only ---------
# (A container cannot open LUKS devices; this is the configuration an image scan can see.)
mkdir -p /etc/luks-keys
if [ ! -f /etc/luks-keys/phi.key ]; then
    head -c 64 /dev/urandom > /etc/luks-keys/phi.key
fi
chown root:root /etc/luks-keys/phi.key
chmod 0400 /etc/luks-keys/phi.key
grep -q '^phi_crypt ' /etc/crypttab 2>/dev/null ||
    echo 'phi_crypt UUID=3f1c2b7e-9d3a-4c51-a0e2-6b8f4e2d1c90 /etc/luks-keys/phi.key luks,discard' >> /etc/crypttab
grep -q '^/dev/mapper/phi_crypt ' /etc/fstab 2>/dev/null ||
    echo "/dev/mapper/phi_crypt $PHI ext4 defaults,nodev,nosuid 0 2" >> /etc/fstab

# --- integrity.phi-permissions: 0750 root:phi-access, nothing world-readable beneath -------------
mkdir -p "$PHI/records"
chown root:"$PHI_GROUP" "$PHI" "$PHI/records"
chmod 0750 "$PHI" "$PHI/records"
printf 'patient-id,visit\n0001,2026-10-02\n' > "$PHI/records/visits.csv"
chown root:"$PHI_GROUP" "$PHI/records/visits.csv"
chmod 0640 "$PHI/records/visits.csv"

# --- audit.auditd: enabled at boot, never drops records silently -----------------------------------
mkdir -p /etc/systemd/system/multi-user.target.wants
for unit in /lib/systemd/system/auditd.service /usr/lib/systemd/system/auditd.service; do
    if [ -f "$unit" ]; then
        ln -sf "$unit" /etc/systemd/system/multi-user.target.wants/auditd.service
        break
    fi
done
set_auditd() {
    if grep -Eq "^[[:space:]]*$1[[:space:]]*=" /etc/audit/auditd.conf; then
        sed -i -E "s|^[[:space:]]*$1[[:space:]]*=.*|$1 = $2|" /etc/audit/auditd.conf
    else
        echo "$1 = $2" >> /etc/audit/auditd.conf
    fi
}
set_auditd space_left_action SYSLOG
set_auditd admin_space_left_action SUSPEND
set_auditd disk_full_action SUSPEND
set_auditd disk_error_action SUSPEND
set_auditd max_log_file_action ROTATE

# --- audit.rules: augenrules compiles rules.d/*.rules in lexical order --------------------------
# Debian's rules.d/audit.rules starts with -D (delete all rules); it sorts after 50-*.rules and
# would delete them, so it becomes 10-base-config.rules (upstream's layout).
if [ -f /etc/audit/rules.d/audit.rules ]; then
    mv /etc/audit/rules.d/audit.rules /etc/audit/rules.d/10-base-config.rules
fi
cat > /etc/audit/rules.d/50-hipaa.rules <<EOF
## HIPAA 164.312(b): identity, privilege, PHI access, authentication log, root commands, deletions.
-w /etc/passwd -p wa -k identity
-w /etc/shadow -p wa -k identity
-w /etc/group -p wa -k identity
-w /etc/sudoers -p wa -k privilege
-w /etc/sudoers.d -p wa -k privilege
-w $PHI -p rwxa -k phi-access
-w /var/log/auth.log -p wa -k authlog
-a always,exit -F arch=b64 -S execve -F euid=0 -k root-commands
-a always,exit -F arch=b32 -S execve -F euid=0 -k root-commands
-a always,exit -F arch=b64 -S unlink,unlinkat,rename,renameat -k deletions
-a always,exit -F arch=b32 -S unlink,unlinkat,rename,renameat -k deletions
EOF
cat > /etc/audit/rules.d/99-finalize.rules <<'EOF'
## Make the configuration immutable until reboot.
-e 2
EOF
chmod 0640 /etc/audit/rules.d/*.rules

# --- audit.forwarding: rsyslog to the central collector over TLS (the guide's @@host is plain TCP) -
# The organisation's log CA (made here; on a real host it is distributed by configuration management).
if [ ! -f /etc/ssl/certs/hipaa-log-ca.pem ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -days 3650 \
        -subj "/O=Example Health/CN=HIPAA log collector CA" \
        -out /etc/ssl/certs/hipaa-log-ca.pem 2>/dev/null
fi
cat > /etc/rsyslog.d/90-hipaa-forward.conf <<'EOF'
# Forward everything to the central log collector over TLS with server authentication.
global(
  DefaultNetstreamDriver="gtls"
  DefaultNetstreamDriverCAFile="/etc/ssl/certs/hipaa-log-ca.pem"
)
*.* action(type="omfwd" target="logs.internal.example.com" port="6514" protocol="tcp"
           StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
           StreamDriverPermittedPeers="logs.internal.example.com"
           queue.type="LinkedList" queue.filename="hipaa_fwd" action.resumeRetryCount="-1")
EOF

# --- passwords.quality: a pwquality.conf.d drop-in; pam_pwquality is in common-password ----------
mkdir -p /etc/security/pwquality.conf.d
cat > /etc/security/pwquality.conf.d/50-hipaa.conf <<'EOF'
minlen = 14
minclass = 3
maxrepeat = 2
gecoscheck = 1
dictcheck = 1
EOF
if ! grep -Eq '^[[:space:]]*password[[:space:]].*pam_pwquality\.so' /etc/pam.d/common-password; then
    pam-auth-update --package --enable pwquality
fi

# --- passwords.aging: login.defs for new accounts, chage for the ones that exist ------------------
set_login_defs() {
    if grep -Eq "^[[:space:]]*$1[[:space:]]" /etc/login.defs; then
        sed -i -E "s|^[[:space:]]*$1[[:space:]].*|$1\t$2|" /etc/login.defs
    else
        printf '%s\t%s\n' "$1" "$2" >> /etc/login.defs
    fi
}
set_login_defs PASS_MAX_DAYS 90
set_login_defs PASS_MIN_DAYS 7
set_login_defs PASS_WARN_AGE 14
uid_min=$(awk '$1 == "UID_MIN" { print $2 }' /etc/login.defs)
awk -F: -v min="${uid_min:-1000}" '$3 >= min && $3 < 65534 { print $1 }' /etc/passwd |
    while read -r account; do
        chage --maxdays 90 --mindays 7 --warndays 14 "$account"
    done

# --- lockout.failed-logins: pam_faillock through pam-auth-update profiles ------------------------
cat > /etc/security/faillock.conf <<'EOF'
# Lock an account for 30 minutes after 5 failed logins.
deny = 5
unlock_time = 1800
fail_interval = 900
EOF
cat > /usr/share/pam-configs/faillock <<'EOF'
Name: Lock accounts after repeated failed logins (pam_faillock)
Default: yes
Priority: 0
Auth-Type: Primary
Auth:
	[default=die]	pam_faillock.so authfail
	sufficient	pam_faillock.so authsucc
Account-Type: Additional
Account:
	required	pam_faillock.so
EOF
cat > /usr/share/pam-configs/faillock_notify <<'EOF'
Name: Refuse logins to locked accounts (pam_faillock preauth)
Default: yes
Priority: 1025
Auth-Type: Primary
Auth:
	requisite	pam_faillock.so preauth
EOF
DEBIAN_FRONTEND=noninteractive pam-auth-update --package --enable faillock faillock_notify

# --- backup.schedule: restic to an off-host repository, password in a root-only file --------------
mkdir -p /etc/restic
umask 077
if [ ! -f /etc/restic/password ]; then
    openssl rand -base64 32 > /etc/restic/password
fi
umask 022
chown root:root /etc/restic/password
chmod 0600 /etc/restic/password
cat > /etc/cron.d/hipaa-backup <<EOF
# Nightly encrypted backup of PHI to the off-site restic repository.
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
30 2 * * * root restic -r sftp:backup@backup.internal.example.com:/srv/restic/phi --password-file /etc/restic/password backup $PHI --quiet
EOF
chmod 0644 /etc/cron.d/hipaa-backup

# --- backup.restore-tested: the record of the last restore test ------------------------------------
mkdir -p /var/log/hipaa-restore-tests
cat > /var/log/hipaa-restore-tests/2026-11-01-restore-test.txt <<EOF
Restore test 2026-11-01: restic restore latest --target /tmp/restore-test --include $PHI
Result: 1 file restored, checksums match. Tested by: alice.
EOF
touch -d "$EVIDENCE_DATE" /var/log/hipaa-restore-tests/2026-11-01-restore-test.txt

# --- incident.response: the response script (root-owned, not writable by others) and evidence dir -
cat > /usr/local/bin/hipaa-incident-response.sh <<'EOF'
#!/bin/sh
# Collects volatile evidence for a security incident into /var/log/hipaa-incidents/<timestamp>.
set -eu
dir=/var/log/hipaa-incidents/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dir"
chmod 0700 "$dir"
{ date -u; uname -a; who; last -n 50 2>/dev/null || true; } > "$dir/summary.txt"
ausearch --start today > "$dir/audit.txt" 2>/dev/null || true
cp /var/log/auth.log "$dir/" 2>/dev/null || true
echo "evidence collected in $dir"
EOF
chown root:root /usr/local/bin/hipaa-incident-response.sh
chmod 0750 /usr/local/bin/hipaa-incident-response.sh
mkdir -p /var/log/hipaa-incidents
chown root:root /var/log/hipaa-incidents
chmod 0750 /var/log/hipaa-incidents

# --- risk.evidence: this year's risk assessment ------------------------------------------------------
cat > /var/log/hipaa-risk-assessment-2026-11-01.txt <<'EOF'
HIPAA risk assessment 2026-11-01
Scope: PHI systems; threats reviewed; controls evaluated with phipolicy; residual risk accepted by
the compliance officer.
EOF
touch -d "$EVIDENCE_DATE" /var/log/hipaa-risk-assessment-2026-11-01.txt

# --- the daemons themselves accept the result ---------------------------------------------------------
mkdir -p /run/sshd
sshd -t
rsyslogd -N1 >/dev/null
visudo -c >/dev/null

echo "hardening applied"
