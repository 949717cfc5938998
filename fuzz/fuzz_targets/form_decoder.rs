//! Arbitrary bytes as a query string and a form body (split at the first `\n`, as a request
//! carries both), through `form::parse_into`, then a `Params` reader doing the takes of a
//! session create and a list, `finish`, and the error's Stripe rendering.
//!
//! Properties: no panic; a decoded tree stays within the documented limits; re-encoding a
//! decoded tree (without `[]` elements) and decoding it again gives the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_fuzz::{exercise_form, roundtrip};

fuzz_target!(|data: &[u8]| {
    let (query, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    if let Some(map) = exercise_form(query, body) {
        roundtrip(&map);
    }
});
