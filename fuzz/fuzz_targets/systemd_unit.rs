#![no_main]
//! `cargo fuzz run systemd_unit`: see `phipolicy_sdk::fuzzing::systemd_unit` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_sdk::fuzzing::systemd_unit(data));
