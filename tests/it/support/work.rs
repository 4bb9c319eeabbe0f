//! What the work-queue tests share on the scripted server: the credentials, a work item and a
//! heartbeat answer as the API sends them, clients, and helpers to read what it recorded.

use super::{respond, Recorded, TestServer};
use managed_agents::environments::PollerOptions;
use managed_agents::Client;
use serde_json::{json, Value};
use std::net::TcpStream;
use std::time::Duration;

pub const API_KEY: &str = "sk-ant-test-key-0123456789";
pub const ENV_KEY: &str = "envkey-test-0123456789";
pub const MA: &str = "managed-agents-2026-04-01";

pub fn item(id: &str) -> Value {
    json!({
        "type": "work", "id": id, "environment_id": "env_1", "state": "queued",
        "created_at": "2026-04-01T00:00:00Z", "metadata": {},
        "data": {"type": "session", "id": format!("sesn_{id}")}
    })
}

pub fn beat(last: &str, state: &str, extended: bool, ttl: i64) -> String {
    json!({"type": "work_heartbeat", "last_heartbeat": last, "lease_extended": extended,
           "state": state, "ttl_seconds": ttl})
    .to_string()
}

/// A client that holds an API key; the environment helpers must never send it.
pub fn api_client(url: &str) -> Client {
    Client::builder()
        .api_key(API_KEY)
        .base_url(url)
        .max_retries(0)
        .build()
        .unwrap()
}

pub fn env_client(url: &str) -> Client {
    Client::builder()
        .environment_key(ENV_KEY)
        .base_url(url)
        .max_retries(0)
        .build()
        .unwrap()
}

/// Options for tests: short sleeps and backoff, so no test waits seconds.
pub fn fast() -> PollerOptions {
    PollerOptions::new()
        .environment_key(ENV_KEY)
        .worker_id("worker-7")
        .empty_poll_sleep(Duration::from_millis(5), Duration::from_millis(15))
        .backoff(Duration::from_millis(20), Duration::from_millis(80))
}

pub fn path(r: &Recorded) -> &str {
    r.target.split('?').next().unwrap_or("")
}

pub fn query(r: &Recorded, key: &str) -> Option<String> {
    let q = r.target.split_once('?')?.1;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.replace("%3A", ":").replace("%2D", "-"))
}

pub fn requests(server: &TestServer) -> Vec<Recorded> {
    server.requests.lock().unwrap().clone()
}

pub fn no_content(conn: &mut TcpStream) {
    respond(conn, 204, &[], b"");
}

pub fn error(conn: &mut TcpStream, status: u16, body: Value) {
    respond(
        conn,
        status,
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    );
}
