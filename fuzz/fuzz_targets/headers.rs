//! The retry headers a server sends (`retry-after-ms`, `retry-after` in seconds or as an HTTP
//! date, `x-should-retry`): any text gives an answer in range, never a panic or an overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use managed_agents::__fuzz::{http_date, server_delay, should_retry};
use std::time::{Duration, SystemTime};

/// 9999-12-31 23:59:60 GMT, the latest instant an accepted date can name.
const LATEST: i64 = 253_402_300_800;

fuzz_target!(|data: &[u8]| {
    let (status, rest) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => (503, data),
    };
    let text = String::from_utf8_lossy(rest);
    let mut fields = text.splitn(3, '\n');
    let (ms, after, should) = (fields.next(), fields.next(), fields.next());
    for s in [ms, after, should].into_iter().flatten() {
        if let Some(t) = http_date(s) {
            assert!((0..=LATEST).contains(&t), "{s:?} -> {t}");
        }
    }
    for now in [
        SystemTime::UNIX_EPOCH,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000),
    ] {
        if let Some(d) = server_delay(ms, after, now) {
            assert!(d > Duration::ZERO && d <= Duration::from_secs(4_294_967), "{d:?}");
        }
    }
    let retry = should_retry(status, should);
    match should {
        Some("true") => assert!(retry),
        Some("false") => assert!(!retry),
        _ => assert_eq!(retry, matches!(status, 408 | 409 | 429) || status >= 500),
    }
});
