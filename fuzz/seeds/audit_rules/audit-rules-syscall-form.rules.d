## The same requirements in the -a spelling
-a exit,always -F path=/etc/passwd -F perm=aw -F key=identity
-a always,exit -F path=/etc/shadow -F perm=wa -F key=identity
-a always,exit -F path=/etc/group -F perm=awr -F key=identity
-a always,exit -F path=/etc/sudoers -F perm=wa -F key=scope
-a always,exit -F dir=/etc/sudoers.d -F perm=wa -F key=scope
-a always,exit -F dir=/var/data/phi -F perm=xawr -F key=phi-access
-a always,exit -F path=/var/log/auth.log -F perm=wa -F key=auth-log
-a always,exit -F arch=b64 -S 59 -F euid=0 -F key=root-commands
-a always,exit -F arch=b32 -S 11 -F euid=0 -F key=root-commands
-a always,exit -F arch=b64 -S 87,263,82 -S 316 -F auid>=1000 -F key=delete
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

