// Whether the database answers, checked on a timer so that readiness probes read a flag
// instead of waiting on a database that may hang. A node that loses its database reports
// not ready (the load balancer sends clients elsewhere) and ready again once it answers.
export interface Reachability {
  reachable(): boolean;
  stop(): void;
}

export function watchReachability(ping: () => Promise<void>, intervalMs: number, onChange: (reachable: boolean) => void): Reachability {
  let reachable = true;
  let inFlight = false;
  const check = () => {
    if (inFlight) return;
    inFlight = true;
    ping().then(() => true, () => false).then((now) => {
      inFlight = false;
      if (now !== reachable) onChange(now);
      reachable = now;
    });
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return { reachable: () => reachable, stop: () => clearInterval(timer) };
}
