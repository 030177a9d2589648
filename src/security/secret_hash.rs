//! Argon2id hashing for pool secrets and user passwords. One hash costs ~19 MiB and some
//! milliseconds of CPU, so it runs on the blocking thread pool, never on the async workers, and at
//! most `concurrency` at once server-wide: a flood of credential checks queues instead of
//! exhausting memory and cores.

use std::sync::Arc;

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct Hasher {
    slots: Arc<Semaphore>,
}

impl Hasher {
    /// At most `concurrency` hashes at once; 0 means one per CPU core.
    pub fn new(concurrency: usize) -> Self {
        let n = if concurrency == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { concurrency };
        Hasher { slots: Arc::new(Semaphore::new(n)) }
    }

    pub async fn hash(&self, secret: String) -> AppResult<String> {
        self.run(move || hash_blocking(secret.as_bytes())).await?
    }

    /// True when `secret` matches the PHC string `hash`. A malformed or absent hash never matches;
    /// an absent one is checked against a decoy so that it takes as long as a real check.
    pub async fn verify(&self, secret: String, hash: Option<String>) -> AppResult<bool> {
        self.run(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(decoy_hash);
            let Ok(parsed) = PasswordHash::new(&hash) else { return false };
            Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok() && known
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let _slot = self.slots.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(work).await.map_err(AppError::internal)
    }
}

fn hash_blocking(secret: &[u8]) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret, &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("argon2 hash: {e}")))
}

/// A valid hash of a random value: checking a secret against it costs what a real check costs,
/// so an unknown pool id answers no faster than a wrong secret.
fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| hash_blocking(crate::ids::random_hex(16).as_bytes()).unwrap_or_default())
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_run_at_most_n_at_once() {
        let hasher = Hasher::new(2);
        let hash = hasher.hash("s3cret".into()).await.unwrap();
        assert!(hasher.verify("s3cret".into(), Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify("other".into(), Some(hash)).await.unwrap());
        assert!(!hasher.verify("s3cret".into(), None).await.unwrap());

        // Two pieces of work hold both slots until released; a third must not start meanwhile.
        let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel::<u8>();
        let mut releases = Vec::new();
        let mut running = Vec::new();
        for i in 0..3u8 {
            let (release, wait) = std::sync::mpsc::channel::<()>();
            releases.push(release);
            let (hasher, started_tx) = (hasher.clone(), started_tx.clone());
            running.push(tokio::spawn(async move {
                hasher.run(move || {
                    let _ = started_tx.send(i);
                    let _ = wait.recv();
                }).await
            }));
        }
        let first_two = [started.recv().await.unwrap(), started.recv().await.unwrap()];
        // Proving that something does not happen needs a wait: without the slots the third
        // starts within microseconds, so a second is ample.
        let third = tokio::time::timeout(std::time::Duration::from_secs(1), started.recv()).await;
        assert!(third.is_err(), "a third piece of work started while both slots were taken: {third:?}");
        releases[usize::from(first_two[0])].send(()).unwrap();
        let third = started.recv().await.unwrap();
        assert!(!first_two.contains(&third), "the waiting one starts once a slot is free");
        for release in &releases {
            let _ = release.send(());
        }
        for task in running {
            task.await.unwrap().unwrap();
        }
    }
}
