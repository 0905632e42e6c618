#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    travdoc::cli::main()
}
