//! Arbitrary text as a party's or a coordinator's config file: parsed and its policy built,
//! or refused with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpc_node::config::{CoordinatorConfig, PartyConfig};
use mpc_node::policy::{NodePolicy, PolicyConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = toml::from_str::<PartyConfig>(text) {
        let _ = NodePolicy::new(&c.policy, None);
    }
    let _ = toml::from_str::<CoordinatorConfig>(text);
    if let Ok(p) = toml::from_str::<PolicyConfig>(text) {
        let _ = NodePolicy::new(&p, None);
    }
});
