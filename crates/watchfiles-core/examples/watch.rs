//! Watches a folder and prints each batch of changes, as `watchfiles` does from the shell.
//!
//! ```sh
//! cargo run -p watchfiles-core --example watch -- <folder> [--poll] [--gitignore] [--step <ms>]
//! ```

use std::time::Duration;
use watchfiles_core::{Options, WatchEvent, Watcher};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut roots = Vec::new();
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--poll" => options.force_polling = Some(true),
            "--gitignore" => options.gitignore = true,
            "--step" => {
                let ms = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage());
                options.step = Duration::from_millis(ms);
            }
            "-h" | "--help" => usage(),
            _ => roots.push(arg),
        }
    }
    if roots.is_empty() {
        roots.push(".".into());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let watcher = Watcher::start(&roots, options, move |event| {
        let _ = tx.send(event);
    })
    .unwrap_or_else(|err| {
        eprintln!("error: {err}");
        std::process::exit(1);
    });
    for event in rx {
        match event {
            WatchEvent::Ready { backend } => {
                eprintln!("watching {} with {}", watcher.roots().iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", "), backend.as_str())
            }
            WatchEvent::Changes { changes, .. } => {
                for change in &changes {
                    println!("{:<8} {}", change.kind.as_str(), change.path.display());
                }
                println!();
            }
            WatchEvent::Warning(warning) => eprintln!("warning: {warning}"),
            WatchEvent::Error(err) => eprintln!("error: {err}"),
            WatchEvent::Failed(err) => {
                eprintln!("error: {err}");
                std::process::exit(1);
            }
        }
    }
}

fn usage() -> ! {
    eprintln!("usage: watch <folder>... [--poll] [--gitignore] [--step <ms>]");
    std::process::exit(2);
}
