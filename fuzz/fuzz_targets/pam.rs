#![no_main]
//! `cargo fuzz run pam`: see `phipolicy_parsers::fuzzing::pam` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::pam(data));
