//! CONTRACT STUB: keys subcommand
