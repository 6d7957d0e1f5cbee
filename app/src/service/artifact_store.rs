//! The artifact store: where run and model files are kept, through `object_store`.
//!
//! The embedded default is a folder beside the database (`./data/artifacts`); `s3://bucket/prefix`
//! uses any S3-compatible service, with credentials, region and endpoint from the usual AWS
//! environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`).
//!
//! Files are streamed both ways and hashed as they pass: an upload is never held whole in
//! memory, and is only visible once complete (a local file is written aside and renamed; an
//! S3 multipart upload is invisible until completed), so one that fails halfway leaves nothing.

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::{Path as StorePath, PathPart};
use object_store::{GetResultPayload, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Uploads up to this size are sent in one request; larger ones in parts of this size.
const PART_BYTES: usize = 8 << 20;
/// Parts in flight at once per upload.
const PARTS_IN_FLIGHT: usize = 4;
/// Read size for local downloads.
const READ_BYTES: usize = 1 << 20;

/// Where artifacts are kept.
#[derive(Clone)]
pub struct ArtifactStore {
    inner: Arc<dyn ObjectStore>,
    prefix: Vec<String>,
    location: String,
}

impl std::fmt::Debug for ArtifactStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ArtifactStore({})", self.location)
    }
}

/// What an upload stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Bytes written.
    pub size: u64,
    /// Their SHA-256, lower-case hex.
    pub sha256: String,
}

/// Why an upload did not complete. Nothing is left in the store in any case.
#[derive(Debug)]
pub enum PutError {
    /// The body was larger than allowed.
    TooLarge(u64),
    /// The client's body ended in an error (a dropped connection).
    Body(String),
    /// The store refused or failed.
    Store(String),
}

/// Why the artifact store could not be opened, read or written: the store's own message
/// (a missing bucket, a refused credential, a full disk).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

impl From<String> for StoreError {
    fn from(message: String) -> Self {
        StoreError(message)
    }
}

impl From<object_store::Error> for StoreError {
    fn from(e: object_store::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl ArtifactStore {
    /// Opens the store at `root`: `s3://bucket[/prefix]`, `file:///path`, or a folder path
    /// (created when missing).
    pub fn open(root: &str) -> Result<ArtifactStore, StoreError> {
        ArtifactStore::open_with(root, &[])
    }

    /// As [`ArtifactStore::open`], with S3 settings given here (`aws_endpoint`,
    /// `aws_access_key_id`, …) over those from the environment.
    pub fn open_with(root: &str, s3_options: &[(&str, &str)]) -> Result<ArtifactStore, StoreError> {
        if let Some(rest) = root.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("`{root}` names no bucket: use s3://bucket/prefix").into());
            }
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
            for (k, v) in s3_options {
                let key = k
                    .parse::<object_store::aws::AmazonS3ConfigKey>()
                    .map_err(|e| format!("S3 option `{k}`: {e}"))?;
                builder = builder.with_config(key, *v);
            }
            let store = builder
                .build()
                .map_err(|e| format!("cannot use {root}: {e}"))?;
            return Ok(ArtifactStore {
                inner: Arc::new(store),
                prefix: segments(prefix),
                location: root.to_string(),
            });
        }
        let dir = root.strip_prefix("file://").unwrap_or(root);
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {dir}: {e}"))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| format!("cannot use {dir}: {e}"))?
            .with_automatic_cleanup(true);
        let location = std::fs::canonicalize(dir)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| dir.to_string());
        Ok(ArtifactStore {
            inner: Arc::new(store),
            prefix: Vec::new(),
            location,
        })
    }

    /// A store in a fresh folder under the system's temporary directory (benchmarks, tools).
    pub fn scratch(label: &str) -> Result<ArtifactStore, StoreError> {
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-{label}-{}-{}",
            std::process::id(),
            crate::service::now_ms()
        ));
        ArtifactStore::open(&dir.display().to_string())
    }

    /// Where the store is, for logs and the README's operators.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn path(&self, key: &str) -> StorePath {
        StorePath::from_iter(
            self.prefix
                .iter()
                .map(|s| PathPart::from(s.as_str()))
                .chain(key.split('/').filter(|s| !s.is_empty()).map(PathPart::from)),
        )
    }

    /// Streams `body` to `key`, hashing as it goes; at most `max` bytes.
    pub async fn put_stream<S, E>(&self, key: &str, body: S, max: u64) -> Result<Stored, PutError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let path = self.path(key);
        let mut body = std::pin::pin!(body);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        // Small files (most of them) go up in one request; a larger one switches to parts.
        let mut head: Vec<Bytes> = Vec::new();
        let mut head_len = 0usize;
        let mut writer: Option<WriteMultipart> = None;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    if let Some(w) = writer {
                        let _ = w.abort().await;
                    }
                    return Err(PutError::Body(e.to_string()));
                }
            };
            size += chunk.len() as u64;
            if size > max {
                if let Some(w) = writer {
                    let _ = w.abort().await;
                }
                return Err(PutError::TooLarge(max));
            }
            hasher.update(&chunk);
            match writer.as_mut() {
                Some(w) => {
                    if let Err(e) = w.wait_for_capacity(PARTS_IN_FLIGHT).await {
                        if let Some(w) = writer {
                            let _ = w.abort().await;
                        }
                        return Err(PutError::Store(e.to_string()));
                    }
                    w.put(chunk);
                }
                None => {
                    head_len += chunk.len();
                    head.push(chunk);
                    if head_len > PART_BYTES {
                        let upload = self
                            .inner
                            .put_multipart(&path)
                            .await
                            .map_err(|e| PutError::Store(e.to_string()))?;
                        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
                        for b in head.drain(..) {
                            w.put(b);
                        }
                        writer = Some(w);
                    }
                }
            }
        }
        match writer {
            Some(w) => {
                w.finish()
                    .await
                    .map_err(|e| PutError::Store(e.to_string()))?;
            }
            None => {
                self.inner
                    .put(&path, PutPayload::from_iter(head))
                    .await
                    .map_err(|e| PutError::Store(e.to_string()))?;
            }
        }
        Ok(Stored {
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    /// The bytes at `key` as a stream, with their size; `None` when there is no such file.
    pub async fn get(
        &self,
        key: &str,
    ) -> Result<Option<(u64, BoxStream<'static, Result<Bytes, StoreError>>)>, StoreError> {
        let got = match self.inner.get(&self.path(key)).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let size = got.meta.size;
        let stream = match got.payload {
            // object_store reads local files 8 KiB at a time; a 1 MiB buffer keeps a
            // download near disk speed.
            GetResultPayload::File(file, _) => {
                use tokio::io::AsyncReadExt;
                let file = tokio::fs::File::from_std(file).take(size);
                tokio_util::io::ReaderStream::with_capacity(file, READ_BYTES)
                    .map(|r| r.map_err(|e| StoreError(e.to_string())))
                    .boxed()
            }
            GetResultPayload::Stream(s) => s.map(|r| r.map_err(StoreError::from)).boxed(),
        };
        Ok(Some((size, stream)))
    }

    /// Re-reads `key` and hashes it; `None` when there is no such file.
    pub async fn hash(&self, key: &str) -> Result<Option<Stored>, StoreError> {
        let Some((_, mut stream)) = self.get(key).await? else {
            return Ok(None);
        };
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok(Some(Stored {
            size,
            sha256: hex::encode(hasher.finalize()),
        }))
    }

    /// Removes `key`; a missing file is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.inner.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every file under the folder `key`, as (key relative to the folder, size).
    pub async fn list_under(&self, key: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let base = self.path(key);
        let skip = base.parts().count();
        let mut out = Vec::new();
        let mut stream = self.inner.list(Some(&base));
        while let Some(meta) = stream.next().await {
            let meta = meta?;
            let rel: Vec<String> = meta
                .location
                .parts()
                .skip(skip)
                .map(|p| p.as_ref().to_string())
                .collect();
            out.push((rel.join("/"), meta.size));
        }
        out.sort();
        Ok(out)
    }
}

fn segments(prefix: &str) -> Vec<String> {
    prefix
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: Vec<&'static [u8]>) -> impl Stream<Item = Result<Bytes, StoreError>> {
        futures_util::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p))))
    }

    #[tokio::test]
    async fn files_go_up_and_come_back_with_their_hash() {
        let dir = std::env::temp_dir().join(format!("gh-store-{}", std::process::id()));
        let store = ArtifactStore::open(dir.to_str().unwrap()).unwrap();
        let stored = store
            .put_stream("1/abc/artifacts/a.txt", chunks(vec![b"hel", b"lo"]), 100)
            .await
            .unwrap();
        assert_eq!(stored.size, 5);
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(b"hello")));
        assert_eq!(
            store.hash("1/abc/artifacts/a.txt").await.unwrap(),
            Some(stored)
        );
        assert_eq!(
            store.list_under("1/abc").await.unwrap(),
            vec![("artifacts/a.txt".to_string(), 5)]
        );
        // Too large: refused, and nothing stored.
        assert!(matches!(
            store
                .put_stream("1/abc/artifacts/b.txt", chunks(vec![b"0123456789"]), 4)
                .await,
            Err(PutError::TooLarge(4))
        ));
        assert_eq!(store.hash("1/abc/artifacts/b.txt").await.unwrap(), None);
        // A body that breaks off: nothing stored.
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"partial")),
            Err("connection reset".to_string()),
        ]);
        assert!(matches!(
            store.put_stream("1/abc/artifacts/c.txt", broken, 100).await,
            Err(PutError::Body(_))
        ));
        assert_eq!(store.hash("1/abc/artifacts/c.txt").await.unwrap(), None);
        store.delete("1/abc/artifacts/a.txt").await.unwrap();
        store.delete("1/abc/artifacts/a.txt").await.unwrap();
        assert!(store.list_under("1").await.unwrap().is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn large_uploads_go_in_parts_and_leave_nothing_when_broken() {
        let dir = std::env::temp_dir().join(format!("gh-store-mp-{}", std::process::id()));
        let store = ArtifactStore::open(dir.to_str().unwrap()).unwrap();
        let block = Bytes::from(vec![7u8; 3 << 20]);
        let body = futures_util::stream::iter((0..6).map(|_| Ok::<_, String>(block.clone())));
        let stored = store.put_stream("2/big", body, u64::MAX).await.unwrap();
        assert_eq!(stored.size, 18 << 20);
        let mut h = Sha256::new();
        for _ in 0..6 {
            h.update(&block);
        }
        assert_eq!(stored.sha256, hex::encode(h.finalize()));
        assert_eq!(store.hash("2/big").await.unwrap(), Some(stored));
        let broken = futures_util::stream::iter(
            (0..5)
                .map(|_| Ok::<_, String>(block.clone()))
                .chain([Err("reset".to_string())]),
        );
        assert!(store
            .put_stream("2/broken", broken, u64::MAX)
            .await
            .is_err());
        assert_eq!(
            store.list_under("2").await.unwrap(),
            vec![("big".to_string(), 18 << 20)]
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
