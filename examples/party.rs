//! A party process: the same as `mpc-node party --config FILE`.
//!
//! ```text
//! cargo run --release --example party -- --config DIR/party-0.toml
//! ```
#![forbid(unsafe_code)]

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = args
        .iter()
        .position(|a| a == "--config")
        .and_then(|p| args.get(p + 1))
        .ok_or("usage: party --config DIR/party-<i>.toml")?;
    Ok(mpc_node::party::run_party(std::path::Path::new(config))?)
}
