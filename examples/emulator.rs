//! Runs the embedded emulator for any client: `cargo run --example emulator -- --port 8080`,
//! then point a client's base URL at `http://127.0.0.1:8080` (any API key works).

use managed_agents::emulator::Emulator;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut port = 0u16;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => {
                    eprintln!("--port needs a number");
                    std::process::exit(2);
                }
            },
            "-h" | "--help" => {
                println!("usage: emulator [--port PORT]   (a free port when none is given)");
                return;
            }
            other => {
                eprintln!("unknown argument {other:?}; usage: emulator [--port PORT]");
                std::process::exit(2);
            }
        }
    }
    let emu = match Emulator::start_on(&format!("127.0.0.1:{port}")) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!("emulator listening on {}", emu.base_url());
    // runs until the process is stopped
    loop {
        std::thread::park();
    }
}
