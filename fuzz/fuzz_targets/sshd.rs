#![no_main]
//! `cargo fuzz run sshd`: see `phipolicy_sdk::fuzzing::sshd` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_sdk::fuzzing::sshd(data));
