"""Use cases shared by the CLI and the UI: import, poll, attribute, report, export."""
