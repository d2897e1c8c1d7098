//! A key's committee: which party of the deployment holds which share index.
//!
//! A key made by all `n` parties of a deployment has share index `i` at party `i`. After a
//! resharing the committee can be any list of deployment parties: share index `j` belongs
//! to `committee[j]`. Protocol runs see share indices only; [`CommitteeTransport`]
//! translates at the session boundary, so a frame from a party outside the key's committee
//! never reaches a run.

use mpc_core::PartyIndex;

use crate::error::TransportError;
use crate::transport::Transport;

/// The committee of a key made by parties `0..n`: share index `i` at party `i`.
pub fn whole_deployment(n: u16) -> Vec<PartyIndex> {
    (0..n).collect()
}

/// The share index of deployment party `party` in `committee`.
pub fn share_index(committee: &[PartyIndex], party: PartyIndex) -> Option<PartyIndex> {
    committee
        .iter()
        .position(|p| *p == party)
        .and_then(|j| PartyIndex::try_from(j).ok())
}

/// The deployment party of share index `index` in `committee`.
pub fn party_of(committee: &[PartyIndex], index: PartyIndex) -> Option<PartyIndex> {
    committee.get(usize::from(index)).copied()
}

/// The deployment parties of share indices `indices` (indices outside the committee are
/// kept as they are: they can only come from a blame list of a run that had them).
pub fn parties_of(committee: &[PartyIndex], indices: &[PartyIndex]) -> Vec<PartyIndex> {
    indices
        .iter()
        .map(|i| party_of(committee, *i).unwrap_or(*i))
        .collect()
}

/// A transport in share-index space over a transport in deployment-party space.
#[derive(Debug)]
pub struct CommitteeTransport<T> {
    inner: T,
    committee: Vec<PartyIndex>,
    me: PartyIndex,
}

impl<T: Transport> CommitteeTransport<T> {
    /// Wraps `inner` for a run of the key whose committee is `committee`.
    ///
    /// # Errors
    /// [`TransportError::UnknownParty`] if the local party is not in the committee.
    pub fn new(inner: T, committee: Vec<PartyIndex>) -> Result<Self, TransportError> {
        let me = share_index(&committee, inner.local())
            .ok_or(TransportError::UnknownParty(inner.local()))?;
        Ok(CommitteeTransport {
            inner,
            committee,
            me,
        })
    }
}

impl<T: Transport> Transport for CommitteeTransport<T> {
    fn local(&self) -> PartyIndex {
        self.me
    }

    fn max_frame(&self) -> usize {
        self.inner.max_frame()
    }

    async fn send(&mut self, to: PartyIndex, frame: Vec<u8>) -> Result<(), TransportError> {
        let party = party_of(&self.committee, to).ok_or(TransportError::UnknownParty(to))?;
        self.inner.send(party, frame).await
    }

    async fn recv(&mut self) -> Result<(PartyIndex, Vec<u8>), TransportError> {
        let (from, frame) = self.inner.recv().await?;
        let index = share_index(&self.committee, from).ok_or(TransportError::UnknownParty(from))?;
        Ok((index, frame))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::transport::InMemoryNetwork;

    #[tokio::test]
    async fn share_indices_map_to_committee_members_and_outsiders_are_refused() {
        let mut net = InMemoryNetwork::default().connect(5);
        let mut outsider = net.remove(1);
        let committee = vec![4, 2, 0];
        let mut a = CommitteeTransport::new(net.remove(3), committee.clone()).unwrap(); // party 4
        let mut b = CommitteeTransport::new(net.remove(0), committee.clone()).unwrap(); // party 0
        assert_eq!((a.local(), b.local()), (0, 2));
        a.send(2, b"hi".to_vec()).await.unwrap();
        assert_eq!(b.recv().await.unwrap(), (0, b"hi".to_vec()));
        outsider.send(0, b"let me in".to_vec()).await.unwrap();
        assert!(matches!(
            b.recv().await,
            Err(TransportError::UnknownParty(1))
        ));
        assert!(matches!(
            a.send(3, Vec::new()).await,
            Err(TransportError::UnknownParty(3))
        ));
        assert!(CommitteeTransport::new(outsider, committee).is_err());
        assert_eq!(parties_of(&[4, 2, 0], &[2, 0]), vec![0, 4]);
    }
}
