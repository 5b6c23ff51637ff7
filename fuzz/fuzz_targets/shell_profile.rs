#![no_main]
//! `cargo fuzz run shell_profile`: see `phipolicy_parsers::fuzzing::shell_profile` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::shell_profile(data));
