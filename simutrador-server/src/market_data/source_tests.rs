//! The data source loads as start-up always did, its signature changes exactly when a file a
//! load reads changes, and the watch reloads once per settled change (a failed load included).

use super::*;

const BARS: &str = "date,open,high,low,close\n2020-01-01,1,2,1,2\n2020-01-02,2,3,2,3\n";

fn source(dir: &Path, configured: bool, demo: bool) -> DataSource {
    DataSource {
        dir: dir.to_path_buf(),
        configured,
        demo,
    }
}

#[test]
fn the_source_loads_the_dir_and_the_built_ins_as_configured() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("data");
    // The default dir, missing: only the built-ins.
    let (c, parts) = source(&dir, false, true).load().unwrap();
    assert_eq!(c.symbol_count(), Catalog::built_in().symbol_count());
    assert_eq!(parts.len(), 1);
    // A configured dir must exist.
    assert!(source(&dir, true, false).load().is_err());
    std::fs::create_dir_all(dir.join("1d")).unwrap();
    let err = source(&dir, true, false).load().unwrap_err().to_string();
    assert!(err.contains("no market data"), "{err}");
    std::fs::write(dir.join("1d/XYZ.csv"), BARS).unwrap();
    let (c, _) = source(&dir, true, false).load().unwrap();
    assert_eq!(c.symbol_count(), 1);
    let (c, parts) = source(&dir, false, true).load().unwrap();
    assert_eq!(c.symbol_count(), Catalog::built_in().symbol_count() + 1);
    assert_eq!(parts.len(), 2);
    // A bad row names the file and line.
    std::fs::write(
        dir.join("1d/BAD.csv"),
        "date,open,high,low,close\nx,1,1,1,1\n",
    )
    .unwrap();
    let err = source(&dir, true, false).load().unwrap_err().to_string();
    assert!(err.contains("BAD.csv:2"), "{err}");
}

#[test]
fn the_signature_sees_the_files_a_load_reads_and_nothing_else() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("data");
    let empty = DataSignature::of_dir(&dir);
    assert_eq!(empty.files(), 0);
    std::fs::create_dir_all(dir.join("1d")).unwrap();
    assert_eq!(DataSignature::of_dir(&dir), empty);

    std::fs::write(dir.join("1d/XYZ.csv"), BARS).unwrap();
    let one = DataSignature::of_dir(&dir);
    assert_eq!(one.files(), 1);
    // Temporary files of an import, other files and dot-folders do not count.
    std::fs::write(dir.join("1d/.XYZ.csv.tmp-1"), BARS).unwrap();
    std::fs::write(dir.join("1d/notes.txt"), "x").unwrap();
    std::fs::create_dir_all(dir.join(".cache")).unwrap();
    std::fs::write(dir.join(".cache/A.csv"), BARS).unwrap();
    assert_eq!(DataSignature::of_dir(&dir), one);

    // symbols.toml, a replaced file (same size, new inode) and a new file all count.
    std::fs::write(dir.join(SYMBOLS_FILE), "[XYZ]\n").unwrap();
    let with_meta = DataSignature::of_dir(&dir);
    assert_ne!(with_meta, one);
    std::fs::write(dir.join("1d/.next"), BARS).unwrap();
    std::fs::rename(dir.join("1d/.next"), dir.join("1d/XYZ.csv")).unwrap();
    let replaced = DataSignature::of_dir(&dir);
    assert_ne!(replaced, with_meta);
    std::fs::write(dir.join("1d/ABC.csv"), BARS).unwrap();
    assert_eq!(DataSignature::of_dir(&dir).files(), 3);
}

fn sig(dir: &Path, files: &[&str]) -> DataSignature {
    for f in files {
        std::fs::write(dir.join(f), BARS).unwrap();
    }
    DataSignature::of_dir(dir.parent().unwrap())
}

#[test]
fn the_watch_reloads_once_per_change_that_held_still() {
    let home = tempfile::tempdir().unwrap();
    let tf = home.path().join("1d");
    std::fs::create_dir_all(&tf).unwrap();
    let start = sig(&tf, &["A.csv"]);
    let mut watch = ReloadWatch::new(start.clone());
    assert_eq!(watch.observe(start.clone()), WatchStep::Idle);

    // A change is looked at again before it is read.
    let b = sig(&tf, &["B.csv"]);
    assert_eq!(watch.observe(b.clone()), WatchStep::Settle);
    // Still changing (a copy in progress): settle again on the newest picture.
    let c = sig(&tf, &["C.csv"]);
    assert_eq!(watch.observe(c.clone()), WatchStep::Settle);
    assert_eq!(watch.observe(c.clone()), WatchStep::Reload);
    // Tried: not again, whether the load worked or not, until the files change again.
    assert_eq!(watch.observe(c.clone()), WatchStep::Idle);
    assert_eq!(watch.observe(c.clone()), WatchStep::Idle);

    // A change undone before it settled is no change.
    let d = sig(&tf, &["D.csv"]);
    assert_eq!(watch.observe(d), WatchStep::Settle);
    std::fs::remove_file(tf.join("D.csv")).unwrap();
    assert_eq!(watch.observe(c.clone()), WatchStep::Idle);

    // A forced reload (SIGHUP) reads the files as they are: no second reload for them.
    let e = sig(&tf, &["E.csv"]);
    watch.forced(e.clone());
    assert_eq!(watch.observe(e), WatchStep::Idle);
    assert_ne!(start, c);
    assert_ne!(b, c);
}
