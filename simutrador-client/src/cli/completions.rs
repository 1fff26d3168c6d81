//! `simutrador-client completions SHELL` and `simutrador-client man`: the shell completion
//! script (`clap_complete`) and the roff man page (`clap_mangen`), both generated from the
//! same `clap` definition the parser uses, so they cannot drift from the real command line.
//! Neither needs a daemon, a login or a config file.

use clap::CommandFactory;
use clap_complete::Shell;

use super::args::Cli;

/// The completion script for `shell`.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut out);
    out
}

/// The man page of the whole command line, in roff.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(out)
}

/// Write `bytes` to stdout (a closed pipe is recorded and ends the command quietly).
pub fn print(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_scripts_know_the_subcommands_and_flags() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = String::from_utf8(completion_script(shell)).unwrap();
            for word in ["session", "batch", "loss-limit-pct", "wide", "completions"] {
                assert!(text.contains(word), "{shell}: {word} missing");
            }
        }
    }

    #[test]
    fn the_man_page_documents_the_commands() {
        let text = String::from_utf8(man_page().unwrap()).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{text}");
        assert!(text.contains("simutrador\\-client"), "{text}");
        assert!(text.contains("session"), "{text}");
    }
}
