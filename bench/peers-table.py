#!/usr/bin/python3
"""bench/peers-table.py -- the markdown tables bench/peers prints.

    peers-table.py RESULTS EXTRAS FLOOR CPU_SOURCE HOSTINFO LOAD_BEFORE LOAD_AFTER
                   DURATION WARMUP ROUNDS COMMAND

RESULTS: one line per cell, tab-separated: column, row, C, server CPU
us/request, req/s, p50 us, p99 us, context switches/request, errors,
requests, the rest of the machine's CPU use meanwhile (%), retries,
connections, note; a cell measured in several rounds has several lines,
and the tables show their medians.  EXTRAS: lines "mem SERVER STATE NAME RSS_KiB PSS_KiB" and
"hold SERVER <bench/load -I output>".
"""
import sys
import time

ROWS = [
    ("noauth100", "no auth, 100 requests per connection"),
    ("noauth1", "no auth, 1 request per connection"),
    ("neg100", "Negotiate every request, 100 per connection"),
    ("neg1", "Negotiate every request, 1 per connection"),
    ("once100", "Negotiate once per connection, 100 per connection"),
    ("sess100", "session cookie, 100 per connection"),
    ("sess1", "session cookie, 1 per connection"),
]
COLUMNS = [
    ("nginx", "nginx"),
    ("event", "Apache event"),
    ("gssapi", "Apache + mod_auth_gssapi"),
    ("cb", "+ GssapiConnectionBound"),
    ("itk", "Apache prefork + mpm-itk + mod_auth_gssapi"),
    ("trusted", "idgate trusted"),
    ("imp", "idgate impersonated"),
]
PEERS = ("nginx", "event", "gssapi", "cb", "itk")
# the targets: row -> (peer column, the most idgate may spend relative to it, its name)
TARGETS = {
    "noauth100": ("event", 1.0, "Apache event"),
    "noauth1": ("event", 1.0, "Apache event"),
    "neg100": ("gssapi", 0.45, "mod_auth_gssapi"),
    "neg1": ("gssapi", 0.45, "mod_auth_gssapi"),
    "once100": ("cb", 0.8, "ConnectionBound"),
    "sess100": ("gssapi", 0.8, "mod_auth_gssapi's sessions"),
    "sess1": ("gssapi", 0.8, "mod_auth_gssapi's sessions"),
}


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def combine(rounds):
    """One cell from its rounds: medians, with the CPU's range; sums of errors."""
    cell = {k: median([r[k] for r in rounds]) for k in ("cpu", "rps", "p50", "p99", "ctxsw",
                                                         "others")}
    cell["cpu_range"] = (min(r["cpu"] for r in rounds), max(r["cpu"] for r in rounds))
    cell["rounds"] = len(rounds)
    for k in ("errors", "retries", "requests", "connections"):
        cell[k] = sum(r[k] for r in rounds)
    cell["note"] = "; ".join(sorted({r["note"] for r in rounds if r["note"]}))
    return cell


def load_results(path):
    rounds = {}
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 13:
                continue
            rounds.setdefault((p[0], p[1], p[2]), []).append({
                "cpu": float(p[3]), "rps": float(p[4]), "p50": float(p[5]),
                "p99": float(p[6]), "ctxsw": float(p[7]), "errors": int(p[8]),
                "requests": int(p[9]), "others": float(p[10]), "retries": int(p[11]),
                "connections": int(p[12]), "note": p[13] if len(p) > 13 else "",
            })
    return {k: combine(v) for k, v in rounds.items()}


def fmt_num(x):
    return f"{x:,.0f}".replace(",", " ") if x >= 1000 else (f"{x:.0f}" if x >= 100 else f"{x:.1f}")


def mark(cell):
    m = ""
    if cell["errors"]:
        m += f" ({cell['errors']} errors)"
    if cell["retries"]:
        m += f" ({cell['retries']} retried)"
    if cell["note"]:
        m += " (†)"
    return m


def cpu_text(cells, col, row, c, sessions):
    cell = cells.get((col, row, c))
    if cell and cell["rounds"] > 1:
        lo, hi = cell["cpu_range"]
        return f"{fmt_num(cell['cpu'])} ({fmt_num(lo)}–{fmt_num(hi)})" + mark(cell)
    if cell:
        return fmt_num(cell["cpu"]) + mark(cell)
    if col in ("trusted", "imp") and row.startswith("sess") and not sessions:
        return "n/a"
    return ""


def target_text(cells, row, c):
    peer, limit, name = TARGETS[row]
    out = []
    t, p = cells.get(("trusted", row, c)), cells.get((peer, row, c))
    if t and p and p["cpu"] > 0:
        r = t["cpu"] / p["cpu"]
        out.append(f"≤ {limit}× {name}: {r:.2f}× {'met' if r <= limit else 'not met'}")
    i = cells.get(("imp", row, c))
    if t and i:
        d = i["cpu"] - t["cpu"]
        out.append(f"imp. ≤ trusted + 10 µs: {d:+.0f} µs {'met' if d <= 10 else 'not met'}")
    return "; ".join(out)


def best_peer_ratio(cells, row, c):
    peers = [cells[(p, row, c)]["cpu"] for p in PEERS if (p, row, c) in cells]
    t = cells.get(("trusted", row, c))
    if not peers or not t or min(peers) <= 0:
        return ""
    return f"{t['cpu'] / min(peers):.2f}×"


def table_rows(cells):
    cs = sorted({k[2] for k in cells}, key=int)
    rows = [r for r in ROWS if any(k[1] == r[0] for k in cells)]
    return [(r, label, c) for r, label in rows for c in cs
            if any(k[1] == r and k[2] == c for k in cells)]


def print_cpu_table(cells, sessions):
    print("| workload | C | " + " | ".join(n for _, n in COLUMNS) +
          " | idgate / best peer | the issue's target |")
    print("|---|---:|" + "---:|" * len(COLUMNS) + "---:|---|")
    for row, label, c in table_rows(cells):
        vals = [cpu_text(cells, col, row, c, sessions) for col, _ in COLUMNS]
        print(f"| {label} | {c} | " + " | ".join(vals) +
              f" | {best_peer_ratio(cells, row, c)} | {target_text(cells, row, c)} |")


def print_latency_table(cells, sessions):
    print("| workload | C | " + " | ".join(n for _, n in COLUMNS) + " |")
    print("|---|---:|" + "---:|" * len(COLUMNS))
    for row, label, c in table_rows(cells):
        vals = []
        for col, _ in COLUMNS:
            cell = cells.get((col, row, c))
            if cell:
                vals.append(f"{fmt_num(cell['rps'])} / {cell['p50']:.0f} / {cell['p99']:.0f}")
            else:
                vals.append(cpu_text(cells, col, row, c, sessions))
        print(f"| {label} | {c} | " + " | ".join(vals) + " |")


def print_p99_target(cells):
    print("p99 at C=64, idgate against Apache (the target: no worse):")
    print()
    for row, label in ROWS:
        peer = TARGETS[row][0]
        p = cells.get((peer, row, "64"))
        for col in ("trusted", "imp"):
            t = cells.get((col, row, "64"))
            if not p or not t:
                continue
            ok = "met" if t["p99"] <= p["p99"] else "not met"
            print(f"- {label}, idgate {'impersonated' if col == 'imp' else 'trusted'}: "
                  f"{t['p99']:.0f} µs against {p['p99']:.0f} µs ({dict(COLUMNS)[peer]}): {ok}")
    print()


def print_ctxsw(cells):
    rows = [(row, label, c) for row, label, c in table_rows(cells)
            if ("trusted", row, c) in cells or ("imp", row, c) in cells]
    if not rows:
        return
    print("idgate's context switches per request (all threads of all its processes, "
          "voluntary + involuntary):")
    print()
    print("| workload | C | trusted | impersonated |")
    print("|---|---:|---:|---:|")
    for row, label, c in rows:
        v = [f"{cells[(col, row, c)]['ctxsw']:.2f}" if (col, row, c) in cells else ""
             for col in ("trusted", "imp")]
        print(f"| {label} | {c} | {v[0]} | {v[1]} |")
    print()


def print_noise(cells):
    o = sorted((c["others"], k) for k, c in cells.items() if c["others"] >= 0)
    if not o:
        return
    worst = o[-1]
    print(f"Other people's work on the machine during the cells (CPU outside the server "
          f"and the client, % of all CPUs): median {o[len(o) // 2][0]:.0f} %, "
          f"highest {worst[0]:.0f} % ({dict(COLUMNS)[worst[1][0]]}, {worst[1][1]}, "
          f"C={worst[1][2]}).")
    print()


def print_extras(path):
    mem, holds = {}, {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if p and p[0] == "mem" and len(p) == 6:
                mem.setdefault((p[1], p[2]), []).append((p[3], int(p[4]), int(p[5])))
            elif p and p[0] == "hold":
                holds[p[1]] = " ".join(p[2:])
    if not mem:
        return
    print("Memory (VmRSS and PSS, MiB):")
    print()
    print("| server | state | processes | RSS | PSS |")
    print("|---|---|---|---:|---:|")
    for (server, state), procs in mem.items():
        names = ", ".join(f"{n} {r / 1024:.1f}" for n, r, _ in procs)
        print(f"| {server} | {state.replace('_', ' ')} | {names} | {sum(r for _, r, _ in procs) / 1024:.1f} | "
              f"{sum(s for _, _, s in procs) / 1024:.1f} |")
    print()
    for server, text in holds.items():
        print(f"- {server}, the idle client: {text}")
    idle = mem.get(("idgate", "idle"), [])
    held = mem.get(("idgate", "10000_idle_connections"), [])
    core = [r for n, r, _ in idle if n in ("idgated", "idgate-front", "idgate-pool")]
    if core:
        s = sum(core) / 1024
        print(f"- target: idle RSS of supervisor + front end + one pool ≤ 16 MiB: "
              f"{s:.1f} MiB, {'met' if s <= 16 else 'not met'} (its spawner, "
              f"idgate-spawn, not counted)")
    fe = [r for n, r, _ in held if n == "idgate-front"]
    if fe:
        s = fe[0] / 1024
        print(f"- target: 10 000 idle keep-alive connections in ≤ 64 MiB of front-end RSS: "
              f"{s:.1f} MiB, {'met' if s <= 64 else 'not met'}")
    print()


def main():
    (results, extras, floor, cpu_source, hostinfo, load0, load1, duration, warmup, rounds,
     command) = sys.argv[1:12]
    cells = load_results(results)
    sessions = any(k[0] in ("trusted", "imp") and k[1].startswith("sess") for k in cells)
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}: `{command}`")
    print()
    print(f"Machine: {hostinfo}.  Load average (1, 5, 15 min) before: {load0}; "
          f"after: {load1}.  {duration} s per cell after a {warmup} s warm-up, {rounds} "
          f"round(s): medians (the CPU's range in brackets); server CPU from {cpu_source}.")
    print()
    print("Server CPU per request, µs (lower is better):")
    print()
    print_cpu_table(cells, sessions)
    print()
    floor, hop8, hop1 = (floor.split() + ["?", "?"])[:3]
    print(f"In-process floor: `gss_accept_sec_context` alone (bench/accept) {floor} µs. "
          f"A hop between two processes (bench/hop: 300 bytes over a socketpair and back, "
          f"each side waking from epoll_wait, as the front end and a pool worker make one "
          f"per request): {hop8} µs of CPU per round trip with 8 pairs at once, {hop1} µs "
          f"for one pair on two CPUs.  "
          "(†): the run ended early, its pre-made tokens used up.  "
          "n/a: this idgated does not accept `session = cookie`.")
    print()
    print("req/s / p50 µs / p99 µs:")
    print()
    print_latency_table(cells, sessions)
    print()
    print_p99_target(cells)
    print_ctxsw(cells)
    print_noise(cells)
    print_extras(extras)


main()
