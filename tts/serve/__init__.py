"""The OpenAI-compatible speech server: `app` (HTTP), `scheduler` (continuous batching),
`voices` (the voice directory), `formats` (response audio). Needs the `serve` extra."""
