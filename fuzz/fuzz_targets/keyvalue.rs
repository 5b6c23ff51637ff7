#![no_main]
//! `cargo fuzz run keyvalue`: see `phipolicy_parsers::fuzzing::keyvalue` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::keyvalue(data));
