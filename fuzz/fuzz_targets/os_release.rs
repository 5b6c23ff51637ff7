#![no_main]
//! `cargo fuzz run os_release`: see `phipolicy_parsers::fuzzing::os_release` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::os_release(data));
