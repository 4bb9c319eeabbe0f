//! Every way a delivery is refused, each with its own error, and the tolerance edges.

use super::{at, body, headers, hook, signed, NOW, SECRET};
use managed_agents::webhooks::{self, Secret, Webhook, WebhookError};
use std::time::Duration;

#[test]
fn each_missing_or_empty_header_is_named() {
    let body = body("session.created");
    let full = signed(&body);
    for (i, name) in ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .enumerate()
    {
        let mut without = full.clone();
        without.remove(i);
        assert_eq!(
            hook().verify(&body, &without),
            Err(WebhookError::MissingHeader { name })
        );
        let mut empty = full.clone();
        empty[i].1 = "  ".into();
        assert_eq!(
            hook().verify(&body, &empty),
            Err(WebhookError::MissingHeader { name })
        );
    }
    let none: [(&str, &str); 0] = [];
    assert!(matches!(
        hook().verify(&body, none),
        Err(WebhookError::MissingHeader { name: "webhook-id" })
    ));
}

#[test]
fn a_header_that_is_not_utf8_or_given_twice_differently_is_refused() {
    let body = body("session.created");
    let mut h: Vec<(Vec<u8>, Vec<u8>)> = signed(&body)
        .into_iter()
        .map(|(k, v)| (k.into_bytes(), v.into_bytes()))
        .collect();
    h[0].1 = b"msg_\xff".to_vec();
    let e = hook().verify(&body, &h).unwrap_err();
    assert!(
        matches!(
            e,
            WebhookError::InvalidHeader {
                name: "webhook-id",
                ..
            }
        ),
        "{e:?}"
    );

    let mut twice = signed(&body);
    twice.push(("Webhook-Id".into(), "msg_other".into()));
    let e = hook().verify(&body, &twice).unwrap_err();
    assert!(
        matches!(
            e,
            WebhookError::InvalidHeader {
                name: "webhook-id",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("twice"), "{e}");
    // the same value twice is one header
    let mut same = signed(&body);
    same.push(("WEBHOOK-TIMESTAMP".into(), NOW.to_string()));
    hook().verify(&body, &same).unwrap();
}

#[test]
fn a_timestamp_that_is_not_a_number_is_refused() {
    let body = body("session.created");
    for bad in ["abc", "17776368OO", "inf", "NaN", "-inf", "1e300", "0x10"] {
        let h = headers("msg_1", bad, &hook().sign("msg_1", NOW, &body));
        assert_eq!(
            hook().verify(&body, &h),
            Err(WebhookError::InvalidTimestamp { value: bad.into() }),
            "{bad}"
        );
    }
}

#[test]
fn tolerance_is_five_minutes_either_way_inclusive() {
    let body = body("session.created");
    let check = |ts: i64| {
        let h = headers("msg_1", &ts.to_string(), &hook().sign("msg_1", ts, &body));
        hook().verify(&body, &h)
    };
    assert_eq!(check(NOW - 300), Ok(()));
    assert_eq!(check(NOW + 300), Ok(()));
    assert_eq!(check(NOW), Ok(()));
    assert_eq!(
        check(NOW - 301),
        Err(WebhookError::TimestampTooOld {
            timestamp: NOW - 301,
            now: NOW
        })
    );
    assert_eq!(
        check(NOW + 301),
        Err(WebhookError::TimestampTooNew {
            timestamp: NOW + 301,
            now: NOW
        })
    );
    // a wider window, set by the caller
    let wide = hook().tolerance(Duration::from_secs(3600));
    let h = headers(
        "msg_1",
        &(NOW - 3000).to_string(),
        &wide.sign("msg_1", NOW - 3000, &body),
    );
    assert_eq!(wide.verify(&body, &h), Ok(()));
    // the system clock is the default: a delivery signed long ago is too old today
    let old = Webhook::new(Secret::new(SECRET).unwrap());
    let h = headers("msg_1", "1614265330", &old.sign("msg_1", 1614265330, &body));
    assert!(matches!(
        old.verify(&body, &h),
        Err(WebhookError::TimestampTooOld { .. })
    ));
}

#[test]
fn a_fractional_timestamp_is_judged_as_given_and_signed_in_whole_seconds() {
    // as the official verifier: the header is read as a decimal number and judged as given;
    // the signed content carries its whole seconds
    let body = body("session.created");
    let check = |header: String, signed_at: i64| {
        let sig = hook().sign("msg_1", signed_at, &body);
        hook().verify(&body, headers("msg_1", &header, &sig))
    };
    assert_eq!(check(format!("{}.9", NOW + 299), NOW + 299), Ok(()));
    assert_eq!(check(format!("{}.0", NOW - 300), NOW - 300), Ok(()));
    assert!(matches!(
        check(format!("{}.4", NOW + 300), NOW + 300),
        Err(WebhookError::TimestampTooNew { .. })
    ));
    assert!(matches!(
        check(format!("{}.5", NOW - 301), NOW - 301),
        Err(WebhookError::TimestampTooOld { .. })
    ));
    // signed over the header text instead of its whole seconds: no match
    assert_eq!(
        check(format!("{}.9", NOW), NOW + 1),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
}

#[test]
fn a_changed_body_id_or_timestamp_or_another_secret_matches_no_signature() {
    let body = body("session.created");
    let h = signed(&body);
    let changed = body.replace("sesn_1", "sesn_2");
    assert_eq!(
        hook().verify(&changed, &h),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
    let mut other_id = h.clone();
    other_id[0].1 = "msg_2".into();
    assert_eq!(
        hook().verify(&body, &other_id),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
    let mut other_ts = h.clone();
    other_ts[1].1 = (NOW - 1).to_string();
    assert_eq!(
        hook().verify(&body, &other_ts),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
    let stranger = Webhook::new(Secret::new("whsec_c2VjcmV0IG9mIGFub3RoZXIgZW5kcG9pbnQ=").unwrap())
        .now(at(NOW));
    assert_eq!(
        stranger.verify(&body, &h),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
    // a truncated signature does not pass as a prefix
    let mut short = h.clone();
    short[2].1 = short[2].1[..20].to_string();
    assert_eq!(
        hook().verify(&body, &short),
        Err(WebhookError::NoMatchingSignature { checked: 1 })
    );
}

#[test]
fn any_one_v1_signature_of_several_suffices_and_other_versions_are_ignored() {
    let body = body("session.created");
    let good = hook().sign("msg_1", NOW, &body);
    let stale = Webhook::new(Secret::from_bytes(b"rotated-out".to_vec()).unwrap())
        .sign("msg_1", NOW, &body);
    let bare = &good[3..];
    for (sigs, ok) in [
        (format!("{stale} {good}"), true),
        (format!("{good} {stale}"), true),
        (format!("v1,!!notbase64 v1a,{bare} {good}"), true),
        (format!("  {stale}   {good}  "), true),
        (format!("garbage v1 ,{bare} {good}"), true),
        (format!("v2,{bare} v1a,{bare}"), false),
        (format!("{stale} v1,{}", &bare[..bare.len() - 4]), false),
    ] {
        let r = hook().verify(&body, headers("msg_1", &NOW.to_string(), &sigs));
        assert_eq!(r.is_ok(), ok, "{sigs}: {r:?}");
    }
    // only other versions: nothing was checked, and the message says so
    let e = hook()
        .verify(
            &body,
            headers("msg_1", &NOW.to_string(), &format!("v2,{bare}")),
        )
        .unwrap_err();
    assert_eq!(e, WebhookError::NoMatchingSignature { checked: 0 });
    assert!(e.to_string().contains("no `v1,` signature"), "{e}");
    // the header given twice: the signatures of both count
    let mut h = headers("msg_1", &NOW.to_string(), &stale);
    h.push(("webhook-signature".into(), good.clone()));
    assert_eq!(hook().verify(&body, &h), Ok(()));
}

#[test]
fn a_bad_secret_is_refused_without_showing_it() {
    for bad in ["whsec_", "", "whsec_not base64!", "whsec_abc$def"] {
        let e = Secret::new(bad).unwrap_err();
        assert!(
            matches!(e, WebhookError::InvalidSecret { .. }),
            "{bad:?}: {e:?}"
        );
        let e = webhooks::unwrap("{}", signed("{}"), bad).unwrap_err();
        assert!(
            matches!(e, WebhookError::InvalidSecret { .. }),
            "{bad:?}: {e:?}"
        );
        let shown = format!("{e} {e:?} {}", managed_agents::Error::from(e.clone()));
        assert!(bad.len() < 8 || !shown.contains(&bad[6..]), "{shown}");
    }
    assert!(Secret::from_bytes(Vec::new()).is_err());
    let secret = Secret::new(SECRET).unwrap();
    assert_eq!(
        format!("{secret:?} {:?}", hook()).matches("MfKQ").count(),
        0
    );
}

#[test]
fn a_verified_body_that_is_not_an_event_is_refused_after_the_signature() {
    for body in [
        "not json",
        r#"{"id":"wevt_1","type":"event"}"#,
        r#"{"id":"wevt_1","created_at":"x","type":"other","data":{"type":"x"}}"#,
    ] {
        let e = hook().unwrap(body, signed(body)).unwrap_err();
        let WebhookError::InvalidPayload { excerpt, .. } = &e else {
            panic!("{body}: {e:?}");
        };
        assert!(body.starts_with(excerpt.trim_end_matches('…')), "{excerpt}");
        assert!(matches!(
            managed_agents::Error::from(e),
            managed_agents::Error::Decode { .. }
        ));
        // verify alone does not read the body
        hook().verify(body, signed(body)).unwrap();
    }
    // bytes that are not UTF-8 sign and verify as bytes
    let raw = b"\xff\xfe binary";
    let h = headers("msg_1", &NOW.to_string(), &hook().sign("msg_1", NOW, raw));
    hook().verify(raw, &h).unwrap();
    assert!(matches!(
        hook().unwrap(raw, &h),
        Err(WebhookError::InvalidPayload { .. })
    ));
}

#[test]
fn errors_convert_into_the_crate_error_naming_what_was_wrong() {
    let e: managed_agents::Error = WebhookError::TimestampTooOld {
        timestamp: 1,
        now: 400,
    }
    .into();
    assert_eq!(
        e.to_string(),
        "invalid webhook-timestamp: webhook refused: timestamp 1 is too old (399s before now, 400)"
    );
    let e: managed_agents::Error = WebhookError::NoMatchingSignature { checked: 2 }.into();
    assert!(
        matches!(&e, managed_agents::Error::InvalidInput { param, .. } if param == "webhook-signature")
    );
}
