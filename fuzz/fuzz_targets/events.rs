//! Events and list pages from any JSON: never a panic; whatever reads, writes back and reads
//! again to the same value; the stream's fast path (`from_json`) and the general one agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use managed_agents::types::{Agent, FileMetadata, Session, SessionEvent, StreamSessionEvents};
use managed_agents::Page;
use serde::{de::DeserializeOwned, Serialize};

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<T>(data) {
        let text = serde_json::to_string(&v).expect("a value that was read writes");
        let again: T = serde_json::from_str(&text).expect("what was written reads");
        assert_eq!(again, v);
    }
}

fn page<T: DeserializeOwned>(data: &[u8]) {
    let _ = serde_json::from_slice::<Page<T>>(data);
}

/// `from_json` reads exactly what `serde_json::from_str` reads, and fails where it fails.
fn same_as_general(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match (
        StreamSessionEvents::from_json(text),
        serde_json::from_str::<StreamSessionEvents>(text),
    ) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("from_json {a:?} but from_str {b:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    same_as_general(data);
    round_trip::<SessionEvent>(data);
    round_trip::<StreamSessionEvents>(data);
    round_trip::<Session>(data);
    round_trip::<Agent>(data);
    page::<SessionEvent>(data);
    page::<Agent>(data);
    page::<Session>(data);
    page::<FileMetadata>(data);
});
