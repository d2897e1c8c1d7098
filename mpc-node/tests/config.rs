//! The party configuration shown in the README parses, and opens its key-encryption key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use mpc_node::config::PartyConfig;
use mpc_node::policy::NodePolicy;

#[test]
fn readme_party_config_parses_and_builds_its_policy() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("```toml\n")
        .expect("a toml block in the README")
        + 8;
    let len = readme[start..].find("```").unwrap();
    let text = &readme[start..start + len];
    let dir = std::env::temp_dir().join(format!("mpc-node-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("party-0.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::write(dir.join("passphrase.txt"), "demo passphrase\n").unwrap();
    let c = PartyConfig::load(&path).unwrap();
    assert_eq!(c.index, 0);
    assert_eq!(c.store, dir.join("party-0"));
    assert!(c.policy.btc.is_some() && c.policy.evm.is_some() && c.policy.sol.is_some());
    assert!(!c.policy.danger_allow_raw_digests);
    NodePolicy::new(&c.policy, None).unwrap();
    c.open_kek(&path).unwrap();
    // An unknown key is an error naming the file.
    std::fs::write(&path, format!("{text}\nsurprise = 1\n")).unwrap();
    let err = PartyConfig::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("party-0.toml") && err.contains("surprise"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
