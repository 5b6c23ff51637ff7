#![no_main]
//! `cargo fuzz run apache`: see `phipolicy_parsers::fuzzing::apache` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::apache(data));
