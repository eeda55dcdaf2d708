"""The riskgate service: settings, auth, the ASGI app, the CLI and the alert bus."""
