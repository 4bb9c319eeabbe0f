//! The SSE decoder: any bytes, cut into chunks by the first bytes of the input, must give
//! exactly the events that the whole input gives, and never panic or grow without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use managed_agents::sse::Decoder;

fn events(chunks: &[&[u8]]) -> Vec<(String, String, String, Option<std::time::Duration>)> {
    let mut d = Decoder::with_limits(4096, 16384);
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        while let Some(ev) = d.next_event() {
            match ev {
                Ok(ev) => out.push((ev.event().to_string(), ev.data().to_string(), ev.last_event_id().to_string(), ev.retry())),
                Err(e) => {
                    out.push(("<error>".into(), e.to_string(), String::new(), None));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (cuts, input) = data.split_at(1.min(data.len()));
    let step = 1 + cuts[0] as usize % 17;
    let whole = events(&[input]);
    let chunked: Vec<&[u8]> = input.chunks(step).collect();
    assert_eq!(events(&chunked), whole);
    // the zero-copy path agrees, however the input is cut
    let mut d = Decoder::with_limits(4096, 16384);
    let mut zero_copy = Vec::new();
    for c in &chunked {
        d.decode(c, |ev| match ev {
            Ok(ev) => zero_copy.push((ev.event().to_string(), ev.data().to_string(), ev.last_event_id().to_string(), ev.retry())),
            Err(e) => zero_copy.push(("<error>".into(), e.to_string(), String::new(), None)),
        });
    }
    assert_eq!(zero_copy, whole);
});
