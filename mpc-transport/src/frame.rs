//! Length-delimited frames (`u32` big-endian length, then the bytes), capped before
//! allocation. Used by the party mesh and the control channel.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A frame queued for writing, with the time it was queued (for the simulated delay).
pub(crate) type Queued = (Instant, Vec<u8>);

/// Writes queued frames until the queue closes or a write fails. With a non-zero `delay`,
/// each frame leaves `delay` after it was queued (order kept, bursts not delayed
/// cumulatively): the simulated one-way delay of the latency report.
pub(crate) async fn write_queued<W: AsyncWrite + Unpin>(
    w: &mut W,
    rx: &mut mpsc::Receiver<Queued>,
    delay: Duration,
) {
    while let Some((queued, frame)) = rx.recv().await {
        if !delay.is_zero() {
            tokio::time::sleep_until(queued + delay).await;
        }
        if write_frame(w, &frame).await.is_err() {
            break;
        }
    }
}

pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    frame: &[u8],
) -> std::io::Result<()> {
    let len = u32::try_from(frame.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "frame too long"))?;
    w.write_all(&len.to_be_bytes()).await?;
    w.write_all(frame).await?;
    w.flush().await
}

/// Reads one frame. `Ok(Err(len))`: a frame over `max` whose bytes were skipped without
/// being stored; the stream is positioned at the next frame.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> std::io::Result<Result<Vec<u8>, usize>> {
    let len = usize::try_from(r.read_u32().await?).unwrap_or(usize::MAX);
    if len > max {
        let skip = u64::try_from(len).unwrap_or(u64::MAX);
        let copied = tokio::io::copy(&mut r.take(skip), &mut tokio::io::sink()).await?;
        if copied != skip {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        return Ok(Err(len));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).await?;
    Ok(Ok(buf))
}
