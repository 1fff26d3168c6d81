//! TEMPORARY STUB (replaced by the auth work).
/// keys
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// list
    List,
}
/// run
pub fn run(_cmd: KeysCommand) -> anyhow::Result<std::process::ExitCode> {
    unimplemented!()
}
