//! Resharing on the party side: refresh, reshare, repair and migration of a key this
//! deployment holds, through one protocol run (`mpc_core::reshare`) among the dealers and
//! the new committee, named by deployment party.
//!
//! A party that holds the key derives the setup from its own share and refuses one that
//! differs; a party that holds nothing yet (a new party, or one repairing a lost share)
//! takes the setup from the coordinator, and the protocol binds every participant to one
//! setup (a run with another group key or committee aborts). A new share is stored as
//! pending under the key's id at the next epoch; the old share stays active until the
//! coordinator retires it, after the new epoch is active at every new party.

use mpc_core::reshare::group::{Ed25519, ReshareGroup, Secp256k1};
use mpc_core::reshare::{
    self, DealerInput, ReshareFrom, ReshareInto, ReshareOutput, ReshareSetup, ReshareSource,
    SetupRecord,
};
use mpc_core::{
    Cggmp21, CurveId, FrostEd25519, FrostTaproot, Gg20, PartyIndex, SchemeId, SessionId,
};

use super::ceremony::check_key_id;
use super::{bad, blocking, failure, DriveOptions, HeldKey, Party, Route};
use crate::control::{Failure, FailureKind, KeyRef, Response};

/// A share's view of its key for a resharing, in the key's group.
enum Source {
    Ed25519(ReshareSource<Ed25519>),
    Secp256k1(ReshareSource<Secp256k1>),
}

impl Source {
    fn of(held: &HeldKey) -> Result<Self, Failure> {
        Ok(match held {
            HeldKey::FrostEd25519(s) => {
                Source::Ed25519(FrostEd25519::reshare_source(s).map_err(bad)?)
            }
            HeldKey::FrostTaproot(s) => {
                Source::Secp256k1(FrostTaproot::reshare_source(s).map_err(bad)?)
            }
            HeldKey::Cggmp21 { share, .. } => {
                Source::Secp256k1(Cggmp21::reshare_source(share).map_err(bad)?)
            }
            HeldKey::Gg20 { share, .. } => {
                Source::Secp256k1(Gg20::reshare_source(share).map_err(bad)?)
            }
        })
    }

    /// The setup this share gives for a resharing to `new_committee`.
    fn record(
        &self,
        committee: &[PartyIndex],
        dealers: &[PartyIndex],
        new_committee: &[PartyIndex],
        new_threshold: u16,
    ) -> Result<SetupRecord, Failure> {
        Ok(match self {
            Source::Ed25519(s) => SetupRecord::from(
                &s.setup(Some(committee), dealers, new_committee, new_threshold)
                    .map_err(bad)?,
            ),
            Source::Secp256k1(s) => SetupRecord::from(
                &s.setup(Some(committee), dealers, new_committee, new_threshold)
                    .map_err(bad)?,
            ),
        })
    }
}

/// The engine pairs a resharing goes between.
fn check_target(from: SchemeId, to: SchemeId) -> Result<(), Failure> {
    use SchemeId as S;
    match (from, to) {
        (S::FrostEd25519, S::FrostEd25519)
        | (S::FrostSecp256k1Tr, S::FrostSecp256k1Tr)
        | (S::Cggmp21Secp256k1, S::Cggmp21Secp256k1)
        | (S::Gg20Secp256k1, S::Gg20Secp256k1)
        | (S::Gg20Secp256k1, S::Cggmp21Secp256k1) => Ok(()),
        (a, b) => Err(bad(format!("no resharing from {a} keys to {b} shares"))),
    }
}

fn internal(e: impl ToString) -> Failure {
    failure(FailureKind::Internal, Vec::new(), e)
}

impl Party {
    /// The setup this party's share of `key` gives (see [`crate::control::Request::ReshareSetup`]).
    pub(super) fn reshare_setup(
        &self,
        key: &KeyRef,
        dealers: &[PartyIndex],
        new_committee: &[PartyIndex],
        new_threshold: u16,
    ) -> Result<Response, Failure> {
        let k = self.key(key)?;
        let setup =
            Source::of(&k.held)?.record(&k.committee, dealers, new_committee, new_threshold)?;
        Ok(Response::ReshareSetup { setup })
    }

    /// Takes part in a resharing of `key_id` (see [`crate::control::Request::Reshare`]).
    pub(super) async fn reshare(
        &self,
        session: SessionId,
        key_id: &str,
        key: &KeyRef,
        target: SchemeId,
        setup: SetupRecord,
        round_timeout_ms: u64,
    ) -> Result<Response, Failure> {
        let vault = self.vault()?;
        check_key_id(key_id).map_err(bad)?;
        check_target(key.scheme, target)?;
        let me = self.me();
        let dealer = setup.dealers.contains(&me);
        let member = setup.new_parties.contains(&me);
        if !dealer && !member {
            return Err(bad(format!(
                "party {me} is neither a dealer nor in the new committee {:?}",
                setup.new_parties
            )));
        }
        if Some(setup.epoch) != key.epoch.checked_add(1) {
            return Err(bad(format!(
                "the new shares must have epoch {} (the key's epoch + 1), not {}",
                u64::from(key.epoch) + 1,
                setup.epoch
            )));
        }
        let source = match self.key(key) {
            Ok(k) => {
                if k.id.as_deref().is_some_and(|id| id != key_id) {
                    return Err(bad(format!(
                        "party {me} holds this key under another id than {key_id}"
                    )));
                }
                let source = Source::of(&k.held)?;
                let mine = source.record(
                    &k.committee,
                    &setup.dealers,
                    &setup.new_parties,
                    setup.new_threshold,
                )?;
                if mine != setup {
                    return Err(bad(format!(
                        "the resharing setup differs from the one party {me} derives from its \
                         own share of epoch {}",
                        key.epoch
                    )));
                }
                Some(source)
            }
            Err(_) if dealer => {
                return Err(bad(format!(
                    "party {me} is named a dealer but holds no active share of epoch {} of \
                     this key",
                    key.epoch
                )))
            }
            Err(_) => {
                self.check_id_for(key_id, key)?;
                if setup.group_key != key.public_key.as_bytes() {
                    return Err(bad(
                        "the resharing setup names another group key than the key asked for",
                    ));
                }
                None
            }
        };
        self.resharing
            .lock()
            .map_err(internal)?
            .insert(key_id.to_string(), session);
        // Making primes takes minutes, more for some parties than others: the session is
        // open meanwhile, so the others' first messages wait for this party.
        self.open_early(session, target, setup.participants())?;
        let needs_primes = matches!(target, SchemeId::Cggmp21Secp256k1 | SchemeId::Gg20Secp256k1);
        let primes = if member && needs_primes {
            let (v, epoch) = (vault.clone(), setup.epoch);
            match blocking(move || v.fresh_paillier_primes(epoch).map_err(internal)).await {
                Ok(p) => Some(p),
                Err(f) => {
                    self.close_early(session);
                    return Err(f);
                }
            }
        } else {
            None
        };
        let opts = self.ceremony_drive_options(round_timeout_ms);
        let committee = setup.new_parties.clone();
        tracing::info!(
            party = me,
            key_id,
            epoch = setup.epoch,
            dealer,
            member,
            "resharing"
        );
        let held = match (target.curve(), source) {
            (CurveId::Ed25519, source) => {
                let input = match source {
                    Some(Source::Ed25519(s)) if dealer => Some(s.dealer_input()),
                    _ => None,
                };
                let out = self
                    .run_reshare(session, target, &setup, input, &opts)
                    .await?;
                if !member {
                    return Ok(dealt(key_id));
                }
                HeldKey::FrostEd25519(FrostEd25519::from_reshare(&out).map_err(bad)?)
            }
            (CurveId::Secp256k1, source) => {
                let input = match source {
                    Some(Source::Secp256k1(s)) if dealer => Some(s.dealer_input()),
                    _ => None,
                };
                let out = self
                    .run_reshare(session, target, &setup, input, &opts)
                    .await?;
                if !member {
                    return Ok(dealt(key_id));
                }
                match (target, primes) {
                    (SchemeId::FrostSecp256k1Tr, _) => {
                        HeldKey::FrostTaproot(FrostTaproot::from_reshare(&out).map_err(bad)?)
                    }
                    (SchemeId::Cggmp21Secp256k1, Some(primes)) => {
                        let incomplete = Cggmp21::from_reshare(&out).map_err(bad)?;
                        let session = session.follow_on("cggmp21 aux info after resharing");
                        let share = self
                            .run_new_committee(target, session, &committee, &opts, move |ctx| {
                                Cggmp21::aux_info(&ctx, &incomplete, primes)
                            })
                            .await?;
                        HeldKey::Cggmp21 { share, pool: None }
                    }
                    (SchemeId::Gg20Secp256k1, Some(primes)) => {
                        let session = session.follow_on("gg20 moduli after resharing");
                        let share = self
                            .run_new_committee(target, session, &committee, &opts, move |ctx| {
                                Gg20::reshared(&ctx, &out, primes)
                            })
                            .await?;
                        HeldKey::Gg20 { share, pool: None }
                    }
                    (other, _) => return Err(bad(format!("no resharing into {other}"))),
                }
            }
            (other, _) => return Err(bad(format!("no resharing on {other:?}"))),
        };
        self.store_new_for(&vault, key_id, held, committee, Some(session))
            .await
    }

    /// One resharing run among the setup's participants (deployment parties).
    async fn run_reshare<G: ReshareGroup>(
        &self,
        session: SessionId,
        target: SchemeId,
        setup: &SetupRecord,
        dealer: Option<DealerInput<G>>,
        opts: &DriveOptions,
    ) -> Result<ReshareOutput<G>, Failure> {
        let setup: ReshareSetup<G> = setup.to_setup().map_err(bad)?;
        let participants = setup.participants();
        let (out, _) = self
            .run(
                target,
                session,
                participants,
                Route::Deployment,
                opts.clone(),
                move |ctx| reshare::reshare(&ctx, setup, dealer),
            )
            .await?;
        Ok(out)
    }

    /// A run of the whole new committee, by new share index (the step after a resharing
    /// that gives CGGMP21 and GG20 shares their fresh Paillier keys).
    async fn run_new_committee<O, F>(
        &self,
        target: SchemeId,
        session: SessionId,
        committee: &[PartyIndex],
        opts: &DriveOptions,
        make: F,
    ) -> Result<O, Failure>
    where
        O: Send + 'static,
        F: FnOnce(mpc_core::SessionCtx) -> mpc_core::Result<mpc_core::BoxedProtocol<O>>
            + Send
            + 'static,
    {
        let n = u16::try_from(committee.len()).map_err(bad)?;
        let route = Route::Committee(committee.to_vec());
        let (out, _) = self
            .run(target, session, (0..n).collect(), route, opts.clone(), make)
            .await?;
        Ok(out)
    }

    /// A party without a share of `key` may receive one under `key_id` unless it keeps
    /// that id for another key.
    fn check_id_for(&self, key_id: &str, key: &KeyRef) -> Result<(), Failure> {
        let keys = self.keys.read().map_err(internal)?;
        let same = |k: &KeyRef| k.scheme == key.scheme && k.public_key == key.public_key;
        let other_active = keys
            .active
            .iter()
            .any(|k| k.id.as_deref() == Some(key_id) && !same(&k.held.key_ref()));
        let other_pending = keys
            .pending
            .get(key_id)
            .is_some_and(|k| !(same(k) || k.public_key == key.public_key));
        if other_active || other_pending {
            return Err(bad(format!(
                "key id {key_id} names another key at party {}",
                self.me()
            )));
        }
        Ok(())
    }
}

fn dealt(key_id: &str) -> Response {
    Response::Dealt {
        key_id: key_id.to_string(),
    }
}
