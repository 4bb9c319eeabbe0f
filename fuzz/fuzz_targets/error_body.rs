//! API error bodies: any status and body give an `Error::Api` that displays, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use managed_agents::Error;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => (500, data),
    };
    let e = Error::from_api_body(status, None, body);
    assert_eq!(e.status(), Some(status));
    let _ = e.to_string();
    let _ = format!("{e:?}");
});
