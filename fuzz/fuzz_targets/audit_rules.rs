#![no_main]
//! `cargo fuzz run audit_rules`: see `phipolicy_parsers::fuzzing::audit_rules` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::audit_rules(data));
