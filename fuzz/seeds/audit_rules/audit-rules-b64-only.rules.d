## HIPAA 164.312(b) audit rules
# Identity and privilege files
-w /etc/passwd -p wa -k identity
-w /etc/shadow -p wa -k identity
-w /etc/group -p wa -k identity
-w /etc/sudoers -p wa -k scope
-w /etc/sudoers.d/ -p wa -k scope

# PHI
-w /var/data/phi -p rwxa -k phi-access

# Authentication log
-w /var/log/auth.log -p wa -k auth-log

# Commands run as root
-a always,exit -F arch=b64 -S execve -F euid=0 -k root-commands

# Deletions and renames
-a always,exit -F arch=b64 -S unlink -S unlinkat -S rename -S renameat -F auid>=1000 -F auid!=unset -k delete
-a always,exit -F arch=b32 -S unlink,unlinkat,rename,renameat -F auid>=1000 -F auid!=unset -k delete
ÿ## Make the configuration immutable (reboot to change)
-e 2
ÿ## First rule - delete all
-D

## Increase the buffers to survive stress events.
## Make this bigger for busy systems
-b 8192

## This determine how long to wait in burst of events
--backlog_wait_time 60000

## Set failure mode to syslog
-f 1

