#![no_main]
//! `cargo fuzz run sshd`: see `phipolicy_parsers::fuzzing::sshd` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::sshd(data));
