//! The transport as a separate process sees it: a proxy set in the environment is not used
//! for a loopback base URL, API key included.

const KEY: &str = "sk-ant-test-key-0123456789";

/// A one-connection HTTP proxy on loopback (a `CONNECT` tunnel, as ureq asks for one):
/// answers the tunneled request with `body` and hands back the request lines it saw, or
/// `None` when nothing connected within `wait` (after which it listens no more).
fn fake_proxy(
    body: &'static str,
    wait: std::time::Duration,
) -> (String, std::thread::JoinHandle<Option<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let until = std::time::Instant::now() + wait;
        let mut conn = loop {
            match listener.accept() {
                Ok((c, _)) => break c,
                Err(_) if std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(_) => return None,
            }
        };
        conn.set_nonblocking(false).unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let head = |reader: &mut BufReader<std::net::TcpStream>| {
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            first.trim_end().to_string()
        };
        let mut seen = vec![head(&mut reader)];
        if seen[0].starts_with("CONNECT ") {
            conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .unwrap();
            seen.push(head(&mut reader));
        }
        write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        Some(seen)
    });
    (addr, handle)
}

/// A proxy set in the environment never sees a loopback base URL's requests, API key
/// included: run as a separate process (the CLI), so the variables touch no other test.
#[test]
fn the_environments_proxy_is_not_used_for_a_loopback_base_url() {
    let emu = managed_agents_emulator::Emulator::start().unwrap();
    emu.set_strict(true);
    // a client that went through it would fail: the proxy stops listening after 3 s
    let (proxy, seen) = fake_proxy("{}", std::time::Duration::from_secs(3));
    let out = std::process::Command::new(crate::support::BIN)
        .args(["agents", "list"])
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", emu.base_url())
        .env("HTTP_PROXY", &proxy)
        .env("HTTPS_PROXY", &proxy)
        .env("ALL_PROXY", &proxy)
        .env("http_proxy", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(seen.join().unwrap(), None, "the proxy was used");
}
