"""Open data: the public fields of reports as GeoJSON, CSV and GeoPackage, a monthly summary per
district, the daily full dump another portal harvests, the licence and the data dictionary."""
