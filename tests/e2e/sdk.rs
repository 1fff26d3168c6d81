//! SDK tests (to be written).
