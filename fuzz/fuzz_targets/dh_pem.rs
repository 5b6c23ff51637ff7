#![no_main]
//! `cargo fuzz run dh_pem`: see `phipolicy_parsers::fuzzing::dh_pem` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::dh_pem(data));
