//! A connector's `GET /metrics`, parsed: tests read counters before and after real
//! transfers and compare.

use std::collections::BTreeMap;

/// One scrape: each sample by its name and sorted labels.
#[derive(Debug, Clone, Default)]
pub struct Scrape(BTreeMap<String, f64>);

impl Scrape {
    /// Scrapes `base` (`http://addr`) `/metrics`; panics (failing the test) when that
    /// does not answer 200.
    pub async fn of(base: &str) -> Self {
        match Self::try_of(base).await {
            Ok(scrape) => scrape,
            Err(e) => panic!("GET {base}/metrics: {e}"),
        }
    }

    pub async fn try_of(base: &str) -> reqwest::Result<Self> {
        let resp = reqwest::get(format!("{base}/metrics")).await?;
        let text = resp.error_for_status()?.text().await?;
        Ok(Self::parse(&text))
    }

    /// Parses the Prometheus text format (the subset the prometheus crate writes:
    /// no escaped quotes or commas inside label values, no timestamps).
    pub fn parse(text: &str) -> Self {
        let mut samples = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let mut pairs: Vec<(&str, &str)> = labels
                .split(',')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k, v.trim_matches('"')))
                .collect();
            pairs.sort_unstable();
            samples.insert(key(name, &pairs), value);
        }
        Self(samples)
    }

    /// The sample `name{labels}` (any order), if exported.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut labels = labels.to_vec();
        labels.sort_unstable();
        self.0.get(&key(name, &labels)).copied()
    }

    /// As [`Self::get`], 0 when absent.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// The metric names exported (histogram series under their own `_bucket` etc. names).
    pub fn names(&self) -> std::collections::BTreeSet<String> {
        self.0
            .keys()
            .map(|k| k.split('{').next().unwrap_or(k).to_owned())
            .collect()
    }
}

fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_found_whatever_the_label_order() {
        let s = Scrape::parse(
            "# HELP x y\n# TYPE x counter\nx{b=\"2\",a=\"1\"} 3\nup 1\nh_bucket{le=\"+Inf\"} 4\n",
        );
        assert_eq!(s.get("x", &[("a", "1"), ("b", "2")]), Some(3.0));
        assert_eq!(s.get("up", &[]), Some(1.0));
        assert_eq!(s.get("h_bucket", &[("le", "+Inf")]), Some(4.0));
        assert_eq!(s.get("x", &[("a", "1")]), None);
        assert!(s.names().contains("h_bucket"));
    }
}
