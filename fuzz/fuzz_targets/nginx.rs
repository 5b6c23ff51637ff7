#![no_main]
//! `cargo fuzz run nginx`: see `phipolicy_parsers::fuzzing::nginx` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::nginx(data));
