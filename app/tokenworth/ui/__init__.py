"""Qt user interface: tray, popup, dashboard, charts, settings, workers."""

from tokenworth.ui.qt_guard import guard_singleton_refcounts

guard_singleton_refcounts()
