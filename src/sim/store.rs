//! Per-org simulator state. (Stub: being written.)
