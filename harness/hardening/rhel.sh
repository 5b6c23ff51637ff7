#!/bin/sh
# Hardens a RHEL-family system (Rocky 8/9) for every control of the built-in hipaa profile: the
# same steps as debian.sh in the RHEL layout (authselect with-faillock, /etc/bashrc, /var/log/secure,
# /var/spool/cron/USER, crypto-policies). Installs what the stock container image lacks with dnf.
# Not yet run by the harness on this machine: no registry is reachable to pull rockylinux images.
# engine/tests/fixtures/rocky9-hardened is this script's result on Rocky 9's own files (see its
# PROVENANCE); engine/tests/rhel_hardening.rs keeps the two on the same settings: every file written
# here with `cat > FILE <<EOF` must be in that tree with the same text.
set -eu

PHI=/var/data/phi
PHI_GROUP=phi-access
EVIDENCE_DATE=2026-11-01T09:00:00Z

dnf -y -q install epel-release >/dev/null
dnf -y -q install openssh-server audit libpwquality rsyslog rsyslog-gnutls cronie sudo restic \
    cryptsetup openssl authselect shadow-utils passwd >/dev/null

# --- ids.unique, ids.phi-group ----------------------------------------------------------------------
groupadd -f "$PHI_GROUP"
for user in alice bob; do
    id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
    usermod --append --groups "$PHI_GROUP" "$user"
    usermod --password "$(openssl passwd -6 "Harness-$user-Pa55phrase!")" "$user"
done

# --- emergency.procedure ----------------------------------------------------------------------------
mkdir -p /etc/hipaa
cat > /etc/hipaa/emergency-access.md <<'EOF'
# Emergency (break-glass) access

Sealed credentials in the safe; every use is audited and reviewed.
EOF

# --- logoff.shell-timeout ---------------------------------------------------------------------------
cat > /etc/profile.d/99-hipaa-timeout.sh <<'EOF'
TMOUT=900
readonly TMOUT
export TMOUT
EOF
chmod 0644 /etc/profile.d/99-hipaa-timeout.sh

# --- sshd: Rocky 8's sshd_config has no Include, so the settings go at its top ------------------------
cat > /etc/issue.net <<'EOF'
Authorized users only. All activity on this system is monitored and recorded.
EOF
HIPAA_SSHD="PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
ChallengeResponseAuthentication no
PermitEmptyPasswords no
PubkeyAuthentication yes
MaxAuthTries 3
AllowGroups $PHI_GROUP
ClientAliveInterval 300
ClientAliveCountMax 3
Banner /etc/issue.net"
if grep -Eiq '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d/\*\.conf' /etc/ssh/sshd_config; then
    printf '%s\n' "$HIPAA_SSHD" > /etc/ssh/sshd_config.d/00-hipaa.conf
else
    { printf '%s\n' "$HIPAA_SSHD"; cat /etc/ssh/sshd_config; } > /etc/ssh/sshd_config.new
    mv /etc/ssh/sshd_config.new /etc/ssh/sshd_config
fi

# --- crypto.in-transit: sshd's Ciphers/MACs come from the system crypto policy (Rocky 9: the Include
# in 50-redhat.conf; Rocky 8: CRYPTO_POLICY on sshd's command line). DEFAULT offers hmac-sha1 (and CBC
# on Rocky 8); a subpolicy drops them for SSH only. DEFAULT:NO-SHA1 would not: it keeps the MACs.
mkdir -p /etc/crypto-policies/policies/modules
cat > /etc/crypto-policies/policies/modules/NO-WEAK-SSH.pmod <<'EOF'
mac@SSH = -HMAC-SHA1
cipher@SSH = -*-CBC
EOF
update-crypto-policies --set DEFAULT:NO-WEAK-SSH >/dev/null

# --- crypto.at-rest (configuration an image scan can see) --------------------------------------------
mkdir -p /etc/luks-keys
[ -f /etc/luks-keys/phi.key ] || head -c 64 /dev/urandom > /etc/luks-keys/phi.key
chmod 0400 /etc/luks-keys/phi.key
echo 'phi_crypt UUID=3f1c2b7e-9d3a-4c51-a0e2-6b8f4e2d1c90 /etc/luks-keys/phi.key luks' >> /etc/crypttab
echo "/dev/mapper/phi_crypt $PHI xfs defaults,nodev,nosuid 0 2" >> /etc/fstab

# --- integrity.phi-permissions ------------------------------------------------------------------------
mkdir -p "$PHI"
chown root:"$PHI_GROUP" "$PHI"
chmod 0750 "$PHI"

# --- audit.auditd, audit.rules --------------------------------------------------------------------------
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -sf /usr/lib/systemd/system/auditd.service /etc/systemd/system/multi-user.target.wants/auditd.service
for kv in space_left_action=SYSLOG admin_space_left_action=SUSPEND disk_full_action=SUSPEND \
    disk_error_action=SUSPEND max_log_file_action=ROTATE; do
    key=${kv%%=*}
    sed -i -E "s|^[[:space:]]*$key[[:space:]]*=.*|$key = ${kv#*=}|" /etc/audit/auditd.conf
done
cat > /etc/audit/rules.d/50-hipaa.rules <<EOF
-w /etc/passwd -p wa -k identity
-w /etc/shadow -p wa -k identity
-w /etc/group -p wa -k identity
-w /etc/sudoers -p wa -k privilege
-w /etc/sudoers.d -p wa -k privilege
-w $PHI -p rwxa -k phi-access
-w /var/log/secure -p wa -k authlog
-a always,exit -F arch=b64 -S execve -F euid=0 -k root-commands
-a always,exit -F arch=b32 -S execve -F euid=0 -k root-commands
-a always,exit -F arch=b64 -S unlink,unlinkat,rename,renameat -k deletions
-a always,exit -F arch=b32 -S unlink,unlinkat,rename,renameat -k deletions
EOF
cat > /etc/audit/rules.d/99-finalize.rules <<'EOF'
-e 2
EOF

# --- audit.forwarding ------------------------------------------------------------------------------------
# rsyslog refuses TLS without its CA: the log server's CA certificate (PEM) goes where the config names it.
# The harness has no log server, so it makes a stand-in CA; a real host installs the site's.
[ -f /etc/pki/tls/certs/hipaa-log-ca.pem ] ||
    openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -days 3650 \
        -subj "/CN=HIPAA harness log CA" -out /etc/pki/tls/certs/hipaa-log-ca.pem 2>/dev/null
cat > /etc/rsyslog.d/90-hipaa-forward.conf <<'EOF'
global(DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="/etc/pki/tls/certs/hipaa-log-ca.pem")
*.* action(type="omfwd" target="logs.internal.example.com" port="6514" protocol="tcp"
           StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name")
EOF

# --- passwords.quality, lockout.failed-logins: authselect owns system-auth/password-auth -------------
mkdir -p /etc/security/pwquality.conf.d
cat > /etc/security/pwquality.conf.d/50-hipaa.conf <<'EOF'
minlen = 14
minclass = 3
maxrepeat = 2
gecoscheck = 1
dictcheck = 1
EOF
cat > /etc/security/faillock.conf <<'EOF'
deny = 5
unlock_time = 1800
EOF
authselect select sssd with-faillock --force >/dev/null 2>&1 ||
    authselect select minimal with-faillock --force >/dev/null

# --- passwords.aging ----------------------------------------------------------------------------------
sed -i -E 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t90/; s/^PASS_MIN_DAYS.*/PASS_MIN_DAYS\t7/; s/^PASS_WARN_AGE.*/PASS_WARN_AGE\t14/' /etc/login.defs
awk -F: '$3 >= 1000 && $3 < 65534 { print $1 }' /etc/passwd | while read -r account; do
    chage --maxdays 90 --mindays 7 --warndays 14 "$account"
done

# --- backup.schedule, backup.restore-tested -------------------------------------------------------------
mkdir -p /etc/restic
umask 077
[ -f /etc/restic/password ] || openssl rand -base64 32 > /etc/restic/password
umask 022
chmod 0600 /etc/restic/password
cat > /etc/cron.d/hipaa-backup <<EOF
30 2 * * * root restic -r sftp:backup@backup.internal.example.com:/srv/restic/phi --password-file /etc/restic/password backup $PHI --quiet
EOF
mkdir -p /var/log/hipaa-restore-tests
cat > /var/log/hipaa-restore-tests/2026-11-01-restore-test.txt <<'EOF'
Restore test 2026-11-01: OK
EOF
touch -d "$EVIDENCE_DATE" /var/log/hipaa-restore-tests/2026-11-01-restore-test.txt

# --- incident.response, risk.evidence ---------------------------------------------------------------------
cat > /usr/local/bin/hipaa-incident-response.sh <<'EOF'
#!/bin/sh
set -eu
d=/var/log/hipaa-incidents/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$d"
ausearch --start today > "$d/audit.txt" 2>/dev/null || true
EOF
chmod 0750 /usr/local/bin/hipaa-incident-response.sh
mkdir -p /var/log/hipaa-incidents
chmod 0750 /var/log/hipaa-incidents
cat > /var/log/hipaa-risk-assessment-2026-11-01.txt <<'EOF'
HIPAA risk assessment 2026-11-01
EOF
touch -d "$EVIDENCE_DATE" /var/log/hipaa-risk-assessment-2026-11-01.txt

echo "hardening applied"
