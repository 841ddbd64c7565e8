"""A real X server (Xvfb) with a system tray (trayer) docked on it: the desktop that the
end-to-end tray test, the bundle's tray check and the idle benchmark run the app on."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

TRAY_GEOMETRY = ("--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "120", "--height", "24")


@contextmanager
def xvfb_with_tray(xvfb: str, trayer: str, *, settle_s: float = 0.5) -> Iterator[str]:
    """Start Xvfb (it picks a free display) and trayer on it; yield the DISPLAY name; stop both."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    processes = [server]
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not report its display number")
        display = f":{number}"
        processes.insert(
            0,
            subprocess.Popen(
                [trayer, *TRAY_GEOMETRY],
                env={**os.environ, "DISPLAY": display},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        )
        time.sleep(settle_s)  # trayer claims the tray selection
        yield display
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
