//! HTTPS server. (Stub: being written.)
use super::SimOptions;

#[derive(Debug, Clone)]
pub struct Fault;
#[derive(Debug, Clone)]
pub struct RequestRecord;
pub struct SimHandle;

pub async fn start(_opts: SimOptions) -> anyhow::Result<SimHandle> {
    anyhow::bail!("simulator not implemented yet")
}
