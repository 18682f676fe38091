"""How a server process hands requests to the WSGI app without letting a slow client hold a thread.

granian's WSGI interface calls the app in one of its threads as soon as a request's headers are
in, and the app's read of the body blocks that thread for as long as the client takes to send it
(SPEC §16.2). Here granian serves through its RSGI interface instead: the body is gathered on the
server process's event loop, bounded in size (LSS_MAX_BODY_BYTES) and in time (LSS_BODY_TIMEOUT_S
from the end of the headers, else 408), and only a complete request is handed to a thread that
runs the WSGI app exactly as before (docs/architecture.md, "Slow clients").
"""
