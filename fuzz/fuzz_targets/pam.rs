#![no_main]
//! `cargo fuzz run pam`: see `phipolicy_sdk::fuzzing::pam` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_sdk::fuzzing::pam(data));
