"""A fit leaves a core to work beside it, and takes it back once that work is done."""

import threading

import torch

from tunaflow.components.shared_cores import SharedCores


def test_one_thread_fewer_until_the_work_beside_is_done_then_restored():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        done = threading.Event()
        with SharedCores(done) as cores:
            assert torch.get_num_threads() == 1
            cores.reclaim()
            assert torch.get_num_threads() == 1  # still running beside
            done.set()
            cores.reclaim()
            assert torch.get_num_threads() == 2
        with SharedCores(threading.Event()):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2  # restored on exit, done or not
        with SharedCores(None):
            assert torch.get_num_threads() == 2  # nothing beside: all threads
    finally:
        torch.set_num_threads(before)


def test_a_single_thread_stays_one():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with SharedCores(threading.Event()):
            assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
