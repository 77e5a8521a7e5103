//! Seeded attack stories. (Stub: being written.)
use super::world::{OrgSpec, Story, StorySource};
use jiff::Timestamp;

pub struct Generator;

impl Generator {
    pub fn new(_seed: u64, _orgs: usize, _backlog: usize) -> Generator {
        Generator
    }
}

impl StorySource for Generator {
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
