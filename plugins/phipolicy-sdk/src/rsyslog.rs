//! rsyslog configuration (being written in this session).
