#![no_main]
//! `cargo fuzz run systemd_unit`: see `phipolicy_parsers::fuzzing::systemd_unit` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::systemd_unit(data));
