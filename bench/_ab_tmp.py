import os, sys, time
sys.path.insert(0, os.path.dirname(__file__))
import _wrk
from _gunicorn import bench_database, free_port, manage, serve, server_env, stop
from api_load import SETUP, POINTS, DAYS, _day_urls
env = server_env(bench_database("api_load"))
out = manage(env, "shell", "-c", SETUP % {"points": POINTS, "days": DAYS})
point_id, series_id, token = out.strip().splitlines()[-1].split()
configs = {
    "sync x5": [],
    "gthread 2x4": ["--workers", "2", "--threads", "4", "--worker-class", "gthread", "--max-requests", "0"],
    "gthread 3x4": ["--workers", "3", "--threads", "4", "--worker-class", "gthread", "--max-requests", "0"],
}
servers = {}
for name, opts in configs.items():
    port = free_port(); servers[name] = (serve(env, port, opts), f"http://127.0.0.1:{port}")
h = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
eps = [("ping", ["/api/v1/ping"]), ("mp", ["/api/v1/metering-points/?limit=50"]), ("points", _day_urls(series_id))]
try:
    for name, (_, base) in servers.items():
        _wrk.run(base, ["/api/v1/ping"], headers=h, connections=20, seconds=2)
    for r in range(int(os.environ.get("ROUNDS", "2"))):
        for ep, paths in eps:
            for name, (_, base) in servers.items():
                res = _wrk.run(base, paths, headers=h, connections=20, seconds=6)
                print(f"round {r} {ep:7s} {name:12s} {res.rate:6.0f} req/s p50 {res.p50_ms:6.1f} p99 {res.p99_ms:7.1f} errors {res.socket_errors} {res.non_2xx}  load {os.getloadavg()[0]:.1f}", flush=True)
finally:
    for s, _ in servers.values(): stop(s)
