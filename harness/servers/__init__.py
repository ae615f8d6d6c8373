"""The servers the harness starts as child processes (scoring server, local LLM, tracking server):
`process` (own process group, log, ready check, stop), `postgres` (the cluster behind `harness server`) and `ports`
(free loopback ports)."""
