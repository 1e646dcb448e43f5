"""Do the demo quarter's objective lights agree with what the simulation intends?

Replays the demo organisation (app/demo/sample.yaml, app/demo/simulate.py) into a scratch
SQLite database up to the Friday of weeks 3, 7 and 11 and compares each objective's light
with its intended course (app/demo/calibration.py: on pace when the plans end within the
yellow gap of the objective's goal, else behind). Target: at least 90% agreement each week.

    .venv/bin/python bench/bench_lights.py [--weeks 3,7,11] [--rule weighted|worst]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import ScoringSettings, Settings
from app.demo import calibration


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", default=",".join(map(str, calibration.WEEKS)))
    parser.add_argument("--rule", choices=("weighted", "worst"), default="weighted")
    args = parser.parse_args()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    settings = settings.model_copy(update={"scoring": ScoringSettings(
        _env_file=None, OKR_OBJECTIVE_STATUS=args.rule)})  # type: ignore[call-arg]
    print(f"Objective lights against the simulation's intent ({args.rule} rule)")
    ok = True
    total_agree = total = 0
    for week in (int(w) for w in args.weeks.split(",")):
        started = time.perf_counter()
        result = calibration.agreement(calibration.snapshot(week, settings))
        n = len(result.agreeing) + len(result.disagreeing)
        total_agree += len(result.agreeing)
        total += n
        ok = ok and result.share >= 0.9
        print(f"  week {week:>2}: {len(result.agreeing)}/{n} agree ({result.share:.0%}); "
              f"stale KRs shown outdated {result.stale_shown}/{result.stale_intended}; "
              f"other KRs shown outdated {len(result.false_outdated)} "
              f"({time.perf_counter() - started:.1f} s)")
        for line in result.disagreeing:
            print(f"           {line}")
    print(f"  overall: {total_agree}/{total} ({total_agree / total:.0%}); target >= 90% each "
          f"week: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
