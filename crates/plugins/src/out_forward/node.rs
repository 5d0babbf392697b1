//! Servers and their selection: each `<server>` is a [`Node`] with its failure detector and DNS
//! cache; the [`Balancer`] spreads chunks over the available primaries by weight and brings in
//! standbys for the weight that is lost, as Fluentd's `LoadBalancer#rebuild_weight_array`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use logferry_core::PluginLog;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;

use super::config::{ForwardOutConfig, HeartbeatType, ServerConfig};
use super::failure::FailureDetector;

/// Seconds on a monotonic clock, offset so that Fluentd's "last heartbeat at 0" (after a
/// detach clears the history) always reads as long ago.
pub fn clock() -> f64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    1e9 + EPOCH.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// What a node needs from the output's configuration.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// `heartbeat_type none`: availability is a time-out after a failure instead.
    pub no_heartbeat: bool,
    /// `recover_wait` in seconds.
    pub recover_wait: f64,
    /// `recover_wait / heartbeat_interval`.
    pub recover_sample_size: f64,
    /// `heartbeat_interval` in seconds.
    pub heartbeat_interval: f64,
    /// `hard_timeout` in seconds.
    pub hard_timeout: f64,
    /// `phi_threshold`.
    pub phi_threshold: f64,
    /// `phi_failure_detector`.
    pub phi_failure_detector: bool,
    /// `expire_dns_cache`.
    pub expire_dns_cache: Option<f64>,
    /// `dns_round_robin`.
    pub dns_round_robin: bool,
    /// Longest a DNS lookup may take.
    pub resolve_timeout: Duration,
}

impl NodeOptions {
    /// From the output's configuration.
    pub fn from_config(cfg: &ForwardOutConfig) -> Self {
        NodeOptions {
            no_heartbeat: cfg.heartbeat_type == HeartbeatType::None,
            recover_wait: cfg.recover_wait,
            recover_sample_size: cfg.recover_sample_size(),
            heartbeat_interval: cfg.heartbeat_interval.as_secs_f64(),
            hard_timeout: cfg.hard_timeout,
            phi_threshold: cfg.phi_threshold,
            phi_failure_detector: cfg.phi_failure_detector,
            expire_dns_cache: cfg.expire_dns_cache,
            dns_round_robin: cfg.dns_round_robin,
            resolve_timeout: cfg.connect_timeout,
        }
    }
}

#[derive(Debug)]
struct NodeState {
    available: bool,
    failure: FailureDetector,
    resolved: Option<SocketAddr>,
    resolved_at: f64,
    /// `heartbeat_type none`: skipped until this time after a failure.
    skip_until: f64,
    /// A heartbeat failure was logged since the last success (log once per outage).
    heartbeat_failing: bool,
}

/// One `<server>`.
#[derive(Debug)]
pub struct Node {
    /// Its configuration.
    pub cfg: ServerConfig,
    /// The name used in logs.
    pub label: String,
    opts: NodeOptions,
    log: PluginLog,
    state: Mutex<NodeState>,
}

impl Node {
    /// A node, available until the failure detector or a failed send says otherwise.
    pub fn new(cfg: ServerConfig, opts: NodeOptions, log: PluginLog) -> Self {
        let failure = FailureDetector::new(opts.heartbeat_interval, opts.hard_timeout, clock());
        Node {
            label: cfg.label(),
            cfg,
            opts,
            log,
            state: Mutex::new(NodeState {
                available: true,
                failure,
                resolved: None,
                resolved_at: 0.0,
                skip_until: 0.0,
                heartbeat_failing: false,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, NodeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// May chunks be sent to this node now?
    pub fn available(&self) -> bool {
        let st = self.lock();
        if self.opts.no_heartbeat {
            clock() >= st.skip_until
        } else {
            st.available
        }
    }

    /// A send to this node failed: take it out of the rotation until heartbeats bring it back
    /// (with `heartbeat_type none`, for `recover_wait`).
    pub fn disable(&self, why: &str) {
        let mut st = self.lock();
        if self.opts.no_heartbeat {
            st.skip_until = clock() + self.opts.recover_wait.max(1.0);
            self.log.warn(format_args!(
                "forwarding server '{}' failed, skipped for {}s: {why}",
                self.label,
                self.opts.recover_wait.max(1.0)
            ));
        } else if st.available {
            st.available = false;
            st.resolved = None;
            self.log.warn(format_args!(
                "detached forwarding server '{}' ({}:{}): {why}",
                self.label, self.cfg.host, self.cfg.port
            ));
        }
    }

    /// Record a heartbeat (or, with `detect` false, a successful send). Returns true when the
    /// node was detached and has now recovered.
    pub fn heartbeat(&self, detect: bool) -> bool {
        if self.opts.no_heartbeat {
            return false;
        }
        let mut st = self.lock();
        st.failure.add(clock());
        if detect {
            st.heartbeat_failing = false;
        }
        if detect
            && !st.available
            && st.failure.sample_size() as f64 > self.opts.recover_sample_size
        {
            st.available = true;
            self.log.warn(format_args!(
                "recovered forwarding server '{}' ({}:{})",
                self.label, self.cfg.host, self.cfg.port
            ));
            return true;
        }
        false
    }

    /// A heartbeat could not be sent or was not answered (logged once per outage, at info).
    pub fn heartbeat_failed(&self, why: &str) {
        let mut st = self.lock();
        if !st.heartbeat_failing {
            st.heartbeat_failing = true;
            self.log.info(format_args!(
                "heartbeat to forwarding server '{}' failed: {why}",
                self.label
            ));
        } else {
            self.log.debug(format_args!(
                "heartbeat to forwarding server '{}' failed: {why}",
                self.label
            ));
        }
    }

    /// The periodic check (Fluentd's `Node#tick`). Returns true when the node was detached now.
    pub fn tick(&self) -> bool {
        if self.opts.no_heartbeat {
            return false;
        }
        let now = clock();
        let mut st = self.lock();
        if !st.available {
            if st.failure.hard_timeout(now) {
                st.failure.clear();
            }
            return false;
        }
        let why = if st.failure.hard_timeout(now) {
            format!(
                "no heartbeat for {}s (hard_timeout)",
                self.opts.hard_timeout
            )
        } else if self.opts.phi_failure_detector && st.failure.phi(now) > self.opts.phi_threshold {
            format!(
                "phi {:.1} above phi_threshold {}",
                st.failure.phi(now),
                self.opts.phi_threshold
            )
        } else {
            return false;
        };
        st.available = false;
        st.resolved = None;
        st.failure.clear();
        self.log.warn(format_args!(
            "detached forwarding server '{}' ({}:{}): {why}",
            self.label, self.cfg.host, self.cfg.port
        ));
        true
    }

    /// The address last resolved (matched against UDP heartbeat answers).
    pub fn resolved(&self) -> Option<SocketAddr> {
        self.lock().resolved
    }

    /// The address to connect to, from the DNS cache (`expire_dns_cache`: none = until the node
    /// is detached, 0 = never cached, N = N seconds), or resolved now.
    pub async fn resolve(&self) -> Result<SocketAddr, String> {
        let now = clock();
        {
            let st = self.lock();
            if let Some(a) = st.resolved {
                match self.opts.expire_dns_cache {
                    None => return Ok(a),
                    Some(ttl) if ttl > 0.0 && now - st.resolved_at < ttl => return Ok(a),
                    _ => {}
                }
            }
        }
        let host = (self.cfg.host.as_str(), self.cfg.port);
        let addrs: Vec<SocketAddr> =
            match tokio::time::timeout(self.opts.resolve_timeout, tokio::net::lookup_host(host))
                .await
            {
                Ok(Ok(a)) => a.collect(),
                Ok(Err(e)) => return Err(format!("cannot resolve '{}': {e}", self.cfg.host)),
                Err(_) => return Err(format!("resolving '{}' timed out", self.cfg.host)),
            };
        let pick = if self.opts.dns_round_robin {
            addrs.choose(&mut rand::rng()).copied()
        } else {
            addrs.first().copied()
        };
        let addr = pick.ok_or_else(|| format!("'{}' has no address", self.cfg.host))?;
        let mut st = self.lock();
        st.resolved = Some(addr);
        st.resolved_at = now;
        Ok(addr)
    }
}

/// The greatest common divisor (0 with 0 is 0), as Ruby's `Integer#gcd` on magnitudes.
pub(crate) fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The weight array for the nodes' current availability (`avail[i]` for `weights[i]`): primary
/// indices repeated by weight / gcd, standbys added for lost primary weight, repeated so that
/// each node appears ~6 times, shuffled with `seed`. Also returns the standbys brought in.
pub fn weight_array(
    weights: &[(u32, bool)],
    avail: &[bool],
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut regular: Vec<usize> = (0..weights.len())
        .filter(|&i| weights[i].0 > 0 && !weights[i].1)
        .collect();
    let mut lost: i64 = regular
        .iter()
        .filter(|&&i| !avail[i])
        .map(|&i| i64::from(weights[i].0))
        .sum();
    let mut standbys_used = Vec::new();
    if lost > 0 {
        for i in (0..weights.len()).filter(|&i| weights[i].0 > 0 && weights[i].1) {
            if avail[i] {
                regular.push(i);
                standbys_used.push(i);
                lost -= i64::from(weights[i].0);
                if lost <= 0 {
                    break;
                }
            }
        }
    }
    if regular.is_empty() {
        return (Vec::new(), standbys_used);
    }
    // At most the largest weight, a u32.
    let g = regular
        .iter()
        .fold(0, |g, &i| gcd(g, u64::from(weights[i].0)))
        .max(1) as u32;
    let mut array = Vec::new();
    for &i in &regular {
        // Bounded: a weight of 10000 with a gcd of 1 is 10000 entries.
        let copies = (weights[i].0 / g).min(10_000);
        array.extend(std::iter::repeat_n(i, copies as usize));
    }
    let coe = regular.len() * 6 / array.len();
    if coe > 1 {
        let one = array.clone();
        for _ in 1..coe {
            array.extend_from_slice(&one);
        }
    }
    array.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    (array, standbys_used)
}

struct Weights {
    avail: Option<Vec<bool>>,
    array: Vec<usize>,
}

/// Weighted round robin over the nodes (rebuilt whenever a node's availability changes).
pub struct Balancer {
    nodes: Vec<std::sync::Arc<Node>>,
    seed: u64,
    weights: Mutex<Weights>,
    rr: AtomicUsize,
    log: PluginLog,
}

impl Balancer {
    /// A balancer over `nodes`.
    pub fn new(nodes: Vec<std::sync::Arc<Node>>, log: PluginLog) -> Self {
        Balancer {
            nodes,
            seed: rand::random(),
            weights: Mutex::new(Weights {
                avail: None,
                array: Vec::new(),
            }),
            rr: AtomicUsize::new(0),
            log,
        }
    }

    /// The nodes.
    pub fn nodes(&self) -> &[std::sync::Arc<Node>] {
        &self.nodes
    }

    /// The available nodes to try for the next chunk, best first: the next one in the weighted
    /// rotation, then the others in rotation order.
    pub fn order(&self) -> Vec<usize> {
        let avail: Vec<bool> = self.nodes.iter().map(|n| n.available()).collect();
        let mut w = self.weights.lock().unwrap_or_else(|e| e.into_inner());
        if w.avail.as_ref() != Some(&avail) {
            let spec: Vec<(u32, bool)> = self
                .nodes
                .iter()
                .map(|n| (n.cfg.weight, n.cfg.standby))
                .collect();
            let (array, standbys) = weight_array(&spec, &avail, self.seed);
            for i in standbys {
                self.log.warn(format_args!(
                    "using standby node {}:{} (weight {})",
                    self.nodes[i].cfg.host, self.nodes[i].cfg.port, self.nodes[i].cfg.weight
                ));
            }
            if array.iter().all(|&i| !avail[i]) && w.avail.is_some() {
                self.log.warn(format_args!("no nodes are available"));
            }
            w.array = array;
            w.avail = Some(avail.clone());
        }
        let len = w.array.len();
        if len == 0 {
            return Vec::new();
        }
        let start = self.rr.fetch_add(1, Ordering::Relaxed) % len;
        let mut out: Vec<usize> = Vec::with_capacity(self.nodes.len());
        for k in 0..len {
            let i = w.array[(start + k) % len];
            if avail[i] && !out.contains(&i) {
                out.push(i);
                if out.len() == self.nodes.len() {
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_give_proportional_arrays() {
        let (a, s) = weight_array(&[(60, false), (20, false)], &[true, true], 7);
        assert!(s.is_empty());
        // gcd 20 → [0,0,0,1], repeated 3 times (2 nodes × 6 / 4).
        assert_eq!(a.len(), 12);
        assert_eq!(a.iter().filter(|&&i| i == 0).count(), 9);
        assert_eq!(a.iter().filter(|&&i| i == 1).count(), 3);
    }

    #[test]
    fn standby_only_for_lost_weight() {
        let spec = [(60, false), (60, false), (60, true)];
        let (a, s) = weight_array(&spec, &[true, true, true], 1);
        assert!(s.is_empty());
        assert!(!a.contains(&2));
        let (a, s) = weight_array(&spec, &[false, true, true], 1);
        assert_eq!(s, vec![2]);
        assert!(a.contains(&2));
    }

    #[test]
    fn zero_weight_and_nothing_available() {
        let (a, _) = weight_array(&[(0, false), (10, false)], &[true, true], 1);
        assert!(!a.contains(&0));
        let (a, _) = weight_array(&[(10, true)], &[true], 1);
        assert!(
            a.is_empty(),
            "a lone standby without lost weight is not used"
        );
    }

    fn node(weight: u32, standby: bool) -> std::sync::Arc<Node> {
        let cfg = ServerConfig {
            host: "127.0.0.1".into(),
            name: None,
            port: 1,
            weight,
            standby,
            shared_key: None,
            username: String::new(),
            password: String::new(),
        };
        let opts = NodeOptions {
            no_heartbeat: false,
            recover_wait: 0.0,
            recover_sample_size: 0.0,
            heartbeat_interval: 1.0,
            hard_timeout: 60.0,
            phi_threshold: 16.0,
            phi_failure_detector: true,
            expire_dns_cache: None,
            dns_round_robin: false,
            resolve_timeout: Duration::from_secs(1),
        };
        std::sync::Arc::new(Node::new(cfg, opts, PluginLog::new("test", None)))
    }

    #[test]
    fn rotation_follows_weights_and_failover() {
        let b = Balancer::new(
            vec![node(60, false), node(20, false)],
            PluginLog::new("t", None),
        );
        let mut first = [0usize; 2];
        for _ in 0..120 {
            first[b.order()[0]] += 1;
        }
        assert_eq!(first, [90, 30]);
        b.nodes()[0].disable("test");
        for _ in 0..10 {
            assert_eq!(b.order(), vec![1]);
        }
        // A heartbeat brings it back (recover_sample_size 0).
        assert!(b.nodes()[0].heartbeat(true));
        assert_eq!(b.order().len(), 2);
    }

    #[test]
    fn standby_takes_over_only_when_primaries_are_down() {
        let b = Balancer::new(
            vec![node(60, false), node(60, true)],
            PluginLog::new("t", None),
        );
        for _ in 0..20 {
            assert_eq!(b.order(), vec![0]);
        }
        b.nodes()[0].disable("down");
        assert_eq!(b.order(), vec![1]);
        b.nodes()[0].heartbeat(true);
        assert_eq!(b.order(), vec![0]);
    }
}
