//! All parties of a protocol in one process, each on its own thread, over the in-memory
//! transport. For tests, benches and demos.

use mpc_core::engines::cggmp21::Cggmp21Presignature;
use mpc_core::{
    BoxedProtocol, Cggmp21, Cggmp21Share, KeyShare, PartyIndex, Presigning, SchemeId, SessionCtx,
    SessionId, SignRequest, Signature, ThresholdScheme,
};

use crate::driver::{drive, DriveOptions, DriveReport};
use crate::error::TransportError;
use crate::transport::{InMemoryNetwork, InMemoryTransport};

/// Builds one party's run on its own thread (runs are not `Send`, so they are made where
/// they are driven).
pub type PartyJob<O> = Box<dyn FnOnce() -> mpc_core::Result<BoxedProtocol<O>> + Send>;

/// Outcome of one party.
pub type PartyOutcome<O> = Result<(O, DriveReport), TransportError>;

/// Runs `jobs` (party index, job) on an in-memory network of `n` parties, one thread per
/// job, and returns each party's outcome in the order of `jobs`. Parties without a job have
/// no one reading their queue.
pub fn run_parties<O: Send + 'static>(
    n: u16,
    jobs: Vec<(PartyIndex, PartyJob<O>)>,
    network: InMemoryNetwork,
    opts: &DriveOptions,
) -> Vec<PartyOutcome<O>> {
    let mut transports: Vec<Option<InMemoryTransport>> =
        network.connect(n).into_iter().map(Some).collect();
    let handles: Vec<_> = jobs
        .into_iter()
        .map(|(i, job)| {
            let transport = transports.get_mut(usize::from(i)).and_then(Option::take);
            let opts = opts.clone();
            std::thread::spawn(move || -> PartyOutcome<O> {
                let mut transport = transport.ok_or(TransportError::UnknownParty(i))?;
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .map_err(|_| TransportError::Closed)?;
                let run = job()?;
                rt.block_on(drive(run, &mut transport, &opts))
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| {
            h.join().unwrap_or_else(|_| {
                Err(TransportError::Core(mpc_core::Error::Misuse(
                    "party thread panicked",
                )))
            })
        })
        .collect()
}

/// Runs jobs and requires every party to succeed; returns the outputs in job order.
fn all_ok<O: Send + 'static>(
    n: u16,
    jobs: Vec<(PartyIndex, PartyJob<O>)>,
    opts: &DriveOptions,
) -> Result<Vec<O>, TransportError> {
    run_parties(n, jobs, InMemoryNetwork::default(), opts)
        .into_iter()
        .map(|r| r.map(|(o, _)| o))
        .collect()
}

/// Key generation by parties `0..n` (threshold `t`), one thread per party, over the
/// in-memory transport. `configs[i]` is party `i`'s configuration.
///
/// # Errors
/// The first party's error.
pub fn keygen_all<S>(
    t: u16,
    configs: Vec<S::KeygenConfig>,
    opts: &DriveOptions,
) -> Result<Vec<KeyShare<S::Data>>, TransportError>
where
    S: ThresholdScheme + 'static,
    S::KeygenConfig: Send + 'static,
    KeyShare<S::Data>: Send,
{
    let n = u16::try_from(configs.len()).map_err(|_| TransportError::UnknownParty(u16::MAX))?;
    let session = SessionId::random(&mut rand_core::OsRng);
    let jobs = configs
        .into_iter()
        .zip(0u16..)
        .map(|(cfg, i)| {
            let job: PartyJob<KeyShare<S::Data>> =
                Box::new(move || S::keygen(&SessionCtx::keygen(session, S::ID, i, n)?, t, cfg));
            (i, job)
        })
        .collect();
    all_ok(n, jobs, opts)
}

/// Signing by `signers` (key-generation indices into `shares`), one thread per signer,
/// over the in-memory transport. Every signer must output the same signature.
///
/// # Errors
/// The first signer's error, or [`mpc_core::Error::Misuse`] if `shares` lacks a signer.
pub fn sign_all<S>(
    shares: &[KeyShare<S::Data>],
    signers: &[PartyIndex],
    request: &SignRequest,
    opts: &DriveOptions,
) -> Result<Signature, TransportError>
where
    S: ThresholdScheme + 'static,
    KeyShare<S::Data>: Send,
{
    let session = SessionId::random(&mut rand_core::OsRng);
    let jobs = jobs_for(shares, signers, move |share, ctx_signers, i| {
        let request = request.clone();
        Box::new(move || {
            S::sign(
                &SessionCtx::new(session, S::ID, i, &ctx_signers)?,
                &share,
                &request,
            )
        })
    })?;
    let sigs = all_ok(n_of(shares), jobs, opts)?;
    agree(sigs)
}

/// Signing of `requests` as one batch session ([`ThresholdScheme::sign_batch`]: all inputs
/// of a transaction, say) by `signers`, one thread per signer, over the in-memory
/// transport. Every signer must output the same signatures.
///
/// # Errors
/// As [`sign_all`].
pub fn sign_batch_all<S>(
    shares: &[KeyShare<S::Data>],
    signers: &[PartyIndex],
    requests: &[SignRequest],
    opts: &DriveOptions,
) -> Result<Vec<Signature>, TransportError>
where
    S: ThresholdScheme + 'static,
    KeyShare<S::Data>: Send,
{
    let session = SessionId::random(&mut rand_core::OsRng);
    let jobs = jobs_for(shares, signers, move |share, ctx_signers, i| {
        let requests = requests.to_vec();
        Box::new(move || {
            S::sign_batch(
                &SessionCtx::new(session, S::ID, i, &ctx_signers)?,
                &share,
                &requests,
            )
        })
    })?;
    agree(all_ok(n_of(shares), jobs, opts)?)
}

/// CGGMP21 presigning by `signers` (one thread each); returns each signer's presignature
/// in the order of `signers`.
///
/// # Errors
/// The first signer's error.
pub fn presign_all(
    shares: &[Cggmp21Share],
    signers: &[PartyIndex],
    path: Option<&[u32]>,
    opts: &DriveOptions,
) -> Result<Vec<Cggmp21Presignature>, TransportError> {
    let session = SessionId::random(&mut rand_core::OsRng);
    let path: Option<Vec<u32>> = path.map(<[u32]>::to_vec);
    let jobs = jobs_for(shares, signers, move |share, ctx_signers, i| {
        let path = path.clone();
        Box::new(move || {
            let ctx = SessionCtx::new(session, SchemeId::Cggmp21Secp256k1, i, &ctx_signers)?;
            Cggmp21::presign(&ctx, &share, path.as_deref())
        })
    })?;
    all_ok(n_of(shares), jobs, opts)
}

fn n_of<D>(shares: &[KeyShare<D>]) -> u16 {
    shares.first().map_or(0, KeyShare::parties)
}

fn jobs_for<D, O>(
    shares: &[KeyShare<D>],
    signers: &[PartyIndex],
    mut make: impl FnMut(KeyShare<D>, Vec<PartyIndex>, PartyIndex) -> PartyJob<O>,
) -> Result<Vec<(PartyIndex, PartyJob<O>)>, TransportError> {
    signers
        .iter()
        .map(|&i| {
            let share = shares
                .iter()
                .find(|s| s.index() == i)
                .ok_or(TransportError::UnknownParty(i))?
                .clone();
            Ok((i, make(share, signers.to_vec(), i)))
        })
        .collect()
}

/// The output every signer produced, or an error if they differ.
fn agree<T: PartialEq>(outs: Vec<T>) -> Result<T, TransportError> {
    let mut outs = outs.into_iter();
    let first = outs
        .next()
        .ok_or(mpc_core::Error::Misuse("no signer produced a signature"))?;
    if outs.any(|o| o != first) {
        return Err(mpc_core::Error::Misuse("signers output different signatures").into());
    }
    Ok(first)
}
