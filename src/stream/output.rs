//! What a read of a stream hands out: a [`StreamItem`] (previews too, `next_item`) or a whole
//! [`SessionEvent`] only (the iterator).

use super::StreamItem;
use crate::types::SessionEvent;

/// What a read of the stream hands out: a [`StreamItem`] (previews too), or a whole event
/// only. The event goes straight into what is handed out: a [`SessionEvent`] is large, and
/// each wrapper it passes through on the way would be one more copy of it.
pub(crate) trait Output: Sized {
    /// Whether previews are handed out (otherwise they only move the snapshot).
    const PREVIEWS: bool;
    /// A whole event.
    fn event(ev: SessionEvent) -> Self;
    /// A preview, if previews are handed out.
    fn preview(item: StreamItem) -> Option<Self>;
}

impl Output for StreamItem {
    const PREVIEWS: bool = true;
    fn event(ev: SessionEvent) -> Self {
        StreamItem::Event(ev)
    }
    fn preview(item: StreamItem) -> Option<Self> {
        Some(item)
    }
}

impl Output for SessionEvent {
    const PREVIEWS: bool = false;
    fn event(ev: SessionEvent) -> Self {
        ev
    }
    fn preview(_: StreamItem) -> Option<Self> {
        None
    }
}
