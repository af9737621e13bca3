"""What the push benchmarks share: CPU time and peak RSS of one command.

Peak RSS comes from GNU time, which measures from a tiny parent (ru_maxrss
counts a child's memory before exec, so measuring from Python or bash would
add theirs). CPU time comes from wait4 on GNU time, in microseconds (GNU
time prints only hundredths; a process's rusage includes its waited-for
children, so this is the program's CPU plus GNU time's own, about 1 ms).
"""
import os
import statistics
import subprocess
import sys


def measure(argv, work):
    """(CPU seconds, peak RSS KiB) of running argv; exits if it fails."""
    out = f"{work}/rss"
    p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", out] + argv,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit(f"{argv[0]} failed: {p.stderr.read().decode(errors='replace')}")
    return ru.ru_utime + ru.ru_stime, int(open(out).read().split()[-1])


def report(runs, order, title):
    """Prints the medians of `runs` (name -> [(cpu, rss)]) in `order`, and
    the ratio of the first to the second."""
    med = {k: (statistics.median(c for c, _ in v), statistics.median(r for _, r in v)) for k, v in runs.items()}
    print(f"{title:10} {'CPU ms':>8} {'peak RSS':>12}   (median of {len(runs[order[0]])})")
    for k in order:
        c, r = med[k]
        print(f"{k:10} {c*1000:8.1f} {r/1024:8.2f} MiB")
    (oc, orss), (fc, frss) = med[order[0]], med[order[1]]
    print(f"ratio {order[0]}/{order[1]}: CPU {oc/fc:.3f}x, peak RSS {orss/frss:.3f}x")
