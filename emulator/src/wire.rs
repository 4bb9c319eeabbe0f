//! The bytes on the wire that both the plain answers (`http`) and the live stream (`stream`)
//! write: the request id every answer carries, and the writing of bytes, trickled one at a
//! time when a fault asks.

use std::io::Write;
use std::time::Duration;

/// Returns a new request id, as the API writes them (`req_011EMU` and 16 hex digits).
pub(crate) fn request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(1);
    format!("req_011EMU{:016x}", h.finish())
}

/// Writes bytes, one at a time with a pause when trickling.
pub(crate) fn write_out(
    w: &mut dyn Write,
    bytes: &[u8],
    trickle: Option<Duration>,
) -> std::io::Result<()> {
    match trickle {
        Some(d) => {
            for b in bytes {
                w.write_all(std::slice::from_ref(b))?;
                w.flush()?;
                std::thread::sleep(d);
            }
            Ok(())
        }
        None => {
            w.write_all(bytes)?;
            w.flush()
        }
    }
}
