"""The `latentlm-tts` command line: one module per subcommand, wired together in `main`."""
