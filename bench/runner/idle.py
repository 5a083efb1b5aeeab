"""Idle costs nothing (issue #18): the CPU ticks each Tandem process uses over a window in which
nothing is asked of it — the Linux service pair natively; under Wine the installed services and
the tray (on an Xvfb display of its own). The window is the measurement, not a wait for an event:
the processes are first waited for until they are quiet."""
import os
import subprocess
import time

from .procs import BenchError, TICK_MS, cpu_ms, wait_quiet
from .wine import WINE

WINDOW_S = 60


def ticks_over(pids_by_name, seconds):
    """{name: CPU ticks its processes used during the next `seconds`}."""
    def now():
        return {name: sum(cpu_ms(pid) for pid in pids) for name, pids in pids_by_name.items()}
    before = now()
    time.sleep(seconds)  # the window measured
    after = now()
    return {name: round((after[name] - before[name]) / TICK_MS) for name in pids_by_name}


class Xvfb:
    """An X display of its own for the tray; -displayfd says when it is ready (no polling)."""

    def __init__(self):
        read, write = os.pipe()
        self.proc = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0",
                                      "1024x768x24", "-nolisten", "tcp"], pass_fds=(write,),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as ready:
            number = ready.readline().strip()  # ends when Xvfb writes it, or exits
        if not number:
            raise BenchError(f"Xvfb exited with {self.proc.wait()} before it was ready")
        self.display = ":" + number

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def wine_idle(wine, quick):
    """The installed services and tandem-tray.exe in the bench's prefix, all idle. The prefix
    must have been started with an X display (wine.env's DISPLAY): Wine's desktop takes its
    display driver at its start, and without one the tray cannot create its window."""
    if "DISPLAY" not in wine.env:
        raise BenchError("the Wine prefix has no DISPLAY: no tray")
    window = 10 if quick else WINDOW_S
    pids = wine.service_pids()
    tray = subprocess.Popen([WINE, "C:\\Program Files\\Tandem\\tandem-tray.exe"], env=wine.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        pids["tandem-tray"] = [tray.pid]  # wine runs the .exe in the process it was started as
        wait_quiet([p for ps in pids.values() for p in ps], window_s=2, bound_s=120)
        if tray.poll() is not None:
            raise BenchError(f"tandem-tray.exe exited with {tray.returncode} (its log is in the "
                             "prefix's AppData\\Local\\Tandem\\logs)")
        out = {"window_s": window, "ticks": ticks_over(pids, window)}
    finally:
        if tray.poll() is None:
            tray.terminate()
            tray.wait(timeout=30)
    print(f"  idle under Wine: {out}", flush=True)
    return out
