use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = orgraph::cli::Cli::parse();
    match orgraph::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("orgraph: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
