//! TEMPORARY STUB (replaced by the market-data work).
/// data
#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// list
    List,
}
/// run
pub fn run(_cmd: DataCommand) -> anyhow::Result<std::process::ExitCode> {
    unimplemented!()
}
