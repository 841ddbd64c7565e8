"""Qt user interface: tray, popup, dashboard, charts, settings, workers."""
