"""Atomic writes and inter-process locks (:mod:`sklearn_hser._atomic`)."""

import multiprocessing
import os
import time

import pytest

from sklearn_hser._atomic import atomic_write_bytes, exclusive_lock


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "out.bin"
    atomic_write_bytes(path, b"one")
    atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    assert os.listdir(path.parent) == ["out.bin"]


def _hold(path, seconds, ready):
    with exclusive_lock(path):
        ready.set()
        time.sleep(seconds)


def test_lock_held_by_another_process_times_out_with_a_clear_error(tmp_path):
    path = tmp_path / "run.lock"
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold, args=(path, 30, ready))
    holder.start()
    try:
        assert ready.wait(60)
        with pytest.raises(TimeoutError, match="run.lock is locked by another"):
            with exclusive_lock(path, timeout=0.2):
                pass
    finally:
        holder.terminate()
        holder.join()
    # The holder died: its lock died with it.
    with exclusive_lock(path, timeout=5):
        pass


def test_lock_is_released_after_the_block(tmp_path):
    path = tmp_path / "deep" / "x.lock"
    with exclusive_lock(path):
        pass
    with exclusive_lock(path, timeout=0):
        pass
