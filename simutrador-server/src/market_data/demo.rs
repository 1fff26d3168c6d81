//! CONTRACT STUB: to be written by the market-data work.
