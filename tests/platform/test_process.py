"""A served process keeps its start-up objects out of the garbage collector's full passes."""

import gc
import importlib

from config import process


def test_the_wsgi_application_freezes_start_up_objects_and_raises_the_young_threshold():
    gc.unfreeze()
    saved = gc.get_threshold()
    try:
        importlib.reload(importlib.import_module("config.wsgi"))

        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold()[0] == process.GC_GEN0_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)
