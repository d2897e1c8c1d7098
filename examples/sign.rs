//! The deployment demo as an example: the same as `mpc-node demo`. Writes a 2-of-3
//! deployment (once), starts three party processes on 127.0.0.1, makes a key of every
//! engine by networked key ceremonies, and signs the quickstart's transactions through the
//! parties, each of which decodes the transaction and applies its policy first.
//!
//! ```text
//! cargo run --release --example sign -- --spawn [--dir DIR] [--port P] [--json]
//! ```
//!
//! `--dir` defaults to `mpc-deployment`, `--port` (first mesh port) to 47100. The party
//! processes are this executable again (`party --config DIR/party-<i>.toml`).
#![forbid(unsafe_code)]

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|p| args.get(p + 1))
    };
    if args.first().map(String::as_str) == Some("party") {
        let config = get("--config").ok_or("party needs --config")?;
        return Ok(mpc_node::party::run_party(&PathBuf::from(config))?);
    }
    if !args.iter().any(|a| a == "--spawn") {
        return Err(
            "usage: sign --spawn [--dir DIR] [--port P] [--json] (see `mpc-node demo`)".into(),
        );
    }
    let dir = PathBuf::from(get("--dir").map_or("mpc-deployment", String::as_str));
    let port: u16 = get("--port").map_or(Ok(47100), |p| p.parse())?;
    let exe = std::env::current_exe()?;
    let deployment = mpc_node::demo::DemoDeployment::local(3, 2, port);
    let out = mpc_node::demo::run::run(&exe, &dir, &deployment)?;
    for line in &out.lines {
        eprintln!("{line}");
    }
    if args.iter().any(|a| a == "--json") {
        println!("{}", serde_json::to_string(&out)?);
    }
    Ok(())
}
