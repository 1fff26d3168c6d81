"""Where the wall time of each `session run` round of the last run.sh went.

Usage: python3 breakdown.py [RUN_DIR]   (default target/bench-backtesting-py/run)

Reads what run.sh left: each round's CLI output (`run.N.out`: "... bars in X s"; `run.N.err`:
the plain progress lines, whose rate at 100 % gives when the strategy got the last tick),
`/usr/bin/time` (`run.N.time`), and the daemon's session journal (the state change to
`completed` is stamped after the engine's results were built and before they are journaled;
the SESSION_ENDED event after that write). Prints, per round, in seconds:

- outside: wall time of the process minus the runner's own clock (process start, settings,
  connect with the stored token, printing, exit);
- stream: start_simulation to the strategy's last tick (both sides busy in parallel);
- end: last tick to results in hand (the daemon's finish + metrics + results, its journal
  write of the results, simulation_end, get_results and its decoding);
- of which, daemon: last tick.. state `completed` (finish + results, roughly), and the
  journal write of the results (completed .. SESSION_ENDED).
"""

import datetime as dt
import glob
import json
import os
import re
import sys

run = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "../../target/bench-backtesting-py/run")


def stamp(text):
    # 2026-12-07T10:28:37.909795435Z -> seconds (microseconds kept)
    m = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    base = dt.datetime.fromisoformat(m.group(1)).replace(tzinfo=dt.timezone.utc).timestamp()
    return base + (float("0." + m.group(2)) if m.group(2) else 0.0)


journals = {}
for path in glob.glob(os.path.join(run, "state/sessions/*.jsonl")):
    sid = os.path.basename(path)[: -len(".jsonl")]
    marks = {}
    with open(path) as f:
        for line in f:
            # Each record is framed ({"seq":…,"crc":…,"rec":{…}}, docs/store.md); skip the
            # large results record without parsing it.
            if '"rec":{"t":"results"' in line[:80] or line.startswith('{"t":"results"'):
                continue
            rec = json.loads(line)
            rec = rec.get("rec", rec)
            if rec["t"] == "state" and rec["to"] == "running":
                marks["running"] = stamp(rec["at"])
            if rec["t"] == "state" and rec["to"] == "completed":
                marks["completed"] = stamp(rec["at"])
            if rec["t"] == "event" and rec["event"]["kind"] == "SESSION_ENDED":
                marks["ended"] = stamp(rec["event"]["time"])
    journals[sid] = marks

print("round  wall   outside  stream  end    | daemon: finish..completed  journal write")
r = 1
while os.path.exists(os.path.join(run, f"run.{r}.out")):
    out = open(os.path.join(run, f"run.{r}.out")).read()
    m = re.search(r"on session (\S+): (\d+) bars in ([\d.]+) s", out)
    sid, bars, inside = m.group(1), int(m.group(2)), float(m.group(3))
    rates = re.findall(r"bars (\d+)/(\d+) \(100 %\), (\d+) bars/s", open(os.path.join(run, f"run.{r}.err")).read())
    stream = bars / float(rates[-1][2])
    wall = float(open(os.path.join(run, f"run.{r}.time")).read().split()[0])
    j = journals.get(sid, {})
    fin = j["completed"] - j["running"] - stream if "completed" in j else float("nan")
    write = j["ended"] - j["completed"] if "ended" in j else float("nan")
    print(f"{r:5d}  {wall:5.2f}  {wall - inside:7.2f}  {stream:6.2f}  {inside - stream:5.2f}  |"
          f"         {fin:5.2f}                 {write:5.2f}")
    r += 1
