"""Questions to answers: matching and verdicts, the HTTP API, the CLI and batch scans."""
