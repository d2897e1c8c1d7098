//! Length-delimited frames (`u32` big-endian length, then the bytes), capped before
//! allocation. Used by the party mesh and the control channel.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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
