//! Configuration and credentials. (Stub: being written.)
