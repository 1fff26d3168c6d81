//! CLI binary tests (to be written).
