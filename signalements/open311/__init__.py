"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) with the page extension and
mySociety's servicerequestupdates extension: the categories as services, the public reports as
service requests, and submissions through the same intake as the citizen API."""
