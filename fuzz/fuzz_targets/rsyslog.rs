#![no_main]
//! `cargo fuzz run rsyslog`: see `phipolicy_parsers::fuzzing::rsyslog` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::rsyslog(data));
