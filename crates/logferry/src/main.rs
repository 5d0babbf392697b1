//! The `logferry` daemon: reads a Fluentd config, builds the pipeline, runs it until SIGTERM/SIGINT.

mod cli;
mod cmd_test;
mod commands;
mod daemon;
mod fluentd_cli;
mod graph;
mod healthcheck;
mod logfile;
mod logging;
mod mask;
mod placeholder;
mod plugins_cmd;
mod rpc;
mod send;
mod tap;
mod top;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use logferry_core::Pipeline;
use tokio::signal::unix::{signal, SignalKind};

use cli::Cli;

/// Most threads the runtime may start for blocking work; idle ones exit after 10 s.
const MAX_BLOCKING_THREADS: usize = 32;

/// How often freed heap memory is handed back to the system (see [`spawn_trimmer`]).
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// glibc keeps freed memory in its arenas, so RSS stays at its high-water mark after a burst of
/// connections or a drained backlog; `malloc_trim(0)` returns every free page. It walks the free
/// lists only (no lock held for long), so a thread doing it every few seconds costs nothing. The
/// buffers' pool of chunk mappings lets go of those nobody took since the last round the same way.
fn spawn_trimmer() {
    let _ = std::thread::Builder::new()
        .name("malloc-trim".into())
        .spawn(|| loop {
            std::thread::sleep(TRIM_EVERY);
            logferry_core::buffer::pages::release_idle();
            // SAFETY: malloc_trim only inspects and releases the allocator's free memory.
            unsafe {
                libc::malloc_trim(0);
            }
        });
}

/// Raise the soft limit of open descriptors to the hard limit: an aggregator holds one per client
/// connection (and Docker's default soft limit can be 1024).
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    match cli.command.take() {
        Some(cli::Command::Plugins(args)) => return plugins_cmd::run(&args),
        Some(cli::Command::Tools(cmd)) => return commands::run(cmd),
        None => {}
    }
    raise_fd_limit();
    if let Some(url) = &cli.healthcheck {
        return healthcheck::probe(url);
    }
    if let Some([tag, json]) = cli.send.as_deref() {
        let to = cli.to.clone().unwrap_or_else(send::default_destination);
        return send::run(tag, json, &to);
    }
    let path = cli.config_path();
    let cli_warnings = match cli.fluentd.check(&path) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("logferry: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(mask) = cli.fluentd.umask() {
        // SAFETY: umask only sets the process's file-creation mask.
        unsafe { libc::umask(mask) };
    }
    let console = match (&cli.fluentd.daemon, &cli.fluentd.log) {
        (Some(_), Some(_)) => daemon::keep_console(),
        _ => None,
    };
    if let Some(log) = &cli.fluentd.log {
        if let Err(e) = logfile::redirect(log) {
            eprintln!("logferry: -o {}: {e}", log.display());
            return ExitCode::from(1);
        }
    }
    // `-i -` is read once: a reload reads the same text again.
    match cli.fluentd.inline_config() {
        Ok(text) => cli.fluentd.inline_config = text,
        Err(e) => {
            eprintln!("logferry: -i -: {e}");
            return ExitCode::from(1);
        }
    }
    let (root, warnings) = match load_config(&cli) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("logferry: config error: {e}");
            return ExitCode::from(1);
        }
    };
    let (system_level, system_json, suppression, log_time_format) =
        match logferry_core::pipeline::system_config(&root) {
            Ok((sys, _)) => {
                if let Err(e) = cli
                    .fluentd
                    .check_workers(sys.workers)
                    .and_then(|()| cli.fluentd.check_log_rotation(&root))
                {
                    eprintln!("logferry: config error: {e}");
                    return ExitCode::from(1);
                }
                let suppression = logging::Suppression {
                    repeated: sys.ignore_repeated_log_interval,
                    same: sys.ignore_same_log_interval,
                };
                (
                    sys.log_level,
                    sys.log_json,
                    suppression,
                    sys.log_time_format,
                )
            }
            Err(e) => {
                eprintln!("logferry: config error: {e}");
                return ExitCode::from(1);
            }
        };
    if let Err(e) = placeholder::check(&root) {
        eprintln!("logferry: config error: {e}");
        return ExitCode::from(1);
    }
    let format = cli.log_format.unwrap_or(if system_json {
        cli::LogFormat::Json
    } else {
        cli::LogFormat::Text
    });
    logging::init(
        cli.level(system_level),
        format,
        log_time_format.as_deref(),
        suppression,
    );
    for w in cli_warnings {
        tracing::warn!("{w}");
    }
    for w in warnings {
        tracing::warn!("{}: {}", w.pos, w.message);
    }
    // `-d PIDFILE`: into the background now, while the process has one thread.
    let daemon = match &cli.fluentd.daemon {
        Some(pid_file) if !cli.dry_run => {
            match daemon::daemonize(pid_file, cli.fluentd.log.is_some(), console) {
                Ok(d) => Some(d),
                Err(e) => {
                    tracing::error!("-d {}: {e}", pid_file.display());
                    return ExitCode::from(1);
                }
            }
        }
        _ => None,
    };
    // One worker per core; blocking helpers (file-buffer I/O, compression, reverse DNS) are
    // capped, so no load or backlog can grow the thread count past cores + MAX_BLOCKING_THREADS.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("logferry: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    spawn_trimmer();
    rt.block_on(run(cli, root, daemon))
}

/// The config file, with `-i`'s text appended and the command line's `<system>` options over
/// the file's (Fluentd prefers the command line).
fn load_config(
    cli: &Cli,
) -> Result<(logferry_config::Element, Vec<logferry_config::Warning>), String> {
    let (mut root, warnings) = logferry_config::parse_file_with_inline(
        &cli.config_path(),
        cli.fluentd.inline_config.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    cli.fluentd.apply_system(&mut root);
    Ok((root, warnings))
}

async fn run(
    cli: Cli,
    root: logferry_config::Element,
    mut daemon: Option<daemon::Daemon>,
) -> ExitCode {
    let registry = registry();
    let pipeline = match Pipeline::build(&root, &registry) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("logferry: config error: {e}");
            return ExitCode::from(1);
        }
    };
    if cli.dry_run {
        if cli.json {
            let json = logferry_config::schema::to_json(&mask::masked(&root, &registry));
            println!("{json:#}");
        } else {
            print!("{}", logferry_config::resolve::resolved(&root, &registry));
        }
        eprintln!(
            "logferry: configuration is valid ({} input(s), {} warning(s))",
            pipeline.input_count(),
            pipeline.warnings.len()
        );
        return ExitCode::SUCCESS;
    }
    // Signal handlers go in before the listeners open, so an early SIGTERM is never lost.
    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::hangup()),
        signal(SignalKind::user_defined2()),
    );
    let (Ok(mut term), Ok(mut int), Ok(mut usr1), Ok(mut hup), Ok(mut usr2)) = signals else {
        eprintln!("logferry: cannot install signal handlers");
        return ExitCode::from(1);
    };
    let system = pipeline.system.clone();
    let mut running = match pipeline.start().await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::from(1);
        }
    };
    // Fluentd's RPC endpoint: its calls arrive in the loop below as the signals do.
    let (rpc_tx, mut rpc_rx) = tokio::sync::mpsc::channel(16);
    let dump: rpc::Dump =
        std::sync::Arc::new(std::sync::Mutex::new(rpc::dump_text(&root, &registry)));
    if let Some(endpoint) = &system.rpc_endpoint {
        if let Err(e) = rpc::start(endpoint, system.enable_get_dump, dump.clone(), rpc_tx).await {
            tracing::error!("{e}");
            return ExitCode::from(1);
        }
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "logferry started");
    if let Some(d) = &mut daemon {
        if let Err(e) = d.started() {
            tracing::error!("-d: cannot write the pid file: {e}");
            return ExitCode::from(1);
        }
    }
    let deadline = Duration::from_secs_f64(cli.shutdown_timeout);
    let sig = loop {
        tokio::select! {
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
            _ = usr1.recv() => {
                // As Fluentd: flush, and reopen the -o log file (logrotate moved it away).
                if let Some(log) = &cli.fluentd.log {
                    if let Err(e) = logfile::redirect(log) {
                        tracing::error!("-o {}: cannot reopen: {e}", log.display());
                    }
                }
                tracing::info!("received SIGUSR1: flushing all buffers");
                running.flush_now();
            }
            _ = hup.recv() => {
                running = reload(&cli, &registry, running, deadline, &dump, &system, "SIGHUP").await;
            }
            _ = usr2.recv() => {
                running = reload(&cli, &registry, running, deadline, &dump, &system, "SIGUSR2").await;
            }
            Some(req) = rpc_rx.recv() => match req {
                rpc::Request::Reload => {
                    running = reload(&cli, &registry, running, deadline, &dump, &system, "an RPC reload").await;
                }
                rpc::Request::Flush => {
                    tracing::info!("RPC flushBuffers: flushing all buffers");
                    running.flush_now();
                }
                rpc::Request::Interrupt => break "RPC interruptWorkers",
                rpc::Request::Kill => break "RPC killWorkers",
                rpc::Request::FlushAndKill => {
                    running.flush_now();
                    break "RPC flushBuffersAndKillWorkers";
                }
            },
        }
    };
    // The listeners close with their inputs now (no reload follows to take them over).
    logferry_core::listeners::close_all();
    tracing::info!("received {sig}: closing listeners, finishing what was read, flushing outputs");
    let at = tokio::time::Instant::now() + deadline;
    // The drain is bounded by `at` inside; the outer timeout only guards against a stuck plugin.
    match tokio::time::timeout(deadline + Duration::from_secs(2), running.stop(at)).await {
        Ok(()) => {
            tracing::info!("logferry stopped");
            ExitCode::SUCCESS
        }
        Err(_) => {
            tracing::error!("shutdown did not finish within {:?}", deadline);
            ExitCode::from(2)
        }
    }
}

/// SIGHUP, SIGUSR2 or an RPC reload: read the config again. A config that does not parse or
/// build is refused and the running pipeline goes on untouched. Otherwise the old pipeline stops
/// as at SIGTERM (inputs stop accepting and finish what they read, memory buffers flush, file
/// buffers persist) and the new one starts, resuming those file buffers. The listening sockets
/// stay open throughout ([`logferry_core::listeners`]): connections that arrive meanwhile wait
/// in the backlog for the new inputs, none is refused.
async fn reload(
    cli: &Cli,
    registry: &logferry_core::Registry,
    running: logferry_core::Running,
    deadline: Duration,
    dump: &rpc::Dump,
    system: &logferry_core::SystemConfig,
    why: &str,
) -> logferry_core::Running {
    let path = cli.config_path();
    tracing::info!("received {why}: reloading {}", path.display());
    let built = load_config(cli).and_then(|(root, warnings)| {
        for w in warnings {
            tracing::warn!("{}: {}", w.pos, w.message);
        }
        placeholder::check(&root)?;
        cli.fluentd.check_log_rotation(&root)?;
        let p = Pipeline::build(&root, registry).map_err(|e| e.to_string())?;
        cli.fluentd.check_workers(p.system.workers)?;
        Ok((root, p))
    });
    let (root, next) = match built {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("reload refused, the running configuration stays: {e}");
            return running;
        }
    };
    if next.system.rpc_endpoint != system.rpc_endpoint
        || next.system.enable_get_dump != system.enable_get_dump
    {
        tracing::warn!(
            "rpc_endpoint/enable_get_dump changed: the RPC endpoint keeps {:?} until the next start (as Fluentd's supervisor does)",
            system.rpc_endpoint
        );
    }
    logferry_core::listeners::begin_reload();
    running.stop(tokio::time::Instant::now() + deadline).await;
    match next.start().await {
        Ok(r) => {
            logferry_core::listeners::end_reload();
            if let Ok(mut d) = dump.lock() {
                *d = rpc::dump_text(&root, registry);
            }
            tracing::info!("reload complete");
            r
        }
        Err(e) => {
            // The new config built but cannot start (a port taken meanwhile): this is fatal, as at
            // start-up; exit so the supervisor restarts us.
            tracing::error!("reloaded configuration failed to start: {e}");
            std::process::exit(1);
        }
    }
}

/// Every plugin of this build: logferry-plugins' and the AWS outputs of logferry-plugins-aws.
pub(crate) fn registry() -> logferry_core::Registry {
    let mut r = logferry_plugins::registry();
    logferry_plugins_aws::register(&mut r);
    r
}
