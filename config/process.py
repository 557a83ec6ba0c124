"""Settings of a long-lived web process that Django's settings cannot carry."""

import gc
import os

# Objects the youngest generation takes before a collection (Python's default is 700).
GC_GEN0_THRESHOLD = int(os.environ.get("GC_GEN0_THRESHOLD", "20000"))


def web_process_tune() -> None:
    """Keep what start-up loaded (Django, the URL conf, GDAL and GEOS bindings: some 120,000 objects)
    out of every later collection, and collect the young generation less often.

    A 500-stop work-list page makes about 100,000 short-lived objects: with the defaults a full
    collection ran every fifth page and walked every object of the process, some 150 ms.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, 20, 20)
