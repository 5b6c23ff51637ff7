#![no_main]
//! `cargo fuzz run mountinfo`: see `phipolicy_parsers::fuzzing::mountinfo` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::mountinfo(data));
