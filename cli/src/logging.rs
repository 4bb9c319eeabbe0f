//! The log of `-v` and `RUST_LOG`: env_logger behind the rate limit of `log_limit`, with the
//! HTTP transport's trace records (raw requests, keys included) always dropped.

/// The HTTP transport's crates: at trace level they dump the raw bytes of each request,
/// headers (the API key, the environment key) and bodies (a vault credential's token) included.
const TRANSPORT_TARGETS: &[&str] = &["ureq", "ureq_proto", "rustls"];

/// Logs as `-v` and `RUST_LOG` say, with the transport's trace records dropped whatever the
/// filter says (their debug records redact credentials and are kept).
struct Logger(env_logger::Logger);

impl Logger {
    fn dropped(metadata: &log::Metadata<'_>) -> bool {
        metadata.level() >= log::Level::Trace
            && TRANSPORT_TARGETS.iter().any(|t| {
                metadata
                    .target()
                    .strip_prefix(t)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
            })
    }
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        !Self::dropped(metadata) && self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !Self::dropped(record.metadata()) {
            self.0.log(record);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Installs the logger: warnings by default, `-v` info, `-vv` debug; `RUST_LOG` overrides.
pub fn init(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let logger = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_target(verbose > 1)
        .build();
    log::set_max_level(logger.filter());
    let _ = log::set_boxed_logger(Box::new(crate::log_limit::RateLimited::new(Logger(logger))));
}
