//! The client's connections as its pool makes them: ureq's default connector (proxies, TCP,
//! TLS) with each connection's socket tracked, and holding the connection an answer came on.
//! An event stream takes its connection from the pool like any call (an idle keep-alive one
//! when there is one); let go of before its body ended, that one socket is shut down (which
//! wakes a thread blocked reading it) and the connection never goes back to the pool, while a
//! body read to its end returns the connection to the pool as usual.
//!
//! ureq shuts down whole agents, not one connection of one, so this goes through its
//! transport API (`ureq::unversioned::transport`), which is outside its semver promise: the
//! crate pins `ureq` to the 3.5 series (`~3.5` in Cargo.toml, where `Agent::shutdown` and
//! `ConnectionDetails::register_shutdown` arrived). What this relies on, checked against 3.5.2:
//! the connector that opens a socket registers its shutdown handle through
//! `register_shutdown`; a pooled connection is probed with `Transport::is_open` when it goes
//! back to the pool (only after its body was read to its end) and again when it is taken
//! out; and a call's transport I/O runs on the thread that called `Agent::run`.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, DefaultConnector, NextTimeout, ShutdownHandle, Transport,
};

/// The connector of the client's pool: ureq's default one, each connection it makes tracked.
#[derive(Debug, Default)]
pub(crate) struct TrackingConnector {
    inner: DefaultConnector,
}

/// Makes an agent of `config` whose connections are tracked (see the module's comment).
pub(crate) fn agent(config: ureq::config::Config) -> ureq::Agent {
    ureq::Agent::with_parts(
        config,
        TrackingConnector::default(),
        ureq::unversioned::resolver::DefaultResolver::default(),
    )
}

impl Connector for TrackingConnector {
    type Out = Tracked;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<()>,
    ) -> Result<Option<Tracked>, ureq::Error> {
        // the socket's shutdown handle, as the connector that opens it registers it with the
        // agent (registered there all the same, so that `Agent::shutdown` still reaches it)
        let socket: Arc<Mutex<Option<Weak<dyn ShutdownHandle>>>> = Arc::default();
        let register = {
            let (socket, agent) = (socket.clone(), details.register_shutdown.clone());
            Arc::new(move |handle: Weak<dyn ShutdownHandle>| {
                agent(handle.clone())?;
                let mut slot = lock(&socket);
                // the first is the socket itself (the next would be a proxy tunnel's)
                if slot.is_none() {
                    *slot = Some(handle);
                }
                Ok(())
            })
        };
        let ours = ConnectionDetails {
            uri: details.uri,
            addrs: details.addrs.clone(),
            config: details.config,
            request_level: details.request_level,
            resolver: details.resolver,
            now: details.now,
            timeout: details.timeout,
            current_time: details.current_time.clone(),
            run_connector: details.run_connector.clone(),
            register_shutdown: register,
        };
        let Some(inner) = self.inner.connect(&ours, chained)? else {
            return Ok(None);
        };
        let socket = lock(&socket).take();
        Ok(Some(Tracked {
            inner,
            link: Arc::new(Link {
                socket,
                state: Mutex::new(State {
                    probes: 0,
                    hold: Hold::Free,
                }),
            }),
        }))
    }
}

/// A connection of the pool: its transport, and what a holder of it shares with it.
#[derive(Debug)]
pub(crate) struct Tracked {
    inner: Box<dyn Transport>,
    link: Arc<Link>,
}

/// What a connection and the call holding it share.
struct Link {
    /// The socket under the connection (TLS or not): shut down to wake a read blocked on it.
    socket: Option<Weak<dyn ShutdownHandle>>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").finish_non_exhaustive()
    }
}

struct State {
    /// How many times the pool has probed the connection: each probe is a return to the pool
    /// or a taking out of it, so a holder that saw another count holds nothing.
    probes: u64,
    hold: Hold,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Hold {
    /// Nobody holds it: idle in the pool, or in a call that holds nothing.
    Free,
    /// A call holds it while its body is read.
    Held,
    /// Let go of before its body ended: shut down, never to be used again.
    Cut,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// Whether this thread watches which connection its call uses (see [`watch`]).
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    /// The connection this thread's watched call last did I/O on, and its probe count then.
    static LAST: RefCell<Option<(Arc<Link>, u64)>> = const { RefCell::new(None) };
}

impl Tracked {
    /// Notes this connection as the one this thread's watched call uses, if it is watched.
    fn seen(&self) {
        if WATCHING.with(Cell::get) {
            let probes = lock(&self.link.state).probes;
            LAST.with(|last| *last.borrow_mut() = Some((self.link.clone(), probes)));
        }
    }
}

impl Transport for Tracked {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.seen();
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.seen();
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        {
            // the pool probes a connection when its body was read to its end (going back) and
            // when it takes it out: a holder has nothing left to cut either way
            let mut state = lock(&self.link.state);
            state.probes += 1;
            match state.hold {
                Hold::Cut => return false,
                Hold::Held => state.hold = Hold::Free,
                Hold::Free => {}
            }
        }
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

/// The connection a call's answer came on, held while its body is read: [`Held::cut`] shuts
/// it down unless the body was read to its end first.
pub(crate) struct Held {
    link: Arc<Link>,
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held").finish_non_exhaustive()
    }
}

/// Runs `call` (which sends one request on this thread through an agent of [`agent`]) and
/// returns what it returned with the connection its answer came on, held; `None` when the
/// call did no I/O on a tracked connection, or its connection went back to the pool already
/// (an answer without a body).
pub(crate) fn watch<T>(call: impl FnOnce() -> T) -> (T, Option<Held>) {
    struct Unwatch(bool);
    impl Drop for Unwatch {
        fn drop(&mut self) {
            WATCHING.with(|w| w.set(self.0));
        }
    }
    let before = WATCHING.with(|w| w.replace(true));
    LAST.with(|last| last.borrow_mut().take());
    let got = {
        let _unwatch = Unwatch(before);
        call()
    };
    let held = LAST
        .with(|last| last.borrow_mut().take())
        .and_then(|(link, probes)| {
            let mut state = lock(&link.state);
            if state.probes != probes || state.hold != Hold::Free {
                return None;
            }
            state.hold = Hold::Held;
            drop(state);
            Some(Held { link })
        });
    (got, held)
}

impl Held {
    /// Lets go of the connection: when its body was not read to its end, shuts its socket
    /// down (a read blocked on it returns at once) and keeps it out of the pool for good.
    pub(crate) fn cut(&self) {
        let mut state = lock(&self.link.state);
        if state.hold == Hold::Held {
            if let Some(socket) = self.link.socket.as_ref().and_then(Weak::upgrade) {
                socket.shutdown();
            }
            state.hold = Hold::Cut;
        }
    }

    /// Returns whether the connection has a socket this can shut down.
    pub(crate) fn can_cut(&self) -> bool {
        self.link.socket.is_some()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // not cut: the body is dropped too, and an unfinished one closes its connection
        let mut state = lock(&self.link.state);
        if state.hold == Hold::Held {
            state.hold = Hold::Free;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// A keep-alive server: `/ended` answers a chunked body that ends, `/silent` the start of
    /// one and then nothing until the client closes, anything else a short body. Its URL and
    /// how many connections it accepted.
    fn server() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    loop {
                        let mut target = String::new();
                        let mut line = String::new();
                        loop {
                            line.clear();
                            match reader.read_line(&mut line) {
                                Ok(0) | Err(_) => return,
                                Ok(_) if line == "\r\n" => break,
                                Ok(_) if target.is_empty() => target = line.clone(),
                                Ok(_) => {}
                            }
                        }
                        let chunked =
                            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n";
                        let answer = if target.contains("/ended") {
                            format!("{chunked}0\r\n\r\n")
                        } else if target.contains("/silent") {
                            chunked.to_string()
                        } else {
                            "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_string()
                        };
                        if conn.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                        if target.contains("/silent") {
                            let mut rest = Vec::new();
                            let _ = reader.read_to_end(&mut rest);
                            return;
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    fn pooled_agent() -> ureq::Agent {
        agent(ureq::Agent::config_builder().build())
    }

    fn get(agent: &ureq::Agent, url: &str) -> String {
        agent
            .get(url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    }

    #[test]
    fn a_body_read_to_its_end_goes_back_to_the_pool_and_a_late_cut_spares_its_next_call() {
        let (url, accepted) = server();
        let agent = pooled_agent();
        assert_eq!(get(&agent, &format!("{url}/a")), "ok");
        let (resp, held) = watch(|| agent.get(format!("{url}/ended")).call());
        let held = held.expect("the answer's connection is held");
        assert!(held.can_cut());
        // the idle connection was taken, and goes back once the body is read to its end
        assert_eq!(resp.unwrap().body_mut().read_to_string().unwrap(), "hello");
        assert_eq!(get(&agent, &format!("{url}/b")), "ok");
        // let go of after its end: the connection serves other calls, cutting it does nothing
        held.cut();
        assert_eq!(get(&agent, &format!("{url}/c")), "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_cut_wakes_a_blocked_read_and_keeps_the_connection_out_of_the_pool() {
        let (url, accepted) = server();
        let agent = pooled_agent();
        assert_eq!(get(&agent, &format!("{url}/a")), "ok");
        let (resp, held) = watch(|| agent.get(format!("{url}/silent")).call());
        let held = held.expect("the answer's connection is held");
        let mut body = resp.unwrap().into_body().into_reader();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let mut got = Vec::new();
            loop {
                match body.read(&mut buf) {
                    Ok(0) | Err(_) => return got,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        held.cut();
        assert_eq!(reader.join().unwrap(), b"hello");
        assert!(started.elapsed() < Duration::from_secs(10));
        // the next call opens a new connection: the cut one is not in the pool
        assert_eq!(get(&agent, &format!("{url}/b")), "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_unwatched_call_holds_nothing_and_a_watch_sees_only_its_own_thread() {
        let (url, _) = server();
        let agent = pooled_agent();
        let ((), held) = watch(|| {
            let other = agent.clone();
            let u = url.clone();
            std::thread::spawn(move || get(&other, &format!("{u}/a")))
                .join()
                .unwrap();
        });
        assert!(held.is_none());
        assert!(!WATCHING.with(Cell::get));
    }
}
