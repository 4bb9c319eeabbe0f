//! The emulator's request reader: whatever bytes arrive on a connection, it reads requests
//! until it stops with an answerable 4xx, an I/O error or the end, never panics, never holds a
//! body larger than its bound, and never reads past what it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use managed_agents_emulator::__fuzz::{read_request, Limits, RequestError};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_request_line: 256,
        max_header_line: 128,
        max_headers: 8,
        max_body: 4096,
    };
    let mut rest = data;
    loop {
        let before = rest.len();
        match read_request(&mut rest, &limits) {
            Ok(req) => {
                assert!(req.body.len() as u64 <= limits.max_body);
                assert!(req.headers.len() <= limits.max_headers, "headers and trailers");
                assert!(req.target.starts_with('/'));
                assert!(rest.len() < before, "a request consumed bytes");
            }
            Err(RequestError::Invalid { status, message }) => {
                assert!(matches!(status, 400 | 413 | 414 | 431 | 501), "{status}");
                assert!(!message.is_empty());
                break;
            }
            Err(RequestError::Closed) => {
                assert!(rest.is_empty());
                break;
            }
            Err(RequestError::Io(_)) => break,
        }
    }
});
