#![no_main]
//! `cargo fuzz run accounts`: see `phipolicy_parsers::fuzzing::accounts` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::accounts(data));
