//! When to try a call again and how long to wait first, as the official SDKs decide it: the
//! `x-should-retry` header, then the status; `retry-after-ms`, then `retry-after` (seconds or
//! an HTTP date), else an exponential backoff with jitter. The header parsers take any text a
//! server sends and never panic (they are fuzzed).

use std::time::{Duration, Instant, SystemTime};

/// The longest wait a server can ask for; a longer one is cut to it, as the official SDKs cut
/// it (about 49.7 days: the longest sleep some platforms take). The call's deadline still
/// bounds it: a wait that would end past it fails the call at once.
const MAX_SERVER_DELAY: f64 = 4_294_967.0;

/// The official SDKs' backoff: 0.5 s doubling up to 8 s, less up to a quarter of jitter.
pub(crate) fn backoff(retry: u32) -> Duration {
    let base = (0.5 * 2f64.powi(retry.min(16) as i32)).min(8.0);
    Duration::from_secs_f64(base * (1.0 - 0.25 * jitter()))
}

/// A number in `[0, 1)`, different on every call.
pub(crate) fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Returns whether an answer with this status should be tried again: `x-should-retry: true` or `false`
/// decides; otherwise 408, 409, 429 and 5xx are retried.
pub fn should_retry(status: u16, x_should_retry: Option<&str>) -> bool {
    match x_should_retry {
        Some("true") => true,
        Some("false") => false,
        _ => matches!(status, 408 | 409 | 429) || status >= 500,
    }
}

/// Returns the wait a server asks for: `retry-after-ms`, then `retry-after` in seconds or as an HTTP
/// date (counted from `now`); taken when more than 0 (cut to about 49.7 days, as the official
/// SDKs cut it), else `None`.
pub fn server_delay(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    let secs = retry_after_ms
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|ms| ms / 1000.0)
        .or_else(|| {
            let v = retry_after?.trim();
            v.parse::<f64>().ok().or_else(|| {
                let at = http_date(v)?;
                let now = now.duration_since(SystemTime::UNIX_EPOCH).ok()?;
                Some(at as f64 - now.as_secs_f64())
            })
        })?;
    // a wait too small for a nanosecond is no wait the server asked for: the backoff decides
    (secs > 0.0)
        .then(|| Duration::from_secs_f64(secs.min(MAX_SERVER_DELAY)))
        .filter(|d| !d.is_zero())
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) in the years
/// 1970 to 9999; anything else is `None`.
pub fn http_date(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let day: i64 = it.next()?.parse().ok()?;
    let month_name = it.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as i64 + 1;
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT" || it.next().is_some() || hms.next().is_some() {
        return None;
    }
    if !(1970..=9999).contains(&year)
        || !(1..=31).contains(&day)
        || !(0..=23).contains(&h)
        || !(0..=59).contains(&m)
        || !(0..=60).contains(&sec)
    {
        return None;
    }
    // days from civil (Howard Hinnant's algorithm); every term is small in these ranges
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + h * 3600 + m * 60 + sec)
}

/// [`should_retry`] on an answer's headers.
pub(crate) fn should_retry_answer(status: u16, headers: &ureq::http::HeaderMap) -> bool {
    should_retry(
        status,
        headers.get("x-should-retry").and_then(|v| v.to_str().ok()),
    )
}

/// [`server_delay`] on an answer's headers, now.
pub(crate) fn server_delay_of(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    server_delay(get("retry-after-ms"), get("retry-after"), SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_wait_shorter_than_a_nanosecond_is_no_wait() {
        // found by the headers fuzz target: `4e-15` ms became a zero wait
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(server_delay(Some("4e-15"), None, now), None);
        assert_eq!(server_delay(None, Some("1e-12"), now), None);
        assert_eq!(
            server_delay(Some("0.001"), None, now),
            Some(Duration::from_micros(1))
        );
    }

    #[test]
    fn http_dates_parse_in_the_years_1970_to_9999_only() {
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            http_date("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253402300799)
        );
        for bad in [
            "Thu, 01 Jan 1970 00:00:00 PST",
            "soon",
            "Wed, 31 Dec 1969 23:59:59 GMT",
            "Sat, 01 Jan 10000 00:00:00 GMT",
            "Sun, 06 Nov 99999999999999999 08:49:37 GMT",
            "Sun, 06 Nov -9223372036854775808 08:49:37 GMT",
            "Sun, 06 Nov 1994 -1:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
        ] {
            assert_eq!(http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn backoff_doubles_to_eight_seconds_with_at_most_a_quarter_of_jitter() {
        for (retry, base) in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)] {
            let d = backoff(retry).as_secs_f64();
            assert!(d <= base && d >= base * 0.75, "retry {retry}: {d}");
        }
        assert!(backoff(u32::MAX) <= Duration::from_secs(8));
    }

    #[test]
    fn server_delays_follow_the_sdk() {
        let now = SystemTime::now();
        assert_eq!(
            server_delay(None, Some("2"), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            server_delay(Some("150"), Some("2"), now),
            Some(Duration::from_millis(150))
        );
        // any wait the server asks for is taken, as anthropic 2.17 takes it (2.12 fell back
        // to the backoff over 60 s), cut where a sleep would fail
        assert_eq!(
            server_delay(Some("61000"), Some("1"), now),
            Some(Duration::from_secs(61))
        );
        assert_eq!(
            server_delay(None, Some("86400"), now),
            Some(Duration::from_secs(86400))
        );
        for huge in ["inf", "1e400", "1e12"] {
            assert_eq!(
                server_delay(None, Some(huge), now),
                Some(Duration::from_secs(4_294_967)),
                "{huge}"
            );
        }
        assert_eq!(
            server_delay(None, Some("Thu, 01 Jan 1970 00:00:00 GMT"), now),
            None,
            "a date in the past"
        );
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(784111777 - 30);
        assert_eq!(
            server_delay(None, Some("Sun, 06 Nov 1994 08:49:37 GMT"), at),
            Some(Duration::from_secs(30))
        );
        for odd in ["NaN", "-1", "0", ""] {
            assert_eq!(server_delay(Some(odd), Some(odd), now), None, "{odd}");
        }
    }

    #[test]
    fn x_should_retry_overrides_the_status() {
        assert!(should_retry(400, Some("true")));
        assert!(!should_retry(503, Some("false")));
        assert!(should_retry(529, None));
        assert!(should_retry(409, Some("maybe")));
        assert!(!should_retry(404, None));
    }
}
