//! Arbitrary `expand` lists (indexed, `[]`, a plain string, a hash; list or single-object
//! endpoint) through `expand::session` and `expand::report`, errors rendered as the server
//! answers them. Properties: no panic, every error a 4xx, an accepted path is a known one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vouch_fuzz::exercise_expand(data));
