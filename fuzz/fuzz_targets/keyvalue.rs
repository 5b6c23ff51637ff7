#![no_main]
//! `cargo fuzz run keyvalue`: see `phipolicy_sdk::fuzzing::keyvalue` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_sdk::fuzzing::keyvalue(data));
