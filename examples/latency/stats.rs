//! Percentiles, the JSON record and the SVG plot of the latency report.

use std::time::Duration;

use serde::Serialize;

/// One line of `results` in the JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scheme: String,
    pub mode: String,
    /// `tcp` or `nats` for the `transport` mode, `in-memory` for `in-process`.
    pub transport: String,
    pub parties: u16,
    pub threshold: u16,
    pub delay_ms: f64,
    pub runs: usize,
    pub failures: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    pub fn line(&self) -> String {
        format!(
            "{} {} ({}): p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms, max {:.3} ms, {} failures in {} runs",
            self.scheme,
            self.mode,
            self.transport,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            self.max_ms,
            self.failures,
            self.runs
        )
    }
}

/// What a run of the report measured under.
pub struct Setting {
    /// `tcp` or `nats`.
    pub transport: &'static str,
    pub parties: u16,
    pub threshold: u16,
    /// Simulated one-way delay.
    pub delay_ms: f64,
}

/// The successful latencies of one scheme and mode, sorted, with their summary.
pub struct Series {
    pub summary: Summary,
    pub sorted_ms: Vec<f64>,
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len()) - 1)
        .copied()
        .unwrap_or(f64::NAN)
}

impl Series {
    pub fn from_runs(
        scheme: &str,
        mode: &str,
        setting: &Setting,
        runs: usize,
        lat: Vec<Result<Duration, String>>,
    ) -> Self {
        let mut failures = 0;
        let mut ms = Vec::new();
        for r in lat {
            match r {
                Ok(d) => ms.push(d.as_secs_f64() * 1000.0),
                Err(e) => {
                    failures += 1;
                    if failures <= 3 {
                        eprintln!("  {scheme} {mode} failure: {e}");
                    }
                }
            }
        }
        ms.sort_by(f64::total_cmp);
        Series {
            summary: Summary {
                scheme: scheme.into(),
                mode: mode.into(),
                transport: if mode == "transport" {
                    setting.transport.into()
                } else {
                    "in-memory".into()
                },
                parties: setting.parties,
                threshold: setting.threshold,
                delay_ms: if mode == "transport" {
                    setting.delay_ms
                } else {
                    0.0
                },
                runs,
                failures,
                p50_ms: pct(&ms, 50.0),
                p95_ms: pct(&ms, 95.0),
                p99_ms: pct(&ms, 99.0),
                max_ms: ms.last().copied().unwrap_or(f64::NAN),
            },
            sorted_ms: ms,
        }
    }
}

const COLORS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

/// Latency CDFs (x: milliseconds, log scale; y: fraction of runs), one line per scheme and
/// mode (in-process dashed), as a standalone SVG.
pub fn svg(series: &[Series], title: &str) -> String {
    let (w, h, left, right, top, bottom) = (900.0, 520.0, 70.0, 260.0, 40.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let all = series.iter().flat_map(|s| s.sorted_ms.iter().copied());
    let (lo, hi) = all.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() && hi > 0.0 {
        (
            10f64.powf(lo.max(1e-3).log10().floor()),
            10f64.powf(hi.log10().ceil()),
        )
    } else {
        (0.01, 1000.0)
    };
    let x =
        |v: f64| left + pw * (v.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10()).max(1e-9);
    let y = |f: f64| top + ph * (1.0 - f);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"24\" font-size=\"15\">Signing latency CDF, {title}</text>\n"
    );
    let mut decade = lo;
    while decade <= hi * 1.0001 {
        let px = x(decade);
        out += &format!(
            "<line x1=\"{px:.1}\" y1=\"{top}\" x2=\"{px:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n<text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{decade}</text>\n",
            top + ph,
            top + ph + 16.0
        );
        decade *= 10.0;
    }
    for f in [0.0, 0.5, 0.95, 0.99, 1.0] {
        out += &format!(
            "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{f}</text>\n",
            y(f), left + pw, y(f), left - 6.0, y(f) + 4.0
        );
    }
    out += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">latency (ms, log scale)</text>\n<text x=\"16\" y=\"{:.1}\" transform=\"rotate(-90 16 {:.1})\" text-anchor=\"middle\">fraction of runs</text>\n",
        left + pw / 2.0, h - 10.0, top + ph / 2.0, top + ph / 2.0
    );
    for (i, s) in series.iter().enumerate() {
        let color = COLORS
            .get((i / 2) % COLORS.len())
            .copied()
            .unwrap_or("black");
        let dash = if s.summary.mode == "in-process" {
            " stroke-dasharray=\"5,4\""
        } else {
            ""
        };
        let n = s.sorted_ms.len() as f64;
        let points: Vec<String> = s
            .sorted_ms
            .iter()
            .enumerate()
            .map(|(k, v)| format!("{:.1},{:.1}", x(*v), y((k as f64 + 1.0) / n)))
            .collect();
        out += &format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"{dash} points=\"{}\"/>\n",
            points.join(" ")
        );
        let ly = top + 14.0 + 18.0 * i as f64;
        out += &format!(
            "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/>\n<text x=\"{:.1}\" y=\"{:.1}\">{} {} (p95 {:.2} ms)</text>\n",
            w - right + 10.0, w - right + 35.0, w - right + 40.0, ly + 4.0, s.summary.scheme, s.summary.mode, s.summary.p95_ms
        );
    }
    out + "</svg>\n"
}
