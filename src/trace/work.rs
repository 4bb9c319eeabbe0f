//! The span of one work item the environment worker handles, `anthropic.environment.work`:
//! the environment, the item and its session, and how handling it ended.

use crate::environments::ItemReport;
use crate::environments::WorkItem;
use crate::error::Result;

/// Runs `serve` (the worker's handling of `item`) in the item's `anthropic.environment.work`
/// span: status `ok` when the item was handled, `error` when that failed, unset when the
/// lease was lost or the item not claimed (the worker stopped before it finished). Without
/// the `tracing` feature it only runs `serve`.
#[cfg(feature = "tracing")]
pub(crate) fn in_work_span(
    item: &WorkItem,
    serve: impl FnOnce() -> Result<ItemReport>,
) -> Result<ItemReport> {
    use crate::environments::Disposition;
    use crate::environments::LeaseEnd;
    let span = tracing::info_span!(
        target: "managed_agents",
        "anthropic.environment.work",
        "otel.kind" = "internal",
        "otel.status_code" = super::LATER,
        "gen_ai.provider.name" = "anthropic",
        "anthropic.environment.id" = item.environment_id.as_str(),
        "anthropic.environment.work.id" = item.id.as_str(),
        "anthropic.session.id" = (item.kind == "session").then_some(item.data_id.as_str()),
        "error.type" = super::LATER,
    );
    let report = span.in_scope(serve);
    match &report {
        Ok(r) => match &r.disposition {
            Disposition::Failed(e) => super::fail(&span, e),
            Disposition::NotClaimed => {}
            _ if r.lease_end.as_ref().is_some_and(LeaseEnd::is_lost) => {}
            _ => {
                span.record("otel.status_code", "ok");
            }
        },
        Err(e) => super::fail(&span, e),
    }
    report
}

/// Runs `serve`: without the `tracing` feature a work item has no span.
#[cfg(not(feature = "tracing"))]
pub(crate) fn in_work_span(
    _item: &WorkItem,
    serve: impl FnOnce() -> Result<ItemReport>,
) -> Result<ItemReport> {
    serve()
}
