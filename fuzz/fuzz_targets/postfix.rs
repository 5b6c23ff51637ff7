#![no_main]
//! `cargo fuzz run postfix`: see `phipolicy_parsers::fuzzing::postfix` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::postfix(data));
