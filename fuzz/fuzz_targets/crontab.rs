#![no_main]
//! `cargo fuzz run crontab`: see `phipolicy_parsers::fuzzing::crontab` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::crontab(data));
