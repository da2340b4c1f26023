// Numbers from the API in plain words: calibrated false-match rates, verdicts, policies,
// dates and the dispute window.

const VERDICTS = { match: "Match", possible: "Possible match", none: "No match" };

/** "Match", "Possible match" or "No match". */
export function verdictWords(verdict) {
  return VERDICTS[verdict] ?? verdict;
}

/** How strong a score is, from its calibrated false-match rate (0..1). */
export function rateWords(rate) {
  if (typeof rate !== "number" || Number.isNaN(rate)) return "";
  if (rate >= 0.5) return "Unrelated images often score this high: this alone is no evidence.";
  if (rate < 1e-6) return "Fewer than 1 in a million unrelated images would score this high.";
  const oneIn = friendly(1 / rate).toLocaleString("en-US");
  return `About 1 in ${oneIn} unrelated images would score this high.`;
}

const TESTS = {
  embedding: "the content embedding",
  pdq: "the perceptual hash",
  keypoints: "keypoint verification",
  style: "style similarity",
};

/** What a verdict stands on: the test that carried it, how many of the non-matching pairs
 * the calibration measured came as close, and the most the measured counts of all its
 * tests vouch for by themselves (`upper`, a 95% bound). */
export function basisWords(row) {
  if (row.watermark) return "Carried by the work's watermark, which the query carries.";
  const entries = Object.entries(row.tests ?? {});
  if (!entries.length) return "";
  const [name, t] = entries.reduce((a, b) => (b[1].calibrated < a[1].calibrated ? b : a));
  const pairs = t.null_pairs.toLocaleString("en-US");
  // the embedding's null is the one measured on images whose neighbourhood is like the query's
  const among = t.null_part == null ? "" : " (pairs of images with surroundings as crowded as this one's)";
  const seen =
    t.closer === 0
      ? `none of ${pairs} non-matching pairs measured came this close${among}, so its rate is extrapolated`
      : `${t.closer.toLocaleString("en-US")} of ${pairs} non-matching pairs measured came this close${among}`;
  return `Carried by ${TESTS[name] ?? name}: ${seen}; ${upperWords(row.upper)}.`;
}

/** What the calibration's measured counts alone vouch for (`upper`, a 95% bound). */
export function upperWords(upper) {
  if (typeof upper !== "number" || Number.isNaN(upper)) return "";
  if (upper >= 0.5) return "the measured pairs alone cannot vouch for it";
  const oneIn = friendly(1 / upper, Math.floor).toLocaleString("en-US"); // a bound reads no stronger
  return `on the measured pairs alone, at most 1 in ${oneIn} unrelated images would score this close (95% confidence)`;
}

/** Two significant digits: 1,079 -> 1,100; small counts stay whole numbers. `round` may be
 * Math.floor, for a bound that must not read stronger than it is. */
function friendly(n, round = Math.round) {
  if (n < 10) return round(n);
  const unit = 10 ** (Math.floor(Math.log10(n)) - 1);
  return round(n / unit) * unit;
}

export function percent(share) {
  return `${Math.round(share * 100)}%`;
}

/** A policy in words: "revenue share of 10%", "takedown", "track (record only)". */
export function policyWords(policy, rate) {
  if (policy === "revshare") return rate ? `revenue share of ${percent(rate)}` : "revenue share";
  if (policy === "takedown") return "takedown";
  if (policy === "track") return "track (record matches only)";
  return "none";
}

export function dateWords(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Is the dispute window still open, and a sentence saying until when. */
export function disputeWindow(untilIso, now = new Date()) {
  const until = new Date(untilIso);
  const open = now <= until;
  if (!open) return { open, words: `The dispute window closed on ${dateWords(untilIso)}.` };
  const days = Math.ceil((until - now) / 86_400_000);
  const left = days === 1 ? "1 day left" : `${days} days left`;
  return { open, words: `Open to dispute until ${dateWords(untilIso)} (${left}).` };
}
