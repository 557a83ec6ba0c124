"""Planners' analytics: volumes per district, emerging hotspots, places that come back every season,
weekly early warning. Computed by Celery beat jobs into the tables of `models`, read by the planner's
page, the API, exports, the folium report and the notebooks."""
