"""gunicorn's settings: `gunicorn -c config/gunicorn.conf.py config.wsgi` (Dockerfile, compose,
make loadtest).

Each worker process serves WEB_THREADS requests at once and has its own database pool of as many
connections, so the web tier holds at most WEB_WORKERS x WEB_THREADS connections. With the
defaults, 3 x 4 = 12; add the Celery processes' pools and keep the sum under PostgreSQL's
max_connections (100 by default, a few reserved for superusers). A request that finds the pool
empty waits up to DATABASE_POOL_TIMEOUT seconds for a connection: it never fails for want of one.
"""

import os

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS", "3"))
threads = int(os.environ.get("WEB_THREADS", "4"))
# One connection per thread that may be serving a request: none waits for another's.
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", str(threads))
os.environ.setdefault("DATABASE_POOL_MIN_SIZE", "1")
# A request longer than this is a bug (exports stream, bulk loads are commands): the worker is
# replaced. Above the pool's wait so that a request waiting for a connection is not killed first.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Workers are replaced after this many requests (with jitter), so a slow leak cannot grow forever.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = os.environ.get("WEB_ACCESS_LOG", "-")
