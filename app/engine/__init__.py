"""The engine seam: what routes and the gateway call (`interface`), job ids and statuses (`job`),
and the periodic rounds both engines run (`maintenance`). Nothing here knows SQLite or Redis."""
