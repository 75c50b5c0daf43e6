//! A queue that can be taken down: what a test uses to show that work
//! committed while the queue refused it is not lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use agencyops_platform::ports::{PortError, PortResult};
use agencyops_platform::queue::Queue;

pub struct SwitchQueue {
    inner: Arc<dyn Queue>,
    down: AtomicBool,
}

impl SwitchQueue {
    pub fn new(inner: Arc<dyn Queue>) -> Arc<SwitchQueue> {
        Arc::new(SwitchQueue {
            inner,
            down: AtomicBool::new(false),
        })
    }
    /// While down, every send fails as an unreachable SQS would.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
    fn check(&self) -> PortResult<()> {
        match self.down.load(Ordering::SeqCst) {
            true => Err(PortError::Backend("the queue is down (test outage)".into())),
            false => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl Queue for SwitchQueue {
    async fn send(&self, queue: &str, body: &str) -> PortResult<()> {
        self.check()?;
        self.inner.send(queue, body).await
    }
    async fn send_batch(&self, queue: &str, bodies: &[String]) -> PortResult<()> {
        self.check()?;
        self.inner.send_batch(queue, bodies).await
    }
}
