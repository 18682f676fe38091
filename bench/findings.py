"""What the research instruments found, as prose for the report: those in `python -m bench.lab`
(run by hand, when a change calls for them) and those since removed (git log has their code)."""

from __future__ import annotations

FINDINGS = [
    "## Findings of the research instruments",
    "",
    "Not measured by `make bench`; figures from 2-core runs of the same kind of machine, for "
    "orientation. The instruments in `bench/lab/` are run with `python -m bench.lab <command>` "
    "(`--help` lists them); each prints its own side-by-side report.",
    "",
    "- **Before and after a change** (`python -m bench.lab baseline REV`): the service at the "
    "working tree and at revision REV (a git worktree), side by side under wrk. Measured so: "
    "result files shared by answer (a hard link per job instead of a file written whole) gained "
    "14 to 17% jobs/s at 16 connections, with 1 and with 2 worker processes; the service with "
    "its job journal did 1.11x the service before it (5,602 against 5,067 jobs/s).",
    "- **What the gap to the limit is made of** (`python -m bench.lab gap`): the service beside "
    "itself with parts of a job's record left out (`bench/lab/ablated.py`, not a mode of the "
    "product) and the limit, at 16 connections. Per job of the closed loop the journal's writes "
    "cost 47 µs, the result file (a link) 3 µs, the job routes' four log lines 4 µs, and "
    "everything else (the gateway's Python, the pool's hand-over, the engine's bookkeeping) "
    "42 µs; without its journal writes the service did 0.63x the limit, without the result "
    "files and the log lines too 0.66x. Most of the journal's cost is the insert that records a "
    "job before its id is answered: leaving out only the insert gained 27 to 51% jobs/s, only "
    "the batched update that records a job's end -1 to +7%.",
    "- **Where a job's time goes** (`python -m bench.lab profile`): py-spy on every process of "
    "the service under wrk, sampling the threads that hold the GIL: 0.11 ms of Python per job, "
    "three quarters of it in the request threads (the gateway about 40% of the whole, the "
    "journal's writes about 20%), the rest in the pool's workers and the log writer.",
    "- **Cold answers** (`python -m bench.lab cold`): the first computation and serialization of "
    "every answer, in-process: on the bundled data at most 0.18 ms (mean_by_category), median "
    "0.004 ms.",
    "- **A bare Flask floor** (removed): a Flask app answering from precomputed bytes. With the "
    "Python load generator at 16 clients the service did 1.30x its jobs/s (p99 10.5 against "
    "21.3 ms): Flask's per-request machinery costs more than the service's jobs, which is why "
    "the two job routes are answered by a WSGI layer in front of it. The raw WSGI limit took its "
    "place as the reference.",
    "- **WSGI servers** (removed): the floor under granian did 2.4x its jobs/s under waitress, "
    "cheroot 0.92x and gunicorn (one gthread worker) 0.77x waitress's; the service under granian "
    "with 2 worker processes 3.5x itself under waitress. Hence granian.",
    "- **A job's records in-process** (removed): the journal's insert and update cost 42 µs of "
    "CPU per job from one thread and 67 µs with 4 threads writing at once (checkpoints "
    "included); a result file written whole 28 µs, a link to its answer's file 11 µs. In the "
    "server (the gap above) the journal's writes cost 60 µs of CPU per job.",
    "- **Sampling memory** (a method): sampling every running server 50 times a second took CPU "
    "from the server measured and stalled it (reading a process's memory map holds its lock); it "
    "tripled the service's p99 at 16 connections (29 against 12 ms, side by side). Hence 4 "
    "samples a second, only while a server is loaded.",
    "- **Settling the file system** (`bench/lab/settle.py`): for minutes after a mass deletion "
    "ext4 searches past the freed inodes for every new file, and creating one costs 5 to 20 "
    "times its usual CPU; a hard link allocates no inode and costs the same as ever (11 to 16 µs "
    "before and after deleting 200,000 files). An answered job's result file is a link, so "
    "`make bench` does not wait for the file system; `bench.lab baseline` does, since an older "
    "revision may write a file per job.",
    "",
]
