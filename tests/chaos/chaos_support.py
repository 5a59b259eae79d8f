# SPDX-License-Identifier: MIT
"""Helpers of the chaos run (test_chaos.py): shift hours that change every minute, and a small
filesystem for the store that can be filled and emptied."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile


def shift_hours(parity: int, minutes: int) -> str:
    """Weekly hours that are on duty in the UTC minutes of `parity` from now for `minutes`."""
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    days: dict[str, list[str]] = {}
    order = []
    for i in range(-1, minutes):
        t = now + dt.timedelta(minutes=i)
        minute = t.hour * 60 + t.minute
        if minute % 2 != parity:
            continue
        day = t.strftime("%a")
        if day not in days:
            days[day] = []
            order.append(day)
        end = minute + 1
        end_text = "24:00" if end == 1440 else f"{end // 60:02d}:{end % 60:02d}"
        days[day].append(f"{t.hour:02d}:{t.minute:02d}-{end_text}")
    return "; ".join(f"{d} {', '.join(days[d])}" for d in order)


class Disk:
    """The store's folder: with `mount`, a 16 MiB tmpfs (root only) that fill() fills and empty() empties."""

    def __init__(self, mount: bool):
        self.dir = tempfile.mkdtemp(prefix="concierge-chaos-store-")
        self.mounted = False
        if mount:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", self.dir], check=True, timeout=10)
            self.mounted = True
        self.filler = os.path.join(self.dir, "filler")

    def fill(self) -> str:
        """Fills the filesystem; returns what it holds (file: bytes) before the filler."""
        before = self.usage()
        try:
            f = open(self.filler, "wb")
        except OSError:  # full already (not even room for the filler's name)
            return before
        try:
            chunk = b"\0" * 65536
            for _ in range(4096):  # bounded: 256 MiB at most, the tmpfs is 16 MiB
                f.write(chunk)
                f.flush()
        except OSError:
            pass
        finally:
            try:
                f.close()
            except OSError:
                pass
        return before

    def usage(self) -> str:
        names = sorted(n for n in os.listdir(self.dir) if n != "filler")
        return ", ".join(f"{n} {os.path.getsize(os.path.join(self.dir, n))}" for n in names)

    def empty(self) -> None:
        try:
            os.remove(self.filler)
        except FileNotFoundError:
            pass

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", self.dir], timeout=10)
            self.mounted = False
        shutil.rmtree(self.dir, ignore_errors=True)
