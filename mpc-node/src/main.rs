//! `mpc-node`: the node's command line.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The threshold-signing node.
#[derive(Debug, Parser)]
#[command(name = "mpc-node", version, about)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "human", global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a party process (until stopped).
    Party {
        /// The party's config file (`party-<i>.toml`).
        #[arg(long)]
        config: PathBuf,
    },
    /// Makes a new key: every party runs its side of the key generation over the mesh and
    /// stores its share; the key is active once all parties report the same key.
    Keygen {
        /// The coordinator's config file.
        #[arg(long)]
        config: PathBuf,
        /// Engine of the new key.
        #[arg(long, value_enum)]
        scheme: Scheme,
        /// Print the result as one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Imports an existing key (tss-lib): every party reads FILE from its own `import_dir`
    /// (its keygen_data JSON), runs the engine's network step (GG20 certification, CGGMP21
    /// auxiliary info) and stores its share; active once all report the same key.
    Import {
        /// The coordinator's config file.
        #[arg(long)]
        config: PathBuf,
        /// Engine: gg20 or cggmp21 for ECDSA files, frost-ed25519 for EdDSA files.
        #[arg(long, value_enum)]
        scheme: Scheme,
        /// File name inside each party's import directory.
        #[arg(long)]
        file: String,
        /// Print the result as one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Signs an unsigned transaction with a key, through the parties (each checks it with
    /// its own policy); prints the signed transaction, or exits non-zero with the refusal
    /// and the party that refused.
    Sign {
        /// The coordinator's config file.
        #[arg(long)]
        config: PathBuf,
        /// Key id (from `mpc-node keygen`).
        #[arg(long)]
        key: String,
        /// Chain of the transaction.
        #[arg(long, value_enum)]
        chain: ChainArg,
        /// File with a base64 PSBT (btc), a hex unsigned EIP-2718 transaction (evm) or a
        /// base64 unsigned wire transaction (sol).
        #[arg(long)]
        tx: PathBuf,
        /// Print one JSON object (chain, key_id, tx, id).
        #[arg(long)]
        json: bool,
    },
    /// DEMO: writes a deployment into DIR (once: demo CA, configs, a DEMO-ONLY passphrase
    /// file), starts its party processes on 127.0.0.1, makes a key of every engine by
    /// networked ceremonies and signs the quickstart's transactions through the parties.
    Demo {
        /// Deployment directory.
        #[arg(long)]
        dir: PathBuf,
        /// Parties (for a new deployment).
        #[arg(long, default_value_t = 3)]
        parties: u16,
        /// Signers needed (for a new deployment).
        #[arg(long, default_value_t = 2)]
        threshold: u16,
        /// First port: mesh ports from here, control ports from here + 100.
        #[arg(long, default_value_t = 47100)]
        base_port: u16,
        /// How the parties reach each other (for a new deployment): `tcp` (mutual TLS
        /// between every pair) or `nats` (through the broker at --nats-url).
        #[arg(long, value_enum, default_value_t = Transport::Tcp)]
        transport: Transport,
        /// The NATS broker of `--transport nats`.
        #[arg(long, default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
        /// Print the quickstart's JSON object, plus "keys", on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Writes an encrypted backup of this party's share of a key to OUT, for the party's
    /// recovery recipient (`[backup] recipient`). Run it with the party stopped.
    Backup {
        /// The party's config file.
        #[arg(long)]
        config: PathBuf,
        /// Key id.
        #[arg(long)]
        key: String,
        /// The backup file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Print one JSON object (key_id, scheme, epoch, parties, threshold, public key).
        #[arg(long)]
        json: bool,
    },
    /// Restores a backup into this party's store (which must not hold the key), after
    /// checking the share against the public facts it carries and its own public share.
    /// Run it with the party stopped.
    Restore {
        /// The party's config file.
        #[arg(long)]
        config: PathBuf,
        /// The backup file.
        #[arg(long = "in")]
        input: PathBuf,
        /// The recovery identity file (`AGE-SECRET-KEY-1…`), from the recovery officer.
        #[arg(long)]
        identity: PathBuf,
        /// Print one JSON object (key_id, scheme, epoch, parties, threshold, public key).
        #[arg(long)]
        json: bool,
    },
    /// Refreshes a key: the same committee gets new shares of the same key (the next
    /// epoch; CGGMP21 parties also get fresh Paillier keys). The old shares are destroyed
    /// once every party holds its new one. Addresses do not change.
    Refresh {
        /// The coordinator's config file.
        #[arg(long)]
        config: PathBuf,
        /// Key id.
        #[arg(long)]
        key: String,
        /// Print one JSON object (key_id, scheme, epoch, parties, threshold, public key).
        #[arg(long)]
        json: bool,
    },
    /// Reshares a key to the parties LIST (deployment party ids, comma-separated: parties
    /// can be added, with `add-party`, and removed) with threshold T, under the same group
    /// key and addresses. With --scheme cggmp21, a GG20 key migrates to CGGMP21 shares.
    Reshare {
        /// The coordinator's config file.
        #[arg(long)]
        config: PathBuf,
        /// Key id.
        #[arg(long)]
        key: String,
        /// The new committee, e.g. 0,1,2,3,4.
        #[arg(long, value_delimiter = ',', required = true)]
        parties: Vec<u16>,
        /// Signers the key needs afterwards.
        #[arg(long)]
        threshold: u16,
        /// Engine of the new shares (default: the key's own).
        #[arg(long, value_enum)]
        scheme: Option<Scheme>,
        /// Print one JSON object (key_id, scheme, epoch, parties, threshold, public key).
        #[arg(long)]
        json: bool,
    },
    /// Repairs party I's share of a key (its store lost): the other parties deal, the whole
    /// committee gets new shares (the next epoch), nobody learns party I's share.
    Repair {
        /// The coordinator's config file.
        #[arg(long)]
        config: PathBuf,
        /// Key id.
        #[arg(long)]
        key: String,
        /// The party whose share is lost.
        #[arg(long)]
        party: u16,
        /// Print one JSON object (key_id, scheme, epoch, parties, threshold, public key).
        #[arg(long)]
        json: bool,
    },
    /// DEMO: adds a party to the deployment in DIR (certificate from the demo CA, sealed
    /// store, config; every party's peer list and the coordinator's config gain it).
    /// Restart the running parties afterwards, then start the new one. With --replace I,
    /// re-provisions party I instead, whose store was lost (new certificate and TLS key,
    /// same config); `repair` then gives it its shares back.
    AddParty {
        /// Deployment directory (written by `mpc-node demo`).
        #[arg(long)]
        dir: PathBuf,
        /// Re-provision this existing party (its store must be gone).
        #[arg(long)]
        replace: Option<u16>,
        /// Print one JSON object (party, config, mesh, control).
        #[arg(long)]
        json: bool,
    },
    /// The party's audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Transport {
    /// Mutual TLS between every pair of parties.
    Tcp,
    /// Through a NATS broker (envelopes signed and encrypted end to end).
    Nats,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ChainArg {
    /// Bitcoin.
    Btc,
    /// EVM chains.
    Evm,
    /// Solana.
    Sol,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Scheme {
    /// CGGMP21 threshold ECDSA (secp256k1): Bitcoin P2WPKH, EVM.
    Cggmp21,
    /// GG20 threshold ECDSA (secp256k1), for GG18/GG20 deployments.
    Gg20,
    /// FROST Ed25519: Solana.
    FrostEd25519,
    /// FROST secp256k1 / BIP-340 with the Taproot tweak: Bitcoin P2TR.
    FrostTaproot,
}

impl Scheme {
    fn id(self) -> mpc_core::SchemeId {
        match self {
            Scheme::Cggmp21 => mpc_core::SchemeId::Cggmp21Secp256k1,
            Scheme::Gg20 => mpc_core::SchemeId::Gg20Secp256k1,
            Scheme::FrostEd25519 => mpc_core::SchemeId::FrostEd25519,
            Scheme::FrostTaproot => mpc_core::SchemeId::FrostSecp256k1Tr,
        }
    }
}

/// Connects a coordinator client to the deployment of `config` and runs `f` with it.
fn with_coordinator<T, Fut>(
    config: &std::path::Path,
    f: impl FnOnce(mpc_node::coordinator::CoordinatorClient) -> Fut,
) -> Result<T, Box<dyn std::error::Error>>
where
    Fut: std::future::Future<Output = mpc_node::error::Result<T>>,
{
    Ok(runtime()?.block_on(async {
        let c = mpc_node::coordinator::CoordinatorClient::connect(config, CONNECT_WAIT).await?;
        f(c).await
    })?)
}

fn runtime() -> Result<tokio::runtime::Runtime, Box<dyn std::error::Error>> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// How long a command waits for every party to be connected.
const CONNECT_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Checks the hash chain of the audit log and reports the first broken or missing
    /// record (exit 1 when it finds one).
    Verify {
        /// The party's config file.
        #[arg(long)]
        config: PathBuf,
    },
}

fn init_logs(format: LogFormat, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Party { config } => Ok(mpc_node::party::run_party(&config)?),
        Command::Keygen {
            config,
            scheme,
            json,
        } => {
            let key = with_coordinator(&config, |c| async move { c.keygen(scheme.id()).await })?;
            print_key(&key, json);
            Ok(())
        }
        Command::Import {
            config,
            scheme,
            file,
            json,
        } => {
            let key = with_coordinator(
                &config,
                |c| async move { c.import(scheme.id(), &file).await },
            )?;
            print_key(&key, json);
            Ok(())
        }
        Command::Sign {
            config,
            key,
            chain,
            tx,
            json,
        } => {
            let text =
                std::fs::read_to_string(&tx).map_err(|e| format!("{}: {e}", tx.display()))?;
            let chain = match chain {
                ChainArg::Btc => mpc_node::coordinator::Chain::Btc,
                ChainArg::Evm => mpc_node::coordinator::Chain::Evm,
                ChainArg::Sol => mpc_node::coordinator::Chain::Sol,
            };
            let signed = with_coordinator(&config, |c| async move {
                c.sign_transaction(&key, chain, &text).await
            })?;
            if json {
                println!("{}", serde_json::to_string(&signed)?);
            } else {
                println!("{}", signed.tx);
            }
            Ok(())
        }
        Command::Demo {
            dir,
            parties,
            threshold,
            base_port,
            transport,
            nats_url,
            json,
        } => {
            let exe = std::env::current_exe()?;
            let mut d = mpc_node::demo::DemoDeployment::local(parties, threshold, base_port);
            if transport == Transport::Nats {
                d.nats_url = Some(nats_url);
            }
            let out = mpc_node::demo::run::run(&exe, &dir, &d)?;
            for line in &out.lines {
                eprintln!("{line}");
            }
            if json {
                println!("{}", serde_json::to_string(&out)?);
            }
            Ok(())
        }
        Command::Backup {
            config,
            key,
            out,
            json,
        } => {
            let (c, vault) = party_vault(&config)?;
            let recipient = c
                .backup
                .as_ref()
                .ok_or_else(|| format!("{}: no [backup] recipient", config.display()))?
                .recipient
                .clone();
            let facts = mpc_node::backup::export(&vault, &key, &recipient, &out)?;
            print_facts(
                &facts,
                json,
                &format!("backup written to {}", out.display()),
            );
            Ok(())
        }
        Command::Restore {
            config,
            input,
            identity,
            json,
        } => {
            let (_, vault) = party_vault(&config)?;
            let id = zeroize::Zeroizing::new(
                std::fs::read_to_string(&identity)
                    .map_err(|e| format!("{}: {e}", identity.display()))?,
            );
            let facts = mpc_node::backup::restore(&vault, &id, &input)?;
            print_facts(&facts, json, "restored, active");
            Ok(())
        }
        Command::Refresh { config, key, json } => {
            let out =
                with_coordinator(&config, |c| async move { c.refresh(&key, &progress).await })?;
            print_key(&out, json);
            Ok(())
        }
        Command::Reshare {
            config,
            key,
            parties,
            threshold,
            scheme,
            json,
        } => {
            let request = mpc_node::lifecycle::ReshareRequest {
                key_id: key,
                committee: parties,
                threshold,
                scheme: scheme.map(Scheme::id),
                not_dealers: Vec::new(),
            };
            let out =
                with_coordinator(
                    &config,
                    |c| async move { c.reshare(&request, &progress).await },
                )?;
            print_key(&out, json);
            Ok(())
        }
        Command::Repair {
            config,
            key,
            party,
            json,
        } => {
            let out = with_coordinator(&config, |c| async move {
                c.repair(&key, party, &progress).await
            })?;
            print_key(&out, json);
            Ok(())
        }
        Command::AddParty { dir, replace, json } => {
            let added = match replace {
                Some(i) => mpc_node::demo::add_party::replace(&dir, i)?,
                None => mpc_node::demo::add_party::add(&dir)?,
            };
            if json {
                println!("{}", serde_json::to_string(&added)?);
            } else {
                let what = match replace {
                    Some(_) => "re-provisioned (it holds no share: run repair for each key)",
                    None => "added (restart the running parties, then start it)",
                };
                let mesh = added
                    .mesh
                    .map_or_else(|| "through the broker".to_string(), |m| m.to_string());
                println!(
                    "party {} {what}: {}, mesh {mesh}, control {}",
                    added.party,
                    added.config.display(),
                    added.control
                );
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { config },
        } => {
            let c = mpc_node::config::PartyConfig::load(&config)?;
            let v = mpc_node::audit::verify(&c.audit_log)?;
            println!(
                "{}: {} records, chain intact, head {}",
                c.audit_log.display(),
                v.records,
                v.head
            );
            Ok(())
        }
    }
}

/// A stopped party's config and key vault (its store locked by this process).
fn party_vault(
    config: &std::path::Path,
) -> Result<(mpc_node::config::PartyConfig, mpc_node::vault::NodeVault), Box<dyn std::error::Error>>
{
    let c = mpc_node::config::PartyConfig::load(config)?;
    let store = std::sync::Arc::new(mpc_node::store::SealedStore::open(
        &c.store,
        c.open_kek(config)?,
    )?);
    let vault =
        mpc_node::vault::NodeVault::new(store, c.index, mpc_node::vault::PrimesSource::Generate);
    Ok((c, vault))
}

fn print_facts(f: &mpc_node::backup::BackupFacts, json: bool, what: &str) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "key_id": f.key_id,
                "scheme": f.scheme.to_string(),
                "epoch": f.epoch,
                "parties": f.parties,
                "threshold": f.threshold,
                "party": f.party,
                "public_key_hex": hex::encode(f.public_key.as_bytes()),
            })
        );
    } else {
        println!(
            "{what}: key {} ({}, {}-of-{}, epoch {}), party {}: {}",
            f.key_id,
            f.scheme,
            f.threshold,
            f.parties,
            f.epoch,
            f.party,
            hex::encode(f.public_key.as_bytes())
        );
    }
}

/// Progress of a long command, for the person waiting.
fn progress(line: &str) {
    eprintln!("{line}");
}

fn print_key(key: &mpc_node::coordinator::RegisteredKey, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "key_id": key.key_id,
                "scheme": key.scheme.to_string(),
                "public_key_hex": hex::encode(key.public_key.as_bytes()),
                "t": key.t,
                "n": key.n,
                "threshold": key.t,
                "epoch": key.epoch,
                "parties": key.committee(),
            })
        );
    } else {
        println!(
            "key {} ({}, {}-of-{}, epoch {}, parties {:?}): {}",
            key.key_id,
            key.scheme,
            key.t,
            key.n,
            key.epoch,
            key.committee(),
            hex::encode(key.public_key.as_bytes())
        );
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A party process logs what it does; the other commands print their result, and log
    // only warnings unless RUST_LOG says otherwise.
    let level = match cli.command {
        Command::Party { .. } => "info",
        _ => "warn",
    };
    init_logs(cli.log_format, level);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
