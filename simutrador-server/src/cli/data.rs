//! CONTRACT STUB: data subcommand
