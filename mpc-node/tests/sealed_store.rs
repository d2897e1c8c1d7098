//! The sealed key store: a share opens only with the right passphrase, key file or HSM key;
//! a wrong passphrase, a tampered file, a truncated file, a moved file and a store that is
//! already locked are each a clear error naming the file, and nothing in the store changes;
//! secrets never appear in clear on disk; files are 0600, directories 0700; nothing is
//! overwritten.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::fresh_dir;
use mpc_core::SchemeId;
use mpc_node::seal::{
    Argon2Params, HsmKek, KeyEncryptionKey, KeyFileKek, Label, PassphraseKek, SecretKind,
};
use mpc_node::store::SealedStore;
use mpc_node::NodeError;

/// The tests of this file run one at a time: one of them spawns `softhsm2-util`, and a
/// child forked while another test has a store open holds that store's lock (`flock`)
/// until it execs, so a store closed and reopened at that moment would seem locked.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Small Argon2id costs so the tests run quickly; the default is 64 MiB / 3 passes.
const FAST: Argon2Params = Argon2Params {
    m_kib: 1024,
    t: 1,
    p: 1,
};
const SECRET: &[u8] = b"the party's secret share: 0123456789abcdef0123456789abcdef";

fn label() -> Label {
    Label::new(
        SecretKind::KeyShare,
        Some(SchemeId::Cggmp21Secp256k1),
        "key-7",
        1,
        0,
    )
}

fn pass(p: &str) -> Arc<dyn KeyEncryptionKey> {
    Arc::new(PassphraseKek::new(p.as_bytes(), FAST).unwrap())
}

/// Every file under `dir` with its bytes (the lock file excluded).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(snapshot(&p));
        } else if p.file_name().unwrap() != "store.lock" {
            out.insert(p.clone(), std::fs::read(&p).unwrap());
        }
    }
    out
}

#[test]
fn passphrase_store_refuses_wrong_passphrase_tampering_truncation_and_a_second_owner() {
    let _serial = serial();
    let d = fresh_dir("store-pass");
    let store = SealedStore::open(&d, pass("correct horse")).unwrap();
    let path = store
        .put_new("shares/key-7.share", &label(), SECRET)
        .unwrap();
    assert_eq!(&*store.get("shares/key-7.share", &label()).unwrap(), SECRET);

    // In clear nowhere; owner-only permissions.
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes
        .windows(16)
        .any(|w| SECRET.windows(16).any(|s| s == w)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&d.join("shares")), 0o700);
    }
    // Never overwritten.
    assert!(matches!(
        store.put_new("shares/key-7.share", &label(), b"another"),
        Err(NodeError::Exists { .. })
    ));
    // Locked: a second owner (another open file description, as another process has) is
    // refused, naming the lock file.
    let err = SealedStore::open(&d, pass("correct horse")).unwrap_err();
    assert!(matches!(err, NodeError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("store.lock"), "{err}");
    drop(store);
    let before = snapshot(&d);

    // A wrong passphrase: a clear error naming the file.
    let store = SealedStore::open(&d, pass("wrong horse")).unwrap();
    let err = store.get("shares/key-7.share", &label()).unwrap_err();
    assert!(matches!(err, NodeError::WrongKey { .. }), "{err}");
    assert!(
        err.to_string().contains("key-7.share") && err.to_string().contains("wrong passphrase"),
        "{err}"
    );
    drop(store);

    // A tampered byte anywhere (header or ciphertext), and a truncation anywhere: refused.
    let store = SealedStore::open(&d, pass("correct horse")).unwrap();
    for at in [20, bytes.len() / 2, bytes.len() - 1] {
        let mut t = bytes.clone();
        t[at] ^= 0x20;
        std::fs::write(d.join("shares/tampered.share"), &t).unwrap();
        let err = store.get("shares/tampered.share", &label()).unwrap_err();
        assert!(err.to_string().contains("tampered.share"), "{err}");
        std::fs::remove_file(d.join("shares/tampered.share")).unwrap();
    }
    for len in [0, 5, 14, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(d.join("shares/cut.share"), &bytes[..len]).unwrap();
        let err = store.get("shares/cut.share", &label()).unwrap_err();
        assert!(
            matches!(err, NodeError::Corrupt { .. }),
            "cut at {len}: {err}"
        );
        assert!(err.to_string().contains("cut.share"), "{err}");
        std::fs::remove_file(d.join("shares/cut.share")).unwrap();
    }
    // The same file under another party's or epoch's label does not open.
    let mut other = label();
    other.party = 2;
    assert!(store.get("shares/key-7.share", &other).is_err());
    let mut later = label();
    later.epoch = 1;
    assert!(store.get("shares/key-7.share", &later).is_err());
    // Still opens with the right passphrase; nothing changed.
    assert_eq!(&*store.get("shares/key-7.share", &label()).unwrap(), SECRET);
    drop(store);
    assert_eq!(snapshot(&d), before);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn key_file_store_opens_only_with_its_key_file() {
    let _serial = serial();
    let d = fresh_dir("store-keyfile");
    let kf = d.with_extension("kek");
    let _ = std::fs::remove_file(&kf);
    let kek = KeyFileKek::generate(&kf).unwrap();
    // The key file is never replaced.
    assert!(matches!(
        KeyFileKek::generate(&kf),
        Err(NodeError::Exists { .. })
    ));
    let store = SealedStore::open(&d, Arc::new(kek)).unwrap();
    store.put_new("tls.key", &label(), SECRET).unwrap();
    drop(store);
    let store = SealedStore::open(&d, Arc::new(KeyFileKek::from_file(&kf).unwrap())).unwrap();
    assert_eq!(&*store.get("tls.key", &label()).unwrap(), SECRET);
    drop(store);
    let store = SealedStore::open(&d, Arc::new(KeyFileKek::from_bytes([3; 32]))).unwrap();
    let err = store.get("tls.key", &label()).unwrap_err();
    assert!(matches!(err, NodeError::WrongKey { .. }), "{err}");
    drop(store);
    // A passphrase cannot open a key-file store's files either.
    let store = SealedStore::open(&d, pass("x")).unwrap();
    assert!(store
        .get("tls.key", &label())
        .unwrap_err()
        .to_string()
        .contains("another kind of key"));
    drop(store);
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_file(&kf);
}

/// A SoftHSM2 token for the test: its own token directory and config.
struct SoftHsm {
    dir: PathBuf,
    conf: PathBuf,
}

const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

impl SoftHsm {
    fn new(tag: &str, labels: &[&str]) -> SoftHsm {
        assert!(
            Path::new(SOFTHSM_MODULE).exists(),
            "SoftHSM2 is not installed ({SOFTHSM_MODULE}); `.ci/run` installs Debian's softhsm2"
        );
        let dir = fresh_dir(tag);
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        for l in labels {
            let out = std::process::Command::new("softhsm2-util")
                .env("SOFTHSM2_CONF", &conf)
                .args([
                    "--init-token",
                    "--free",
                    "--label",
                    l,
                    "--pin",
                    "1234",
                    "--so-pin",
                    "5678",
                ])
                .output()
                .expect("softhsm2-util runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        SoftHsm { dir, conf }
    }
}

#[test]
fn share_sealed_under_a_softhsm2_key_opens_only_through_that_token() {
    let _serial = serial();
    let hsm = SoftHsm::new("store-hsm", &["node-a", "node-b"]);
    // SoftHSM2 reads its config from the environment when the module is initialized; this
    // test binary sets it before any module is loaded and no other test here loads it.
    std::env::set_var("SOFTHSM2_CONF", &hsm.conf);
    let module = Path::new(SOFTHSM_MODULE);
    let a = HsmKek::open(module, "node-a", "1234", "mpc-kek").unwrap();
    assert!(a.ensure_key().unwrap(), "key made in the token");
    assert!(!a.ensure_key().unwrap(), "second call finds it");
    let d = hsm.dir.join("store");
    let store = SealedStore::open(&d, Arc::new(a)).unwrap();
    let path = store
        .put_new("shares/key-7.share", &label(), SECRET)
        .unwrap();
    assert_eq!(&*store.get("shares/key-7.share", &label()).unwrap(), SECRET);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes
        .windows(16)
        .any(|w| SECRET.windows(16).any(|s| s == w)));
    drop(store);

    // The wrong PIN does not even open the token.
    assert!(HsmKek::open(module, "node-a", "0000", "mpc-kek").is_err());
    // Another token with a key of the same label cannot unwrap it.
    let b = HsmKek::open(module, "node-b", "1234", "mpc-kek").unwrap();
    b.ensure_key().unwrap();
    let store = SealedStore::open(&d, Arc::new(b)).unwrap();
    let err = store.get("shares/key-7.share", &label()).unwrap_err();
    assert!(matches!(err, NodeError::WrongKey { .. }), "{err}");
    drop(store);
    // Nor can a passphrase or a key file.
    let store = SealedStore::open(&d, pass("1234")).unwrap();
    assert!(matches!(
        store.get("shares/key-7.share", &label()),
        Err(NodeError::WrongKey { .. })
    ));
    drop(store);
    // The token that sealed it opens it again (a fresh session).
    let a = HsmKek::open(module, "node-a", "1234", "mpc-kek").unwrap();
    let store = SealedStore::open(&d, Arc::new(a)).unwrap();
    assert_eq!(&*store.get("shares/key-7.share", &label()).unwrap(), SECRET);
    drop(store);
    let _ = std::fs::remove_dir_all(&hsm.dir);
}
