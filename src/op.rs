//! The operation table's shape: what the generator writes for each HTTP operation of the API
//! (its id, method, path and beta header), and the values a query string can hold. The table
//! itself, `OPERATIONS`, is generated into [`crate::operations`]. None of it is public API.

/// One HTTP operation of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operation {
    /// `group.method`, as the Python SDK names it (`sessions.events.send`).
    pub(crate) id: &'static str,
    /// The HTTP method.
    pub(crate) method: &'static str,
    /// The path template (`/v1/sessions/{session_id}/events`).
    pub(crate) path: &'static str,
    /// The `anthropic-beta` value the operation sends.
    pub(crate) beta: &'static str,
    /// The `accept` value the operation sends, as the official SDK does.
    pub(crate) accept: &'static str,
}

impl Operation {
    /// Whether the answer is a stream the caller reads as it comes (a download, an event
    /// stream), not a JSON body read whole, under the size limit, within the call's retries.
    pub(crate) fn streams_body(&self) -> bool {
        self.id.ends_with(".download") || self.id.ends_with(".stream")
    }
}

/// A value that can stand in a query string.
pub(crate) trait QueryValue {
    /// The value as the query writes it.
    fn query_value(&self) -> String;
}

impl QueryValue for String {
    fn query_value(&self) -> String {
        self.clone()
    }
}

impl QueryValue for i64 {
    fn query_value(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for f64 {
    fn query_value(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for bool {
    fn query_value(&self) -> String {
        if *self { "true" } else { "false" }.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn downloads_and_event_streams_stream_their_body() {
        let streamed: Vec<&str> = crate::operations::OPERATIONS
            .iter()
            .filter(|op| op.streams_body())
            .map(|op| op.id)
            .collect();
        assert!(streamed.contains(&"files.download"));
        assert!(streamed.contains(&"sessions.events.stream"));
        assert!(!streamed.contains(&"sessions.events.list"));
    }
}
