"""Who may ask what of the service, and how much: the request policy in front of every route.

One WSGI layer (`gate`) sits in front of the job gateway and Flask. It refuses a foreign `Host`
on a loopback server (`hosts`), a state change from another site (`origins`, with the CORS
answers of the origins a user lists), a graceful shutdown without the admin token or from another
machine (`admin`), and a job past the service's bounds (`admission`: the rate limit of `rate`,
the live jobs of `live_jobs`, the free disk of `disk`). Every answer leaves it with `nosniff`.

The modules import neither Flask nor an engine, so `app.config` and the main process of
`api_server.py` can read the settings' parsers and the loopback test without loading them.
"""
