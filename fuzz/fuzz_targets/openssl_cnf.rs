#![no_main]
//! `cargo fuzz run openssl_cnf`: see `phipolicy_parsers::fuzzing::openssl_cnf` for the input layout and invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| phipolicy_parsers::fuzzing::openssl_cnf(data));
