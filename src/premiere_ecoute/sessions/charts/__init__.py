"""Charts across sessions and streamers, and every viewer's own history (read models).

Finished album sessions are summed up once into ``chart_sessions`` and ``chart_tracks`` by a
periodic job (``repository.refresh``), from the counters of each session's report; the chart
pages read those rows only, never the votes. ``rules`` holds the pure arithmetic: normalised
values, the Bayesian average, divisiveness, taste match."""
