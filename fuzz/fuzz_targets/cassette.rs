//! Cassette files: any bytes either read as a cassette or give an error naming a line of the
//! input (never a panic); a cassette that reads is replayed, each recorded request sent again
//! and each stream played, with a fault cutting one of them at a frame the input's length
//! picks, and nothing in it makes the replay panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use managed_agents_emulator::Cassette;
use managed_agents_emulator::__fuzz::replay_requests;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|b| *b == b'\n').count();
    match Cassette::from_reader(data) {
        Ok(cassette) => {
            let exchanges = cassette.len();
            let cut_at = Some(data.len() % 7).filter(|n| *n > 0);
            let seen = replay_requests(cassette, cut_at);
            assert!(seen.unplayed <= exchanges);
        }
        Err(e) => {
            assert!(e.line() >= 1 && e.line() <= lines, "{e} ({lines} lines)");
            assert!(!e.message().is_empty());
        }
    }
});
