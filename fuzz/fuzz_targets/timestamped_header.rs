#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hookgate_fuzz_logic::timestamped_header(data));
