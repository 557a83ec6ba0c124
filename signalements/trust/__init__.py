"""Trust: who may see and change what, throttles, input guards, moderation and retention.

One module per concern; the services of the other capabilities call these rules, and the pages,
the REST API and the admin reach them only through those services."""
