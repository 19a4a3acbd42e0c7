//! The feed of committed cart versions: who is told when a cart's version rises. In this
//! process, one `tokio::sync::broadcast` channel per cart somebody watches ([`Changes`]),
//! published to by [`super::WriteTx::commit`] after the commit that raised it; across
//! processes on PostgreSQL, the same transaction's `pg_notify` on [`CHANNEL`], which every
//! process's [`listen`] task hears (its own too: a watcher may see one version twice, and
//! [`Watch`] passes each version on once, in rising order).
//!
//! Bounded: a cart's channel exists while someone watches it (the last [`Watch`] dropped
//! removes it), each keeps the last [`CAPACITY`] versions (a slow watcher skips to the newest:
//! versions only rise, so the newest says everything), and [`Changes::close`] ends every watch
//! (the server's graceful shutdown).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{broadcast, watch};

/// The PostgreSQL notification channel; the payload is `"{cart id} {version}"`.
pub const CHANNEL: &str = "omnicart_cart_changed";

/// Versions a slow watcher may fall behind before it skips to the newest.
pub const CAPACITY: usize = 16;

/// Cart id → its channel, for the carts being watched.
#[derive(Debug)]
pub struct Changes {
    carts: Mutex<HashMap<String, broadcast::Sender<i64>>>,
    closed: watch::Sender<bool>,
}

impl Default for Changes {
    fn default() -> Changes {
        Changes {
            carts: Mutex::default(),
            closed: watch::Sender::new(false),
        }
    }
}

impl Changes {
    /// Tells the watchers of `cart_id` (if any) that it is now at `version`.
    pub fn publish(&self, cart_id: &str, version: i64) {
        let carts = self.carts.lock().expect("changes lock");
        if let Some(sender) = carts.get(cart_id) {
            // No receiver left is not an error: the last watch is being dropped.
            let _ = sender.send(version);
        }
    }

    /// Starts watching `cart_id`: every version published from now on.
    pub fn watch(self: &Arc<Self>, cart_id: &str) -> Watch {
        let mut carts = self.carts.lock().expect("changes lock");
        let receiver = carts
            .entry(cart_id.to_owned())
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
            .subscribe();
        Watch {
            changes: Arc::clone(self),
            cart_id: cart_id.to_owned(),
            receiver: Some(receiver),
            closed: self.closed.subscribe(),
        }
    }

    /// Carts with a channel (being watched), for tests of the bound.
    pub fn watched(&self) -> usize {
        self.carts.lock().expect("changes lock").len()
    }

    /// Ends every watch, now and later: the server is shutting down.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    fn unwatch(&self, cart_id: &str) {
        let mut carts = self.carts.lock().expect("changes lock");
        if carts
            .get(cart_id)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            carts.remove(cart_id);
        }
    }
}

/// One watcher of one cart (an event stream).
pub struct Watch {
    changes: Arc<Changes>,
    cart_id: String,
    receiver: Option<broadcast::Receiver<i64>>,
    closed: watch::Receiver<bool>,
}

impl Watch {
    /// The next version above `after`; `None` once the feed is closed.
    pub async fn next_after(&mut self, after: i64) -> Option<i64> {
        let receiver = self.receiver.as_mut().expect("a live watch has a receiver");
        loop {
            if *self.closed.borrow() {
                return None;
            }
            tokio::select! {
                changed = self.closed.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                version = receiver.recv() => match version {
                    Ok(version) if version > after => return Some(version),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // The receiver first, so that the count it leaves says whether anyone still watches.
        drop(self.receiver.take());
        self.changes.unwatch(&self.cart_id);
    }
}

/// On PostgreSQL: hears every process's [`CHANNEL`] notifications and publishes them here,
/// until `changes` is dropped or closed. A dropped connection is reopened (notifications
/// sent meanwhile are lost; a client's poll is the fallback, and its next event catches up).
pub async fn listen(url: String, changes: Weak<Changes>) {
    let Some(mut closed) = changes.upgrade().map(|c| c.closed.subscribe()) else {
        return;
    };
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect(&url).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!("cart change listener: {e}");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!("cart change listener: {e}");
            continue;
        }
        loop {
            tokio::select! {
                _ = closed.changed() => return,
                notification = listener.recv() => match notification {
                    Ok(notification) => {
                        let Some(changes) = changes.upgrade() else { return };
                        if let Some((id, version)) = notification.payload().split_once(' ')
                            && let Ok(version) = version.parse()
                        {
                            changes.publish(id, version);
                        }
                    }
                    Err(e) => {
                        tracing::warn!("cart change listener: {e}");
                        break;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watch_sees_rising_versions_and_its_channel_goes_with_it() {
        let changes = Arc::new(Changes::default());
        changes.publish("a", 1);
        let mut first = changes.watch("a");
        let second = changes.watch("a");
        assert_eq!(changes.watched(), 1);
        changes.publish("b", 5);
        changes.publish("a", 2);
        changes.publish("a", 2);
        changes.publish("a", 3);
        assert_eq!(first.next_after(0).await, Some(2));
        assert_eq!(first.next_after(2).await, Some(3));
        drop(second);
        assert_eq!(changes.watched(), 1);
        drop(first);
        assert_eq!(changes.watched(), 0);
    }

    #[tokio::test]
    async fn closing_ends_every_watch() {
        let changes = Arc::new(Changes::default());
        let mut watch = changes.watch("a");
        let waiting = tokio::spawn(async move { watch.next_after(0).await });
        changes.close();
        assert_eq!(waiting.await.unwrap(), None);
        assert_eq!(changes.watch("b").next_after(0).await, None);
    }
}
