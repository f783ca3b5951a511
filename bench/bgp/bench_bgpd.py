#!/usr/bin/env python3
"""Full-table convergence: one BIRD 2 sender announces N IPv4 prefixes over one eBGP session to
tartan-bgpd and, in the same run, to a BIRD 2 receiver (the baseline). Measured per receiver:
time from Established to 99% and 100% of the prefixes in the Loc-RIB and in the kernel, the time
to withdraw everything, peak RSS (VmHWM), peak private memory (RssAnon, sampled), RSS before any
route, and CPU seconds. Prints JSON with the tartan/BIRD ratios.

Everything runs in namespaces this script creates (deleted at the end, also on failure); the
daemons are started by us and stopped by PID. Needs root. Usage:
  bench_bgpd.py --bgpd build/bgpd-rel/bgp/speaker/tartan-bgpd --sizes 100000 1000000
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, threading, time

TARTAN_PROTO = 117
BIRD_PROTO = 12  # RTPROT_BIRD


def sh(cmd, check=True):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.stdout}{r.stderr}")
    return r.stdout


def ns_exec(ns, cmd, check=True):
    return sh(f"ip netns exec {ns} {cmd}", check)


def wait(pred, timeout, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return None


def proc_usage(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return {"peak_rss_mib": round(hwm / 1024, 1), "cpu_seconds": round(cpu, 2)}
    except (OSError, StopIteration):
        return {}


def status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith(field + ":"))
    except (OSError, StopIteration):
        return None


class AnonPeak(threading.Thread):
    """The peak of a process's private memory (RssAnon: heap, stacks, written pages), sampled every
    20 ms. VmHWM also counts the pages of shared libraries and of the executable that the process
    has touched: those are the page cache's, shared with every process that maps the same files."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.start()

    def run(self):
        while not self.done.is_set():
            v = status_kib(self.pid, "RssAnon")
            if v is None:
                return
            self.peak = max(self.peak, v)
            time.sleep(0.02)

    def stop(self):
        self.done.set()
        self.join()
        return round(self.peak / 1024, 1)


def prefixes(n):
    # /24s from 64.0.0.0/4: up to 2^20 distinct prefixes.
    for i in range(n):
        yield f"{64 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}.0/24"


class Lab:
    def __init__(self, bgpd, tag):
        self.tmp = tempfile.mkdtemp(prefix="bench-bgpd-")
        self.ns = {r: f"bb-{r}-{os.getpid()}-{tag}" for r in ("src", "tartan", "bird")}
        self.procs = []
        self.bgpd = bgpd
        for ns in self.ns.values():
            sh(f"ip netns add {ns}")
            ns_exec(ns, "ip link set lo up")
        for i, rx in enumerate(("tartan", "bird"), start=1):
            a, b = f"bs{i}{os.getpid() % 10000}", f"br{i}{os.getpid() % 10000}"
            sh(f"ip link add {a} netns {self.ns['src']} type veth peer name {b} netns {self.ns[rx]}")
            ns_exec(self.ns["src"], f"ip addr add 10.98.{i}.1/24 dev {a}")
            ns_exec(self.ns["src"], f"ip link set {a} up")
            ns_exec(self.ns[rx], f"ip addr add 10.98.{i}.2/24 dev {b}")
            ns_exec(self.ns[rx], f"ip link set {b} up")

    def spawn(self, ns, argv, log):
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[ns]] + argv,
                             stdout=open(os.path.join(self.tmp, log), "w"), stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        for ns in self.ns.values():
            sh(f"ip netns del {ns}", check=False)
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def birdc(self, role, sock, cmd):
        return ns_exec(self.ns[role], f"birdc -s {sock} {cmd}", check=False)


def trie_prefixes(pid):
    """IPv4 prefixes in the main FIB trie of the namespace that process pid is in, from
    /proc/PID/net/fib_triestat (a walk of the trie in the kernel: only a fallback)."""
    try:
        with open(f"/proc/{pid}/net/fib_triestat") as f:
            for line in f:
                if line.strip().startswith("Prefixes:"):
                    return int(line.split()[1])  # the first table listed is Main
    except OSError:
        return None
    return None


def kernel_count(lab, role):
    # Kept current by a `bench_bgpd --count-routes` route monitor in the receiver's namespace:
    # reading a number from a file costs the receiver nothing, where a dump of a million routes
    # per probe (`ip route show`) takes seconds of kernel time and slows the receiver it times.
    try:
        with open(f"{lab.tmp}/count-{role}") as f:
            v = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if v >= 0:
        return v
    pid, base = lab.kernel_base[role]  # the monitor overflowed: ask the trie
    v = trie_prefixes(pid)
    return None if v is None else v - base


def bird_rib_count(lab):
    # The protocol's import counter: a field BIRD keeps, so asking costs it nothing (a "show route
    # count" walks the whole table in BIRD's only thread and slows the very thing we time).
    out = lab.birdc("bird", f"{lab.tmp}/rx.ctl", "show protocols all sender")
    for line in out.splitlines():
        # "    Routes:         1000000 imported, 0 exported, 1000000 preferred"
        if line.strip().startswith("Routes:") and "imported" in line:
            return int(line.split()[1])
    return None


def tartan_status(lab):
    sys.path.insert(0, os.path.dirname(__file__))
    out = ns_exec(lab.ns["tartan"], f"{lab.status_tool} {lab.tmp}/bgpd.sock", check=False)
    try:
        return json.loads(out)
    except ValueError:
        return None


def run(bgpd, status_tool, n):
    lab = Lab(bgpd, n)
    lab.status_tool = status_tool
    try:
        t = lab.tmp
        with open(f"{t}/src.conf", "w") as f:
            f.write("router id 10.98.1.1;\nprotocol device {}\nprotocol static st { ipv4;\n")
            for p in prefixes(n):
                f.write(f"  route {p} blackhole;\n")
            f.write("}\n")
            for i, as_ in ((1, 64512), (2, 65010)):
                f.write(f"protocol bgp rx{i} {{ local 10.98.{i}.1 as 65000; neighbor 10.98.{i}.2 as {as_};"
                        " ipv4 { import none; export all; }; }\n")
        with open(f"{t}/rx.conf", "w") as f:
            f.write("router id 10.98.2.2;\nprotocol device {}\n"
                    "protocol kernel { ipv4 { import none; export all; }; merge paths on; }\n"
                    "protocol bgp sender { local 10.98.2.2 as 65010; neighbor 10.98.2.1 as 65000;"
                    " ipv4 { import all; export none; }; }\n")
        os.makedirs(f"{t}/store")
        subprocess.run([status_tool, "--write-datastore", f"{t}/store"], check=True)
        for role, proto in (("tartan", TARTAN_PROTO), ("bird", BIRD_PROTO)):
            lab.spawn(role, [status_tool, "--count-routes", str(proto), f"{t}/count-{role}"], f"count-{role}.log")
        wait(lambda: all(os.path.exists(f"{t}/count-{r}") for r in ("tartan", "bird")), 10)
        bird_rx = lab.spawn("bird", ["bird", "-c", f"{t}/rx.conf", "-s", f"{t}/rx.ctl", "-f"], "rx.log")
        tartan = lab.spawn("tartan", [bgpd, "--datastore", f"file:{t}/store", "--node", "bench",
                                      "--status-socket", f"{t}/bgpd.sock", "--log-level", os.environ.get("BENCH_BGPD_LOG", "warn"),
                                      "--connect-retry", "1"], "bgpd.log")
        wait(lambda: os.path.exists(f"{t}/bgpd.sock") and os.path.exists(f"{t}/rx.ctl"), 30)
        # What each receiver's trie holds before any BGP route (connected and local routes).
        lab.kernel_base = {"tartan": (tartan.pid, trie_prefixes(tartan.pid)),
                           "bird": (bird_rx.pid, trie_prefixes(bird_rx.pid))}
        time.sleep(1)  # settled: what each receiver holds before any route
        idle = {role: {"idle_rss_mib": round(status_kib(p.pid, "VmRSS") / 1024, 1),
                       "idle_anon_mib": round(status_kib(p.pid, "RssAnon") / 1024, 1)}
                for role, p in (("tartan", tartan), ("bird", bird_rx))}
        anon = {"tartan": AnonPeak(tartan.pid), "bird": AnonPeak(bird_rx.pid)}
        lab.spawn("src", ["bird", "-c", f"{t}/src.conf", "-s", f"{t}/src.ctl", "-f"], "src.log")

        results = {"tartan": {}, "bird": {}}
        # One poller thread per (receiver, table): each probe has its own cadence, so a slow
        # kernel dump of one receiver does not blur the other's timings.
        probes = {
            ("tartan", "rib"): lambda: (tartan_status(lab) or {}).get("loc_rib"),
            ("tartan", "kernel"): lambda: kernel_count(lab, "tartan"),
            ("bird", "rib"): lambda: bird_rib_count(lab),
            ("bird", "kernel"): lambda: kernel_count(lab, "bird"),
        }
        # Each receiver's clock starts when its own session is up, and its probes start then: a
        # receiver whose session came up first must not wait for the other's.
        est = {}
        up = {role: threading.Event() for role in ("tartan", "bird")}

        def watch_session(role, proto):
            if wait(lambda: "Established" in lab.birdc("src", f"{t}/src.ctl", f"show protocols {proto}"), 60, 0.02):
                est[role] = time.monotonic()
            up[role].set()

        watchers = [threading.Thread(target=watch_session, args=a) for a in (("tartan", "rx1"), ("bird", "rx2"))]
        for th in watchers: th.start()
        timeout = max(120, n / 2000)

        def poll(key, stop_when, origin, out):
            if origin is None:
                up[key[0]].wait()
                origin = est.get(key[0], 0)
            end = time.monotonic() + timeout
            # Daemon probes start a client process each: every 0.1 s. Kernel counts are a file read.
            interval = 0.02 if key[1] == "kernel" else 0.1
            while time.monotonic() < end:
                v = probes[key]()
                now = time.monotonic()
                if v is not None:
                    for name, pred in stop_when.items():
                        if name not in out and pred(v):
                            out[name] = round(now - origin, 3)
                    if len(out) == len(stop_when):
                        return
                time.sleep(interval)

        outs = {k: {} for k in probes}
        threads = [threading.Thread(target=poll, args=(k, {
            f"{k[1]}99_s": lambda v: v >= int(n * 0.99), f"{k[1]}100_s": lambda v: v >= n}, None, outs[k]))
            for k in probes]
        for th in threads: th.start()
        for th in threads + watchers: th.join()
        for (role, _), o in outs.items():
            results[role].update(o)

        # Withdraw everything: the sender disables its static protocol.
        lab.birdc("src", f"{t}/src.ctl", "disable st")
        start = time.monotonic()
        outs = {k: {} for k in probes}
        threads = [threading.Thread(target=poll, args=(k, {f"withdraw_{k[1]}_s": lambda v: v == 0}, start, outs[k]))
                   for k in probes]
        for th in threads: th.start()
        for th in threads: th.join()
        for (role, _), o in outs.items():
            results[role].update(o)
        for role, p in (("tartan", tartan), ("bird", bird_rx)):
            results[role].update(proc_usage(p.pid))
            results[role]["peak_anon_mib"] = anon[role].stop()
            results[role].update(idle[role])
        ratios = {}
        for k, v in results["tartan"].items():
            b = results["bird"].get(k)
            if b:
                ratios[k] = round(v / b, 2)
        return {"prefixes": n, "tartan": results["tartan"], "bird": results["bird"], "tartan_over_bird": ratios}
    finally:
        lab.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bgpd", required=True)
    ap.add_argument("--status-tool", required=True)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100000, 1000000])
    a = ap.parse_args()
    out = {"benchmark": "bgp_full_table", "runs": [run(a.bgpd, a.status_tool, n) for n in a.sizes]}
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
