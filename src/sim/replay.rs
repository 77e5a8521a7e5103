//! Stories from a file. (Stub: being written.)
use super::world::{OrgSpec, Story, StorySource};
use jiff::Timestamp;
use std::path::Path;

pub struct Replay;

impl Replay {
    pub fn load(_path: &Path, _keep_times: bool) -> anyhow::Result<Replay> {
        anyhow::bail!("replay not implemented yet")
    }
}

impl StorySource for Replay {
    fn orgs(&self) -> Vec<OrgSpec> {
        Vec::new()
    }
    fn next_story(&mut self, _now: Timestamp) -> Option<(usize, Story)> {
        None
    }
    fn backlog(&mut self, _now: Timestamp) -> Vec<(usize, Story)> {
        Vec::new()
    }
}
